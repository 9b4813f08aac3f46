/**
 * What Agent Chat UI and Agent Inbox do through `alpha-umi serve` and the official SDK: read the thread's interrupt in
 * LangChain's human-in-the-loop format, answer it with `{decisions}` through `Command({resume})`; and a run that fails
 * on a model error (the demo cassette has no reply for another question) leaves the thread `error` with its reason.
 */
import type { ChildProcess } from "node:child_process";
import { Client } from "@langchain/langgraph-sdk";
import type { ApprovalRequest } from "../../src/approval.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { testSchema } from "../helpers/postgres.js";
import { drain, startServe, stopProcess } from "../helpers/serve.js";

const pg = testSchema("serve_hitl");
let server: ChildProcess;
let client: Client;

beforeAll(async () => {
  await pg.reach();
  const { url, child } = await startServe(["--checkpoints", pg.url]);
  server = child;
  client = new Client({ apiUrl: url });
}, 60_000);

afterAll(async () => {
  if (server) await stopProcess(server);
  await pg.drop();
});


describe("serve: approval answered as LangChain's decisions; a failed run is the thread's error", () => {
  it("the thread's interrupt is a HITLRequest; {decisions: [{type: \"approve\"}]} through Command({resume}) runs the call", async () => {
    const thread = await client.threads.create();
    const id = thread.thread_id;
    await drain(client.runs.stream(id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: "exchange_rate_for_fx" } }, streamMode: ["values"] }));
    const waiting = await client.threads.get(id);
    expect(waiting.status).toBe("interrupted");
    const [value] = Object.values(waiting.interrupts).flat().map((i) => i.value as ApprovalRequest);
    expect(value!.action_requests).toEqual([{ name: "exchange_rate_for_fx", args: { from: "EUR", to: "JPY" }, description: expect.any(String) }]);
    expect(value!.review_configs[0]).toMatchObject({ action_name: "exchange_rate_for_fx", allowed_decisions: ["approve", "edit", "reject"] });
    await drain(client.runs.stream(id, "alphaUmi", { command: { resume: { decisions: [{ type: "approve" }] } }, streamMode: ["values"] }));
    const done = await client.threads.get(id);
    expect(done).toMatchObject({ status: "idle", error: null, interrupts: {} });
    const state = done.values as unknown as AgentStateType;
    expect(state.status).toEqual({ status: "finished" });
    expect(JSON.parse(state.turns.filter((t) => t.from === "observation")[1]!.value)).toMatchObject({ from: "EUR", to: "JPY" });
  }, 90_000);

  it("a run the graph ends failed (the model's reply is not in the cassette) leaves the thread `error` with the reason", async () => {
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: "What is the capital of Peru?" }, streamMode: ["values"] }));
    const failed = await client.threads.get(thread.thread_id);
    const reason = (failed.values as unknown as AgentStateType).status.reason;
    expect((failed.values as unknown as AgentStateType).status.status).toBe("failed");
    expect(reason).toMatch(/^planner model failed: /);
    expect(failed.status).toBe("error");
    expect(failed.error).toBe(reason);
    expect(await client.threads.search({ status: "error", ids: [thread.thread_id] })).toHaveLength(1);
  }, 90_000);
});
