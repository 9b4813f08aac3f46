import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { Turn } from "../../src/state.js";
import { runCli } from "../helpers/cli.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-cli-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("alpha-umi demo", () => {
  it("runs the real graph on replayed models, shows caller, observation and answer, and checkpoints τ in SQLite", async () => {
    const db = join(dir, "demo.sqlite");
    const r = await runCli(["demo", "--checkpoints", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/models are REPLAYED/);
    expect(r.stdout).toContain('[caller] Action: country_facts_for_atlas');
    expect(r.stdout).toContain('[observation] {"from":"EUR","to":"JPY","rate":162.5}');
    expect(r.stdout).toContain("[answer] The capital of Japan is Tokyo.");
    const thread = /as thread (\S+)/.exec(r.stdout)![1]!;
    const saver = SqliteSaver.fromConnString(db);
    const turns = (await storedState(saver, { configurable: { thread_id: thread } })).turns!;
    expect(turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);

    // The recorded run exports to the four GLPFT datasets, and their prompts are exactly what the models saw.
    const data = join(dir, "flywheel");
    const exp = await runCli(["data", "export", "--checkpoints", db, "--status", "finished", "--out", data]);
    expect(exp.code).toBe(0);
    const read = (role: string) => JSON.parse(readFileSync(join(data, `train_${role}.json`), "utf8")) as Array<{ input: string; target: string }>;
    expect([read("planner").length, read("caller").length, read("summarizer").length, read("backbone").length]).toEqual([4, 3, 1, 4]);
    const { readCassette, promptSha256 } = await import("../../src/models/cassette.js");
    const { demoCassettePath } = await import("../../src/configurable.js");
    const cassette = readCassette(demoCassettePath());
    for (const role of ["planner", "caller", "summarizer"])
      for (const rec of read(role)) expect(cassette.get(promptSha256(rec.input))).toEqual([rec.target]);
  });
});

describe("alpha-umi run --record", () => {
  it("writes a cassette that replays the same run byte for byte", async () => {
    const { demoCassettePath } = await import("../../src/configurable.js");
    const { DEMO_INSTRUCTION } = await import("../../tools/demo/index.js");
    const demo = `replay:${demoCassettePath()}`;
    const recorded = join(dir, "recorded.jsonl");
    const models = (spec: string) => ["--planner", spec, "--caller", spec, "--summarizer", spec];
    const first = await runCli(["run", DEMO_INSTRUCTION, "--tools", "demo", ...models(demo), "--checkpoints", "memory", "--record", recorded]);
    expect(first.code).toBe(0);
    const lines = readFileSync(recorded, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { role: string; prompt_sha256: string });
    expect(lines.map((l) => l.role)).toEqual(["planner", "caller", "planner", "caller", "planner", "caller", "planner", "summarizer"]);
    const again = await runCli(["run", DEMO_INSTRUCTION, "--tools", "demo", ...models(`replay:${recorded}`), "--checkpoints", "memory"]);
    expect(again.code).toBe(0);
    const strip = (out: string) => out.replace(/run-\S+/g, "THREAD");
    expect(strip(again.stdout)).toBe(strip(first.stdout));
  });
});

describe("alpha-umi run: user mistakes get one clear line", () => {
  it.each([
    [["run", "q"], /^alpha-umi: no tools: pass --tools demo/],
    [["run", "q", "--tools", "toolbench:/nope/missing.json"], /^alpha-umi: \/nope\/missing\.json: no such file$/],
    [["run", "q", "--tools", "wat"], /^alpha-umi: tool source "wat": expected demo, python, toolbench:FILE, toolenv:DIR\[@URL\|\+cache:DIR\], module:PATH, mcp:CONFIG.json, openapi:SPEC.json\[@BASE_URL\] or langchain:MODULE#Export$/],
    [["run", "q", "--tools", "demo", "--templates", "xml"], /^alpha-umi: --templates: unknown templates "xml"/],
  ])("%j", async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a ToolBench file with a bad record names the file, the record and the field", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ tools: [], instruction: "q", conversations: [] }, { tools: [{ Name: "x", function: "f" }], instruction: "q", conversations: [] }]));
    const r = await runCli(["run", "q", "--tools", `toolbench:${bad}`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^alpha-umi: ${bad}: record 1, field tools\\.0\\.input: `));
  });

  it("an unreachable Ollama fails the run with the URL and what to do", async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const r = await runCli(["run", "q", "--tools", "demo", "--checkpoints", join(dir, "o.sqlite"), "--planner", `ollama:alpha-umi-planner@http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^failed: planner model failed: .*http://127\\.0\\.0\\.1:${port}.*ollama serve`));
    expect(r.stdout).toContain("[user] q");
  });
});

describe("alpha-umi run --templates instruct", () => {
  it.each([["", false], [", also when recorded to a cassette", true]])("drives off-the-shelf Ollama chat models with schema-constrained replies; only real tool names reach τ%s", async (_, record) => {
    const { startFakeOllama } = await import("../helpers/fakeOllama.js");
    let plans = 0;
    const fake = await startFakeOllama({
      models: { "qwen2.5": {} },
      respond: ({ format }) => {
        const f = format as { anyOf?: Array<{ properties: { action: { enum: string[] } } }>; properties?: { next?: unknown } } | undefined;
        if (f?.anyOf) return JSON.stringify({ action: f.anyOf[plans % f.anyOf.length]!.properties.action.enum[0], action_input: {} });
        if (f?.properties?.next) return JSON.stringify({ thought: `step ${plans}`, next: plans++ < 2 ? "caller" : "conclusion" });
        return "All done.";
      },
    });
    try {
      const spec = `ollama:qwen2.5@${fake.url}`;
      const cassette = join(dir, `instruct-${Date.now()}.jsonl`);
      const r = await runCli(["run", "q", "--tools", "demo", "--templates", "instruct", "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", join(dir, "instruct.sqlite"), ...(record ? ["--record", cassette] : [])]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const calls = [...r.stdout.matchAll(/\[caller\] Action: (\S+)/g)].map((m) => m[1]);
      expect(calls).toHaveLength(2);
      for (const name of calls) expect(["country_facts_for_atlas", "exchange_rate_for_fx", "calculate_for_calculator"]).toContain(name);
      expect(r.stdout).not.toContain("No such function name");
      expect(r.stdout).toContain("[answer] All done.");
      expect(fake.generations().every((b) => b.model === "qwen2.5")).toBe(true);
      // Recording wraps the models without changing their calls: the same instruct prompts and JSON schemas go out.
      if (record) expect(readFileSync(cassette, "utf8").trim().split("\n")).toHaveLength(fake.generations().length);
    } finally {
      await fake.close();
    }
  });
});
