/**
 * The DFSDT search graph over `alpha-umi serve` (the LangGraph API on Postgres): served as `dfsdt`, a run streams the
 * tree as custom events and finishes with the same tree as `run --search dfsdt`, with the default replayed demo models
 * over the real demo tools. Under the operator's `--approve`, the search's calls wait for approval as alphaUmi's do.
 */
import { Client } from "@langchain/langgraph-sdk";
import { demoCassettePath } from "../../src/configurable.js";
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

describe("alpha-umi serve: the dfsdt search graph under the operator's approve", () => {
  it("a run stops on the interrupt alphaUmi shows for the same call; a Command resume through the SDK finishes the search, each call run once", async () => {
    const FX = "exchange_rate_for_fx";
    const ran: string[] = [];
    const tools = demoTools().map((t) => ({ ...t, run: (args: Record<string, unknown>, ctx: Parameters<typeof t.run>[1]) => (ran.push(t.doc.Name), t.run(args, ctx)) }));
    const guarded = await startServer({ checkpoints: pg.url, tools, approve: [FX], port: 0 });
    try {
      const c = new Client({ apiUrl: guarded.url });
      const asked = async (threadId: string) => (await c.threads.getState(threadId)).tasks.flatMap((t) => (t.interrupts ?? []).map((i) => i.value));
      const thread = await c.threads.create();
      await c.runs.wait(thread.thread_id, "dfsdt", { input: { instruction: DEMO_INSTRUCTION } });
      expect((await c.threads.get(thread.thread_id)).status).toBe("interrupted");
      const question = await asked(thread.thread_id);
      expect(question).toEqual([expect.objectContaining({ action_requests: [expect.objectContaining({ name: FX })] })]);
      expect(ran).toEqual(["country_facts_for_atlas"]);
      // The same request as the α-UMi graph's for the same call.
      const plain = await c.threads.create();
      await c.runs.wait(plain.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } });
      expect(await asked(plain.thread_id)).toEqual(question);

      ran.length = 0;
      const values = (await c.runs.wait(thread.thread_id, "dfsdt", { command: { resume: { action: "approve" } } })) as { answer?: string; finishType?: string; tree?: SearchNode[] };
      expect(values.finishType).toBe("give_answer");
      expect(values.answer).toContain("Tokyo");
      expect(values.tree!.map((n) => n.kind)).toEqual(["root", "step", "step", "step", "answer"]);
      expect(await asked(thread.thread_id)).toEqual([]);
      // The atlas call before the question was not run again.
      expect(ran).toEqual([FX, "calculate_for_calculator"]);
    } finally {
      await guarded.close();
    }
  }, 120_000);
});
