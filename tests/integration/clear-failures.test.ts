import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import type { RoleModel } from "../../src/models/generate.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import type { AgentStateType } from "../../src/state.js";
import { loadToolSources } from "../../src/tools/sources.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { runCli, runCliWithInput, startCli } from "../helpers/cli.js";
import { cliInProcess } from "../helpers/inProcessCli.js";
import { call, plan } from "../helpers/scenario.js";
import { freePort } from "../../src/models/llamaServer.js";

/**
 * Failures a user meets at the edges, each one line: services that are not there (worker, serve, eval --queue), option
 * values out of range (exit 2), models and tools that throw anything at all, and the hint of a run that did not end.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-failures-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** Run the CLI; it must exit by itself (a guard kills it after 60 s, and then the test fails). */
async function exits(args: string[]) {
  const child = startCli(args);
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const r = await child.done;
  clearTimeout(guard);
  expect(r.signal).toBeNull();
  return r;
}

const PG = "postgres://127.0.0.1:5432/test?schema=clear_failures";
const REDIS = "redis://127.0.0.1:6379?prefix=clear-failures";

describe("unreachable Redis or Postgres: one line, exit 2, no retry loop", () => {
  it("worker, Redis not there", async () => {
    const port = await freePort();
    const r = await exits(["worker", "--queue", `redis://127.0.0.1:${port}`, "--checkpoints", PG]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`alpha-umi: --queue redis://127.0.0.1:${port}: cannot reach Redis (connect ECONNREFUSED 127.0.0.1:${port})\n`);
    expect(r.stdout).toBe("");
  }, 90_000);

  it("worker, Postgres not there (the password is masked)", async () => {
    const port = await freePort();
    const r = await exits(["worker", "--queue", REDIS, "--checkpoints", `postgres://alpha:s3cret@127.0.0.1:${port}/test`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`alpha-umi: --checkpoints postgres://alpha:***@127.0.0.1:${port}/test: cannot reach Postgres (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  }, 90_000);

  it("serve, Postgres not there", async () => {
    const port = await freePort();
    const r = await exits(["serve", "--port", "0", "--checkpoints", `postgres://127.0.0.1:${port}/test`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`alpha-umi: --checkpoints postgres://127.0.0.1:${port}/test: cannot reach Postgres (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  }, 90_000);

  it("serve, Redis not there (its runs' queue and streams)", async () => {
    const port = await freePort();
    const r = await exits(["serve", "--port", "0", "--checkpoints", PG, "--queue", `redis://127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`alpha-umi: --queue redis://127.0.0.1:${port}: cannot reach Redis (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  }, 90_000);

  it("eval episodes --queue, Redis not there", async () => {
    const port = await freePort();
    const r = await cliInProcess(["eval", "episodes", "--data", "tests/fixtures/toolbench-demo.json", "--limit", "1", ...["planner", "caller", "summarizer"].flatMap((r) => [`--${r}`, `ollama:${r}`]), "--queue", `redis://127.0.0.1:${port}`, "--out", join(dir, "ep")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`alpha-umi: --queue redis://127.0.0.1:${port}: cannot reach Redis (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  }, 60_000);
});

describe("option values out of range: one line naming the option, exit 2", () => {
  it.each([
    [["run", "q", "--tools", "demo", "--checkpoints", "memory", "--num-ctx", "10"], /^alpha-umi: --num-ctx 10: too small: the caller's toolbench prompt takes \d+ tokens .* a reply up to 512: at least (\d+)$/],
    [["run", "q", "--tools", "demo", "--checkpoints", "memory", "--num-ctx", "600", "--templates", "instruct"], /^alpha-umi: --num-ctx 600: too small: the planner's instruct prompt takes \d+ tokens/],
    [["run", "q", "--tools", "demo", "--checkpoints", "memory", "--single-llm", "--num-ctx", "100"], /^alpha-umi: --num-ctx 100: too small: the backbone's toolbench prompt/],
    [["eval", "steps", "--data", "tests/fixtures/toolbench-demo.json", "--num-ctx", "10", "--out", "/nonexistent"], /^alpha-umi: --num-ctx 10: too small/],
    [["eval", "episodes", "--data", "tests/fixtures/toolbench-demo.json", "--num-ctx", "10", "--out", "/nonexistent"], /^alpha-umi: --num-ctx 10: too small/],
    [["eval", "cassette", "--data", "tests/fixtures/toolbench-demo.json", "--num-ctx", "10", "--out", "/nonexistent/c.jsonl"], /^alpha-umi: --num-ctx 10: too small/],
    [["eval", "math", "--data", "gsm8k.json", "--num-ctx", "10"], /^alpha-umi: --num-ctx 10: too small: the planner's math prompt/],
    [["eval", "realtime", "--data", "q.json", "--tools", "demo", "--out", "/nonexistent", "--num-ctx", "10"], /^alpha-umi: --num-ctx 10: too small/],
    [["run", "q", "--tools", "demo", "--num-ctx", "-5"], /^alpha-umi: --num-ctx: expected a positive integer, got "-5"$/],
    [["run", "q", "--tools", "demo", "--max-steps", "0"], /^alpha-umi: --max-steps: expected a positive integer, got "0"$/],
    [["serve", "--checkpoints", PG, "--port", "70000"], /^alpha-umi: --port: expected 0…65535, got "70000"$/],
  ])("%j", async (args, message) => {
    const r = await cliInProcess(args as string[]);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.code).toBe(2);
  });

  it("the minimum the message names is exact: that window is accepted, one token less is refused", async () => {
    const refused = await cliInProcess(["run", "q", "--tools", "demo", "--checkpoints", "memory", "--num-ctx", "10"]);
    const least = Number(/at least (\d+)$/.exec(refused.stderr.trim())![1]);
    const spec = "replay:tools/demo/cassette.jsonl";
    const atLeast = await cliInProcess(["run", DEMO_INSTRUCTION, "--tools", "demo", "--checkpoints", "memory", "--planner", spec, "--caller", spec, "--summarizer", spec, "--num-ctx", String(least)]);
    expect(atLeast.stderr).not.toMatch(/--num-ctx/);
    const below = await cliInProcess(["run", "q", "--tools", "demo", "--checkpoints", "memory", "--num-ctx", String(least - 1)]);
    expect(below.code).toBe(2);
  });
});

/** A model (any role) whose call throws `value` itself, not an Error. */
const throwing = (value: unknown) => ({ invoke: async () => Promise.reject(value) }) as unknown as RoleModel;
const revoked = () => {
  const p = Proxy.revocable({}, {});
  p.revoke();
  return p.proxy;
};
const THROWN: Array<[string, () => unknown, RegExp]> = [
  ["null", () => null, /failed: threw null \(not an Error\)$/],
  ["undefined", () => undefined, /failed: threw undefined \(not an Error\)$/],
  ["a number", () => 42, /failed: threw 42 \(not an Error\)$/],
  ["a string", () => "quota exceeded", /failed: quota exceeded$/],
  ["an empty string", () => "", /failed: threw an empty string$/],
  ["an object", () => ({ code: 7 }), /failed: \{"code":7\}$/],
  ["an Error without a message", () => new TypeError(""), /failed: TypeError$/],
  ["a revoked proxy", revoked, /failed: /],
];

describe("a model that throws anything at all: the run fails with a reason naming the role", () => {
  it.each(THROWN)("%s", async (_name, value, reason) => {
    for (const role of ["planner", "caller", "summarizer"] as const) {
      const planner = role === "planner" ? throwing(value()) : new ScriptedModel([plan("Look it up.", "caller"), plan("Done.", "conclusion")]);
      const caller = role === "caller" ? throwing(value()) : new ScriptedModel([call("country_facts_for_atlas", { country: "Japan" })]);
      const summarizer = role === "summarizer" ? throwing(value()) : new ScriptedModel(["Tokyo."]);
      const graph = createAlphaUmiGraph({ tools: demoTools(), models: { planner, caller, summarizer } });
      const state = (await graph.invoke({ instruction: "Capital of Japan?" }, { configurable: { thread_id: `${role}-${_name}` } })) as AgentStateType;
      expect(state.status.status).toBe("failed");
      expect(state.status.reason).toMatch(new RegExp(`^${role} model failed: `));
      expect(state.status.reason).toMatch(reason);
      expect(state.status.reason).not.toMatch(/Cannot read properties/);
    }
  });
});

describe("a tool that throws anything at all: an observation naming the tool, through run --tools module:", () => {
  it("each thrown value reaches τ as `NAME failed: …` and the run goes on", async () => {
    const module = join(dir, "throwing-tools.mjs");
    const values = { null: "null", undefined: "undefined", number: "42", text: '"disk full"', object: "{ code: 7 }", empty: 'new Error("")' };
    writeFileSync(
      module,
      Object.entries(values)
        .map(([k, v]) => `export const ${k}Tool = { doc: { Name: "throws_${k}", function: "throws ${k}", input: {} }, run() { throw ${v}; } };`)
        .join("\n"),
    );
    const names = Object.keys(values).map((k) => `throws_${k}`);
    const { tools, close } = await loadToolSources([`module:${module}`]);
    const cassette = join(dir, "throwing.jsonl");
    const writer = new CassetteWriter(cassette);
    const rec = (role: "planner" | "caller" | "summarizer", script: string[]) => new RecordingModel(new ScriptedModel(script, role), role, writer);
    await createAlphaUmiGraph({
      tools,
      models: {
        planner: rec("planner", [...names.map(() => plan("Try it.", "caller")), plan("Done.", "conclusion")]),
        caller: rec("caller", names.map((n) => call(n, {}))),
        summarizer: rec("summarizer", ["They all failed."]),
      },
    }).invoke({ instruction: "Try every tool." }, { configurable: { thread_id: "rec" } });
    await close();
    const spec = `replay:${cassette}`;
    const r = await runCli(["run", "Try every tool.", "--tools", `module:${module}`, "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", "memory"]);
    expect(r.code).toBe(0);
    const observations = [...r.stdout.matchAll(/^\[observation\] (.*)$/gm)].map((m) => JSON.parse(m[1]!).error as string);
    expect(observations).toEqual([
      "throws_null failed: threw null (not an Error)",
      "throws_undefined failed: threw undefined (not an Error)",
      "throws_number failed: threw 42 (not an Error)",
      "throws_text failed: disk full",
      'throws_object failed: {"code":7}',
      "throws_empty failed: Error",
    ]);
  }, 60_000);
});

describe("a run that did not end says how to resume it, with the options the resume needs", () => {
  const spec = "replay:tools/demo/cassette.jsonl";
  const models = ["--planner", spec, "--caller", spec, "--summarizer", spec];

  it("waiting for approval: the hint repeats the options and adds --approve; it runs as printed", async () => {
    const db = join(dir, "approve.sqlite");
    const first = await runCliWithInput(["run", DEMO_INSTRUCTION, "--tools", "demo", ...models, "--checkpoints", db, "--approve", "exchange_rate_for_fx"], "");
    const [thread] = /thread (run-\S+)\)/.exec(first.stdout)!.slice(1);
    expect(first.stdout).toContain(`waiting for approval of exchange_rate_for_fx (thread ${thread})\n`);
    expect(first.stdout).toContain(`resume with: npx alpha-umi run --thread ${thread} --tools demo ${models.join(" ")} --checkpoints ${db} --approve exchange_rate_for_fx\n`);
    // Resumed without --approve the thread stays waiting, and the hint adds the --approve it needs.
    const unasked = await runCli(["run", "--thread", thread!, "--tools", "demo", ...models, "--checkpoints", db]);
    expect(unasked.stdout).toContain(`resume with: npx alpha-umi run --thread ${thread} --tools demo ${models.join(" ")} --checkpoints ${db} --approve\n`);
    expect(unasked.code).toBe(1);
    const hint = /^resume with: npx alpha-umi (.*)$/m.exec(first.stdout)![1]!.split(" ");
    const resumed = await runCliWithInput(hint, "y\n");
    expect(resumed.stdout).toMatch(/^resuming thread /);
    expect(resumed.stdout).toContain(`finished in 4 planner step(s) (thread ${thread})`);
    expect(resumed.code).toBe(0);
  }, 90_000);

  it("--checkpoints memory: told it cannot be resumed, never given a resume command", async () => {
    const r = await runCliWithInput(["run", DEMO_INSTRUCTION, "--tools", "demo", ...models, "--checkpoints", "memory", "--approve"], "");
    expect(r.stdout).toContain("waiting for approval of country_facts_for_atlas");
    expect(r.stdout).toContain("the thread was kept in memory (--checkpoints memory): it ends with this process and cannot be resumed");
    expect(r.stdout + r.stderr).not.toMatch(/resume with|--thread/);
  }, 60_000);

  it("a failed run: the hint names the options it was started with", async () => {
    const port = await freePort();
    const db = join(dir, "failed.sqlite");
    const planner = `ollama:alpha-umi-planner@http://127.0.0.1:${port}`;
    const r = await cliInProcess(["run", "q", "--tools", "demo", "--checkpoints", db, "--planner", planner, "--max-steps", "3", "--thread", "F"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")[1]).toBe(`resume with: npx alpha-umi run --thread F --tools demo --planner ${planner} --checkpoints ${db} --max-steps 3`);
  });
});
