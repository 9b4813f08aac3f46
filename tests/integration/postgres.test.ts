/**
 * Postgres checkpoints against the real server (127.0.0.1:5432, database `test`, trust auth), in a schema of this test
 * run, dropped afterwards. A machine without the server fails here with the connection error.
 */
import { AutoSetupPostgresSaver, checkpointerFrom, closeCheckpointer } from "../../src/checkpoint/checkpointers.js";
import { UserError } from "../../src/errors.js";
import { exportCheckpoints } from "../../src/glpft/export.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { runCliWithInput } from "../helpers/cli.js";
import { testSchema } from "../helpers/postgres.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";

const pg = testSchema("pg");
const { schema: SCHEMA, db: DB, url: URL_ } = pg;

beforeAll(async () => {
  await pg.reach();
});

afterAll(async () => {
  await pg.drop();
});


describe("Postgres checkpoints", () => {
  it("several savers set the schema up at once (one process or many), then a run checkpoints there and resumes in a new saver", async () => {
    const savers = Array.from({ length: 4 }, () => checkpointerFrom(URL_) as AutoSetupPostgresSaver);
    await Promise.all(savers.map((s) => s.setup()));
    const { rows } = await pg.admin.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1", [SCHEMA]);
    expect(Number(rows[0]!.n)).toBe(4); // checkpoints, blobs, writes, migrations
    const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: savers[0]! });
    const out = await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "lib-1" } });
    expect(out.status).toEqual({ status: "finished" });
    const other = createAlphaUmiGraph({ tools: demoTools(), checkpointer: savers[1]! });
    const stored = (await other.getState({ configurable: { thread_id: "lib-1" } })).values as AgentStateType;
    expect(stored.turns).toEqual(out.turns);
    await Promise.all(savers.map(closeCheckpointer));
  });

  it("a run writes each checkpoint and each task's writes in one statement (PostgresSaver: one per channel, in a transaction)", async () => {
    const saver = checkpointerFrom(URL_) as AutoSetupPostgresSaver;
    let statements = 0;
    // Every statement of every pooled connection (pool.query runs on one too).
    type Client = { query: (...a: unknown[]) => unknown };
    (saver.pgPool as unknown as { on(event: "connect", f: (client: Client) => void): void }).on("connect", (client) => {
      const q = client.query.bind(client);
      client.query = (...a: unknown[]) => (statements++, q(...a));
    });
    await saver.setup();
    statements = 0;
    const config = { configurable: { thread_id: "statements" } };
    const out = await createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver }).invoke({ instruction: DEMO_INSTRUCTION }, config);
    expect(out.status).toEqual({ status: "finished" });
    let checkpoints = 0;
    for await (const _ of saver.list(config)) checkpoints++;
    // A checkpoint, the task's writes, and the thread's one load: two statements a step and a few more.
    expect(statements).toBeLessThanOrEqual(2 * checkpoints + 4);
    await closeCheckpointer(saver);
  });

  it("a thread stored by plain PostgresSaver (integer channel versions) resumes under checkpointerFrom's saver, whose versions count on from them", async () => {
    const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres");
    const saver = checkpointerFrom(URL_) as AutoSetupPostgresSaver;
    await saver.setup();
    const plain = new PostgresSaver(saver.pgPool, undefined, { schema: SCHEMA });
    const config = { configurable: { thread_id: "int-versions" } };
    await createAlphaUmiGraph({ tools: demoTools(), checkpointer: plain }).invoke({ instruction: DEMO_INSTRUCTION }, { ...config, interruptAfter: ["caller"] });
    const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver });
    const out = await graph.invoke(null, config);
    expect([out.status, out.turns.map((t) => t.from)]).toEqual([{ status: "finished" }, DEMO_TURN_ROLES]);
    const versions = Object.values((await saver.getTuple(config))!.checkpoint.channel_versions);
    expect(versions.every((v) => typeof v === "number")).toBe(true);
    // A new thread gets unique versions: the step's integer and a random fraction.
    await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "fresh-versions" } });
    const fresh = Object.values((await saver.getTuple({ configurable: { thread_id: "fresh-versions" } }))!.checkpoint.channel_versions);
    expect(fresh.every((v) => typeof v === "number" && !Number.isInteger(v))).toBe(true);
    await closeCheckpointer(saver);
  });

  it("run --checkpoints postgres://…: a second process resumes the thread with --thread (here: waiting for approval)", async () => {
    const common = ["--tools", "demo", "--checkpoints", URL_, "--thread", "cli-pg"];
    const spec = ["--planner", "replay:tools/demo/cassette.jsonl", "--caller", "replay:tools/demo/cassette.jsonl", "--summarizer", "replay:tools/demo/cassette.jsonl"];
    const first = await runCliWithInput(["run", DEMO_INSTRUCTION, ...common, ...spec, "--approve"], "y\n");
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("[approve] exchange_rate_for_fx");
    expect(first.code).toBe(1);
    const second = await runCliWithInput(["run", ...common, ...spec, "--approve"], "y\ny\n");
    expect(second.stdout).toContain("resuming thread cli-pg");
    expect(second.code).toBe(0);
    const saver = checkpointerFrom(URL_);
    const state = (await createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver }).getState({ configurable: { thread_id: "cli-pg" } })).values as AgentStateType;
    await closeCheckpointer(saver);
    expect(state.status).toEqual({ status: "finished" });
    expect(state.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
  }, 60_000);

  it("data export reads the threads from Postgres; a schema without checkpoints is one clear error", async () => {
    const { records, threads } = await exportCheckpoints({ checkpoints: URL_, status: ["finished"] });
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(records.length).toBe(threads);
    expect(records[0]!.conversations.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    const missing = `${DB}?schema=${SCHEMA}_none`;
    await expect(exportCheckpoints({ checkpoints: missing })).rejects.toThrow(new UserError(`${missing}: no LangGraph checkpoints in schema "${SCHEMA}_none"`));
    const { rows } = await pg.admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", [`${SCHEMA}_none`]);
    expect(rows[0]!.n).toBe("0"); // reading did not create it
  });

  it("an unsupported scheme is one clear error, never a file name; a bad schema name too", () => {
    expect(() => checkpointerFrom("mysql://root@127.0.0.1/test")).toThrow(
      new UserError(`--checkpoints mysql://root@127.0.0.1/test: unsupported scheme "mysql:" (a SQLite file path, postgres://… or memory)`),
    );
    expect(() => checkpointerFrom(`${DB}?schema=a;drop`)).toThrow(/schema "a;drop" must be a plain SQL identifier/);
  });

  it("an unreachable server fails the first use with the connection error", async () => {
    const saver = checkpointerFrom("postgres://127.0.0.1:1/test?schema=x");
    await expect(saver.getTuple({ configurable: { thread_id: "t" } })).rejects.toThrow(/ECONNREFUSED/);
    await closeCheckpointer(saver);
  });
});
