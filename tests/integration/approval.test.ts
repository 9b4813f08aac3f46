/**
 * Human approval of tool calls: the graph stops with LangGraph's interrupt() before an approved tool runs, and resumes
 * with Command({resume}) as approve, edit or reject; `run --approve` takes the same answers from piped stdin, and a
 * thread waiting for approval survives the process (SQLite here; Postgres in postgres.test.ts, servers in serve.test.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, interrupt, MemorySaver } from "@langchain/langgraph";
import { z } from "zod";
import { notTakenOf, type ActionRequest, type ApprovalRequest } from "../../src/approval.js";
import { planRationale } from "../../src/protocol/parse.js";
import { checkpointerFrom, closeCheckpointer } from "../../src/checkpoint/checkpointers.js";
import { demoCassettePath } from "../../src/configurable.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { runAgent } from "../../src/runAgent.js";
import type { AgentStateType } from "../../src/state.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { runCliWithInput } from "../helpers/cli.js";
import { call, DEMO_TURN_ROLES, plan } from "../helpers/scenario.js";

type Graph = ReturnType<typeof createAlphaUmiGraph>;

/** The interrupt values the thread waits on now. */
async function waitingOn(graph: Graph, threadId: string): Promise<unknown[]> {
  const snap = await graph.getState({ configurable: { thread_id: threadId } });
  return snap.tasks.flatMap((t) => t.interrupts.map((i) => i.value));
}

const CAPITAL = "country_facts_for_atlas";

/** The one call an approval request asks about. */
const asked1 = (q: unknown): ActionRequest => (q as ApprovalRequest).action_requests[0]!;
/** Why the previous answer to the call the thread waits on was not taken. */
const notTaken = async (graph: Graph, id: string) => notTakenOf(asked1((await waitingOn(graph, id))[0]));

function capitalScript(args: unknown) {
  return scriptedRoles({
    planner: [plan("I need the capital.", "caller"), plan("I have it.", "conclusion")],
    caller: [call(CAPITAL, args)],
    summarizer: ["Done."],
  });
}

async function start(models: ReturnType<typeof scriptedRoles>, approve: "all" | string[] = "all", tools: ToolSpec[] = demoTools()) {
  const graph = createAlphaUmiGraph({ tools, models, approve, checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "t" } };
  await graph.invoke({ instruction: "What is the capital of France?" }, config);
  return { graph, config };
}

const observationOf = (s: AgentStateType) => s.turns.filter((t) => t.from === "observation").map((t) => t.value);

describe("approval: interrupt before the tool runs, resume with approve / edit / reject", () => {
  it("approve: the graph stops before every call with the proposed call and the planner's rationale, and runs it as proposed", async () => {
    const graph = createAlphaUmiGraph({ tools: demoTools(), approve: "all", checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "demo" } };
    let state = (await graph.invoke({ instruction: DEMO_INSTRUCTION }, config)) as AgentStateType;
    const asked: ActionRequest[] = [];
    for (let q = await waitingOn(graph, "demo"); q.length; q = await waitingOn(graph, "demo")) {
      expect(q).toHaveLength(1);
      asked.push(asked1(q[0]));
      // Nothing ran yet: τ ends with the proposed call.
      expect(state.turns[state.turns.length - 1]!.from).toBe("caller");
      state = (await graph.invoke(new Command({ resume: { decisions: [{ type: "approve" }] } }), config)) as AgentStateType;
    }
    expect(asked.map((a) => a.name)).toEqual([CAPITAL, "exchange_rate_for_fx", "calculate_for_calculator"]);
    expect(asked[0]).toMatchObject({ name: CAPITAL, args: { country: "Japan" } });
    const plannerTurns = state.turns.filter((t) => t.from === "assistant").map((t) => t.value);
    expect(asked.map((a) => a.description)).toEqual(plannerTurns.slice(0, 3).map(planRationale));
    // Approving everything gives exactly the run without approval.
    const plain = await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "plain" } });
    expect(state.status).toEqual({ status: "finished" });
    expect(state.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    expect(state.turns).toEqual(plain.turns);
  });

  it("edit: the call runs with the person's arguments", async () => {
    const { graph, config } = await start(capitalScript({ country: "Japan" }));
    const state = (await graph.invoke(new Command({ resume: { action: "edit", args: { country: "France" } } }), config)) as AgentStateType;
    expect(JSON.parse(observationOf(state)[0]!)).toMatchObject({ country: "France", capital: "Paris" });
    expect(state.status).toEqual({ status: "finished" });
  });

  it("edit with arguments that fail the tool's schema: not run, the same call is asked again with the reason", async () => {
    const runs: unknown[] = [];
    const tool: ToolSpec = { ...demoTools()[0]!, run: (args) => (runs.push(args), demoTools()[0]!.run(args, { signal: new AbortController().signal })) };
    const { graph, config } = await start(capitalScript({ country: "Japan" }), [CAPITAL], [tool]);
    await graph.invoke(new Command({ resume: { action: "edit", args: { country: 5 } } }), config);
    const [again] = await waitingOn(graph, "t");
    expect(asked1(again)).toMatchObject({ name: CAPITAL, args: { country: "Japan" } });
    expect(notTakenOf(asked1(again))).toMatch(/^edit: invalid arguments for country_facts_for_atlas: country: /);
    await graph.invoke(new Command({ resume: { action: "edit", args: ["not", "an", "object"] } }), config);
    expect(await notTaken(graph, "t")).toBe("edit: args must be a JSON object");
    expect(runs).toEqual([]);
    const state = (await graph.invoke(new Command({ resume: { action: "edit", args: { country: "Brazil" } } }), config)) as AgentStateType;
    expect(runs).toEqual([{ country: "Brazil" }]);
    expect(JSON.parse(observationOf(state)[0]!)).toMatchObject({ capital: "Brasília" });
  });

  it("reject: the call does not run and the planner reads the reason as its observation", async () => {
    const models = capitalScript({ country: "Japan" });
    const { graph, config } = await start(models, [CAPITAL]);
    const state = (await graph.invoke(new Command({ resume: { action: "reject", reason: "ask about France, not Japan" } }), config)) as AgentStateType;
    const obs = observationOf(state)[0]!;
    expect(JSON.parse(obs)).toEqual({ error: `The user rejected this call to ${CAPITAL}: ask about France, not Japan`, response: "" });
    expect(models.planner.prompts[1]).toContain(`observation: ${obs}`);
    expect(state.messages.at(-3)).toMatchObject({ status: "error" });
  });

  it("an answer that is none of the three is asked again", async () => {
    const { graph, config } = await start(capitalScript({ country: "Japan" }));
    await graph.invoke(new Command({ resume: "yes please" }), config);
    expect(await notTaken(graph, "t")).toMatch(/^expected \{decisions: \[\{type: "approve"\}/);
  });

  it("a tool not on the approve list runs unasked; an unknown name in the list is a configuration error", async () => {
    const { graph } = await start(capitalScript({ country: "Japan" }), ["calculate_for_calculator"]);
    expect(await waitingOn(graph, "t")).toEqual([]);
    const bad = createAlphaUmiGraph({ tools: demoTools(), approve: ["calculator"], models: capitalScript({}) });
    await expect(bad.invoke({ instruction: "x" }, { configurable: { thread_id: "b" } })).rejects.toThrow(
      'configuration approve: no tool named "calculator" (tools: country_facts_for_atlas, exchange_rate_for_fx, calculate_for_calculator)',
    );
  });

  it("an interrupt raised inside a user's own tool reaches the caller and resumes the tool with the answer", async () => {
    const ask: ToolSpec = {
      doc: { Name: "ask_the_user", function: "Ask the user a question.", input: { question: "the question" } },
      schema: z.object({ question: z.string() }),
      run: (args) => ({ answer: interrupt<{ question: unknown }, string>({ question: args.question }) }),
    };
    const models = scriptedRoles({
      planner: [plan("Ask which city.", "caller"), plan("Got it.", "conclusion")],
      caller: [call("ask_the_user", { question: "Which city?" })],
      summarizer: ["Kyoto."],
    });
    const graph = createAlphaUmiGraph({ tools: [ask], models, checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "u" } };
    await graph.invoke({ instruction: "Plan my trip." }, config);
    expect(await waitingOn(graph, "u")).toEqual([{ question: "Which city?" }]);
    const state = (await graph.invoke(new Command({ resume: "Kyoto" }), config)) as AgentStateType;
    expect(observationOf(state)).toEqual([JSON.stringify({ answer: "Kyoto" })]);
    expect(state.status).toEqual({ status: "finished" });
  });
});

describe("approval is a fact of the thread: a resume answers the interrupt, whatever its configuration says", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-approval-thread-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The demo tools, counting what runs; graphs have no approval policy of their own (it comes with the first run). */
  function counted() {
    const ran: Array<[string, unknown]> = [];
    const tools = demoTools().map((t) => ({ ...t, run: (args: Record<string, unknown>, ctx: { signal: AbortSignal }) => (ran.push([t.doc.Name, args]), t.run(args, ctx)) }));
    return { ran, tools };
  }
  const FX = "exchange_rate_for_fx";
  const script = (after: string) =>
    scriptedRoles({ planner: [plan("The rate.", "caller"), plan(after, "conclusion")], caller: [call(FX, { from: "EUR", to: "JPY" })], summarizer: ["Done."] });

  /** A thread started with `approve` in the run's configuration, waiting; then a second graph on the same SQLite file (a restart). */
  async function waitingThenRestarted(id: string, approve: unknown) {
    const db = join(dir, `${id}.sqlite`);
    const first = checkpointerFrom(db);
    const one = counted();
    const g1 = createAlphaUmiGraph({ tools: one.tools, models: script("unused"), checkpointer: first });
    await g1.invoke({ instruction: "EUR to JPY?" }, { configurable: { thread_id: id, approve } });
    expect((await waitingOn(g1, id)).map((q) => asked1(q).name)).toEqual([FX]);
    await closeCheckpointer(first);
    const saver = checkpointerFrom(db);
    const two = counted();
    const models = scriptedRoles({ planner: [plan("Answered.", "conclusion")], summarizer: ["Done."] });
    const graph = createAlphaUmiGraph({ tools: two.tools, models, checkpointer: saver });
    expect(one.ran).toEqual([]);
    return { graph, saver, ranLater: two.ran, models };
  }

  it.each([
    ["a list", [FX]],
    ["the string form", FX],
  ])("approve as %s: resumed without the configuration, a reject is not run; no answer (or another input) keeps it waiting", async (_form, approve) => {
    const id = `reject-${typeof approve}`;
    const { graph, saver, ranLater, models } = await waitingThenRestarted(id, approve);
    const config = { configurable: { thread_id: id } };
    // No answer: the same question stays; nothing runs.
    await graph.invoke({}, config);
    await graph.invoke(null, config);
    expect((await waitingOn(graph, id)).map((q) => asked1(q).name)).toEqual([FX]);
    const state = (await graph.invoke(new Command({ resume: { action: "reject", reason: "no currency today" } }), config)) as AgentStateType;
    await closeCheckpointer(saver);
    expect(ranLater).toEqual([]);
    expect(observationOf(state)).toEqual([JSON.stringify({ error: `The user rejected this call to ${FX}: no currency today`, response: "" })]);
    expect(models.planner.prompts[0]).toContain("no currency today");
    expect(state.status).toEqual({ status: "finished" });
  });

  it("resumed after a restart without the configuration, an edit runs with the edited arguments once; a bad edit is asked again", async () => {
    const { graph, saver, ranLater } = await waitingThenRestarted("edit", [FX]);
    const config = { configurable: { thread_id: "edit" } };
    await graph.invoke(new Command({ resume: { action: "edit", args: { from: 7 } } }), config);
    expect(await notTaken(graph, "edit")).toMatch(/^edit: invalid arguments for exchange_rate_for_fx: /);
    const state = (await graph.invoke(new Command({ resume: { action: "edit", args: { from: "EUR", to: "USD" } } }), config)) as AgentStateType;
    await closeCheckpointer(saver);
    expect(ranLater).toEqual([[FX, { from: "EUR", to: "USD" }]]);
    expect(JSON.parse(observationOf(state)[0]!)).toMatchObject({ from: "EUR", to: "USD" });
  });

  it("a resume whose configuration says approve none still has to answer; a call proposed under no policy runs unasked when resumed with one", async () => {
    const { graph, saver, ranLater } = await waitingThenRestarted("none", [FX]);
    await graph.invoke({}, { configurable: { thread_id: "none", approve: "none" } });
    expect((await waitingOn(graph, "none")).map((q) => asked1(q).name)).toEqual([FX]);
    await closeCheckpointer(saver);
    expect(ranLater).toEqual([]);
    // Proposed with no policy and stopped before the tool ran; resumed with one: the proposal's policy decides.
    const { ran, tools } = counted();
    const late = createAlphaUmiGraph({ tools, models: script("Answered."), checkpointer: new MemorySaver() });
    await late.invoke({ instruction: "EUR to JPY?" }, { configurable: { thread_id: "late" }, interruptBefore: ["tool"] });
    await late.invoke(null, { configurable: { thread_id: "late", approve: [FX] } });
    expect(await waitingOn(late, "late")).toEqual([]);
    expect(ran).toEqual([[FX, { from: "EUR", to: "JPY" }]]);
  });
});

describe("run --approve: answers from piped stdin; a waiting thread survives the process", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-approval-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));


  const EDIT = { from: "EUR", to: "USD" };
  const ANSWERS = ["y", `e ${JSON.stringify(EDIT)}`, "r no maths today"];

  it("approve, edit and reject through the terminal give the τ of the same answers in-process; EOF leaves the thread waiting for a second process", async () => {
    // The models: scripted, recorded to a cassette the CLI replays byte-exactly (a prompt that differs misses).
    const cassette = join(dir, "cassette.jsonl");
    const models = scriptedRoles({
      planner: [plan("Capital first.", "caller"), plan("Now the rate.", "caller"), plan("Now compute.", "caller"), plan("Enough.", "conclusion")],
      caller: [call(CAPITAL, { country: "Japan" }), call("exchange_rate_for_fx", { from: "EUR", to: "JPY" }), call("calculate_for_calculator", { expression: "250*162.5" })],
      summarizer: ["Tokyo; the rate is as shown."],
    });
    const answers = [{ action: "approve" }, { action: "edit", args: EDIT }, { action: "reject", reason: "no maths today" }];
    const questions: unknown[] = [];
    const local = await runAgent({
      instruction: DEMO_INSTRUCTION,
      tools: demoTools(),
      models,
      record: cassette,
      checkpointer: new MemorySaver(),
      approve: "all",
      ask: async (q) => (questions.push(q), answers.shift()),
    });
    expect(questions).toHaveLength(3);
    expect(local.state.status).toEqual({ status: "finished" });
    const obs = observationOf(local.state);
    expect(JSON.parse(obs[1]!)).toMatchObject({ from: "EUR", to: "USD" });
    expect(obs[2]).toContain("no maths today");

    const db = join(dir, "threads.sqlite");
    const spec = `replay:${cassette}`;
    const common = ["--tools", "demo", "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", db, "--thread", "cli-1"];
    // First process: one answer, then end of input — the thread waits at the second call.
    const first = await runCliWithInput(["run", DEMO_INSTRUCTION, ...common, "--approve"], ANSWERS[0] + "\n");
    expect(first.stderr).not.toMatch(/Error|at /);
    expect(first.stdout).toContain(`[approve] ${CAPITAL} {"country":"Japan"}`);
    expect(first.stdout).toContain("no answer: the thread waits for one\n");
    expect(first.stdout).toContain(`resume with: npx alpha-umi run --thread cli-1 ${common.filter((a) => a !== "--thread" && a !== "cli-1").join(" ")} --approve\n`);
    expect(first.code).toBe(1);
    // Without --approve the waiting thread is left as it is: the call is not run unasked.
    const unasked = await runCliWithInput(["run", ...common], "");
    expect(unasked.stdout).not.toContain("[observation]");
    // Second process: a bad line is asked again, then edit and reject.
    const second = await runCliWithInput(["run", ...common, "--approve"], ["maybe", "e not-json", ...ANSWERS.slice(1)].join("\n") + "\n");
    expect(second.stdout).toContain("[approve] answer y (approve), e {JSON arguments} (edit) or r REASON (reject)");
    expect(second.stdout).toContain("[approve] edit: give the new arguments as one JSON object");
    expect(second.code).toBe(0);
    const saver = checkpointerFrom(db);
    const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver });
    const stored = (await graph.getState({ configurable: { thread_id: "cli-1" } })).values as AgentStateType;
    await closeCheckpointer(saver);
    expect(stored.turns).toEqual(local.state.turns);
  }, 60_000);

  it("the policy a call was proposed under decides: resumed with --approve naming another tool, a reject is still not run", async () => {
    const db = join(dir, "bypass.sqlite");
    const spec = `replay:${demoCassettePath()}`;
    const common = ["--tools", "demo", "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", db, "--thread", "cli-2"];
    const first = await runCliWithInput(["run", DEMO_INSTRUCTION, ...common, "--approve", "exchange_rate_for_fx"], "");
    expect(first.stdout).toContain('[approve] exchange_rate_for_fx {"from":"EUR","to":"JPY"}');
    const second = await runCliWithInput(["run", ...common, "--approve", "calculate_for_calculator"], "r not today\n");
    expect(second.stdout).toContain(`[observation] ${JSON.stringify({ error: "The user rejected this call to exchange_rate_for_fx: not today", response: "" })}`);
    const saver = checkpointerFrom(db);
    const stored = (await createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver }).getState({ configurable: { thread_id: "cli-2" } })).values as AgentStateType;
    await closeCheckpointer(saver);
    expect(observationOf(stored)).toHaveLength(2);
    expect(observationOf(stored)[1]).toContain("rejected");
  }, 60_000);

  it("--approve with a name that is not a tool is one clear line", async () => {
    const r = await runCliWithInput(["run", "x", "--tools", "demo", "--checkpoints", "memory", "--approve", "nope"], "");
    expect(r.stderr.trim()).toBe("alpha-umi: --approve: no tool named nope (tools: country_facts_for_atlas, exchange_rate_for_fx, calculate_for_calculator)");
    expect(r.code).not.toBe(0);
  });
});
