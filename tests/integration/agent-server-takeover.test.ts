/**
 * No run is lost with its serve process: two `alpha-umi serve` processes on one Postgres schema and one Redis prefix,
 * a run streamed by the official SDK on A and held mid-flight (its second planner call waits on the test, after the
 * first tool call ran), A SIGKILLed: B takes the run over from its last checkpoint, the client rejoins the run's stream
 * through B from the last event id it saw, the run ends once (success), every event of its stream is there once, and
 * each tool call ran once (a logging tool module counts them across processes).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { Redis } from "ioredis";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fakeOllama.js";
import { loggedDemoTools } from "../helpers/loggedTools.js";
import { testSchema } from "../helpers/postgres.js";
import { drain, startServe, stopProcess, until } from "../helpers/serve.js";

const pg = testSchema("takeover");
const PREFIX = `t-takeover-${pg.schema}`;
const QUEUE = `redis://127.0.0.1:6379?prefix=${PREFIX}`;
const DEMO_ANSWER = "The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.";

/** The demo's planner turns, in order: the fake planner answers the k-th after k tool calls (its prompt shows them). */
const PLANNER_TURNS = readFileSync(resolve("tools/demo/cassette.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as { role: string; output: string })
  .filter((e) => e.role === "planner")
  .map((e) => e.output);

type Values = Partial<AgentStateType>;
type Chunk = { id?: string; event: string; data: unknown };

let dir: string;
let tools: string;
let ran: () => string[];
let planner: FakeOllama;
let release!: () => void;
const servers: ChildProcess[] = [];

beforeAll(async () => {
  await pg.reach();
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-takeover-"));
  ({ source: tools, ran } = loggedDemoTools(dir));
  const gate = new Promise<void>((r) => (release = r));
  planner = await startFakeOllama({
    models: { planner: {} },
    respond: async ({ prompt }) => {
      const calls = (prompt.match(/Action Input/g) ?? []).length;
      // Held after the first tool call, until the test has killed the process running the run.
      if (calls === 1) await gate;
      return PLANNER_TURNS[calls]!;
    },
  });
}, 30_000);

afterAll(async () => {
  release?.();
  await Promise.all(servers.map((s) => stopProcess(s)));
  await planner?.close();
  await pg.drop();
  const redis = new Redis("redis://127.0.0.1:6379");
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});



it("a run whose serve process is SIGKILLed mid-run is taken over by the other and resumed from its checkpoint; its client rejoins there", async () => {
  const args = ["--checkpoints", pg.url, "--queue", QUEUE, "--tools", tools, "--client-settable", "plannerModel"];
  const [sa, sb] = await Promise.all([startServe(args, 90_000), startServe(args, 90_000)]);
  servers.push(sa.child, sb.child);
  const a = new Client({ apiUrl: sa.url });
  const b = new Client({ apiUrl: sb.url });
  const thread = await a.threads.create();
  const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };

  // The client streams the run on A until A dies under it.
  const gone = new AbortController();
  const seen: Chunk[] = [];
  let runId: string | undefined;
  const streaming = (async () => {
    for await (const c of a.runs.stream(thread.thread_id, "alphaUmi", {
      input: { instruction: DEMO_INSTRUCTION },
      config,
      streamMode: ["values", "updates"],
      streamResumable: true,
      onDisconnect: "continue",
      signal: gone.signal,
      onRunCreated: (m) => (runId = m.run_id),
    }) as AsyncIterable<Chunk>)
      seen.push(c);
  })().catch(() => undefined);

  await until("the second planner call", () => planner.generations().length >= 2);
  expect(ran()).toEqual(['country_facts_for_atlas {"country":"Japan"}']);
  await until("the first tool call's events", () => seen.some((c) => c.event === "updates" && JSON.stringify(c.data).includes("Tokyo")));
  sa.child.kill("SIGKILL");
  await new Promise((r) => sa.child.once("exit", r));
  // The SDK would retry A for a while: a client whose server is gone rejoins through another.
  gone.abort();
  await streaming;
  expect(runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(seen.length).toBeGreaterThan(2);
  release();

  const rest = await drain(b.runs.joinStream(thread.thread_id, runId!, { lastEventId: seen.at(-1)!.id }) as AsyncIterable<Chunk>);
  expect(rest.length).toBeGreaterThan(0);
  expect((rest.filter((c) => c.event === "values").at(-1)!.data as Values).answer).toBe(DEMO_ANSWER);
  expect(rest.map((c) => c.event)).not.toContain("error");

  // The whole stream, replayed on B: what the client saw on A and then on B, each event once, none missing.
  const all = await drain(b.runs.joinStream(thread.thread_id, runId!, { lastEventId: "-1" }) as AsyncIterable<Chunk>);
  const ids = [...seen, ...rest].map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual(all.map((c) => c.id));

  expect(await b.runs.get(thread.thread_id, runId!)).toMatchObject({ status: "success" });
  expect((await b.runs.list(thread.thread_id)).map((r) => r.run_id)).toEqual([runId]);
  const state = await b.threads.get(thread.thread_id);
  expect(state).toMatchObject({ status: "idle", error: null });
  expect((state.values as Values).turns!.filter((t) => t.from === "user")).toHaveLength(1);
  // The completed call did not run again; the later ones ran once, on B.
  expect(ran()).toEqual([
    'country_facts_for_atlas {"country":"Japan"}',
    'exchange_rate_for_fx {"from":"EUR","to":"JPY"}',
    'calculate_for_calculator {"expression":"250 * 162.5"}',
  ]);
}, 120_000);
