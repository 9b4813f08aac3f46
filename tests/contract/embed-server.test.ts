/**
 * Contract: `@langchain/langgraph-api/experimental/embed` (which says it does not follow semver), as `alpha-umi serve`
 * uses it (src/server/index.ts, api.ts): the routes it forwards there, and the RunCreate fields a client's run carries
 * through to the graph — config.configurable, context, command (resume), stream_mode, checkpoint_id, interrupt_after —
 * with the thread state, history and state-update routes, and the SSE framing api.ts reads (`event:`/`data:`).
 * In process through Hono's `app.request`, with LangGraph's MemorySaver and an in-memory ThreadSaver.
 */
import { randomUUID } from "node:crypto";
import { Annotation, END, interrupt, MemorySaver, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { createEmbedServer, type ThreadSaver } from "@langchain/langgraph-api/experimental/embed";

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

type Thread = Awaited<ReturnType<ThreadSaver["get"]>>;

/** The ThreadSaver interface as the embed server calls it (src/server/threads.ts implements it on Postgres). */
class MemoryThreads implements ThreadSaver {
  readonly rows = new Map<string, Thread>();
  async get(id: string): Promise<Thread> {
    return this.rows.get(id)!;
  }
  async set(id: string, o: { kind: "put" | "patch"; metadata?: Record<string, unknown> }): Promise<Thread> {
    const before = o.kind === "patch" ? (this.rows.get(id)?.metadata ?? {}) : {};
    const row = { thread_id: id, metadata: { ...before, ...o.metadata } };
    this.rows.set(id, row);
    return row;
  }
  async delete(id: string): Promise<void> {
    this.rows.delete(id);
  }
}

const graph = new StateGraph(State)
  .addNode("first", (_s, config: LangGraphRunnableConfig) => ({
    log: [`flavor=${String(config.configurable?.flavor)}`, `who=${String((config.context as { who?: string } | undefined)?.who)}`],
  }))
  .addNode("ask", () => ({ log: [`answer=${String(interrupt({ question: "go?" }))}`] }))
  .addNode("fail", (s) => {
    if (s.log.includes("answer=fail")) throw new Error("node failed on purpose");
    return {};
  })
  .addEdge(START, "first")
  .addEdge("first", "ask")
  .addEdge("ask", "fail")
  .addEdge("fail", END)
  .compile();

const threads = new MemoryThreads();
const app = createEmbedServer({ graph: { g: graph }, threads, checkpointer: new MemorySaver() });

const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const json = async <T>(res: Response | Promise<Response>): Promise<T> => {
  const r = await res;
  expect(r.status).toBe(200);
  return (await r.json()) as T;
};

/** The SSE events of a streamed run: `event: NAME` then `data: JSON`, blank-line separated (as api.ts reads them). */
async function events(res: Response): Promise<{ event: string; data: unknown }[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return (await res.text())
    .split("\n\n")
    .filter((e) => e.trim())
    .map((e) => ({ event: /^event: (.*)$/m.exec(e)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(e)![1]!) }));
}

interface ThreadState {
  values: { log?: string[] };
  next: string[];
  tasks: { name: string; interrupts: { value: unknown }[] }[];
  checkpoint: { checkpoint_id: string };
}

async function newThread(): Promise<string> {
  const id = randomUUID();
  const created = await json<{ thread_id: string; metadata: Record<string, unknown> }>(post("/threads", { thread_id: id, metadata: { owner: "contract" } }));
  expect(created).toMatchObject({ thread_id: id, metadata: { owner: "contract" } });
  return id;
}

describe("LangGraph contract: the embed server (@langchain/langgraph-api/experimental/embed)", () => {
  it("serves the routes alpha-umi forwards to it", () => {
    const routes = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
    expect([...routes]).toEqual(
      expect.arrayContaining([
        "POST /threads",
        "GET /threads/:thread_id",
        "PATCH /threads/:thread_id",
        "DELETE /threads/:thread_id",
        "GET /threads/:thread_id/state",
        "POST /threads/:thread_id/state",
        "GET /threads/:thread_id/state/:checkpoint_id",
        "POST /threads/:thread_id/state/checkpoint",
        "POST /threads/:thread_id/history",
        "POST /threads/:thread_id/runs",
        "POST /threads/:thread_id/runs/stream",
        "GET /threads/:thread_id/runs/:run_id/stream",
        "POST /threads/:thread_id/runs/:run_id/cancel",
        "POST /runs/stream",
      ]),
    );
  });

  it("a streamed run gets the request's config.configurable and context, streams the modes asked, records the graph on the thread, and stops at an interrupt shown in the state", async () => {
    const id = await newThread();
    const evs = await events(
      await post(`/threads/${id}/runs/stream`, {
        assistant_id: "g",
        input: { log: ["in"] },
        config: { configurable: { flavor: "vanilla" } },
        context: { who: "ada" },
        stream_mode: ["values", "updates"],
      }),
    );
    expect(evs[0]!.event).toBe("metadata");
    expect(evs[0]!.data).toMatchObject({ run_id: expect.any(String) });
    expect(new Set(evs.slice(1).map((e) => e.event))).toEqual(new Set(["values", "updates"]));
    expect(evs.find((e) => e.event === "updates" && "first" in (e.data as object))!.data).toEqual({ first: { log: ["flavor=vanilla", "who=ada"] } });
    expect(threads.rows.get(id)!.metadata).toMatchObject({ owner: "contract", graph_id: "g", assistant_id: "g" });

    const state = await json<ThreadState>(app.request(`/threads/${id}/state`));
    expect(state.values.log).toEqual(["in", "flavor=vanilla", "who=ada"]);
    expect(state.next).toEqual(["ask"]);
    expect(state.tasks.map((t) => [t.name, t.interrupts.map((i) => i.value)])).toEqual([["ask", [{ question: "go?" }]]]);
  });

  it("command.resume in a run answers the interrupt; a failing node ends the stream with an `error` event", async () => {
    const id = await newThread();
    await events(await post(`/threads/${id}/runs/stream`, { assistant_id: "g", input: {} }));
    await events(await post(`/threads/${id}/runs/stream`, { assistant_id: "g", command: { resume: "yes" } }));
    const done = await json<ThreadState>(app.request(`/threads/${id}/state`));
    expect([done.values.log?.at(-1), done.next]).toEqual(["answer=yes", []]);

    const other = await newThread();
    await events(await post(`/threads/${other}/runs/stream`, { assistant_id: "g", input: {} }));
    const failed = await events(await post(`/threads/${other}/runs/stream`, { assistant_id: "g", command: { resume: "fail" } }));
    expect(failed.at(-1)).toEqual({ event: "error", data: expect.objectContaining({ message: "node failed on purpose" }) });
  });

  it("history is newest first; state by checkpoint id; checkpoint_id in a run forks there; interrupt_after stops after the node", async () => {
    const id = await newThread();
    await events(await post(`/threads/${id}/runs/stream`, { assistant_id: "g", input: { log: ["in"] }, interrupt_after: ["first"] }));
    expect((await json<ThreadState>(app.request(`/threads/${id}/state`))).next).toEqual(["ask"]);
    expect((await json<ThreadState>(app.request(`/threads/${id}/state`))).tasks[0]!.interrupts).toEqual([]);

    const history = await json<(ThreadState & { metadata: { step: number } })[]>(post(`/threads/${id}/history`, { limit: 10 }));
    expect(history.map((h) => h.metadata.step)).toEqual([1, 0, -1]);
    const start = history.find((h) => h.next[0] === "first")!;
    const read = await json<ThreadState>(app.request(`/threads/${id}/state/${start.checkpoint.checkpoint_id}`));
    expect(read.values.log).toEqual(["in"]);

    await events(await post(`/threads/${id}/runs/stream`, { assistant_id: "g", input: null, checkpoint_id: start.checkpoint.checkpoint_id, config: { configurable: { flavor: "forked" } } }));
    const forked = await json<ThreadState>(app.request(`/threads/${id}/state`));
    expect(forked.values.log).toEqual(["in", "flavor=forked", "who=undefined"]);
  });

  it("POST /threads/:id/state updates the state as a node (values, as_node) and answers the new checkpoint", async () => {
    const id = await newThread();
    await events(await post(`/threads/${id}/runs/stream`, { assistant_id: "g", input: {} }));
    const written = await json<{ checkpoint: { thread_id: string; checkpoint_id: string } }>(post(`/threads/${id}/state`, { values: { log: ["edited"] }, as_node: "ask" }));
    expect(written.checkpoint).toMatchObject({ thread_id: id, checkpoint_id: expect.any(String) });
    const state = await json<ThreadState>(app.request(`/threads/${id}/state`));
    expect([state.values.log?.at(-1), state.next, state.checkpoint.checkpoint_id]).toEqual(["edited", ["fail"], written.checkpoint.checkpoint_id]);
  });
});
