/**
 * The LangGraph Agent Server API of `alpha-umi serve`, checked the way LangChain's own server is tested
 * (langgraphjs libs/langgraph-api/tests/api.test.mts), through the official SDK against a real `serve` on Postgres:
 * `/info`, assistants (system ones per graph, CRUD, versions, search, graph, schemas, subgraphs, a run by assistant id
 * with its configuration, a client's assistant naming a model refused), the store, and the thread details Studio and
 * Agent Chat UI rely on (409 on an existing id, supersteps, no state edit during a run, `interrupted` after an
 * interrupt_before stop, history by run metadata).
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { v5 as uuid5 } from "@langchain/core/utils/uuid";
import { Client } from "@langchain/langgraph-sdk";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { startFakeOllama } from "../helpers/fakeOllama.js";
import { testSchema } from "../helpers/postgres.js";
import { drain, startServe, stopProcess, until } from "../helpers/serve.js";

const pg = testSchema("agent_server");
let server: ChildProcess;
let url: string;
let client: Client;

/** LangGraph's assistant id of a graph (langgraph-api graph/load getAssistantId). */
const graphAssistant = (graphId: string) => uuid5(graphId, "6ba7b821-9dad-11d1-80b4-00c04fd430c8");

beforeAll(async () => {
  await pg.reach();
  // The planner's model is opened so a test can hold a run on a local server speaking Ollama's API.
  ({ url, child: server } = await startServe(["--checkpoints", pg.url, "--client-settable", "plannerModel"], 90_000));
  client = new Client({ apiUrl: url });
}, 120_000);

afterAll(async () => {
  if (server) await stopProcess(server);
  await pg.drop();
});

type Values = Partial<AgentStateType>;



describe("meta", () => {
  it("GET /info answers LangGraph's shape, GET /ok is ok", async () => {
    const info = (await (await fetch(`${url}/info`)).json()) as Record<string, unknown>;
    expect(info).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      langgraph_js_version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      context: "js",
      flags: { assistants: true, crons: false, langsmith: false, langsmith_tracing_replicas: true },
    });
    expect(await (await fetch(`${url}/ok`)).json()).toEqual({ ok: true });
  });
});

describe("assistants", () => {
  it("each graph is a system assistant with LangGraph's id, found by that id and by the graph id", async () => {
    const found = await client.assistants.search({ metadata: { created_by: "system" }, sortBy: "name", sortOrder: "asc" });
    expect(found.map((a) => [a.graph_id, a.assistant_id, a.name, a.version])).toEqual(
      ["alphaUmi", "dfsdt", "singleLlm"].map((g) => [g, graphAssistant(g), g, 1]),
    );
    expect(await client.assistants.get("alphaUmi")).toEqual(await client.assistants.get(graphAssistant("alphaUmi")));
    await expect(client.assistants.get(randomUUID())).rejects.toThrow(/HTTP 404/);
  });

  it("create, update (a new version), versions, setLatest, search, count, delete", async () => {
    const tag = randomUUID();
    const made = await client.assistants.create({ graphId: "alphaUmi", name: "Careful", config: { configurable: { maxSteps: 4 } }, metadata: { tag } });
    expect(made).toMatchObject({ graph_id: "alphaUmi", name: "Careful", version: 1, config: { configurable: { maxSteps: 4 } }, metadata: { tag } });
    await expect(client.assistants.create({ graphId: "alphaUmi", assistantId: made.assistant_id })).rejects.toThrow(/HTTP 409/);
    expect((await client.assistants.create({ graphId: "alphaUmi", assistantId: made.assistant_id, ifExists: "do_nothing", name: "Other" })).name).toBe("Careful");
    await expect(client.assistants.create({ graphId: "nope" })).rejects.toThrow(/HTTP 404.*graph \\"nope\\" not found/);

    const v2 = await client.assistants.update(made.assistant_id, { name: "Bolder", config: { configurable: { maxSteps: 8 } }, metadata: { round: 2 } });
    expect(v2).toMatchObject({ version: 2, name: "Bolder", config: { configurable: { maxSteps: 8 } }, metadata: { tag, round: 2 } });
    const versions = await client.assistants.getVersions(made.assistant_id);
    expect(versions.map((v) => [v.version, v.name])).toEqual([
      [2, "Bolder"],
      [1, "Careful"],
    ]);
    const back = await client.assistants.setLatest(made.assistant_id, 1);
    expect(back).toMatchObject({ version: 1, name: "Careful", config: { configurable: { maxSteps: 4 } } });
    expect((await client.assistants.get(made.assistant_id)).name).toBe("Careful");
    await expect(client.assistants.setLatest(made.assistant_id, 7)).rejects.toThrow(/HTTP 404/);

    const other = await client.assistants.create({ graphId: "singleLlm", name: "Plain", metadata: { tag } });
    expect((await client.assistants.search({ metadata: { tag }, sortBy: "name", sortOrder: "asc" })).map((a) => a.name)).toEqual(["Careful", "Plain"]);
    expect((await client.assistants.search({ metadata: { tag }, graphId: "singleLlm" })).map((a) => a.assistant_id)).toEqual([other.assistant_id]);
    expect((await client.assistants.search({ metadata: { tag }, name: "care" })).map((a) => a.assistant_id)).toEqual([made.assistant_id]);
    const page = await client.assistants.search({ metadata: { tag }, sortBy: "name", sortOrder: "asc", limit: 1, offset: 1, select: ["assistant_id", "name"] });
    expect(page).toEqual([{ assistant_id: other.assistant_id, name: "Plain" }]);
    expect(await client.assistants.count({ metadata: { tag } })).toBe(2);

    await client.assistants.delete(other.assistant_id);
    await expect(client.assistants.get(other.assistant_id)).rejects.toThrow(/HTTP 404/);
    expect(await client.assistants.count({ metadata: { tag } })).toBe(1);
  });

  it("graph (with xray), schemas and subgraphs of an assistant", async () => {
    const graph = await client.assistants.getGraph("alphaUmi", { xray: true });
    expect(graph.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(["__start__", "intake", "planner", "caller", "tool", "summarizer", "__end__"]));
    expect(graph.edges.length).toBeGreaterThan(0);
    const schemas = await client.assistants.getSchemas(graphAssistant("dfsdt"));
    expect(schemas.graph_id).toBe("dfsdt");
    expect(Object.keys((schemas.config_schema as { properties: object }).properties)).toEqual(expect.arrayContaining(["maxSteps", "beam"]));
    expect(schemas.context_schema).toEqual(schemas.config_schema);
    expect(Object.keys((schemas.state_schema as { properties: object }).properties)).toEqual(expect.arrayContaining(["instruction", "tree", "turns"]));
    expect(Object.keys((schemas.input_schema as { properties: object }).properties)).toContain("instruction");
    expect(await client.assistants.getSubgraphs("alphaUmi", { recurse: true })).toEqual({});
  });

  it("a run by assistant id runs its graph with its configuration, under the run's own; the thread names the assistant", async () => {
    const careful = await client.assistants.create({ graphId: "alphaUmi", name: "Asks first", config: { configurable: { approve: "all" } } });
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, careful.assistant_id, { input: { instruction: DEMO_INSTRUCTION } }));
    const held = await client.threads.get(thread.thread_id);
    expect(held.status).toBe("interrupted"); // the assistant's approve: "all" held the first call
    expect(held.metadata).toMatchObject({ graph_id: "alphaUmi", assistant_id: careful.assistant_id });
    expect(await client.threads.search({ metadata: { assistant_id: careful.assistant_id } })).toHaveLength(1);
    // By graph id (the system assistant, no configuration) the same instruction runs to its answer.
    const plain = await client.threads.create();
    const values = (await client.runs.wait(plain.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } })) as Values;
    expect(values.status).toEqual({ status: "finished" });
    // The run's own configuration wins over the assistant's (maxSteps 1: the budget ends it).
    const budget = await client.assistants.create({ graphId: "alphaUmi", config: { configurable: { maxSteps: 40 } } });
    const capped = await client.threads.create();
    const out = (await client.runs.wait(capped.thread_id, budget.assistant_id, { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { maxSteps: 1 } } })) as Values;
    expect(out.status?.status).not.toBe("finished");
    await expect(drain(client.runs.stream(thread.thread_id, randomUUID(), { input: { instruction: DEMO_INSTRUCTION } }))).rejects.toThrow(/HTTP 404.*assistant .* not found/);
  }, 60_000);

  it("a client's assistant cannot name models or tool sources (403, one line), nor set LangGraph's internal keys", async () => {
    await expect(client.assistants.create({ graphId: "alphaUmi", config: { configurable: { callerModel: "openai:gpt-4o#key_env=HOME" } } })).rejects.toThrow(
      /HTTP 403.*config\.configurable\.callerModel: set by the operator only/,
    );
    await expect(client.assistants.create({ graphId: "alphaUmi", context: { toolSources: "module:/tmp/evil.mjs" } })).rejects.toThrow(/HTTP 403.*context\.toolSources: set by the operator only/);
    const mine = await client.assistants.create({ graphId: "alphaUmi" });
    await expect(client.assistants.update(mine.assistant_id, { config: { configurable: { numCtx: 1_000_000 } } })).rejects.toThrow(/HTTP 403.*numCtx/);
    await expect(client.assistants.update("alphaUmi", { config: { configurable: { __pregel_x: 1 } } })).rejects.toThrow(/HTTP 403.*internal keys/);
    await expect(client.assistants.create({ graphId: "alphaUmi", config: { configurable: { maxSteps: "many" } } })).rejects.toThrow(/HTTP 422.*maxSteps/);
    expect((await client.assistants.get(mine.assistant_id)).version).toBe(1);
  });
});

describe("store", () => {
  it("put, get, search, list namespaces and delete items", async () => {
    const root = `u${randomUUID().replace(/-/g, "").slice(0, 8)}`;
    await client.store.putItem([root, "prefs"], "lang", { value: "en", level: 2 });
    await client.store.putItem([root, "prefs"], "tz", { value: "UTC", level: 1 });
    await client.store.putItem([root, "notes", "work"], "a", { text: "ship it" });
    await client.store.putItem([`${root}x`, "prefs"], "lang", { value: "fr" }); // a root that extends the other's name
    const got = await client.store.getItem([root, "prefs"], "lang");
    expect(got).toMatchObject({ namespace: [root, "prefs"], key: "lang", value: { value: "en", level: 2 } });
    expect(typeof got!.createdAt).toBe("string");
    expect(await client.store.getItem([root, "prefs"], "missing")).toBeNull();

    const all = await client.store.searchItems([root]);
    expect(all.items.map((i) => `${i.namespace.join("/")}:${i.key}`).sort()).toEqual([`${root}/notes/work:a`, `${root}/prefs:lang`, `${root}/prefs:tz`]);
    expect((await client.store.searchItems([root, "prefs"], { filter: { level: 1 } })).items.map((i) => i.key)).toEqual(["tz"]);
    expect((await client.store.searchItems([root], { limit: 1, offset: 1 })).items).toHaveLength(1);

    expect((await client.store.listNamespaces({ prefix: [root] })).namespaces.sort()).toEqual([
      [root, "notes", "work"],
      [root, "prefs"],
    ]);
    expect((await client.store.listNamespaces({ prefix: [root], maxDepth: 2 })).namespaces.sort()).toEqual([
      [root, "notes"],
      [root, "prefs"],
    ]);
    expect((await client.store.listNamespaces({ prefix: [root], suffix: ["work"] })).namespaces).toEqual([[root, "notes", "work"]]);

    await client.store.deleteItem([root, "prefs"], "lang");
    expect(await client.store.getItem([root, "prefs"], "lang")).toBeNull();
  });

  it("a namespace label the store cannot keep apart is refused with one line", async () => {
    const res = await fetch(`${url}/store/items`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ namespace: ["a:b"], key: "k", value: {} }) });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toMatch(/namespace label "a:b"/);
  });
});

describe("thread details", () => {
  it("creating a thread with an existing id is 409; if_exists do_nothing returns it unchanged", async () => {
    const thread = await client.threads.create({ metadata: { owner: "first" } });
    await expect(client.threads.create({ threadId: thread.thread_id, metadata: { owner: "second" } })).rejects.toThrow(/HTTP 409/);
    const same = await client.threads.create({ threadId: thread.thread_id, metadata: { owner: "second" }, ifExists: "do_nothing" });
    expect(same.metadata).toEqual({ owner: "first" });
    expect((await client.threads.get(thread.thread_id)).metadata).toEqual({ owner: "first" });
  });

  it("supersteps on create are applied as state updates; a write of a protected channel is refused", async () => {
    const thread = await client.threads.create({ graphId: "alphaUmi", supersteps: [{ updates: [{ values: { instruction: DEMO_INSTRUCTION }, asNode: "intake" }] }] });
    const state = await client.threads.getState(thread.thread_id);
    expect((state.values as Values).instruction).toBe(DEMO_INSTRUCTION);
    await expect(client.threads.create({ graphId: "alphaUmi", supersteps: [{ updates: [{ values: { approve: "none" }, asNode: "intake" }] }] })).rejects.toThrow(/HTTP 403.*approve/);
    await expect(client.threads.create({ supersteps: [{ updates: [{ values: {}, asNode: "intake" }] }] })).rejects.toThrow(/HTTP 422.*graph_id/);
  });

  it("a state edit while a run holds the thread is refused with 409", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const planner = await startFakeOllama({ models: { planner: {} }, respond: async () => (await gate, "Nothing here can answer this.\nNext: give up.") });
    try {
      const thread = await client.threads.create();
      const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
      const run = drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config }));
      await until("the planner's request", () => planner.generations().length > 0);
      await expect(client.threads.updateState(thread.thread_id, { values: { instruction: "other" } })).rejects.toThrow(/HTTP 409.*busy/);
      release();
      await run;
      expect((await client.threads.get(thread.thread_id)).status).toBe("idle");
      await client.threads.updateState(thread.thread_id, { values: { instruction: "edited" } });
      expect(((await client.threads.getState(thread.thread_id)).values as Values).instruction).toBe("edited");
    } finally {
      release();
      await planner.close();
    }
  }, 60_000);

  it("a run stopped by interruptBefore leaves the thread interrupted; it resumes to idle", async () => {
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, interruptBefore: ["caller"] }));
    const stopped = await client.threads.get(thread.thread_id);
    expect(stopped.status).toBe("interrupted");
    expect((await client.threads.search({ status: "interrupted", ids: [thread.thread_id] })).map((t) => t.thread_id)).toEqual([thread.thread_id]);
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: null }));
    expect((await client.threads.get(thread.thread_id)).status).toBe("idle");
  }, 60_000);

  it("history filtered by a run's metadata", async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, metadata: { batch: "b1" } });
    const history = await client.threads.getHistory(thread.thread_id, { metadata: { batch: "b1" }, limit: 100 });
    expect(history.length).toBeGreaterThan(1);
    expect(history.every((s) => s.metadata?.batch === "b1")).toBe(true);
    expect(await client.threads.getHistory(thread.thread_id, { metadata: { batch: "b2" } })).toEqual([]);
  }, 60_000);
});
