/**
 * The math agent's Python interpreter (the paper's appendix D): CPython compiled to WebAssembly (pyodide, loaded from
 * node_modules, no network) in a child process that cannot reach the host. The child runs under Node's permission model
 * (it may read the pyodide folder and nothing else: no files, no child processes, no workers), with code generation from
 * strings disabled (Python cannot reach JavaScript's `Function`/`eval`), `fetch` removed, an empty `js` module, a capped
 * WebAssembly memory (a memory bomb is a MemoryError) and V8 heap, and a wall-clock limit enforced by killing it.
 */
import { spawn, type ChildProcess } from "node:child_process";
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
 * The child's program (an ES module given to `node -e`, so it needs no file of its own). It loads pyodide, locks the
 * JavaScript side down, then answers `{id, code}` messages with `{id, ok, output}`: stdout, or stdout plus the
 * Python error.
 */
const CHILD = String.raw`
const [pyodideDir, maxPages, maxOutput] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
// WebAssembly memory grows through this method (emscripten's resize_heap): refusing past the cap makes malloc fail.
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (delta) {
  if (this.buffer.byteLength / 65536 + delta > maxPages) throw new RangeError("memory limit");
  return grow.call(this, delta);
};
// pyodide reads the fs constants through process.binding, which the permission model forbids.
const { constants } = await import("node:fs");
process.binding = (name) => { if (name === "constants") return { fs: constants }; throw new Error("process.binding is not available"); };
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
let out = "";
const write = (s) => { if (out.length < maxOutput) out += s + "\n"; };
const py = await loadPyodide({ indexURL: pyodideDir + "/", jsglobals: {}, env: { HOME: "/home/pyodide" }, stdout: write, stderr: write });
for (const k of ["fetch", "WebSocket", "EventSource", "XMLHttpRequest"]) delete globalThis[k];
for (const k of ["getBuiltinModule", "dlopen", "_linkedBinding", "binding"]) process[k] = undefined;
py.runPython("import os, posix\ndef _no(*a, **k):\n    raise PermissionError('the sandbox runs no processes')\nfor _n in ('system', 'popen', 'fork', 'execv', 'execve', 'spawnv', 'posix_spawn', 'kill'):\n    for _m in (os, posix):\n        if hasattr(_m, _n): setattr(_m, _n, _no)\ndel _n, _m, _no");
const dict = py.globals.get("dict");
const collect = py.pyimport("gc").collect;
process.on("message", ({ id, code }) => {
  out = "";
  let reply;
  const globals = dict();
  try {
    py.runPython(code, { globals });
    reply = { id, ok: true, output: out };
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
    reply = { id, ok: false, output: out, error: own.join("\n") };
  } finally {
    // Free the program's objects (a memory bomb's too) before the next program.
    globals.destroy();
    collect();
  }
  if (out.length >= maxOutput) reply.output += "...[output cut]";
  process.send(reply);
});
process.send({ ready: true });
`;

function pyodideDir(): string {
  return dirname(createRequire(import.meta.url).resolve("pyodide/package.json"));
}

type Reply = { id: number; ok: boolean; output: string; error?: string };

/**
 * One sandboxed interpreter process, started on first use and restarted after a program that had to be killed (time
 * limit) or broke the runtime. Each program runs with fresh globals.
 *
 * @example
 * const py = new PythonSandbox({ timeoutMs: 5000 });
 * (await py.run("print(6 * 7)")).output; // "42\n"
 * await py.close();
 */
export class PythonSandbox {
  private readonly o: Required<PythonSandboxOptions>;
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: PythonSandboxOptions = {}) {
    this.o = { ...DEFAULTS, ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as PythonSandboxOptions) };
  }

  private start(): Promise<ChildProcess> {
    const dir = pyodideDir();
    const major = Number(process.versions.node.split(".")[0]);
    const child = spawn(
      process.execPath,
      [
        major >= 22 ? "--permission" : "--experimental-permission",
        `--allow-fs-read=${dir}`,
        "--disallow-code-generation-from-strings",
        `--max-old-space-size=${Math.max(64, Math.ceil(this.o.memoryMb / 2))}`,
        "--no-warnings",
        "--input-type=module",
        "-e",
        CHILD,
        dir,
        String(Math.floor((this.o.memoryMb * 1024 * 1024) / 65536)),
        String(this.o.maxOutputChars),
      ],
      { stdio: ["ignore", "ignore", "pipe", "ipc"], env: {} },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
    this.child = child;
    return new Promise((resolve, reject) => {
      child.once("message", () => resolve(child));
      child.once("exit", (code, signal) => reject(new Error(`the Python sandbox did not start (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" ")}`)));
    });
  }

  private kill(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
    this.ready = undefined;
  }

  /** Run one program; resolves with its stdout, or stdout and the Python error. Never rejects for the program's faults. */
  run(code: string, signal?: AbortSignal): Promise<{ ok: boolean; output: string; error?: string }> {
    const task = this.queue.then(() => this.runNow(code, signal));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runNow(code: string, signal?: AbortSignal): Promise<{ ok: boolean; output: string; error?: string }> {
    if (this.closed) throw new Error("the Python sandbox is closed");
    this.ready ??= this.start();
    let child: ChildProcess;
    try {
      child = await this.ready;
    } catch (e) {
      this.kill();
      throw e;
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const finish = (r: { ok: boolean; output: string; error?: string }, restart: boolean) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        signal?.removeEventListener("abort", onAbort);
        if (restart) this.kill();
        resolve(r);
      };
      const onMessage = (m: Reply) => m.id === id && finish({ ok: m.ok, output: m.output, error: m.error }, /fatally failed|Fatal Python error/.test(m.error ?? ""));
      const onExit = (code: number | null, sig: string | null) => finish({ ok: false, output: "", error: `the interpreter stopped (${sig ?? `exit ${code}`}); it is restarted for the next program` }, true);
      const onAbort = () => finish({ ok: false, output: "", error: "the program was cancelled" }, true);
      const timer = setTimeout(() => finish({ ok: false, output: "", error: `TimeoutError: the program ran longer than ${this.o.timeoutMs} ms and was stopped` }, true), this.o.timeoutMs);
      child.on("message", onMessage);
      child.once("exit", onExit);
      signal?.addEventListener("abort", onAbort, { once: true });
      child.send({ id, code });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.kill();
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

/** The `python` tool source: one sandbox for the run, stopped by `close()`. */
export function openPythonTool(opts: PythonSandboxOptions = {}): ToolSet {
  const sandbox = new PythonSandbox(opts);
  return { tools: [pythonTool(sandbox)], close: () => sandbox.close() };
}
