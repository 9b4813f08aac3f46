/**
 * Approval through `alpha-umi serve` and the official SDK, as a UI that only answers the interrupt sends it: the run that
 * proposed the call carried `approve` in its configuration, the resume carries none. The answer decides — a reject is
 * not run, an edit runs with its arguments — before and after the server restarts (threads in Postgres).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import type { ActionRequest, ApprovalRequest } from "../../src/approval.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { testSchema } from "../helpers/postgres.js";
import { loggedDemoTools } from "../helpers/loggedTools.js";
import { drain, startServe, stopProcess } from "../helpers/serve.js";

const pg = testSchema("serve_appr");
const FX = "exchange_rate_for_fx";
let dir: string;
let tools: string;
let ran: () => string[];
const servers: ChildProcess[] = [];

/** A server without a policy of its own: approval comes only from the first run's configuration. */
async function server(): Promise<Client> {
  const { url, child } = await startServe(["--checkpoints", pg.url, "--tools", tools]);
  servers.push(child);
  return new Client({ apiUrl: url });
}

beforeAll(async () => {
  await pg.reach();
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-serve-approval-"));
  ({ source: tools, ran } = loggedDemoTools(dir));
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => stopProcess(s)));
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});


/** The calls the thread waits on a person's decision for. */
async function waiting(client: Client, threadId: string): Promise<ActionRequest[]> {
  const state = await client.threads.getState(threadId);
  return state.tasks.flatMap((t) => (t.interrupts ?? []).flatMap((i) => (i.value as ApprovalRequest).action_requests));
}


/** A thread whose first run says `approve` for the rate tool, now waiting on that call. */
async function waitingOnRate(client: Client, approve: unknown): Promise<string> {
  const thread = await client.threads.create();
  await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve } }, streamMode: ["updates"] }));
  expect((await waiting(client, thread.thread_id)).map((q) => [q.name, q.args])).toEqual([[FX, { from: "EUR", to: "JPY" }]]);
  return thread.thread_id;
}

const observations = async (client: Client, threadId: string) =>
  ((await client.threads.getState(threadId)).values as unknown as AgentStateType).turns.filter((t) => t.from === "observation").map((t) => t.value);

describe("serve: the answer to an approval decides, whatever the resuming run's configuration", () => {
  it("reject, resumed without the configuration: the call never runs; a run without an answer keeps the thread waiting", async () => {
    const client = await server();
    const id = await waitingOnRate(client, [FX]);
    // Runs that do not answer: nothing runs, the same question stays.
    await drain(client.runs.stream(id, "alphaUmi", { input: null, streamMode: ["values"] }));
    await drain(client.runs.stream(id, "alphaUmi", { input: {}, streamMode: ["values"] }));
    expect((await waiting(client, id)).map((q) => q.name)).toEqual([FX]);
    await drain(client.runs.stream(id, "alphaUmi", { command: { resume: { action: "reject", reason: "no currency today" } }, streamMode: ["values"] }));
    expect(ran().filter((l) => l.startsWith(FX))).toEqual([]);
    const obs = await observations(client, id);
    expect(obs[1]).toBe(JSON.stringify({ error: `The user rejected this call to ${FX}: no currency today`, response: "" }));
  }, 90_000);

  it("edit, the server restarted in between, resumed without the configuration: the call runs once with the edited arguments", async () => {
    const before = await server();
    const id = await waitingOnRate(before, FX);
    await stopProcess(servers.pop()!, "SIGKILL");
    const after = await server();
    expect((await waiting(after, id)).map((q) => q.name)).toEqual([FX]);
    await drain(after.runs.stream(id, "alphaUmi", { command: { resume: { action: "edit", args: { from: "EUR", to: "USD" } } }, streamMode: ["values"] }));
    expect(ran().filter((l) => l.startsWith(FX))).toEqual([`${FX} {"from":"EUR","to":"USD"}`]);
    expect(JSON.parse((await observations(after, id))[1]!)).toMatchObject({ from: "EUR", to: "USD" });
  }, 90_000);
});
