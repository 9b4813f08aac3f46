/**
 * The DFSDT search graph over `alpha-umi serve` (the LangGraph API on Postgres): served as `dfsdt`, a run streams the
 * tree as custom events and finishes with the same tree as `run --search dfsdt`, with the default replayed demo models
 * over the real demo tools.
 */
import { Client } from "@langchain/langgraph-sdk";
import { demoCassettePath } from "../../src/configuration.js";
import { searchAgent, type SearchNode } from "../../src/search/index.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { MemorySaver } from "@langchain/langgraph";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { testSchema } from "../helpers/postgres.js";

const pg = testSchema("dfsdt");
let server: RunningServer;
let client: Client;

beforeAll(async () => {
  await pg.reach();
  server = await startServer({ checkpoints: pg.url, tools: demoTools(), port: 0 });
  client = new Client({ apiUrl: server.url });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await pg.drop();
});

const shape = (tree: SearchNode[]) => tree.map(({ checkpointId: _id, ...n }) => n);

describe("alpha-umi serve: the dfsdt search graph", () => {
  it("runs as graph dfsdt, streams its tree as custom events and finishes with the tree of run --search dfsdt", async () => {
    const thread = await client.threads.create();
    const custom: Array<{ kind: string }> = [];
    let values: { tree?: SearchNode[]; answer?: string; finishType?: string; searchThread?: string } = {};
    for await (const chunk of client.runs.stream(thread.thread_id, "dfsdt", { input: { instruction: DEMO_INSTRUCTION }, streamMode: ["custom", "values"] })) {
      if (chunk.event === "custom") custom.push(chunk.data as { kind: string });
      if (chunk.event === "values") values = chunk.data as typeof values;
      expect(chunk.event).not.toBe("error");
    }
    const replay = `replay:${demoCassettePath()}`;
    const direct = await searchAgent({
      instruction: DEMO_INSTRUCTION,
      tools: demoTools(),
      models: { planner: replay, caller: replay, summarizer: replay },
      checkpointer: new MemorySaver(),
      threadId: "direct",
    });
    expect(values.finishType).toBe("give_answer");
    expect(values.answer).toBe(direct.search.answer);
    expect(shape(values.tree!)).toEqual(shape(direct.search.tree));
    expect(custom.map((e) => e.kind)).toEqual([...values.tree!.map(() => "search"), "search_end"]);
    // The search thread's checkpoints are in the server's Postgres: one per step of the tree's nodes.
    const { rows } = await pg.admin.query(`SELECT count(*)::int AS n FROM "${pg.schema}".checkpoints WHERE thread_id = $1`, [values.searchThread]);
    expect(rows[0].n).toBeGreaterThan(values.tree!.length);
    expect((await client.threads.get(thread.thread_id)).status).toBe("idle");
  }, 120_000);
});
