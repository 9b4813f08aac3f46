/**
 * The runs resource through the official SDK against two `alpha-umi serve` processes on one Postgres schema and one
 * Redis key prefix (both of this test run): background runs that execute with nobody streaming, get/list/join/delete,
 * joinStream on the other process from a Last-Event-ID, onDisconnect "continue", cancel, the multitask strategies,
 * stateless wait and batch, afterSeconds and webhooks. Runs are held mid-flight by a local server speaking Ollama's API
 * (the planner, opened to clients with --client-settable) that answers when the test says so.
 */
import type { ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@langchain/langgraph-sdk";
import { Redis } from "ioredis";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fakeOllama.js";
import { testSchema } from "../helpers/postgres.js";
import { drain, startServe, stopProcess, until } from "../helpers/serve.js";

const pg = testSchema("runs");
const PREFIX = `t-runs-${pg.schema}`;
const QUEUE = `redis://127.0.0.1:6379?prefix=${PREFIX}`;
const DEMO_ANSWER = "The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.";
const GAVE_UP = "Nothing here can answer this.\nNext: give up.";

type Values = Partial<AgentStateType>;
const servers: ChildProcess[] = [];
let a: Client;
let b: Client;
let urlA: string;
let hook: Server;
let hookHost: string;
const hooked: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  await pg.reach();
  hook = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d));
    req.on("end", () => {
      hooked.push(JSON.parse(text) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  hookHost = `127.0.0.1:${(hook.address() as AddressInfo).port}`;
  const args = ["--checkpoints", pg.url, "--queue", QUEUE, "--client-settable", "plannerModel", "--webhook-hosts", hookHost];
  const [sa, sb] = await Promise.all([startServe(args, 90_000), startServe(args, 90_000)]);
  servers.push(sa.child, sb.child);
  urlA = sa.url;
  a = new Client({ apiUrl: sa.url });
  b = new Client({ apiUrl: sb.url });
}, 200_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => stopProcess(s)));
  hook?.close();
  await pg.drop();
  const redis = new Redis("redis://127.0.0.1:6379");
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});


type Chunk = { id?: string; event: string; data: unknown };

/** A planner that answers (gives up) only once `release()` is called; `hang()` makes its next call never answer. */
async function gatedPlanner(): Promise<{ planner: FakeOllama; release: () => void; config: { configurable: Record<string, string> } }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const planner = await startFakeOllama({ models: { planner: {} }, respond: async () => (await gate, GAVE_UP) });
  return { planner, release, config: { configurable: { plannerModel: `ollama:planner@${planner.url}` } } };
}

const input = { instruction: DEMO_INSTRUCTION };

describe("runs in the background, executed by whichever serve process takes them", () => {
  it("runs.create with nobody streaming runs to the end; get, list and join on the other process; delete", async () => {
    const thread = await a.threads.create();
    const run = await a.runs.create(thread.thread_id, "alphaUmi", { input, metadata: { case: "create" } });
    expect(run).toMatchObject({ thread_id: thread.thread_id, assistant_id: "alphaUmi", status: "pending", metadata: { case: "create" } });
    const values = (await b.runs.join(thread.thread_id, run.run_id)) as Values;
    expect(values.answer).toBe(DEMO_ANSWER);
    expect(await b.runs.get(thread.thread_id, run.run_id)).toMatchObject({ run_id: run.run_id, status: "success" });
    expect((await b.threads.get(thread.thread_id)).status).toBe("idle");
    const second = await b.runs.create(thread.thread_id, "alphaUmi", { input });
    await a.runs.join(thread.thread_id, second.run_id);
    expect((await a.runs.list(thread.thread_id)).map((r) => [r.run_id, r.status])).toEqual([
      [second.run_id, "success"],
      [run.run_id, "success"],
    ]);
    expect((await a.runs.list(thread.thread_id, { limit: 1, offset: 1 })).map((r) => r.run_id)).toEqual([run.run_id]);
    await b.runs.delete(thread.thread_id, run.run_id);
    await expect(a.runs.get(thread.thread_id, run.run_id)).rejects.toThrow(/HTTP 404/);
    expect((await a.runs.list(thread.thread_id)).map((r) => r.run_id)).toEqual([second.run_id]);
  }, 90_000);

  it("joinStream on the other process from a Last-Event-ID replays from there: no event twice, none missing", async () => {
    const { planner, release, config } = await gatedPlanner();
    try {
      const thread = await a.threads.create();
      const run = await a.runs.create(thread.thread_id, "alphaUmi", { input, config, streamMode: ["values", "updates"], streamResumable: true });
      await until("the planner's request", () => planner.generations().length > 0);
      // The events so far, read on A from the start; the reader stops after two.
      const first: Chunk[] = [];
      const stop = new AbortController();
      for await (const c of a.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1", signal: stop.signal }) as AsyncIterable<Chunk>) {
        first.push(c);
        if (first.length === 2) break;
      }
      expect(first.map((c) => c.event)).toEqual(["metadata", "values"]);
      expect(first[0]!.data).toMatchObject({ run_id: run.run_id });
      expect(first.every((c) => typeof c.id === "string" && c.id.length > 0)).toBe(true);
      const rest = drain(b.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: first[0]!.id }) as AsyncIterable<Chunk>);
      release();
      const tail = await rest;
      const all = await drain(b.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }) as AsyncIterable<Chunk>);
      expect(all.length).toBeGreaterThan(3);
      expect([first[0]!, ...tail].map((c) => c.id)).toEqual(all.map((c) => c.id));
      expect((all.at(-1)!.data as Values).status).toEqual({ status: "gave_up", reason: "the planner gave up" });
      // After its end, a join without Last-Event-ID has nothing to wait for.
      expect(await drain(a.runs.joinStream(thread.thread_id, run.run_id) as AsyncIterable<Chunk>)).toEqual([]);
    } finally {
      release();
      await planner.close();
    }
  }, 90_000);

  it('onDisconnect "continue": the client goes away, the run goes on and is rejoined on the other process', async () => {
    const { planner, release, config } = await gatedPlanner();
    try {
      const thread = await a.threads.create();
      const gone = new AbortController();
      let runId: string | undefined;
      const seen: Chunk[] = [];
      for await (const c of a.runs.stream(thread.thread_id, "alphaUmi", {
        input,
        config,
        streamMode: ["values"],
        onDisconnect: "continue",
        streamResumable: true,
        signal: gone.signal,
        onRunCreated: (m) => (runId = m.run_id),
      }) as AsyncIterable<Chunk>) {
        seen.push(c);
        if (c.event === "values") break;
      }
      gone.abort();
      expect(runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      await until("the planner's request", () => planner.generations().length > 0);
      // Time for the server to see the client gone (with "cancel", the run is interrupted by then).
      await new Promise((r) => setTimeout(r, 1000));
      expect((await b.runs.get(thread.thread_id, runId!)).status).toBe("running");
      expect((await b.threads.get(thread.thread_id)).status).toBe("busy");
      const rejoined = drain(b.runs.joinStream(thread.thread_id, runId!, { lastEventId: seen.at(-1)!.id }) as AsyncIterable<Chunk>);
      release();
      const rest = await rejoined;
      expect(rest.map((c) => c.id)).not.toContain(seen.at(-1)!.id);
      expect((rest.at(-1)!.data as Values).status).toEqual({ status: "gave_up", reason: "the planner gave up" });
      expect(await b.runs.get(thread.thread_id, runId!)).toMatchObject({ status: "success" });
      expect((await a.threads.get(thread.thread_id)).status).toBe("idle");
    } finally {
      release();
      await planner.close();
    }
  }, 90_000);

  it("cancel on the other process stops the run (the model call is dropped); the run is interrupted, the thread not busy", async () => {
    const planner = await startFakeOllama({ models: { planner: {} }, respond: () => GAVE_UP });
    planner.faults.push({ delayMs: 120_000 });
    try {
      const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
      const thread = await a.threads.create();
      const run = await a.runs.create(thread.thread_id, "alphaUmi", { input, config });
      await until("the planner's request", () => planner.generations().length > 0);
      await b.runs.cancel(thread.thread_id, run.run_id, true);
      expect(await a.runs.get(thread.thread_id, run.run_id)).toMatchObject({ status: "interrupted" });
      expect((await a.threads.get(thread.thread_id)).status).toBe("idle");
      await until("the planner call to be dropped", () => planner.closedEarly > 0);
      // The thread takes the next run.
      const next = await b.runs.create(thread.thread_id, "alphaUmi", { input, config });
      await a.runs.join(thread.thread_id, next.run_id);
      expect(await b.runs.get(thread.thread_id, next.run_id)).toMatchObject({ status: "success" });
    } finally {
      await planner.close();
    }
  }, 90_000);
});

describe("multitask strategies: a second run on a busy thread", () => {
  /** A thread whose first run hangs in its planner call until it is dropped. */
  async function busyThread() {
    const planner = await startFakeOllama({ models: { planner: {} }, respond: () => GAVE_UP });
    planner.faults.push({ delayMs: 120_000 });
    const config = { configurable: { plannerModel: `ollama:planner@${planner.url}` } };
    const thread = await a.threads.create();
    const first = await a.runs.create(thread.thread_id, "alphaUmi", { input, config });
    await until("the planner's request", () => planner.generations().length > 0);
    return { planner, config, threadId: thread.thread_id, first };
  }

  it("interrupt: the running run is cancelled (its call dropped), the new one runs on its checkpoints", async () => {
    const { planner, config, threadId, first } = await busyThread();
    try {
      const second = await b.runs.create(threadId, "alphaUmi", { input, config, multitaskStrategy: "interrupt" });
      const values = (await b.runs.join(threadId, second.run_id)) as Values;
      expect(values.status).toEqual({ status: "gave_up", reason: "the planner gave up" });
      expect(await a.runs.get(threadId, first.run_id)).toMatchObject({ status: "interrupted" });
      expect(await a.runs.get(threadId, second.run_id)).toMatchObject({ status: "success" });
      expect(planner.closedEarly).toBeGreaterThan(0);
    } finally {
      await planner.close();
    }
  }, 90_000);

  it("rollback: the running run is cancelled and deleted with its checkpoints; the new one runs as if alone", async () => {
    const { planner, config, threadId, first } = await busyThread();
    try {
      const second = await b.runs.create(threadId, "alphaUmi", { input, config, multitaskStrategy: "rollback" });
      await b.runs.join(threadId, second.run_id);
      await expect(a.runs.get(threadId, first.run_id)).rejects.toThrow(/HTTP 404/);
      expect((await a.runs.list(threadId)).map((r) => [r.run_id, r.status])).toEqual([[second.run_id, "success"]]);
      // What a single run of the same input leaves on a fresh thread.
      const alone = await a.threads.create();
      await a.runs.wait(alone.thread_id, "alphaUmi", { input, config });
      const history = async (id: string) => (await a.threads.getHistory(id, { limit: 100 })).map((s) => s.next);
      expect(await history(threadId)).toEqual(await history(alone.thread_id));
    } finally {
      await planner.close();
    }
  }, 90_000);

  it("enqueue: the new run waits (pending) and runs after the current one ends", async () => {
    const { planner, release, config } = await gatedPlanner();
    try {
      const thread = await a.threads.create();
      const first = await a.runs.create(thread.thread_id, "alphaUmi", { input, config });
      await until("the planner's request", () => planner.generations().length > 0);
      const second = await b.runs.create(thread.thread_id, "alphaUmi", { input, config, multitaskStrategy: "enqueue" });
      await new Promise((r) => setTimeout(r, 500));
      expect(await a.runs.get(thread.thread_id, second.run_id)).toMatchObject({ status: "pending" });
      expect(planner.generations()).toHaveLength(1);
      release();
      await b.runs.join(thread.thread_id, second.run_id);
      const [one, two] = await Promise.all([a.runs.get(thread.thread_id, first.run_id), a.runs.get(thread.thread_id, second.run_id)]);
      expect([one.status, two.status]).toEqual(["success", "success"]);
      expect(Date.parse(two.updated_at)).toBeGreaterThan(Date.parse(one.updated_at));
    } finally {
      release();
      await planner.close();
    }
  }, 90_000);
});

describe("stateless runs, afterSeconds, webhooks", () => {
  it("runs.wait without a thread answers the final values", async () => {
    const values = (await b.runs.wait(null, "alphaUmi", { input })) as Values;
    expect(values.answer).toBe(DEMO_ANSWER);
  }, 90_000);

  it("createBatch: each run executes in the background and is joined by its id", async () => {
    const runs = await a.runs.createBatch([
      { assistantId: "alphaUmi", input },
      { assistantId: "alphaUmi", input, metadata: { n: 2 } },
    ]);
    expect(runs.map((r) => r.metadata)).toEqual([{}, { n: 2 }]);
    expect(new Set(runs.map((r) => r.thread_id)).size).toBe(2);
    for (const chunks of await Promise.all(runs.map((r) => drain(b.runs.joinStream(null, r.run_id, { lastEventId: "-1" }) as AsyncIterable<Chunk>))))
      expect((chunks.filter((c) => c.event === "values").at(-1)!.data as Values).answer).toBe(DEMO_ANSWER);
  }, 90_000);

  it("afterSeconds: the run waits that long before it starts", async () => {
    const thread = await a.threads.create();
    const t0 = Date.now();
    const run = await a.runs.create(thread.thread_id, "alphaUmi", { input, afterSeconds: 2 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await b.runs.get(thread.thread_id, run.run_id)).toMatchObject({ status: "pending" });
    expect((await b.runs.join(thread.thread_id, run.run_id)) as Values).toMatchObject({ answer: DEMO_ANSWER });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
  }, 90_000);

  it("a webhook on a host the operator allows gets the finished run; any other host is refused, naming the key", async () => {
    const thread = await a.threads.create();
    const run = await a.runs.create(thread.thread_id, "alphaUmi", { input, webhook: `http://${hookHost}/done` });
    await b.runs.join(thread.thread_id, run.run_id);
    await until("the webhook", () => hooked.some((h) => h.run_id === run.run_id));
    const got = hooked.find((h) => h.run_id === run.run_id)!;
    expect(got).toMatchObject({ thread_id: thread.thread_id, status: "success", values: { answer: DEMO_ANSWER } });
    await expect(a.runs.create(thread.thread_id, "alphaUmi", { input, webhook: "http://169.254.169.254/latest/meta-data" })).rejects.toThrow(
      /HTTP 403: .*webhook: host 169\.254\.169\.254 is not one the operator allows/,
    );
  }, 90_000);

  it("a run's body cannot pass for a stateless run's (whose thread is deleted with it)", async () => {
    const thread = await a.threads.create();
    const res = await fetch(`${urlA}/threads/${thread.thread_id}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "alphaUmi", input, alpha_umi_stateless: true }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: "alpha_umi_stateless: set by the server, not by a client" });
    // Nothing ran, and the thread is still there.
    expect(await b.threads.get(thread.thread_id)).toMatchObject({ status: "idle", values: {} });
  }, 90_000);
});
