/**
 * Contract: LangGraph's DeltaChannel as src/state.ts uses it for τ and the messages mirror — a checkpoint holds the
 * channel's value only every `snapshotFrequency` writes, the rest is the step's writes, and a load replays the writes
 * since the nearest snapshot (`getDeltaChannelHistory`, which alpha-umi's savers answer in a few queries). Checked on
 * each LangGraph saver alpha-umi uses (memory, SQLite, Postgres in a schema of this run), and on alpha-umi's own
 * savers built on them, which must answer exactly as LangGraph's do. SQLite's table layout is here too: the fast
 * history of src/checkpoint/sqliteSaver.ts reads those columns and the checkpoint's JSON.
 */
import { AIMessage, HumanMessage, RemoveMessage, type BaseMessage } from "@langchain/core/messages";
import { Annotation, DeltaChannel, END, MemorySaver, messagesDeltaReducer, START, StateGraph, type BaseCheckpointSaver, type Messages } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { AutoSetupPostgresSaver, postgresPool } from "../../src/checkpoint/checkpointers.js";
import { AlphaUmiSqliteSaver } from "../../src/checkpoint/sqliteSaver.js";
import { testSchema } from "../helpers/postgres.js";

const EVERY = 3;
const State = Annotation.Root({
  items: new DeltaChannel<string[], string[]>((a, writes) => a.concat(...writes), { snapshotFrequency: EVERY }),
  n: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
});

/** Input ["a"] then `steps` node runs appending i0, i1, …: checkpoint at step k holds k + 1 writes. */
async function run(saver: BaseCheckpointSaver, threadId: string, steps: number) {
  const graph = new StateGraph(State)
    .addNode("add", (s) => ({ items: [`i${s.n}`], n: s.n + 1 }))
    .addEdge(START, "add")
    .addConditionalEdges("add", (s) => (s.n < steps ? "add" : END))
    .compile({ checkpointer: saver });
  const config = { configurable: { thread_id: threadId } };
  await graph.invoke({ items: ["a"] }, config);
  const tuples = [];
  for await (const t of saver.list(config)) tuples.push(t);
  return { graph, tuples: tuples.reverse() }; // oldest first
}

const prefix = (writes: number) => ["a", ...Array.from({ length: writes - 1 }, (_, i) => `i${i}`)];

const pg = testSchema("contract_dc");
const pgOurs = testSchema("contract_dc_ours");
let pgSaver: PostgresSaver;
let ours: AutoSetupPostgresSaver;

beforeAll(async () => {
  await pg.reach();
  await pgOurs.reach();
  pgSaver = new PostgresSaver(pg.admin, undefined, { schema: pg.schema });
  await pgSaver.setup();
  ours = new AutoSetupPostgresSaver(postgresPool(pgOurs.db, 2), pgOurs.schema);
});

afterAll(async () => {
  await ours?.end();
  await pg.drop();
  await pgOurs.drop();
});

const savers: [string, () => BaseCheckpointSaver][] = [
  ["MemorySaver", () => new MemorySaver()],
  ["SqliteSaver", () => SqliteSaver.fromConnString(":memory:")],
  ["PostgresSaver", () => pgSaver],
  ["alpha-umi's AlphaUmiSqliteSaver", () => AlphaUmiSqliteSaver.fromConnString(":memory:")],
  ["alpha-umi's AutoSetupPostgresSaver", () => ours],
];

describe.each(savers)("LangGraph contract: DeltaChannel on %s", (_name, make) => {
  it(`a checkpoint holds the channel's value only every snapshotFrequency (${EVERY}) writes, and getState rebuilds the value at every checkpoint`, async () => {
    const saver = make();
    const { graph, tuples } = await run(saver, "every", 8);
    const steps = tuples.map((t) => t.metadata!.step);
    expect(steps).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const held = tuples.filter((t) => "items" in t.checkpoint.channel_values).map((t) => t.metadata!.step);
    expect(held).toEqual([2, 5, 8]); // 3, 6 and 9 writes
    for (const t of tuples.slice(1)) expect((await graph.getState(t.config)).values.items).toEqual(prefix(t.metadata!.step + 1));
  });

  it("getDeltaChannelHistory(checkpoint) is the nearest ancestor's snapshot as seed and the writes since, oldest first, as [task id, channel, value]", async () => {
    const saver = make();
    const { tuples } = await run(saver, "history", 4);
    const at = (step: number) => tuples.find((t) => t.metadata!.step === step)!.config;
    // Step 4: the snapshot of step 2 (a, i0, i1), then the writes run from steps 2 and 3.
    const late = (await saver.getDeltaChannelHistory({ config: at(4), channels: ["items"] })).items!;
    expect(late.seed).toEqual({ lg_name: "DeltaSnapshot", value: prefix(3) });
    expect(late.writes.map((w) => [w[1], w[2]])).toEqual([["items", ["i2"]], ["items", ["i3"]]]);
    expect(late.writes.every((w) => typeof w[0] === "string" && w[0].length > 0)).toBe(true);
    // Step 1: no snapshot yet — every write from the input on.
    const early = (await saver.getDeltaChannelHistory({ config: at(1), channels: ["items"] })).items!;
    expect(early.seed).toBeUndefined();
    expect(early.writes.map((w) => w[2])).toEqual([["a"], ["i0"]]);
  });
});

describe("LangGraph contract: messagesDeltaReducer (the messages mirror)", () => {
  it("appends messages, replaces one with the same id, removes one by RemoveMessage — the same across snapshots", async () => {
    const Mirror = Annotation.Root({
      messages: new DeltaChannel<BaseMessage[], Messages>(messagesDeltaReducer, { snapshotFrequency: 2 }),
    });
    const script: Messages[] = [
      [new HumanMessage({ id: "h1", content: "q" })],
      [new AIMessage({ id: "a1", content: "draft" })],
      [new AIMessage({ id: "a1", content: "final" })],
      [new AIMessage({ id: "a2", content: "extra" })],
      [new RemoveMessage({ id: "a2" })],
    ];
    let i = 0;
    const graph = new StateGraph(Mirror)
      .addNode("say", () => ({ messages: script[i++]! }))
      .addEdge(START, "say")
      .addConditionalEdges("say", () => (i < script.length ? "say" : END))
      .compile({ checkpointer: new MemorySaver() });
    const out = await graph.invoke({ messages: [] }, { configurable: { thread_id: "m" } });
    expect(out.messages.map((m) => [m.id, m.content])).toEqual([
      ["h1", "q"],
      ["a1", "final"],
    ]);
    expect((await graph.getState({ configurable: { thread_id: "m" } })).values.messages.map((m: BaseMessage) => m.id)).toEqual(["h1", "a1"]);
  });
});

describe("LangGraph contract: SqliteSaver's storage (read by AlphaUmiSqliteSaver's history queries)", () => {
  it("tables checkpoints and writes have the columns and keys alpha-umi's queries name", () => {
    const saver = SqliteSaver.fromConnString(":memory:");
    (saver as unknown as { setup(): void }).setup();
    const columns = (table: string) =>
      (saver.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[]).map((c) => `${c.name}${c.pk ? `#${c.pk}` : ""}`);
    expect(columns("checkpoints")).toEqual(["thread_id#1", "checkpoint_ns#2", "checkpoint_id#3", "parent_checkpoint_id", "type", "checkpoint", "metadata"]);
    expect(columns("writes")).toEqual(["thread_id#1", "checkpoint_ns#2", "checkpoint_id#3", "task_id#4", "idx#5", "channel", "type", "value"]);
  });

  it('a checkpoint is JSON text (type "json") whose $.channel_values."items" exists exactly at snapshots; a write\'s value is its JSON text', async () => {
    const saver = SqliteSaver.fromConnString(":memory:");
    const { tuples } = await run(saver, "json", 5);
    const rows = saver.db
      .prepare(`SELECT checkpoint_id, type, json_type(CAST(checkpoint AS TEXT), '$.channel_values."items"') AS has FROM checkpoints ORDER BY checkpoint_id`)
      .all() as { checkpoint_id: string; type: string; has: string | null }[];
    expect(rows.map((r) => r.type)).toEqual(tuples.map(() => "json"));
    expect(rows.filter((r) => r.has !== null).map((r) => tuples.find((t) => t.config.configurable!.checkpoint_id === r.checkpoint_id)!.metadata!.step)).toEqual([2, 5]);
    const writes = saver.db.prepare(`SELECT type, CAST(value AS TEXT) AS v FROM writes WHERE channel = 'items' ORDER BY checkpoint_id, task_id, idx`).all();
    expect(writes).toEqual(prefix(6).map((x) => ({ type: "json", v: JSON.stringify([x]) })));
  });
});
