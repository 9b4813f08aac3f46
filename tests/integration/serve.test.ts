/**
 * `alpha-umi serve`: two server processes on one Postgres database (a schema of this test run, dropped afterwards);
 * the official SDK client starts a thread on the first, and the thread, waiting for approval, is read, continued and
 * approved on the second, then on the first again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import type { Pool } from "pg";
import type { ApprovalRequest } from "../../src/approval.js";
import { postgresPool } from "../../src/checkpoint.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";

const SCHEMA = `t_serve_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
const DB = "postgres://127.0.0.1:5432/test";
let admin: Pool;
const servers: ChildProcess[] = [];

/** One `alpha-umi serve` process on a free port; resolves with its URL once it listens. */
function serve(): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve("src/cli/bin.ts"), "serve", "--checkpoints", `${DB}?schema=${SCHEMA}`, "--port", "0", "--approve"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LANGSMITH_TRACING: "false" },
  });
  servers.push(child);
  let log = "";
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start within 30 s:\n${log}`)), 30_000);
    const read = (d: Buffer) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) (clearTimeout(timer), res(m[1]!));
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => (clearTimeout(timer), rej(new Error(`serve exited with ${code}:\n${log}`))));
  });
}

let a: Client;
let b: Client;

beforeAll(async () => {
  admin = postgresPool(DB, 1);
  await admin.query("SELECT 1"); // no server: the connection error fails the suite
  // Both start at once: the schema is set up by whichever comes first, under an advisory lock.
  const [urlA, urlB] = await Promise.all([serve(), serve()]);
  a = new Client({ apiUrl: urlA });
  b = new Client({ apiUrl: urlB });
}, 60_000);

afterAll(async () => {
  await Promise.all(
    servers.map((s) => (s.exitCode === null ? new Promise((r) => (s.once("exit", r), s.kill("SIGTERM"))) : undefined)),
  );
  await admin?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin?.end();
});

async function waiting(client: Client, threadId: string): Promise<ApprovalRequest[]> {
  const state = await client.threads.getState(threadId);
  return state.tasks.flatMap((t) => (t.interrupts ?? []).map((i) => i.value as ApprovalRequest));
}

describe("alpha-umi serve: the LangGraph API over Postgres, any process serves any thread", () => {
  it("a thread started on one server is continued and approved on the other; streaming, state and history through the SDK", async () => {
    const thread = await a.threads.create({ metadata: { owner: "serve-test" } });
    const events: string[] = [];
    for await (const chunk of a.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, streamMode: ["updates"] }))
      events.push(chunk.event);
    expect(events).toContain("updates");
    // The other server knows the thread and sees what it waits for.
    expect((await b.threads.get(thread.thread_id)).metadata).toMatchObject({ owner: "serve-test", graph_id: "alphaUmi" });
    const asked: string[] = [];
    for (let i = 0, q = await waiting(b, thread.thread_id); q.length; i++, q = await waiting(i % 2 ? a : b, thread.thread_id)) {
      asked.push(q[0]!.tool);
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

  it("a run's configuration overrides the server's approval policy; an unknown thread is a 404", async () => {
    const thread = await b.threads.create();
    const values: Array<Partial<AgentStateType>> = [];
    for await (const chunk of b.runs.stream(thread.thread_id, "alphaUmi", {
      input: { instruction: DEMO_INSTRUCTION },
      config: { configurable: { approve: "none" } },
      streamMode: ["values"],
    }))
      if (chunk.event === "values") values.push(chunk.data as Partial<AgentStateType>);
    expect(values.at(-1)!.status).toEqual({ status: "finished" });
    await expect(a.threads.get(randomUUID())).rejects.toThrow(/404|not found/);
  }, 60_000);
});
