/**
 * The python tool's containment, attacked: a program reaches no socket (pyodide's NodeSockFS, its socket and package
 * APIs, the browser-style fetch routes), nothing it starts runs on after its call returns, no program sees what an
 * earlier one changed, and SIGTERM ends `alpha-umi run --tools python` together with its sandbox processes.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { executeCall } from "../../src/tools/executor.js";
import { PythonSandbox, pythonTool } from "../../src/tools/python.js";
import { startCli, waitFor } from "../helpers/cli.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fakeOllama.js";

let sandbox: PythonSandbox;
let listener: Server;
let port: number;
/** What reached the loopback listener the sandbox must not reach: one entry per connection, then its bytes. */
const received: string[] = [];

beforeAll(async () => {
  sandbox = new PythonSandbox({ timeoutMs: 5000, memoryMb: 128 });
  listener = createServer((s) => {
    received.push("connection");
    s.on("data", (d) => received.push(String(d)));
  });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as AddressInfo).port;
  // The first program also makes the interpreter snapshot (seconds on a busy machine); the tests time later ones.
  await sandbox.run("pass");
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  listener?.close();
});

const run = (code: string) => executeCall([pythonTool(sandbox)], "python", JSON.stringify({ code }), { timeoutMs: 30_000, maxObservationChars: 4000 });
const error = (r: { observation: string }) => JSON.parse(r.observation).error as string;
const settle = () => new Promise((r) => setTimeout(r, 1000));

describe("python sandbox: no sockets", () => {
  it("pyodide's NodeSockFS reaches no TCP listener, awaited or left running in the background", async () => {
    const attack = `import asyncio, pyodide_js
async def attack():
    await pyodide_js.useNodeSockFS()
    r, w = await asyncio.open_connection("127.0.0.1", ${port})
    w.write(b"pwned")
    await w.drain()
    return "connected"
`;
    // The reviewers' route: started as a task, it ran after the call returned and wrote to the local Redis.
    expect(await run(attack + "asyncio.ensure_future(attack())\nprint('started')")).toEqual({ ok: true, observation: "started\n" });
    await settle();
    expect(received).toEqual([]);
    // Awaited, the call says why it failed.
    expect(error(await run(attack + "print(await attack())"))).toMatch(/the sandbox has no network$/);
    expect(error(await run(`import pyodide_js\nawait pyodide_js._api.initializeNodeSockFS()`))).toMatch(/the sandbox has no network$/);
    await settle();
    expect(received).toEqual([]);
  });

  it("every other socket route fails and reaches nothing", async () => {
    // Each route is an async body; one program tries them all (one interpreter start instead of one per route).
    const routes: Record<string, [string, RegExp]> = {
      socket: [`import socket\ns = socket.socket()\ns.connect(("127.0.0.1", ${port}))\ns.send(b"pwned")`, /^OSError/],
      // Without NodeSockFS emscripten's sockets are WebSockets (the ws package, through Node's net).
      asyncio: [`import asyncio\nr, w = await asyncio.open_connection("127.0.0.1", ${port})\nw.write(b"pwned")\nawait w.drain()`, /Error/],
      pyfetch: [`from pyodide.http import pyfetch\nawait pyfetch("http://127.0.0.1:${port}/")`, /Error/],
      open_url: [`from pyodide.http import open_url\nopen_url("http://127.0.0.1:${port}/")`, /Error/],
      fetch: [`from js import fetch`, /^ImportError/],
      WebSocket: [`from js import WebSocket`, /^ImportError/],
      loadPackage: [`import pyodide_js\nawait pyodide_js.loadPackage("http://127.0.0.1:${port}/micropip-0.1-py3-none-any.whl")`, /the sandbox has no network$/],
      micropip: [`import micropip`, /^ModuleNotFoundError/],
      mountNodeFS: [`import pyodide_js\npyodide_js.mountNodeFS("/host", "/")`, /not available in the sandbox$/],
      Function: [`import pyodide_js\nprint(pyodide_js.constructor.constructor("return process")())`, /^JsException: EvalError/],
    };
    const body = (code: string) => code.split("\n").map((l) => "        " + l).join("\n");
    const program = Object.entries(routes)
      .map(([name, [code]]) => `async def route():\n    try:\n${body(code)}\n        print(${JSON.stringify(name)}, "reached")\n    except BaseException as e:\n        print(${JSON.stringify(name)}, type(e).__name__ + ": " + str(e).splitlines()[0] if str(e) else type(e).__name__)\nawait route()`)
      .join("\n");
    const r = await run(program);
    expect(r.ok).toBe(true);
    const outcomes = Object.fromEntries(r.observation.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
    expect(outcomes).toEqual(Object.fromEntries(Object.entries(routes).map(([name, [, why]]) => [name, expect.stringMatching(why)])));
    await settle();
    expect(received).toEqual([]);
  });
});

describe("python sandbox: each program alone", () => {
  it("work a program leaves behind does not run on after its call returns", async () => {
    // A task that would spin forever once the call has returned (before: it held the interpreter, and the next program
    // timed out), and one that would print into a later program's output.
    const r = await run("import asyncio\ndef spin():\n    while True: pass\nasyncio.get_event_loop().call_later(0.2, spin)\nasync def late():\n    await asyncio.sleep(1.5)\n    print('late')\nasyncio.ensure_future(late())\nprint('returned')");
    expect(r).toEqual({ ok: true, observation: "returned\n" });
    await settle();
    expect(await run("import asyncio\nawait asyncio.sleep(1)\nprint(6 * 7)")).toEqual({ ok: true, observation: "42\n" });
  });

  it("patched builtins, sys.stdout, modules, the environment and files do not reach the next program", async () => {
    const patch = `import builtins, sys, os, math, io
builtins.print = lambda *a, **k: sys.__stdout__.write("pwned\\n")
sys.stdout = io.StringIO()
math.sqrt = lambda x: -1
os.environ["SECRET"] = "s3"
open("/tmp/note", "w").write("from program 1")
sys.modules["json"] = None
builtins.leak = "leaked"`;
    expect((await run(patch)).ok).toBe(true);
    const check = `import os, math, json
print(6 * 7, math.sqrt(4), os.environ.get("SECRET"), json.dumps(1), "leak" in dir(__builtins__) or hasattr(__import__("builtins"), "leak"))
print(os.path.exists("/tmp/note"))`;
    expect(await run(check)).toEqual({ ok: true, observation: "42 2.0 None 1 False\nFalse\n" });
  });

  it("two sandboxes (two clients) run at the same time without sharing anything", async () => {
    const other = new PythonSandbox({ timeoutMs: 5000, memoryMb: 128 });
    try {
      const [a, b] = await Promise.all([sandbox.run("import builtins\nbuiltins.print = None\nx = 1"), other.run("import time\ntime.sleep(0.5)\nprint(6 * 7)")]);
      expect([a.ok, b]).toEqual([true, { ok: true, output: "42\n", error: undefined }]);
      expect(await sandbox.run("print(6 * 7)")).toEqual({ ok: true, output: "42\n", error: undefined });
    } finally {
      await other.close();
    }
  });
});

describe("python sandbox: SIGTERM", () => {
  let fake: FakeOllama;
  beforeAll(async () => {
    // Planner and caller behind the Ollama API: a first program that returns, then one that never does.
    fake = await startFakeOllama({
      models: { P: {}, C: {}, S: {} },
      respond: ({ model, prompt }) => {
        const done = prompt.split("observation: ").length - 1;
        if (model === "P") return "Compute it.\n Next: caller.";
        if (model === "C") return `Action: python\nAction Input: ${JSON.stringify({ code: done === 0 ? "print('first call done')" : "while True:\n    pass" })}`;
        return "done";
      },
    });
  });
  afterAll(() => fake?.close());

  /** The processes below `pid` (its children, theirs, …), from /proc. */
  function descendants(pid: number): number[] {
    const parent = new Map<number, number>();
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // gone meanwhile
      }
    }
    const out: number[] = [];
    for (let frontier = [pid]; frontier.length; ) frontier = [...parent].filter(([, p]) => frontier.includes(p)).map(([c]) => (out.push(c), c));
    return out;
  }
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

  (process.platform === "linux" ? it : it.skip)("ends alpha-umi run --tools python within seconds, sandbox processes included, while a program runs", async () => {
    const models = ["--planner", `ollama:P@${fake.url}`, "--caller", `ollama:C@${fake.url}`, "--summarizer", `ollama:S@${fake.url}`];
    const cli = startCli(["run", "Compute it.", "--tools", "python", ...models, "--checkpoints", "memory"]);
    let sandboxes: number[] = [];
    try {
      await waitFor(() => {
        if (cli.exitCode !== null) throw new Error(`the run ended early: ${JSON.stringify(cli.output())}`);
        return cli.output().stdout.includes("first call done") && fake.generations().filter((g) => g.model === "C").length >= 2;
      }, 90_000, "the second python call");
      // The second program is running (or about to): its interpreter is one of the CLI's descendants.
      await new Promise((r) => setTimeout(r, 1500));
      sandboxes = descendants(cli.pid!);
      expect(sandboxes.length).toBeGreaterThan(0);
      const t0 = Date.now();
      cli.kill("SIGTERM");
      await waitFor(() => cli.exitCode !== null || cli.signalCode !== null, 5000, "alpha-umi run to end after SIGTERM");
      await waitFor(() => sandboxes.every((p) => !alive(p)), 5000 - Math.min(4000, Date.now() - t0), "the sandbox processes to end");
    } finally {
      cli.kill("SIGKILL");
      for (const p of sandboxes) if (alive(p)) process.kill(p, "SIGKILL");
    }
  }, 120_000);
});
