/**
 * The newcomer's first hour (issue 25): every mistake on the path from the demo to a first real run is one line and
 * exit 2, and a tool source can be tried without any model.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { UserError } from "../../src/errors.js";
import { renderToolDocs } from "../../src/protocol/index.js";
import { runAgent } from "../../src/runAgent.js";
import { toolDocs } from "../../src/tools/spec.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { startFakeOllama } from "../helpers/fakeOllama.js";
import { cliInProcess, type InProcessResult } from "../helpers/inProcessCli.js";

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-first-hour-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** One line on stderr, no stack, exit 2. */
function oneLine(r: InProcessResult, message: RegExp): void {
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr.trim()).toMatch(message);
  expect(r.code).toBe(2);
}

const NO_MODELS = /^alpha-umi: no models given: the default model replays .*cassette\.jsonl, which answers only the demo question \("What is the capital of Japan.*" with --tools demo\); give --planner SPEC, --caller SPEC, --summarizer SPEC/;

describe("default models explain themselves", () => {
  it("a run with no models on another question stops before the first model call, naming the flags and the demo question", async () => {
    const r = await cliInProcess(["run", "What is 2 + 2?", "--tools", "demo", "--checkpoints", "memory"]);
    oneLine(r, NO_MODELS);
    expect(r.stdout).toBe(""); // not even the thread line: nothing ran
  });

  it("the single-LLM baseline names --backbone", async () => {
    const r = await cliInProcess(["run", "What is 2 + 2?", "--tools", "python", "--single-llm", "--checkpoints", "memory"]);
    oneLine(r, /^alpha-umi: no models given: .*; give --backbone SPEC \(library: models\.backbone\)/);
  });

  it("the demo question with the demo tools still runs on the default replay", async () => {
    const r = await cliInProcess(["run", DEMO_INSTRUCTION, "--tools", "demo", "--checkpoints", "memory"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("the library says the same as a UserError, in ReAct and in DFSDT (models left out altogether)", async () => {
    const base = { instruction: "What is 2 + 2?", tools: demoTools(), checkpointer: new MemorySaver() };
    for (const opts of [base, { ...base, search: { search: "dfsdt" as const } }]) {
      const err = await runAgent(opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(`alpha-umi: ${(err as Error).message}`).toMatch(NO_MODELS);
    }
  });
});

describe("alpha-umi tools: a tool source without a model", () => {
  it("tools list prints the documents exactly as the prompts render them", async () => {
    const r = await cliInProcess(["tools", "list", "demo"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderToolDocs(toolDocs(demoTools())));
  });

  it("tools call prints the observation as τ would hold it: results, cut results and error observations", async () => {
    const ok = await cliInProcess(["tools", "call", "demo", "country_facts_for_atlas", '{"country": "Japan"}']);
    expect(ok).toEqual({ code: 0, stderr: "", stdout: '{"country":"Japan","capital":"Tokyo","population_millions":124.5,"currency":"JPY","languages":["Japanese"]}\n' });
    const cut = await cliInProcess(["tools", "call", "demo", "country_facts_for_atlas", '{"country": "Japan"}', "--max-observation-chars", "20"]);
    expect(cut.stdout).toMatch(/^\{"country":"Japan",".*truncated/);
    const failed = await cliInProcess(["tools", "call", "demo", "country_facts_for_atlas", '{"country": "Atlantis"}']);
    expect(failed.stdout).toBe('{"error":"country_facts_for_atlas failed: unknown country \\"Atlantis\\"; known: japan, france, brazil, canada, kenya, india","response":""}\n');
    expect(failed.code).toBe(1);
    const schema = await cliInProcess(["tools", "call", "demo", "country_facts_for_atlas", '{"nation": "Japan"}']);
    expect(schema.stdout).toMatch(/^\{"error":"Invalid arguments for country_facts_for_atlas: country: /);
    expect(schema.code).toBe(1);
  });

  it.each([
    [["tools", "call", "demo", "capital_for_atlas", "{}"], /^alpha-umi: tools call: demo has no tool "capital_for_atlas" \(it has: country_facts_for_atlas, exchange_rate_for_fx, calculate_for_calculator\)$/],
    [["tools", "call", "demo", "country_facts_for_atlas", "{country: Japan}"], /^alpha-umi: tools call country_facts_for_atlas: ARGS is not JSON/],
    [["tools", "call", "demo", "country_facts_for_atlas", "[1]"], /^alpha-umi: tools call country_facts_for_atlas: ARGS must be a JSON object/],
    [["tools", "list", "wat"], /^alpha-umi: tool source "wat": expected demo/],
    [["tools", "list", "toolbench:/nope/missing.json"], /^alpha-umi: \/nope\/missing\.json: no such file$/],
  ])("user mistake %j: one line, exit 2", async (args, message) => {
    oneLine(await cliInProcess(args as string[]), message);
  });
});

describe("one line and exit 2 on the first hour's path", () => {
  it.each([
    ["run, nothing listening", async () => ["run", DEMO_INSTRUCTION, "--tools", "demo", "--checkpoints", `postgres://127.0.0.1:${await freePort()}/test`]],
    ["run, unknown user", async () => ["run", DEMO_INSTRUCTION, "--tools", "demo", "--checkpoints", "postgres://no_such_user_25@127.0.0.1:5432/test"]],
    ["demo, nothing listening", async () => ["demo", "--checkpoints", `postgres://127.0.0.1:${await freePort()}/test`]],
    ["demo, unknown database", async () => ["demo", "--checkpoints", "postgres://127.0.0.1:5432/no_such_db_25"]],
  ])("a Postgres checkpoint location that cannot be reached (%s), before anything runs", async (_, args) => {
    const argv = await args();
    const r = await cliInProcess(argv);
    oneLine(r, new RegExp(`^alpha-umi: --checkpoints ${argv[argv.length - 1]!.replace(/[.?]/g, "\\$&")}: cannot reach Postgres \\(.+\\)$`));
    expect(r.stdout).toBe("");
  });

  it("demo --single-llm labels the backbone's turns [backbone]", async () => {
    const r = await cliInProcess(["demo", "--single-llm", "--checkpoints", "memory"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[backbone] Action: country_facts_for_atlas");
    expect(r.stdout).toContain("[backbone] I will first look up Japan in the atlas.");
    expect(r.stdout).not.toMatch(/\[(planner|caller)\]/);
  });

  it("eval pass and eval prefer --num-ctx: the judge's context window reaches the judge model", async () => {
    const fake = await startFakeOllama({ models: { judge: {} }, respond: () => JSON.stringify({ reason: "r", answer_status: "Solved", task_status: "Solvable", preference: "tie" }) });
    try {
      const run = (name: string) => {
        const d = join(dir, name);
        mkdirSync(d, { recursive: true });
        const chain = [{ from: "user", value: "Capital of Japan?" }];
        const answer_generation = { valid_data: true, final_answer: "Tokyo.", finish_type: "give_answer", method: "CoT@1", query_count: 1, model_calls: 2, chain };
        writeFileSync(join(d, "q1.json"), JSON.stringify({ query_id: "q1", query: "Capital of Japan?", available_tools: [], answer_generation, tree: null, answer_node: null, thread_id: "t" }));
        return d;
      };
      const judge = `ollama:judge@${fake.url}`;
      const pass = await cliInProcess(["eval", "pass", run("a"), "--judge", judge, "--times", "1", "--num-ctx", "16384"]);
      expect(pass.stderr).toBe("");
      expect(pass.code).toBe(0);
      const prefer = await cliInProcess(["eval", "prefer", run("b"), join(dir, "a"), "--judge", judge, "--times", "1", "--num-ctx", "16384"]);
      expect(prefer.stderr).toBe("");
      expect(prefer.code).toBe(0);
      const ctx = fake.generations().map((g) => (g.options as { num_ctx?: number } | undefined)?.num_ctx);
      expect(ctx.length).toBeGreaterThan(1);
      expect(new Set(ctx)).toEqual(new Set([16384]));
    } finally {
      await fake.close();
    }
  });
});
