/**
 * The real llama.cpp server, built from the llama.cpp source node-llama-cpp ships (scripts/llama-server.sh; .ci/run
 * builds it before `npm test`), serving the project-written fixture base with its three role adapters in ONE process,
 * exactly as `alpha-umi models serve` starts it; the roles talk to it as `openai:` models.
 *
 * A missing binary fails this file: it is part of CI, not an optional extra.
 */
import { jest } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { RoleCodec } from "../../src/codec/index.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { writeFixture, type Fixture } from "../../src/models/gguf.js";
import { generate, type Role } from "../../src/models/generate.js";
import { llamaServerBinary, startLlamaServer, type LlamaServer } from "../../src/models/llamaServer.js";
import { modelFromSpec } from "../../src/models/spec.js";
import { countTokens } from "../../src/protocol/tokens.js";
import { renderRolePrompt } from "../../src/protocol/index.js";
import { instructFormat } from "../../src/protocol/instruct.js";
import type { AgentStateType, Turn } from "../../src/state.js";
import { readToolBenchFile } from "../../src/toolbenchDialogs.js";
import { toolDocs } from "../../src/tools/spec.js";
import { extractSteps } from "../../src/eval/steps.js";
import { demoTools } from "../../tools/demo/index.js";
import { runCli } from "../helpers/cli.js";
import { DEMO_TEST_SET } from "../helpers/shared.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

jest.setTimeout(180_000);

let dir: string;
let fixture: Fixture;
let binary: string;
let server: LlamaServer;
const others: LlamaServer[] = [];
/** Everything the shared server logged. */
const serverLog: string[] = [];

// --threads 1: this machine's 2 cores are shared with the other jest worker (and CI's other jobs), and llama.cpp's
// threads spin while they wait for each other, so a thread more than there are free cores makes it many times slower.
const THREADS = 1;

beforeAll(async () => {
  binary = await llamaServerBinary({ build: false });
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-llama-server-"));
  fixture = await writeFixture(dir);
  server = await startLlamaServer({ binary, base: fixture.model, adapters: fixture.adapters, parallel: 3, ctxSize: 4096, threads: THREADS, onLog: (l) => void serverLog.push(l) });
});

afterAll(async () => {
  await Promise.all([server, ...others].filter(Boolean).map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tools = toolDocs(demoTools());
const history: Turn[] = [
  { from: "user", value: "Convert 250 euros to yen. 🌦" },
  { from: "assistant", value: "I should look up the exchange rate.\n Next: caller." },
  { from: "caller", value: 'Action: exchange_rate_for_fx\nAction Input: {"from": "EUR", "to": "JPY"}' },
  { from: "observation", value: '{"from":"EUR","to":"JPY","rate":162.5}' },
  { from: "assistant", value: "I have the rate.\n Next: conclusion." },
];
const ROLE_INPUTS: Record<Role, Turn[]> = { planner: history.slice(0, 4), caller: history.slice(0, 2), summarizer: history, backbone: history.slice(0, 4) };
const root = () => server.baseURL.replace(/\/v1$/, "");

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${root()}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** A role call through the provider, with the server's timings for it (LangChain generation info). */
async function callWithTimings(spec: string, role: Role, prompt: string, options: Record<string, unknown> = {}) {
  const model = modelFromSpec(spec, role, options);
  let timings: Record<string, number> | undefined;
  const text = await generate(role, model, { prompt, callOptions: { stop: ["</s>"], raw: true } }, {
    callbacks: [{ awaitHandlers: true, handleLLMEnd: (out: { generations: Array<Array<{ generationInfo?: { timings?: Record<string, number> } }>> }) => void (timings = out.generations[0]?.[0]?.generationInfo?.timings) }],
  });
  return { text, timings: timings! };
}

test("the roles read the per-slot context from /props", async () => {
  const model = modelFromSpec(server.specs.planner, "planner") as unknown as { loadContextWindow(): Promise<{ numCtx: number }> };
  expect(await model.loadContextWindow()).toEqual({ numCtx: 4096, numPredict: 512 });
});

test("prompts arrive byte-exact: the server's tokenization equals llama-tokenizer-js's count, BOS once", async () => {
  const prompts: string[] = [];
  for (const role of ["planner", "caller", "summarizer", "backbone"] as const) prompts.push(renderRolePrompt(role, { tools, history: ROLE_INPUTS[role] }));
  // The project's ToolBench-format test set: every step, each role that speaks at it.
  for (const s of extractSteps(readToolBenchFile(DEMO_TEST_SET))) {
    prompts.push(renderRolePrompt("planner", { tools: s.tools, history: s.history }));
    if (s.next) prompts.push(renderRolePrompt(s.next.from === "caller" ? "caller" : "summarizer", { tools: s.tools, history: [...s.history, { from: "assistant", value: s.plan }] }));
  }
  expect(prompts.length).toBeGreaterThan(20);
  for (const [i, prompt] of prompts.entries()) {
    const { tokens } = (await post("/tokenize", { content: prompt, add_special: true, parse_special: true })) as { tokens: number[] };
    expect({ i, count: tokens.length, bos: tokens.filter((t) => t === 1).length, first: tokens[0] }).toEqual({ i, count: await countTokens(prompt), bos: 1, first: 1 });
  }
  // What a completion evaluates is that same count: the prompt the provider sent is the one tokenized above.
  for (const role of ["planner", "caller", "summarizer"] as const) {
    const prompt = prompts[["planner", "caller", "summarizer"].indexOf(role)]!;
    const { timings } = await callWithTimings(server.specs[role], role, prompt, { numPredict: 4 });
    expect({ role, evaluated: timings.prompt_n + timings.cache_n }).toEqual({ role, evaluated: await countTokens(prompt) });
  }
  expect(serverLog.join("\n")).not.toMatch(/also starts with a BOS token/);
});

test("each role's adapter is applied per request: the greedy replies of base and three adapters differ", async () => {
  const prompt = "What is the capital of Japan?\nAssistant:";
  const base = await callWithTimings(server.specs.planner.replace(/#.*$/, ""), "planner", prompt, { numPredict: 12 });
  const outs: string[] = [];
  for (const role of ["planner", "caller", "summarizer"] as const) outs.push((await callWithTimings(server.specs[role], role, prompt, { numPredict: 12 })).text);
  expect(base.text.length).toBeGreaterThan(0);
  for (const o of outs) expect(o).not.toBe(base.text);
  expect(new Set(outs).size).toBe(3);
  // Greedy is deterministic, and an adapter applied to one request does not stick to the next.
  expect((await callWithTimings(server.specs.planner.replace(/#.*$/, ""), "planner", prompt, { numPredict: 12 })).text).toBe(base.text);
  expect((await callWithTimings(server.specs.caller, "caller", prompt, { numPredict: 12 })).text).toBe(outs[1]);
});

test("the prompt cache is reused from step to step: a planner step evaluates its new tokens, not τ again", async () => {
  const calls: Array<{ role: string; prompt: string; timings?: Record<string, number> }> = [];
  const byRun = new Map<string, { role: string; prompt: string }>();
  const graph = createAlphaUmiGraph({
    tools: demoTools(),
    models: { planner: server.specs.planner, caller: server.specs.caller, summarizer: server.specs.summarizer },
    maxSteps: 4,
  });
  const state = (await graph.invoke(
    { instruction: "Convert 250 euros to yen, then add 17." },
    {
      configurable: { thread_id: "cache" },
      callbacks: [
        {
          awaitHandlers: true,
          handleLLMStart: (_llm: unknown, prompts: string[], runId: string, _parent?: string, _extra?: unknown, _tags?: string[], metadata?: Record<string, unknown>) =>
            void byRun.set(runId, { role: String(metadata?.alpha_umi_role), prompt: prompts[0]! }),
          handleLLMEnd: (out: { generations: Array<Array<{ generationInfo?: { timings?: Record<string, number> } }>> }, runId: string) =>
            void calls.push({ ...byRun.get(runId)!, timings: out.generations[0]?.[0]?.generationInfo?.timings }),
        },
      ],
    },
  )) as AgentStateType;
  expect(["finished", "gave_up"]).toContain(state.status.status);
  const planner = calls.filter((c) => c.role === "planner");
  expect(planner.length).toBeGreaterThanOrEqual(3);
  for (const [i, c] of planner.entries()) {
    const { cache_n, prompt_n } = c.timings!;
    expect(cache_n + prompt_n).toBe(await countTokens(c.prompt));
    if (i === 0) continue;
    // The planner's last prompt is in its slot: the tokens of the text it shares with this one are not evaluated again
    // (the template's closing line after τ differs, so the shared text ends where τ grew).
    const prev = planner[i - 1]!.prompt;
    let n = 0;
    while (n < prev.length && prev[n] === c.prompt[n]) n++;
    const shared = (await countTokens(c.prompt.slice(0, n))) - 1; // BOS counted once, by the server too
    process.stdout.write(`llama-server prompt cache: planner step ${i + 1} reused ${cache_n} of ${cache_n + prompt_n} prompt tokens (${shared} shared with step ${i})\n`);
    expect(cache_n).toBeGreaterThanOrEqual(shared - 2);
    expect(shared).toBeGreaterThan(100);
  }
});

// Completions with json_schema, as the embedded test: this server answers /chat/completions with a json_schema for the
// fixture (which has no chat template) with 400 "Failed to initialize samplers", so the schema is tested on the raw path.
test("the instruct caller's JSON schema (json_schema) lets it name only real tools", async () => {
  const schema = instructFormat("caller", tools)!;
  const names = tools.map((t) => t.Name);
  const codec = new RoleCodec("caller", { templates: "instruct" });
  const rendered = await codec.render({ tools, turns: history.slice(0, 2) });
  expect(rendered.callOptions.format).toEqual(schema);
  const head = /^\s*\{\s*"action"\s*:\s*"([^"]*)("?)/;
  for (let seed = 0; seed < 12; seed++) {
    const caller = modelFromSpec(server.specs.caller, "caller", { temperature: 1, seed, numPredict: 24 });
    const out = await generate("caller", caller, { prompt: rendered.prompt, callOptions: { ...rendered.callOptions, raw: true } });
    expect(out).toMatch(head);
    const [, name, closed] = head.exec(out)!;
    // A reply cut by max_tokens inside the name still holds a prefix of a real one.
    if (closed) expect(names).toContain(name);
    else expect(names.some((n) => n.startsWith(name!))).toBe(true);
  }
});

test("eval steps --concurrency 3 decodes over the server's parallel slots", async () => {
  const out = join(dir, "eval");
  const before = serverLog.length;
  const r = await runCli([
    "eval", "steps", "--data", DEMO_TEST_SET, "--limit", "6", "--concurrency", "3", "--out", out,
    "--planner", server.specs.planner, "--caller", server.specs.caller, "--summarizer", server.specs.summarizer,
  ]);
  // stderr has the progress lines only.
  expect(r.stderr.split("\n").filter((l) => l && !/^eval steps: \d+\/6 /.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  expect(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"))).toBeTruthy();
  // llama-server logs each slot's start and end of a task: more than one slot busy at once is concurrency.
  const busy = new Set<string>();
  let most = 0;
  for (const line of serverLog.slice(before)) {
    const slot = /^slot\s+\w+: id\s+(\d+) \| task -?\d+ \| (processing task|stop processing)/.exec(line.replace(/^[^s]*(?=slot )/, ""));
    if (!slot) continue;
    if (slot[2] === "processing task") busy.add(slot[1]!);
    else busy.delete(slot[1]!);
    most = Math.max(most, busy.size);
  }
  expect(most).toBeGreaterThan(1);
});

test("the server killed mid-run fails the run naming the role and the server; after a restart it resumes", async () => {
  const solo = await startLlamaServer({ binary, base: fixture.model, adapters: fixture.adapters, parallel: 1, ctxSize: 4096, threads: THREADS });
  others.push(solo);
  const db = join(dir, "killed.sqlite");
  const graph = createAlphaUmiGraph({
    tools: demoTools(),
    models: { planner: solo.specs.planner, caller: solo.specs.caller, summarizer: solo.specs.summarizer },
    maxSteps: 3,
    checkpointer: SqliteSaver.fromConnString(db),
  });
  const kill = {
    awaitHandlers: true,
    // The planner's step is done and checkpointed; the caller's request finds no server.
    handleLLMStart: async (_llm: unknown, _p: string[], _run: string, _parent?: string, _extra?: unknown, _tags?: string[], metadata?: Record<string, unknown>) => {
      if (metadata?.alpha_umi_role !== "caller" || solo.process.exitCode !== null || solo.process.signalCode !== null) return;
      const exited = new Promise((res) => solo.process.once("exit", res));
      solo.process.kill("SIGKILL");
      await exited;
    },
  };
  const state = (await graph.invoke({ instruction: "What is 2 + 2?" }, { configurable: { thread_id: "K" }, callbacks: [kill] })) as AgentStateType;
  expect(state.status.status).toBe("failed");
  expect(state.status.reason).toBe(
    `caller model failed: OpenAI-compatible server at ${solo.baseURL}, model caller, LoRA adapter 1: cannot connect (ECONNREFUSED) — is the server running? (\`alpha-umi models serve\` starts a llama-server)`,
  );
  const restarted = await startLlamaServer({ binary, base: fixture.model, adapters: fixture.adapters, parallel: 1, ctxSize: 4096, threads: THREADS, port: solo.port });
  others.push(restarted);
  const r = await runCli(["run", "--thread", "K", "--checkpoints", db, "--tools", "demo", "--max-steps", "3", "--planner", solo.specs.planner, "--caller", solo.specs.caller, "--summarizer", solo.specs.summarizer]);
  expect(r.stdout).toMatch(/^resuming thread K/);
  expect(r.stderr).not.toMatch(/failed/);
  expect([0, 3]).toContain(r.code);
  const resumed = (await storedState(SqliteSaver.fromConnString(db), { configurable: { thread_id: "K" } })) as AgentStateType;
  expect(["finished", "gave_up"]).toContain(resumed.status.status);
  // The planner's first step was kept: the resumed run began at the caller.
  expect(resumed.turns.slice(0, 2)).toEqual(state.turns.slice(0, 2));
});

describe("alpha-umi models serve", () => {
  test.each([
    [() => ["--base", join(dir, "nope.gguf")], /^alpha-umi: base model \S+nope\.gguf: no such file$/],
    [() => ["--base", fixture.model, "--adapters", `planner=${fixture.adapters.planner}`], /^alpha-umi: models serve --adapters: no adapter for caller, summarizer$/],
    [() => ["--base", fixture.model, "--adapters", "critic=x.gguf"], /^alpha-umi: models serve --adapters: "critic=x.gguf": expected ROLE=ADAPTER\.gguf with ROLE one of planner, caller, summarizer$/],
    [() => ["--base", fixture.model, "--port", "0"], /^alpha-umi: --port: expected a positive integer, got "0"$/],
  ])("bad input is one line (%#)", async (args, message) => {
    const r = await runCli(["models", "serve", ...args()]);
    expect(r.code).toBeGreaterThan(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  test("serves the base with the three adapters and prints their openai: specs; a run on them ends with a status; Ctrl-C stops the server", async () => {
    const { startCli, waitFor } = await import("../helpers/cli.js");
    const a = fixture.adapters;
    let pid: number | undefined;
    const serve = startCli(["models", "serve", "--base", fixture.model, "--adapters", `planner=${a.planner},caller=${a.caller},summarizer=${a.summarizer}`, "--threads", String(THREADS)]);
    try {
      await waitFor(() => {
        if (serve.exitCode !== null) throw new Error(`models serve exited: ${JSON.stringify(serve.output())}`);
        return /^try: /m.test(serve.output().stdout);
      }, 120_000, "models serve to print the specs");
      const stdout = serve.output().stdout;
      const spec = (role: string) => new RegExp(`^${role}: (openai:${role}@http://127\\.0\\.0\\.1:\\d+/v1#\\S+)$`, "m").exec(stdout)?.[1];
      expect([spec("planner"), spec("caller"), spec("summarizer")].map((s) => s?.replace(/.*#/, ""))).toEqual(["lora=0&slot=0", "lora=1&slot=1", "lora=2&slot=2"]);
      pid = Number(/pid (\d+)/.exec(stdout)![1]);
      const r = await runCli(["run", "What is 2 + 2?", "--tools", "demo", "--max-steps", "3", "--checkpoints", "memory", "--planner", spec("planner")!, "--caller", spec("caller")!, "--summarizer", spec("summarizer")!]);
      expect(r.stdout + r.stderr).toMatch(/^(finished in \d+ planner step|gave up: )/m);
      expect(r.stderr).not.toMatch(/failed/);
      serve.kill("SIGINT");
      const done = await serve.done;
      expect(done.code).toBe(0);
      expect(() => process.kill(pid!, 0)).toThrow(/ESRCH/);
    } finally {
      if (serve.exitCode === null) serve.kill("SIGKILL");
      // A killed `models serve` cannot stop its server: this test does.
      if (pid)
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
    }
  });
});
