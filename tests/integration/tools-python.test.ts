import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evalMath, readMathFile } from "../../src/eval/math.js";
import { goldNumber, predictedNumber } from "../../src/protocol/mathAnswers.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { executeCall } from "../../src/tools/executor.js";
import { PythonSandbox, pythonTool } from "../../src/tools/python.js";
import { runCli } from "../helpers/cli.js";

const LIMITS = { timeoutMs: 5000, memoryMb: 128 };
const opts = { timeoutMs: 20_000, maxObservationChars: 2000 };
let dir: string;
let sandbox: PythonSandbox;
let listener: Server;
let connections = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-py-"));
  sandbox = new PythonSandbox(LIMITS);
  // A loopback port the sandbox must not reach.
  listener = createServer(() => connections++);
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  // The first program also makes the interpreter snapshot (seconds on a busy machine), outside the call's timeout.
  await sandbox.run("pass");
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  listener?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (code: string) => executeCall([pythonTool(sandbox)], "python", JSON.stringify({ code }), opts);
const error = (r: { observation: string }) => JSON.parse(r.observation).error as string;

describe("python tool (pyodide sandbox)", () => {
  it("returns what the program prints; a Python error is an error observation with the output so far", async () => {
    expect(await run("from fractions import Fraction\nprint(Fraction(3, 4) * 12)")).toEqual({ ok: true, observation: "9\n" });
    const r = await run("print('step 1')\nraise ValueError('no such root')");
    expect(r.ok).toBe(false);
    expect(error(r)).toBe('python failed: step 1\nTraceback (most recent call last):\n  File "<exec>", line 2, in <module>\nValueError: no such root');
    // Each program has fresh globals (python-sandbox.test.ts attacks the rest of the state).
    await run("leak = 1");
    expect(error(await run("print(leak)"))).toMatch(/NameError: name 'leak' is not defined$/);
  });

  it("an infinite loop is stopped at the time limit, and the next program runs", async () => {
    const t0 = Date.now();
    const r = await run("while True:\n    pass");
    expect(error(r)).toBe(`python failed: TimeoutError: the program ran longer than ${LIMITS.timeoutMs} ms and was stopped`);
    // Stopped near the limit; the margin covers a fresh interpreter's start on a busy machine.
    expect(Date.now() - t0).toBeLessThan(LIMITS.timeoutMs + 10_000);
    expect(await run("print(sum(range(101)))")).toEqual({ ok: true, observation: "5050\n" });
  });

  it("a memory bomb is a MemoryError within the memory limit", async () => {
    expect(error(await run("x = 'a' * 10 ** 9"))).toMatch(/MemoryError$/);
    // Many allocations (10 MB each, so the cap is reached in well under the time limit even on a busy machine).
    expect(error(await run("x = []\nwhile True:\n    x.append(bytearray(10 ** 7))"))).toMatch(/MemoryError$/);
    expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 ** 3);
    expect(await run("print(2 ** 10)")).toEqual({ ok: true, observation: "1024\n" });
  });

  it("no processes, no host files, no network, no way out through JavaScript", async () => {
    const marker = join(dir, "pwned");
    expect(error(await run(`import os\nos.system('touch ${marker}')`))).toMatch(/PermissionError: the sandbox runs no processes$/);
    expect(error(await run(`import subprocess\nsubprocess.run(['touch', '${marker}'])`))).toMatch(/Error/);
    expect(existsSync(marker)).toBe(false);
    expect(error(await run("print(open('/etc/passwd').read())"))).toMatch(/FileNotFoundError: \[Errno 44\] No such file or directory: '\/etc\/passwd'$/);
    expect(error(await run(`open('${join(dir, "written")}', 'w').write('x')`))).toMatch(/Error/);
    expect(existsSync(join(dir, "written"))).toBe(false);
    const port = (listener.address() as AddressInfo).port;
    expect(error(await run(`import socket\nsocket.create_connection(('127.0.0.1', ${port}), timeout=1)`))).toMatch(/OSError/);
    expect(error(await run(`import urllib.request\nurllib.request.urlopen('http://127.0.0.1:${port}/', timeout=1)`))).toMatch(/URLError/);
    expect(connections).toBe(0);
    expect(error(await run("import js\nprint(js.process.pid)"))).toMatch(/AttributeError/);
    expect(error(await run("import pyodide_js\nprint(pyodide_js.constructor.constructor('return process')())"))).toMatch(/EvalError: Code generation from strings disallowed/);
    expect(error(await run("from pyodide.code import run_js\nrun_js('1')"))).toMatch(/Error/);
    // The host process is unharmed, and the sandbox still answers.
    expect(await run("print('still here')")).toEqual({ ok: true, observation: "still here\n" });
  });
});

/** A small GSM8K-format fixture written for this project. */
const FIXTURE = [
  { question: "Lena has 3 boxes of 12 pencils and gives away 9 pencils. How many pencils does she have left?", answer: "3 boxes hold 3*12=36 pencils. 36-9=27.\n#### 27", program: "print(3 * 12 - 9)" },
  { question: "A train travels 150 km in 2.5 hours. What is its average speed in km per hour?", answer: "150/2.5=60\n#### 60", program: "print(150 / 2.5)" },
  { question: "Sam saves $1,250 a month for a year. How much does he save?", answer: "1250*12=15000\n#### 15,000", program: "print(1250 * 11)" },
];

/** Scripted roles that follow the math protocol: plan a computation, write its program, conclude from the observation. */
function mathModels(writer?: CassetteWriter) {
  const programOf = (prompt: string) => FIXTURE.find((f) => prompt.includes(f.question))!.program;
  const lastObservation = (prompt: string) => /observation: ([^<]*?)\s*(?:assistant:|$)/.exec(prompt.slice(prompt.lastIndexOf("observation: ")))?.[1] ?? "";
  const role = (name: "planner" | "caller" | "summarizer", step: (p: string) => string) => {
    const m = new ScriptedModel(Array.from({ length: 30 }, () => step), name);
    return writer ? new RecordingModel(m, name, writer) : m;
  };
  return {
    planner: role("planner", (p) => (p.includes("observation: ") ? "The program printed the result.\n Next: conclusion." : "Compute it with a program.\n Next: caller.")),
    caller: role("caller", (p) => `Action: python\nAction Input: ${JSON.stringify({ code: programOf(p) })}`),
    summarizer: role("summarizer", (p) => `The answer is ${lastObservation(p)}.`),
  };
}

describe("alpha-umi eval math", () => {
  it("reads GSM8K lines and compares numbers", () => {
    expect(goldNumber("so 3+4=7\n#### 1,234.5")).toBe(1234.5);
    expect(predictedNumber("He pays $12 for 3 items, so the answer is $1,200.")).toBe(1200);
    expect(predictedNumber("3 apples and then 60.0")).toBe(60);
    expect(predictedNumber("no idea")).toBeNull();
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"question": "q", "answer": "7"}\n');
    expect(() => readMathFile(bad)).toThrow(`${bad}:1: the answer has no number after "####" (GSM8K format)`);
  });

  it("scores the fixture with the python tool (math templates), resumes, and the CLI replays it to the same accuracy", async () => {
    const data = join(dir, "fixture.jsonl");
    writeFileSync(data, FIXTURE.map(({ question, answer }) => JSON.stringify({ question, answer })).join("\n") + "\n");
    const cassette = join(dir, "math-cassette.jsonl");
    const out = join(dir, "math-out");
    const models = mathModels(new CassetteWriter(cassette));
    const r = await evalMath({ data, models, out, python: LIMITS, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream });
    expect(r.rows.map((x) => [x.status, x.predicted, x.gold, x.correct])).toEqual([
      ["finished", 27, 27, true],
      ["finished", 60, 60, true],
      ["finished", 13750, 15000, false],
    ]);
    expect(r.accuracy).toBeCloseTo(2 / 3, 10);
    expect(r.rows[0]!.turns.map((t) => t.from)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    const callerPrompt = readFileSync(cassette, "utf8").split("\n").map((l) => (l ? (JSON.parse(l) as { role: string; prompt: string }) : null)).find((l) => l?.role === "caller")!.prompt;
    expect(callerPrompt).toContain('Base on the thought write a Python program');
    expect(callerPrompt).toContain('{"Name": "python"');

    // Resumed: every question is already in the store, so no model is called again.
    const again = await evalMath({ data, models: mathModels(new CassetteWriter(join(dir, "unused.jsonl"))), out, python: LIMITS, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream });
    expect([again.resumed, again.correct]).toEqual([3, 2]);

    const spec = `replay:${cassette}`;
    const cli = await runCli(["eval", "math", "--data", data, "--planner", spec, "--caller", spec, "--summarizer", spec, "--out", join(dir, "cli-out"), "--json"]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual({ accuracy: 2 / 3, correct: 2, total: 3 });
  });
});
