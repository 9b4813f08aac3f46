/**
 * `alpha-umi serve`: two server processes on one Postgres database (a schema of this test run, dropped afterwards);
 * the official SDK client starts a thread on the first, and the thread, waiting for approval, is read, continued and
 * approved on the second, then on the first again. Then the API as the SDK reads it: thread status (busy on both
 * servers while a run holds it, interrupted, error, idle), values and interrupts, search and count by status and
 * metadata, an unknown graph, and every stream mode the SDK offers, with and without streamSubgraphs.
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Client } from "@langchain/langgraph-sdk";
import type { ActionRequest, ApprovalRequest } from "../../src/approval.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { STREAM_MODES } from "../../src/server/api.js";
import { startFakeOllama } from "../helpers/fakeOllama.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";
import { drain, startServe, until } from "../helpers/serve.js";
import { testSchema } from "../helpers/postgres.js";

const pg = testSchema("serve");
const servers: ChildProcess[] = [];

/**
 * One `alpha-umi serve` process on a free port; resolves with its URL once it listens. The operator opens the planner's
 * model to clients (the tests point it at a local Ollama-speaking server); approval comes from each run's configuration.
 */
async function serve(): Promise<string> {
  const { url, child } = await startServe(["--checkpoints", pg.url, "--client-settable", "plannerModel"], 90_000);
  servers.push(child);
  return url;
}

let a: Client;
let b: Client;

beforeAll(async () => {
  await pg.reach();
  // Both start at once: the schema is set up by whichever comes first, under an advisory lock.
  const [urlA, urlB] = await Promise.all([serve(), serve()]);
  a = new Client({ apiUrl: urlA });
  b = new Client({ apiUrl: urlB });
}, 200_000);

afterAll(async () => {
  await Promise.all(
    servers.map((s) => (s.exitCode === null && s.signalCode === null ? new Promise((r) => (s.once("exit", r), s.kill("SIGTERM"))) : undefined)),
  );
  await pg.drop();
});

/** The calls the thread waits on a person's decision for. */
async function waiting(client: Client, threadId: string): Promise<ActionRequest[]> {
  const state = await client.threads.getState(threadId);
  return state.tasks.flatMap((t) => (t.interrupts ?? []).flatMap((i) => (i.value as ApprovalRequest).action_requests));
}

describe("alpha-umi serve: the LangGraph API over Postgres, any process serves any thread", () => {
  it("a thread started on one server is continued and approved on the other; streaming, state and history through the SDK", async () => {
    const thread = await a.threads.create({ metadata: { owner: "serve-test" } });
    const events: string[] = [];
    for await (const chunk of a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: "all" } }, streamMode: ["updates"] }))
      events.push(chunk.event);
    expect(events).toContain("updates");
    // The other server knows the thread and sees what it waits for.
    expect((await b.threads.get(thread.thread_id)).metadata).toMatchObject({ owner: "serve-test", graph_id: "alphaUmi" });
    const asked: string[] = [];
    for (let i = 0, q = await waiting(b, thread.thread_id); q.length; i++, q = await waiting(i % 2 ? a : b, thread.thread_id)) {
      asked.push(q[0]!.name);
      const client = i % 2 ? a : b; // approve alternately on B, A, B
      for await (const _ of client.runs.stream(thread.thread_id, "alphaUmi", { command: { resume: { action: "approve" } }, streamMode: ["values"] }));
    }
    expect(asked).toEqual(["country_facts_for_atlas", "exchange_rate_for_fx", "calculate_for_calculator"]);
    const state = (await a.threads.getState(thread.thread_id)).values as unknown as AgentStateType;
    expect(state.status).toEqual({ status: "finished" });
    expect(state.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    const local = await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "local" } });
    expect(state.turns).toEqual(local.turns);
    const history = await b.threads.getHistory(thread.thread_id, { limit: 100 });
    expect(history.length).toBeGreaterThan(10);
    expect((history.at(-1)!.values as unknown as Partial<AgentStateType>).turns ?? []).toEqual([]);
    const found = await b.threads.search({ metadata: { owner: "serve-test" } });
    expect(found.map((t) => t.thread_id)).toEqual([thread.thread_id]);
  }, 60_000);

  it("without an operator floor, a run whose configuration asks no approval finishes; an unknown thread is a 404", async () => {
    const thread = await b.threads.create();
    const values: Array<Partial<AgentStateType>> = [];
    for await (const chunk of b.runs.stream(thread.thread_id, "alphaUmi", {
      input: { instruction: DEMO_INSTRUCTION },
      streamMode: ["values"],
    }))
      if (chunk.event === "values") values.push(chunk.data as Partial<AgentStateType>);
    expect(values.at(-1)!.status).toEqual({ status: "finished" });
    await expect(a.threads.get(randomUUID())).rejects.toThrow(/404|not found/);
  }, 60_000);
});




const DEMO_ANSWER = "The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.";
const ids = (threads: Array<{ thread_id: string }>) => threads.map((t) => t.thread_id);
type Values = Partial<AgentStateType>;

describe("alpha-umi serve: threads as the SDK reads them", () => {
  it("busy on both servers while a run holds the thread, a second run is refused (409), idle after", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The planner is a local server speaking Ollama's API that answers only when the test says so.
    const planner = await startFakeOllama({ models: { planner: {} }, respond: async () => (await gate, "Nothing here can answer this.\nNext: give up.") });
    try {
      const thread = await a.threads.create({ metadata: { case: "busy" } });
      expect(thread).toMatchObject({ status: "idle", values: {}, interrupts: {} });
      const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
      const run = drain(a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config, streamMode: ["updates"] }));
      await until("the planner's request", () => planner.generations().length > 0);
      expect((await b.threads.get(thread.thread_id)).status).toBe("busy");
      expect(ids(await b.threads.search({ status: "busy", metadata: { case: "busy" } }))).toEqual([thread.thread_id]);
      await expect(drain(b.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } }))).rejects.toThrow(
        `HTTP 409: {"error":"thread ${thread.thread_id} is busy with another run; wait for it to end (or use another thread)"}`,
      );
      release();
      expect((await run).map((c) => c.event)).not.toContain("error");
      const after = await b.threads.get(thread.thread_id);
      expect(after).toMatchObject({ status: "idle", error: null, interrupts: {} });
      expect((after.values as Values).status).toEqual({ status: "gave_up", reason: "the planner gave up" });
      expect(await b.threads.search({ status: "busy", metadata: { case: "busy" } })).toEqual([]);
    } finally {
      release();
      await planner.close();
    }
  }, 60_000);

  it("a client that goes away mid-run stops the run and releases the thread", async () => {
    const planner = await startFakeOllama({ models: { planner: {} }, respond: () => "Nothing here can answer this.\nNext: give up." });
    planner.faults.push({ delayMs: 120_000 }); // the planner's call hangs until its client drops it
    try {
      const thread = await a.threads.create({ metadata: { case: "gone" } });
      const client = new AbortController();
      const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
      const run = drain(a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config, signal: client.signal })).catch((e: Error) => e);
      await until("the planner's request", () => planner.generations().length > 0);
      client.abort();
      await run;
      await until("the thread to be released", async () => (await b.threads.get(thread.thread_id)).status !== "busy");
      expect(await b.threads.get(thread.thread_id)).toMatchObject({ status: "idle", error: null });
      await until("the planner call to be dropped", () => planner.closedEarly > 0);
    } finally {
      await planner.close();
    }
  }, 60_000);

  it("interrupted while a call waits for approval: values and interrupts on threads.get, found by status; idle once approved", async () => {
    const thread = await b.threads.create({ metadata: { case: "approval" } });
    // Every call waits; the thread keeps the policy for the resumes, which carry none.
    await drain(b.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: "all" } }, streamMode: ["values"] }));
    const waiting = await a.threads.get(thread.thread_id);
    expect(waiting.status).toBe("interrupted");
    expect((waiting.values as Values).instruction).toBe(DEMO_INSTRUCTION);
    expect((waiting.values as Values).turns!.map((t) => t.from)).toEqual(DEMO_TURN_ROLES.slice(0, 3));
    const entries = Object.entries(waiting.interrupts);
    expect(entries).toHaveLength(1);
    const [taskId, pending] = entries[0]!;
    expect(pending.map((i) => i.value)).toEqual([expect.objectContaining({ action_requests: [expect.objectContaining({ name: "country_facts_for_atlas", args: { country: "Japan" } })] })]);
    // The same interrupt as the thread's state shows on its task.
    expect((await a.threads.getState(thread.thread_id)).tasks.find((t) => t.id === taskId)?.interrupts).toEqual(pending);
    expect(ids(await a.threads.search({ status: "interrupted", metadata: { case: "approval" } }))).toEqual([thread.thread_id]);
    expect(await a.threads.search({ status: "idle", metadata: { case: "approval" } })).toEqual([]);
    expect(await b.threads.count({ status: "interrupted", metadata: { case: "approval" } })).toBe(1);
    for (let i = 0; (await a.threads.get(thread.thread_id)).status === "interrupted"; i++) {
      expect(i).toBeLessThan(3);
      await drain((i % 2 ? a : b).runs.stream(thread.thread_id, "alphaUmi", { command: { resume: { action: "approve" } } }));
    }
    const done = await b.threads.get(thread.thread_id);
    expect(done).toMatchObject({ status: "idle", error: null, interrupts: {} });
    expect((done.values as Values).answer).toBe(DEMO_ANSWER);
    expect(ids(await b.threads.search({ status: "idle", metadata: { case: "approval" } }))).toEqual([thread.thread_id]);
  }, 60_000);

  it("error after a failed run, with its reason, on both servers; the next good run clears it", async () => {
    const thread = await a.threads.create({ metadata: { case: "error" } });
    // A tool to approve that the served tools lack: the boundary cannot know the tools, the run's first node does.
    const chunks = await drain(a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: ["nope"] } } }));
    expect(chunks.map((c) => c.event)).toContain("error");
    const failed = await b.threads.get(thread.thread_id);
    expect(failed.status).toBe("error");
    expect(failed.error).toMatch(/configuration approve: no tool named "nope"/);
    expect(ids(await b.threads.search({ status: "error", metadata: { case: "error" } }))).toEqual([thread.thread_id]);
    await drain(a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } }));
    const ok = await b.threads.get(thread.thread_id);
    expect(ok).toMatchObject({ status: "idle", error: null });
    expect((ok.values as Values).answer).toBe(DEMO_ANSWER);
  }, 60_000);

  it("runs.wait answers the final values, or raises the failed run's reason", async () => {
    const thread = await b.threads.create({ metadata: { case: "wait" } });
    const values = (await b.runs.wait(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } })) as Values;
    expect(values.answer).toBe(DEMO_ANSWER);
    expect(values.turns!.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    await expect(a.runs.wait(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: ["nope"] } } })).rejects.toThrow(
      'configuration approve: no tool named "nope"',
    );
    expect((await a.threads.get(thread.thread_id)).status).toBe("error");
  }, 60_000);

  it("a thread whose server is killed mid-run is taken over by another server, whose run finishes it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const planner = await startFakeOllama({ models: { planner: {} }, respond: async () => (await gate, "Nothing here can answer this.\nNext: give up.") });
    const doomed = servers.length;
    const c = new Client({ apiUrl: await serve() });
    try {
      const thread = await c.threads.create({ metadata: { case: "killed" } });
      const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
      const run = drain(c.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config })).catch((e: Error) => e);
      await until("the planner's request", () => planner.generations().length > 0);
      expect((await a.threads.get(thread.thread_id)).status).toBe("busy");
      servers[doomed]!.kill("SIGKILL");
      await run;
      // The run is taken over (its planner asked again) by a or b; released, it ends there.
      await until("the run to be taken over", () => planner.generations().length > 1);
      release();
      await until("the run to end", async () => (await a.runs.list(thread.thread_id))[0]?.status === "success");
      const done = await b.threads.get(thread.thread_id);
      expect(done).toMatchObject({ status: "idle", error: null });
      expect((done.values as Values).status).toEqual({ status: "gave_up", reason: "the planner gave up" });
    } finally {
      release();
      await planner.close();
    }
  }, 200_000);

  it("search by metadata alone, by ids, and a bad status named in one line", async () => {
    const one = await a.threads.create({ metadata: { case: "search", n: 1 } });
    const two = await b.threads.create({ metadata: { case: "search", n: 2 } });
    expect(ids(await a.threads.search({ metadata: { case: "search" } })).sort()).toEqual([one.thread_id, two.thread_id].sort());
    expect(ids(await b.threads.search({ metadata: { case: "search", n: 2 } }))).toEqual([two.thread_id]);
    expect(ids(await a.threads.search({ ids: [one.thread_id] }))).toEqual([one.thread_id]);
    const found = await b.threads.search({ metadata: { case: "search" }, status: "idle", sortBy: "created_at", sortOrder: "asc" });
    expect(found.map((t) => [t.thread_id, t.status, t.values, t.interrupts])).toEqual([
      [one.thread_id, "idle", {}, {}],
      [two.thread_id, "idle", {}, {}],
    ]);
    await expect(a.threads.search({ status: "sleeping" as never })).rejects.toThrow(
      'HTTP 422: {"error":"threads search: status \\"sleeping\\" is not one of idle, busy, interrupted, error"}',
    );
  }, 30_000);

  it("an unknown graph is a 404 with one line, and the thread keeps its graph", async () => {
    const thread = await a.threads.create({ metadata: { case: "unknown-graph" } });
    const line = /^HTTP 404: \{"error":"graph \\"alphaUmi2\\" not found \(graphs: alphaUmi, singleLlm(, \w+)*\)"\}$/;
    await expect(drain(a.runs.stream(thread.thread_id, "alphaUmi2", { input: { instruction: DEMO_INSTRUCTION } }))).rejects.toThrow(line);
    await expect(a.runs.create(thread.thread_id, "alphaUmi2", { input: { instruction: DEMO_INSTRUCTION } })).rejects.toThrow(line);
    await expect(drain(b.runs.stream(null, "alphaUmi2", { input: { instruction: DEMO_INSTRUCTION } }))).rejects.toThrow(line);
    expect(await b.threads.get(thread.thread_id)).toMatchObject({ metadata: { case: "unknown-graph" }, status: "idle" });
  }, 30_000);
});

/** What each stream mode's events are called and what one of them must hold. */
const MODE_EVENTS: Record<(typeof STREAM_MODES)[number], { event: string; holds: (data: unknown) => boolean }> = {
  values: { event: "values", holds: (d) => (d as Values).instruction === DEMO_INSTRUCTION },
  messages: { event: "messages/complete", holds: (d) => typeof (d as Array<{ content: unknown }>)[0]?.content === "string" },
  "messages-tuple": { event: "messages", holds: (d) => Array.isArray(d) && typeof (d[1] as { langgraph_node?: unknown }).langgraph_node === "string" },
  updates: { event: "updates", holds: (d) => Object.keys(d as object).some((k) => ["intake", "planner", "caller", "tool", "summarizer"].includes(k)) },
  events: { event: "events", holds: (d) => typeof (d as { event?: unknown }).event === "string" },
  tasks: { event: "tasks", holds: (d) => (d as { name?: unknown }).name === "planner" },
  checkpoints: { event: "checkpoints", holds: (d) => Array.isArray((d as { next?: unknown }).next) },
  debug: { event: "debug", holds: (d) => ["checkpoint", "task", "task_result"].includes((d as { type: string }).type) },
  custom: { event: "custom", holds: (d) => (d as { kind?: unknown }).kind === "prompt" },
};

describe("alpha-umi serve: every stream mode of the SDK", () => {
  const cases = STREAM_MODES.flatMap((mode) => [false, true].map((streamSubgraphs) => [mode, streamSubgraphs] as const));
  it.each(cases)("%s (streamSubgraphs: %s) streams the run to its end", async (mode, streamSubgraphs) => {
    const thread = await a.threads.create({ metadata: { case: "stream-modes" } });
    const chunks = await drain(
      a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, streamMode: [mode], streamSubgraphs }),
    );
    expect(chunks.filter((c) => c.event === "error")).toEqual([]);
    const { event, holds } = MODE_EVENTS[mode];
    const ofMode = chunks.filter((c) => c.event === event);
    expect(ofMode.length).toBeGreaterThan(0);
    expect(ofMode.some((c) => holds(c.data))).toBe(true);
    const after = await b.threads.get(thread.thread_id);
    expect(after.status).toBe("idle");
    expect((after.values as Values).answer).toBe(DEMO_ANSWER);
  }, 30_000);

  it.each([
    ["tools", 'stream mode \\"tools\\" is not served: it follows LangChain tool callbacks'],
    ["lifecycle", 'stream mode \\"lifecycle\\" is not served: it belongs to the thread event protocol'],
  ])("%s is refused with one line saying why", async (mode, why) => {
    const thread = await a.threads.create({ metadata: { case: "refused-mode" } });
    await expect(drain(a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, streamMode: [mode as never] }))).rejects.toThrow(`HTTP 422: {"error":"${why}`);
    expect((await a.threads.get(thread.thread_id)).status).toBe("idle");
  }, 30_000);
});
