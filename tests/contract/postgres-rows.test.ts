/**
 * Contract: PostgresSaver's tables, and alpha-umi's one-statement writes of its rows (src/checkpoint/postgresWrites.ts).
 * alpha-umi reads threads through PostgresSaver (getTuple, list) and queries its tables directly (src/checkpoint/
 * postgresHistory.ts, src/server/threads.ts): the layout is stated here column by column. The same put/putWrites calls
 * of real runs (interrupts, a resume, an error, retried writes, both kinds of channel version) go to PostgresSaver's
 * own put/putWrites in one schema and to alpha-umi's putCheckpoint/putTaskWrites in another: every row must be equal,
 * and PostgresSaver must read both back alike. Postgres at 127.0.0.1:5432, database `test`, schemas of this run.
 */
import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, Command, END, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { Checkpoint, CheckpointMetadata, ChannelVersions, PendingWrite } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { AutoSetupPostgresSaver } from "../../src/checkpoint/checkpointers.js";
import { putCheckpoint, putTaskWrites } from "../../src/checkpoint/postgresWrites.js";
import { testSchema } from "../helpers/postgres.js";

type Call = ["put", RunnableConfig, Checkpoint, CheckpointMetadata, ChannelVersions] | ["putWrites", RunnableConfig, PendingWrite[], string];

/** A MemorySaver that records every write LangGraph asks of a saver, in order. */
class Recorder extends MemorySaver {
  calls: Call[] = [];
  constructor(private readonly stringVersions: boolean) {
    super();
  }
  override getNextVersion(current: number | undefined): number {
    // alpha-umi's Postgres versions (`<32 digits>.<16 digits>`), or LangGraph's integers.
    return this.stringVersions ? AutoSetupPostgresSaver.prototype.getNextVersion.call(this, current) : super.getNextVersion(current);
  }
  // LangGraph passes the new channel versions as a fourth argument, which MemorySaver does not declare.
  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, versions: ChannelVersions = {}) {
    this.calls.push(["put", config, checkpoint, metadata, versions]);
    return super.put(config, checkpoint, metadata);
  }
  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string) {
    this.calls.push(["putWrites", config, writes, taskId]);
    return super.putWrites(config, writes, taskId);
  }
}

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  note: Annotation<string | null>({ reducer: (_a, b) => b, default: () => null }),
});

/** Real runs' calls: an interrupt answered by a resume, a Command route, a NUL in a value, a node that fails. */
async function record(stringVersions: boolean, thread: string): Promise<Call[]> {
  const saver = new Recorder(stringVersions);
  const graph = new StateGraph(State)
    .addNode("ask", () => ({ log: [String(interrupt({ question: "go?" }))], note: "nul\u0000inside" }))
    .addNode("route", (s) => new Command({ update: { log: ["routed"] }, goto: s.log.includes("fail") ? "boom" : END }), { ends: ["boom", END] })
    .addNode("boom", () => {
      throw new Error("node failed");
    })
    .addEdge(START, "ask")
    .addEdge("ask", "route")
    .compile({ checkpointer: saver });
  const config = { configurable: { thread_id: thread } };
  await graph.invoke({ log: ["in"] }, config);
  await expect(graph.invoke(new Command({ resume: "fail" }), config)).rejects.toThrow("node failed");
  return saver.calls;
}

/**
 * The calls retried (a step written again), a checkpoint written again with other metadata (the later is kept), and a
 * task's writes written twice with other values.
 */
function withRetries(calls: Call[]): Call[] {
  const writes = calls.filter((c): c is Extract<Call, ["putWrites", ...unknown[]]> => c[0] === "putWrites");
  const [, config, , taskId] = writes[0]!;
  const [, putConfig, checkpoint, metadata, versions] = calls.find((c): c is Extract<Call, ["put", ...unknown[]]> => c[0] === "put")!;
  return [
    ...calls,
    ...calls,
    ["put", putConfig, checkpoint, { ...metadata, note: "written again" } as CheckpointMetadata, versions],
    ["putWrites", config, [["log", ["second value of a regular write: the first is kept"]]], taskId],
    ["putWrites", config, [["__error__", { message: "first" }], ["__error__", { message: "second replaces" }]], taskId],
  ];
}

const theirs = testSchema("contract_rows_lg");
const mine = testSchema("contract_rows_au");
let lg: PostgresSaver;
let readMine: PostgresSaver;

beforeAll(async () => {
  await theirs.reach();
  await mine.reach();
  lg = new PostgresSaver(theirs.admin, undefined, { schema: theirs.schema });
  readMine = new PostgresSaver(mine.admin, undefined, { schema: mine.schema });
  await lg.setup();
  await readMine.setup();
});

afterAll(async () => {
  await theirs.drop();
  await mine.drop();
});

async function rows(schema: string, table: string, order: string): Promise<unknown[]> {
  return (await theirs.admin.query(`SELECT * FROM "${schema}".${table} ORDER BY ${order}`)).rows;
}

describe("LangGraph contract: PostgresSaver's tables", () => {
  it("setup() creates checkpoints, checkpoint_blobs, checkpoint_writes and checkpoint_migrations with these columns, types and keys", async () => {
    const { rows: columns } = await theirs.admin.query<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END AS c
       FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [theirs.schema],
    );
    const layout: Record<string, string[]> = {};
    for (const r of columns) (layout[r.t] ??= []).push(r.c);
    expect(layout).toEqual({
      checkpoints: [
        "thread_id text not null",
        "checkpoint_ns text not null",
        "checkpoint_id text not null",
        "parent_checkpoint_id text",
        "type text",
        "checkpoint jsonb not null",
        "metadata jsonb not null",
      ],
      checkpoint_blobs: ["thread_id text not null", "checkpoint_ns text not null", "channel text not null", "version text not null", "type text not null", "blob bytea"],
      checkpoint_writes: [
        "thread_id text not null",
        "checkpoint_ns text not null",
        "checkpoint_id text not null",
        "task_id text not null",
        "idx integer not null",
        "channel text not null",
        "type text",
        "blob bytea not null",
      ],
      checkpoint_migrations: ["v integer not null"],
    });
    const { rows: keys } = await theirs.admin.query<{ t: string; cols: string }>(
      `SELECT tc.table_name AS t, string_agg(k.column_name, ',' ORDER BY k.ordinal_position) AS cols
       FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
       WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' GROUP BY tc.table_name ORDER BY 1`,
      [theirs.schema],
    );
    expect(Object.fromEntries(keys.map((k) => [k.t, k.cols]))).toEqual({
      checkpoints: "thread_id,checkpoint_ns,checkpoint_id",
      checkpoint_blobs: "thread_id,checkpoint_ns,channel,version",
      checkpoint_writes: "thread_id,checkpoint_ns,checkpoint_id,task_id,idx",
      checkpoint_migrations: "v",
    });
    // Five migrations: a new one means a schema change to review here first.
    expect((await rows(theirs.schema, "checkpoint_migrations", "v")).length).toBe(5);
  });

  it("a checkpoint row keeps channel_values out of its jsonb (they are blobs by channel and version; an absent value is type 'empty')", async () => {
    const calls = await record(false, `layout-${randomUUID()}`);
    for (const c of calls) await (c[0] === "put" ? lg.put(c[1], c[2], c[3], c[4]) : lg.putWrites(c[1], c[2], c[3]));
    const { rows: cps } = await theirs.admin.query<{ checkpoint: Record<string, unknown> }>(`SELECT checkpoint FROM "${theirs.schema}".checkpoints`);
    expect(cps.every((r) => !("channel_values" in r.checkpoint) && "channel_versions" in r.checkpoint)).toBe(true);
    const { rows: types } = await theirs.admin.query<{ type: string }>(`SELECT DISTINCT type FROM "${theirs.schema}".checkpoint_blobs ORDER BY 1`);
    expect(types.map((r) => r.type)).toEqual(["empty", "json"]);
  });
});

describe.each([
  ["LangGraph's integer channel versions", false],
  ["alpha-umi's string channel versions", true],
])("alpha-umi's one-statement writes equal PostgresSaver's own (%s)", (_name, stringVersions) => {
  const thread = `rows-${stringVersions ? "s" : "i"}-${randomUUID()}`;
  let calls: Call[];

  beforeAll(async () => {
    calls = withRetries(await record(stringVersions, thread));
    for (const c of calls) {
      if (c[0] === "put") {
        await lg.put(c[1], c[2], c[3], c[4]);
        await putCheckpoint(mine.admin, mine.schema, lg.serde, c[1], c[2], c[3], c[4]);
      } else {
        await lg.putWrites(c[1], c[2], c[3]);
        await putTaskWrites(mine.admin, mine.schema, lg.serde, c[1], c[2], c[3]);
      }
    }
  });

  it("the runs wrote what this contract is about: interrupt, resume and error writes, and retries", () => {
    const channels = new Set(calls.flatMap((c) => (c[0] === "putWrites" ? c[2].map((w) => w[0]) : [])));
    expect([...channels]).toEqual(expect.arrayContaining(["__interrupt__", "__resume__", "__error__", "log", "note"]));
  });

  it.each([
    ["checkpoints", "checkpoint_id"],
    ["checkpoint_blobs", "channel, version"],
    ["checkpoint_writes", "checkpoint_id, task_id, idx"],
  ])("%s rows are equal, column by column", async (table, order) => {
    const where = `thread_id = '${thread}'`;
    const a = (await theirs.admin.query(`SELECT * FROM "${theirs.schema}".${table} WHERE ${where} ORDER BY ${order}`)).rows;
    const b = (await theirs.admin.query(`SELECT * FROM "${mine.schema}".${table} WHERE ${where} ORDER BY ${order}`)).rows;
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it("PostgresSaver reads both back alike: list (newest first) and getTuple with pending writes", async () => {
    const config = { configurable: { thread_id: thread } };
    const listed = async (saver: PostgresSaver) => {
      const all = [];
      for await (const t of saver.list(config)) all.push(t);
      return all;
    };
    const [a, b] = [await listed(lg), await listed(readMine)];
    expect(a.length).toBeGreaterThan(3);
    expect(b).toEqual(a);
    expect(await readMine.getTuple(config)).toEqual(await lg.getTuple(config));
    const errors = a.flatMap((t) => (t.pendingWrites ?? []).filter((w) => w[1] === "__error__").map((w) => w[2]));
    expect(errors).toContainEqual({ message: "second replaces" });
    expect(a.some((t) => (t.metadata as { note?: string }).note === "written again")).toBe(true);
  });
});
