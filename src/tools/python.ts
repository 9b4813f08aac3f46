/**
 * The math agent's Python interpreter (the paper's appendix D): CPython compiled to WebAssembly (pyodide, loaded from
 * node_modules, no network) in child processes that cannot reach the host.
 *
 * Containment is by construction, not by cleaning up after a program:
 * - **One process per program.** Each program runs in a fresh interpreter process, which is killed (and its exit awaited)
 *   before the call returns: nothing a program started (asyncio tasks, timers, patched builtins, `sys.stdout`, files in
 *   its in-memory file system) outlives its call or reaches another program, thread or client. A fresh process starts
 *   from a memory snapshot of an initialised interpreter (made once per host process), and the next one is started
 *   while the caller thinks, so a call costs a snapshot load of CPU, not a full interpreter start-up, and little wait.
 * - **No network.** On Linux the process is started in a user and network namespace of its own (`unshare`: no
 *   interface but a loopback that is down, so even 127.0.0.1 is unreachable) and dies with its parent (`setpriv
 *   --pdeathsig`). In every case Node's socket layer is disabled in the child before pyodide loads (TCP/TLS/HTTP
 *   connect and listen, UDP, DNS, the inspector), pyodide's socket and mount APIs are removed, and `fetch`,
 *   WebSocket and XMLHttpRequest are absent.
 * - **No host.** The child runs under Node's permission model (it may read the pyodide folder and nothing else: no
 *   files, no child processes, no workers), with code generation from strings disabled (Python cannot reach
 *   JavaScript's `Function`/`eval`), an empty `js` module, a capped WebAssembly memory (a memory bomb is a MemoryError)
 *   and V8 heap, and a wall-clock limit enforced by killing it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { z } from "zod";
import type { ToolSet, ToolSpec } from "./spec.js";

export interface PythonSandboxOptions {
  /** Wall-clock limit per program; past it the interpreter process is killed (default 10 000 ms). */
  timeoutMs?: number;
  /** Memory the program may use, in MiB (default 512); more is a MemoryError. */
  memoryMb?: number;
  /** Output kept per program, in characters (default 100 000). */
  maxOutputChars?: number;
}

const DEFAULTS = { timeoutMs: 10_000, memoryMb: 512, maxOutputChars: 100_000 };

/**
 * The child's program (an ES module given to `node -e`, so it needs no file of its own). In `snapshot` mode it
 * initialises the interpreter and sends its memory snapshot; in `run` mode it waits for that snapshot, loads it, says
 * `{ready}`, runs the one program it is sent and replies `{ok, output, error?}`: stdout, or stdout plus the Python error.
 */
const CHILD = String.raw`
const [mode, pyodideDir, maxPages, maxOutput] = [process.argv[1], process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
// An idle child whose parent is gone exits (a busy one is killed by the parent-death signal where the OS offers it).
process.on("disconnect", () => process.exit(0));
// WebAssembly memory grows through this method (emscripten's resize_heap): refusing past the cap makes malloc fail.
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (delta) {
  if (this.buffer.byteLength / 65536 + delta > maxPages) throw new RangeError("memory limit");
  return grow.call(this, delta);
};
// No sockets: every way Node opens one (TCP, TLS, HTTP, HTTP/2 and fetch go through net.Socket#connect and
// net.Server#listen; UDP; DNS, which sends queries; the inspector's server and sessions) is replaced before pyodide,
// which imports node:net for its NodeSockFS and ws for its WebSocket sockets, can take a reference to it.
const noNetwork = () => { throw new Error("the sandbox has no network"); };
const [net, dgram, dns, inspector, mod] = await Promise.all(["net", "dgram", "dns", "inspector", "module"].map((m) => import("node:" + m)));
net.default.Socket.prototype.connect = net.default.Server.prototype.listen = noNetwork;
for (const k of ["bind", "connect", "send"]) dgram.default.Socket.prototype[k] = noNetwork;
for (const o of [dns.default.Resolver.prototype, dns.default.promises.Resolver.prototype, dns.default.promises, dns.default])
  for (const k of Object.getOwnPropertyNames(o)) if (k !== "constructor" && typeof o[k] === "function") o[k] = noNetwork;
inspector.default.open = inspector.default.Session.prototype.connect = inspector.default.Session.prototype.connectToMainThread = noNetwork;
mod.syncBuiltinESMExports();
for (const k of ["fetch", "WebSocket", "EventSource", "XMLHttpRequest"]) delete globalThis[k];
// pyodide reads the fs constants through process.binding, which the permission model forbids.
const { constants } = await import("node:fs");
process.binding = (name) => { if (name === "constants") return { fs: constants }; throw new Error("process.binding is not available"); };
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
let out = "";
const write = (s) => { if (out.length < maxOutput) out += s + "\n"; };
const config = { indexURL: pyodideDir + "/", jsglobals: {}, env: { HOME: "/home/pyodide" }, stdout: write, stderr: write };
if (mode === "snapshot") {
  const py = await loadPyodide({ ...config, _makeSnapshot: true });
  // In the snapshot: no process functions, and the modules math programs use already imported.
  py.runPython("import os, posix\ndef _no(*a, **k):\n    raise PermissionError('the sandbox runs no processes')\nfor _n in ('system', 'popen', 'fork', 'execv', 'execve', 'spawnv', 'posix_spawn', 'kill'):\n    for _m in (os, posix):\n        if hasattr(_m, _n): setattr(_m, _n, _no)\ndel _n, _m, _no\nimport asyncio, decimal, fractions, itertools, math, random, re, statistics, json, collections, functools");
  process.send({ snapshot: py.makeMemorySnapshot() });
} else {
  const snapshot = await new Promise((r) => process.once("message", (m) => r(m.snapshot)));
  const py = await loadPyodide({ ...config, _loadSnapshot: snapshot });
  for (const k of ["useNodeSockFS", "loadPackage", "loadPackagesFromImports"]) Object.defineProperty(py, k, { value: noNetwork });
  const unavailable = () => { throw new Error("not available in the sandbox"); };
  for (const k of ["mountNodeFS", "mountNativeFS", "registerJsModule", "unpackArchive"]) Object.defineProperty(py, k, { value: unavailable });
  py._api.initializeNodeSockFS = noNetwork;
  delete globalThis.require;
  process.send({ ready: true });
  const { code } = await new Promise((r) => process.once("message", r));
  let reply;
  try {
    // Top-level await works; the last expression's value is not awaited (it may be a task that never ends).
    await py.pyimport("pyodide.code").eval_code_async.callKwargs(code, py.globals.get("dict")(), { return_mode: "none" });
    reply = { ok: true, output: out };
  } catch (e) {
    // Keep the program's own frames and the error; frames of pyodide's runner and the library, and caret lines, go.
    const own = [];
    let skip = false;
    for (const l of String(e?.message ?? e).trimEnd().split("\n")) {
      if (/^[\s~^]+$/.test(l)) continue;
      if (/^  File "/.test(l)) { skip = !l.includes('"<exec>"'); if (!skip) own.push(l); continue; }
      if (skip && l.startsWith("    ")) continue;
      skip = false;
      own.push(l);
    }
    reply = { ok: false, output: out, error: own.join("\n") };
  }
  if (out.length >= maxOutput) reply.output += "...[output cut]";
  process.send(reply);
}
`;

function pyodideDir(): string {
  return dirname(createRequire(import.meta.url).resolve("pyodide/package.json"));
}

/**
 * What the child is started under on Linux: its own user and network namespace, and SIGKILL when its parent dies. Where
 * `unshare`/`setpriv` or unprivileged user namespaces are missing (other systems, locked-down containers), nothing: the
 * child's disabled socket layer is then the only network barrier.
 */
let confinement: string[] | undefined;
function confine(): string[] {
  if (confinement) return confinement;
  const wrap = ["setpriv", "--pdeathsig", "KILL", "unshare", "--user", "--net", "--"];
  const probe = process.platform === "linux" ? spawnSync(wrap[0]!, [...wrap.slice(1), process.execPath, "-e", ""], { stdio: "ignore", timeout: 10_000 }) : undefined;
  return (confinement = probe?.status === 0 ? wrap : []);
}

type Reply = { ok: boolean; output: string; error?: string };

function spawnChild(mode: "snapshot" | "run", o: Required<PythonSandboxOptions>): ChildProcess {
  const dir = pyodideDir();
  const major = Number(process.versions.node.split(".")[0]);
  const [cmd, ...pre] = [...confine(), process.execPath];
  return spawn(
    cmd!,
    [
      ...pre,
      major >= 22 ? "--permission" : "--experimental-permission",
      `--allow-fs-read=${dir}`,
      "--disallow-code-generation-from-strings",
      `--max-old-space-size=${Math.max(64, Math.ceil(o.memoryMb / 2))}`,
      "--no-warnings",
      "--input-type=module",
      "-e",
      CHILD,
      mode,
      dir,
      String(Math.floor((o.memoryMb * 1024 * 1024) / 65536)),
      String(o.maxOutputChars),
    ],
    // "advanced": the snapshot travels as bytes, not as JSON.
    { stdio: ["ignore", "ignore", "pipe", "ipc"], env: {}, serialization: "advanced" },
  );
}

/** The child's first message, or why it exited without one. */
function firstMessage<T>(child: ChildProcess, what: string): Promise<T> {
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("exit", (code, signal) => reject(new Error(`the Python sandbox ${what} (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" ")}`)));
  });
}

/** Whether a child (its process, IPC channel and stderr pipe) keeps the host's event loop alive. */
function hold(child: ChildProcess, on: boolean): void {
  for (const h of [child, child.channel, child.stderr] as ({ ref?: () => void; unref?: () => void } | null | undefined)[]) (on ? h?.ref : h?.unref)?.call(h);
}

/** Kill a child and wait until it is gone. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  hold(child, true);
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGKILL");
  return gone;
}

/**
 * The initialised interpreter's memory, made once per host process under the default limits (it holds no program's
 * state, so every sandbox of the process starts its programs from it).
 */
let snapshot: Promise<Uint8Array> | undefined;
function interpreterSnapshot(): Promise<Uint8Array> {
  snapshot ??= (async () => {
    const child = spawnChild("snapshot", DEFAULTS);
    try {
      return (await firstMessage<{ snapshot: Uint8Array }>(child, "could not initialise the interpreter")).snapshot;
    } finally {
      await stop(child);
    }
  })().catch((e) => {
    snapshot = undefined;
    throw e;
  });
  return snapshot;
}

/** A started interpreter process that has run nothing yet. */
type Fresh = { child: ChildProcess; ready: Promise<unknown> };

/**
 * Runs each program in a fresh interpreter process (see the module comment), one program at a time. The next process is
 * started as soon as a program ends; while it waits it holds no reference that keeps the host process alive.
 *
 * @example
 * const py = new PythonSandbox({ timeoutMs: 5000 });
 * (await py.run("print(6 * 7)")).output; // "42\n"
 * await py.close();
 */
export class PythonSandbox {
  private readonly o: Required<PythonSandboxOptions>;
  private next: Fresh | undefined;
  private running: ChildProcess | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: PythonSandboxOptions = {}) {
    this.o = { ...DEFAULTS, ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as PythonSandboxOptions) };
  }

  private start(): Fresh {
    const child = spawnChild("run", this.o);
    const ready = firstMessage(child, "did not start");
    ready.catch(() => undefined);
    interpreterSnapshot().then(
      (s) => child.connected && child.send({ snapshot: s }),
      () => stop(child),
    );
    hold(child, false);
    return { child, ready };
  }

  /** Run one program; resolves with its stdout, or stdout and the Python error. Never rejects for the program's faults. */
  run(code: string, signal?: AbortSignal): Promise<Reply> {
    const task = this.queue.then(() => this.runNow(code, signal));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runNow(code: string, signal?: AbortSignal): Promise<Reply> {
    if (this.closed) throw new Error("the Python sandbox is closed");
    const { child, ready } = this.next ?? this.start();
    this.next = undefined;
    this.running = child;
    hold(child, true);
    try {
      // A failed start is not kept: the next call starts another process (and makes the snapshot again if that failed).
      await ready;
      return await new Promise<Reply>((resolve) => {
        const finish = (r: Reply) => {
          clearTimeout(timer);
          child.off("message", onMessage);
          child.off("exit", onExit);
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        };
        const onMessage = (m: Reply) => finish({ ok: m.ok, output: m.output, error: m.error });
        const onExit = (code: number | null, sig: string | null) => finish({ ok: false, output: "", error: `the interpreter stopped (${sig ?? `exit ${code}`})` });
        const onAbort = () => finish({ ok: false, output: "", error: "the program was cancelled" });
        const timer = setTimeout(() => finish({ ok: false, output: "", error: `TimeoutError: the program ran longer than ${this.o.timeoutMs} ms and was stopped` }), this.o.timeoutMs);
        child.once("message", onMessage);
        child.once("exit", onExit);
        signal?.addEventListener("abort", onAbort, { once: true });
        child.send({ code });
      });
    } finally {
      // The call returns only once the process that ran the program is gone, with whatever it left behind.
      await stop(child);
      this.running = undefined;
      if (!this.closed) this.next = this.start();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.next?.child, this.running].map((c) => c && stop(c)));
    this.next = undefined;
  }
}

/**
 * The `python` tool: runs the caller's program (`{"code": "..."}`) and returns what it printed; a Python error is an
 * error observation with the program's output so far and the error.
 */
export function pythonTool(sandbox: PythonSandbox): ToolSpec {
  return {
    doc: {
      Name: "python",
      function: "Run a Python 3 program in a sandbox (standard library only, no files, no network) and return what it prints. Print the result you need.",
      input: { code: "string, the complete Python program; print() the values you need" },
    },
    schema: z.object({ code: z.string().min(1) }) as unknown as z.ZodType<Record<string, unknown>>,
    run: async (args, { signal }) => {
      const r = await sandbox.run(args.code as string, signal);
      if (!r.ok) throw new Error((r.output ? r.output.trimEnd() + "\n" : "") + r.error);
      return r.output;
    },
  };
}

/**
 * The `python` tool source: one sandbox for the run, stopped by `close()`.
 *
 * @example
 * const { tools, close } = openPythonTool();
 * try { await createAlphaUmiGraph({ tools, models }).invoke({ instruction: "What is 2**100?" }, config); } finally { await close(); }
 */
export function openPythonTool(opts: PythonSandboxOptions = {}): ToolSet {
  const sandbox = new PythonSandbox(opts);
  return { tools: [pythonTool(sandbox)], close: () => sandbox.close() };
}
