/**
 * alpha-umi's getDeltaChannelHistory (a few SQL queries) against LangGraph's own walk (one getTuple per ancestor) on a
 * real SQLite file and a real Postgres schema of this run (127.0.0.1:5432, database `test`, dropped afterwards; an
 * unreachable server fails the suite). Threads are real α-UMi runs: longer than 2×SNAPSHOT_EVERY steps, plus a
 * DFSDT-style fork from an older checkpoint.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import type { RunnableConfig } from "@langchain/core/runnables";
import { BaseCheckpointSaver, type CheckpointTuple } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { z } from "zod";
import { AutoSetupPostgresSaver, checkpointerFrom, closeCheckpointer } from "../../src/checkpoint/checkpointers.js";
import { CHAIN_PAGE } from "../../src/checkpoint/deltaHistory.js";
import { AlphaUmiSqliteSaver } from "../../src/checkpoint/sqliteSaver.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { SNAPSHOT_EVERY, type AgentStateType } from "../../src/state.js";
import { testSchema } from "../helpers/postgres.js";
import { call, plan } from "../helpers/scenario.js";

const STEPS = 2 * SNAPSHOT_EVERY + 8;
const THREAD = "long";
const CHANNELS = ["turns", "messages"];
const pg = testSchema("dh");
const { schema: SCHEMA, db: DB } = pg;
const dir = mkdtempSync(join(tmpdir(), "alpha-umi-dh-"));

const echo = tool(({ n }: { n: number }) => JSON.stringify({ n, ok: true }), {
  name: "echo_for_test",
  description: "Returns its input.",
  schema: z.object({ n: z.number() }),
});

/** Scripted models for `steps` tool calls then an answer; `from` offsets the call arguments so branches differ. */
function models(steps: number, from = 0) {
  const m = scriptedRoles({
    planner: [...Array.from({ length: steps }, (_, i) => plan(`Step ${from + i}.`, "caller")), plan("Enough.", "conclusion")],
    caller: Array.from({ length: steps }, (_, i) => call(echo.name, `{"n": ${from + i}}`)),
    summarizer: [`done ${from}`],
  });
  return { plannerModel: m.planner, callerModel: m.caller, summarizerModel: m.summarizer, maxSteps: 10 * (from + steps + 1) };
}

/**
 * The long run, then a fork a third of the way in: a user turn as if the tool had run, and a few more steps from it.
 * Returns the branch's status.
 */
async function writeThread(saver: BaseCheckpointSaver): Promise<AgentStateType["status"]> {
  const graph = createAlphaUmiGraph({ tools: [echo], checkpointer: saver });
  const out = await graph.invoke({ instruction: "Echo." }, { configurable: { thread_id: THREAD, ...models(STEPS) } });
  expect(out.status).toEqual({ status: "finished" });
  const history = [];
  for await (const s of graph.getStateHistory({ configurable: { thread_id: THREAD } })) history.push(s);
  const older = history.filter((s) => s.next[0] === "planner").at(-Math.floor(STEPS / 3))!;
  const forked = await graph.updateState(older.config, { turns: [{ from: "user", value: "Try another tool." }] }, "tool");
  const branch = await graph.invoke(null, { configurable: { ...forked.configurable, ...models(5, 1000) } });
  return branch.status;
}

async function allTuples(saver: BaseCheckpointSaver, ns = ""): Promise<CheckpointTuple[]> {
  const out = [];
  for await (const t of saver.list({ configurable: { thread_id: THREAD, checkpoint_ns: ns } })) out.push(t);
  return out;
}

/** Ancestors of a checkpoint (its parent first), as LangGraph's walk follows them. */
function depthOf(tuples: CheckpointTuple[], t: CheckpointTuple): number {
  const byId = new Map(tuples.map((x) => [x.config.configurable!.checkpoint_id as string, x]));
  let n = 0;
  for (let p = t.parentConfig; p; p = byId.get(p.configurable!.checkpoint_id)?.parentConfig) n++;
  return n;
}

const base = (saver: BaseCheckpointSaver, config: RunnableConfig, channels = CHANNELS) =>
  BaseCheckpointSaver.prototype.getDeltaChannelHistory.call(saver, { config, channels });

/** Calls the override and LangGraph's walk with the same options: equal results, and how many queries the override made. */
async function compare(saver: BaseCheckpointSaver, trips: () => number, config: RunnableConfig, channels = CHANNELS) {
  trips();
  const fast = await saver.getDeltaChannelHistory({ config, channels });
  const calls = trips();
  expect(fast).toStrictEqual(await base(saver, config, channels));
  return { fast, calls };
}

/**
 * At every checkpoint of the thread in `ns` (both branches) and at its latest, the override equals LangGraph's walk, in
 * one chain query and one writes query (`trips` counts queries since its last call).
 */
async function expectSameAtEveryCheckpoint(saver: BaseCheckpointSaver, trips: () => number, ns: string): Promise<CheckpointTuple[]> {
  const tuples = await allTuples(saver, ns);
  let seeded = 0;
  let fromRoot = 0;
  for (const t of tuples) {
    const { fast, calls } = await compare(saver, trips, t.config);
    expect(calls).toBeLessThanOrEqual(2);
    if ("seed" in fast.turns!) seeded++;
    else if (fast.turns!.writes.length > 0) fromRoot++;
  }
  expect(seeded).toBeGreaterThan(tuples.length / 2); // most checkpoints sit past a snapshot
  expect(fromRoot).toBeGreaterThan(0); // and the first ones before any: their writes go back to the root
  const { fast } = await compare(saver, trips, { configurable: { thread_id: THREAD, checkpoint_ns: ns } });
  expect(fast).toStrictEqual(await saver.getDeltaChannelHistory({ config: tuples[0]!.config, channels: CHANNELS }));
  return tuples;
}

/** Channels never snapshotted (walked to the root, in pages), and checkpoints or threads that are not there. */
async function expectSameAtEdges(saver: BaseCheckpointSaver, trips: () => number, tuples: CheckpointTuple[]): Promise<void> {
  const depths = tuples.map((t) => depthOf(tuples, t));
  const depth = Math.max(...depths);
  const tip = tuples[depths.indexOf(depth)]!; // the main line's last checkpoint
  expect(depth).toBeGreaterThan(CHAIN_PAGE); // so the walk to the root takes more than one page
  const rootwards = ["turns", "never_written"]; // no checkpoint holds the second: the walk goes to the root
  const { fast, calls } = await compare(saver, trips, tip.config, rootwards);
  expect(calls).toBeGreaterThan(2); // chain pages, then the writes
  expect(calls).toBeLessThanOrEqual(Math.ceil(depth / CHAIN_PAGE) + 2);
  expect(fast.never_written).toEqual({ writes: [] });
  for (const config of [
    { configurable: { thread_id: THREAD, checkpoint_id: "no-such-checkpoint" } },
    { configurable: { thread_id: "no-such-thread" } },
  ]) {
    const missing = await compare(saver, trips, config);
    expect(missing.fast).toEqual({ turns: { writes: [] }, messages: { writes: [] } });
    expect(missing.calls).toBeLessThanOrEqual(1);
  }
}

/** Both branches, a copy of the thread's first checkpoints under another namespace (so its latest differs), the edges. */
async function expectSameHistories(saver: BaseCheckpointSaver, trips: () => number): Promise<void> {
  const tuples = await expectSameAtEveryCheckpoint(saver, trips, "");
  expect(tuples.length).toBeGreaterThan(3 * STEPS);
  await copyToNamespace(saver, "inner", 3 * SNAPSHOT_EVERY + 5);
  const inner = await expectSameAtEveryCheckpoint(saver, trips, "inner");
  expect(inner).toHaveLength(3 * SNAPSHOT_EVERY + 5);
  await expectSameAtEdges(saver, trips, tuples);
}

/**
 * The same checkpoints and writes under another namespace, first `keep` checkpoints only (oldest first), plus writes of
 * two more tasks to τ at two of them (an early one and the last but one): α-UMi runs one task a step, so only these
 * show that each checkpoint's writes come in getTuple's order (task_id, then idx).
 */
async function copyToNamespace(saver: BaseCheckpointSaver, ns: string, keep: number): Promise<void> {
  const tuples = (await allTuples(saver)).reverse().slice(0, keep);
  for (const [i, t] of tuples.entries()) {
    const parent = t.parentConfig?.configurable?.checkpoint_id as string | undefined;
    const at = await saver.put({ configurable: { thread_id: THREAD, checkpoint_ns: ns, checkpoint_id: parent } }, t.checkpoint, t.metadata!, t.checkpoint.channel_versions);
    const byTask = new Map<string, [string, unknown][]>();
    for (const [task, channel, value] of t.pendingWrites ?? []) byTask.set(task, [...(byTask.get(task) ?? []), [channel, value]]);
    if (i === 5 || i === keep - 2) {
      const turn = (value: string) => [{ from: "user", value }];
      byTask.set(`zz-${i}`, [["turns", turn("z0")], ["turns", turn("z1")]]);
      byTask.set(`aa-${i}`, [["turns", turn("a0")]]);
    }
    for (const [task, writes] of byTask) await saver.putWrites(at, writes, task);
  }
}

/**
 * getState through the override equals getState through LangGraph's walk (`plain`: the same tables, no override) at
 * every checkpoint. Returns the main line's final state (the one with the longest τ).
 */
async function expectSameStates(saver: BaseCheckpointSaver, plain: BaseCheckpointSaver): Promise<AgentStateType> {
  const fast = createAlphaUmiGraph({ tools: [echo], checkpointer: saver });
  const slow = createAlphaUmiGraph({ tools: [echo], checkpointer: plain });
  let longest: AgentStateType | undefined;
  for (const t of await allTuples(saver)) {
    const [a, b] = await Promise.all([fast.getState(t.config), slow.getState(t.config)]);
    expect(a.values).toStrictEqual(b.values);
    const v = a.values as AgentStateType;
    if (!longest || v.turns.length > longest.turns.length) longest = v;
  }
  return longest!;
}

beforeAll(async () => {
  await pg.reach();
});

afterAll(async () => {
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("delta-channel history", () => {
  const finals: AgentStateType[] = [];

  it("SQLite: checkpointerFrom's saver answers as LangGraph's walk at every checkpoint, in at most two statements", async () => {
    const file = join(dir, "runs.sqlite");
    const saver = checkpointerFrom(file);
    expect(saver).toBeInstanceOf(AlphaUmiSqliteSaver);
    expect(saver).toBeInstanceOf(SqliteSaver);
    const sqlite = saver as AlphaUmiSqliteSaver;
    // Count statement runs: every statement is prepared through db.prepare, LangGraph's and ours.
    let runs = 0;
    const prepare = sqlite.db.prepare.bind(sqlite.db);
    sqlite.db.prepare = ((sql: string) => {
      const s = prepare(sql);
      for (const m of ["all", "get", "run", "iterate"] as const) {
        const f = (s[m] as (...a: unknown[]) => unknown).bind(s);
        (s as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (runs++, f(...a));
      }
      return s;
    }) as typeof sqlite.db.prepare;
    const trips = () => [runs, (runs = 0)][0]!;

    expect(await writeThread(saver)).toEqual({ status: "finished" });
    await expectSameHistories(saver, trips);
    const plain = SqliteSaver.fromConnString(file);
    finals.push(await expectSameStates(saver, plain));
    await closeCheckpointer(plain);
    await closeCheckpointer(saver);
  }, 240_000);

  it("Postgres: AutoSetupPostgresSaver answers as LangGraph's walk at every checkpoint, in at most two queries", async () => {
    const saver = checkpointerFrom(`${DB}?schema=${SCHEMA}`) as AutoSetupPostgresSaver;
    expect(saver).toBeInstanceOf(AutoSetupPostgresSaver);
    let queries = 0;
    const query = saver.pgPool.query.bind(saver.pgPool) as (...a: unknown[]) => unknown;
    (saver.pgPool as unknown as { query: unknown }).query = (...a: unknown[]) => (queries++, query(...a));
    const trips = () => [queries, (queries = 0)][0]!;

    // The branch runs to its end: its channel versions are its own (AutoSetupPostgresSaver.getNextVersion), not the
    // main line's integers, whose stored values PostgresSaver would hand the fork instead of its own.
    expect(await writeThread(saver)).toEqual({ status: "finished" });
    await expectSameHistories(saver, trips);
    const plain = new PostgresSaver(saver.pgPool, undefined, { schema: SCHEMA });
    finals.push(await expectSameStates(saver, plain));
    await closeCheckpointer(saver);
  }, 240_000);

  it("both stores hold the same state at the end of the long run", () => {
    expect(finals).toHaveLength(2);
    expect(finals[0]!.turns.length).toBeGreaterThan(3 * STEPS);
    expect(finals[0]!.turns).toStrictEqual(finals[1]!.turns);
    expect(finals[0]!.status).toEqual({ status: "finished" });
    expect(finals[1]!.status).toEqual({ status: "finished" });
  });
});
