/**
 * What chat UIs see: approval interrupts in LangChain's human-in-the-loop format answered with its decisions, a message
 * typed while a call waits for approval, and chat messages that carry the planner's rationale without the protocol's
 * control line (which τ and the prompts keep, byte-exact).
 */
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { Command, MemorySaver } from "@langchain/langgraph";
import type { ApprovalRequest } from "../../src/approval.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { plannerPrompt } from "../../src/protocol/render.js";
import type { AgentStateType } from "../../src/state.js";
import { demoTools } from "../../tools/demo/index.js";
import { call, plan, roles } from "../helpers/scenario.js";

const FX = "exchange_rate_for_fx";
const RATE_PLAN = plan("I need the EUR to JPY rate.", "caller");
const ENOUGH_PLAN = plan("I have it.", "conclusion");

/** A thread whose call to the rate tool waits for approval. */
async function waiting(approve: "all" | string[] = [FX]) {
  const models = scriptedRoles({ planner: [RATE_PLAN, ENOUGH_PLAN], caller: [call(FX, { from: "EUR", to: "JPY" })], summarizer: ["Done."] });
  const graph = createAlphaUmiGraph({ tools: demoTools(), models, approve, checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "t" } };
  await graph.invoke({ messages: [new HumanMessage({ content: "EUR to JPY?", id: "h1" })] }, config);
  const asked = async () => (await graph.getState(config)).tasks.flatMap((t) => t.interrupts.map((i) => i.value as ApprovalRequest));
  const resume = async (answer: unknown) => (await graph.invoke(new Command({ resume: answer }), config)) as AgentStateType;
  return { graph, config, models, asked, resume };
}

const observations = (s: AgentStateType) => s.turns.filter((t) => t.from === "observation").map((t) => t.value);

describe("approval in LangChain's human-in-the-loop format", () => {
  it("the interrupt is a HITLRequest: the call, the planner's rationale as description, every decision allowed, the tool's argument schema", async () => {
    const { asked } = await waiting();
    const [value] = await asked();
    expect(Object.keys(value!).sort()).toEqual(["actionRequests", "action_requests", "reviewConfigs", "review_configs"]);
    const action = { name: FX, args: { from: "EUR", to: "JPY" }, description: "I need the EUR to JPY rate." };
    expect(value!.action_requests).toEqual([action]);
    expect(value!.actionRequests).toEqual([action]);
    const schema = value!.review_configs[0]!.args_schema;
    expect(schema).toMatchObject({ type: "object", properties: { from: expect.any(Object), to: expect.any(Object) } });
    expect(value!.review_configs).toEqual([
      { action_name: FX, allowed_decisions: ["approve", "edit", "reject"], args_schema: schema, actionName: FX, allowedDecisions: ["approve", "edit", "reject"], argsSchema: schema },
    ]);
  });

  it("approve runs the call as proposed", async () => {
    const { resume } = await waiting();
    const state = await resume({ decisions: [{ type: "approve" }] });
    expect(JSON.parse(observations(state)[0]!)).toEqual({ from: "EUR", to: "JPY", rate: 162.5 });
    expect(state.status).toEqual({ status: "finished" });
  });

  it("edit runs the edited action's args; args that fail the schema are asked again, saying why", async () => {
    const { asked, resume } = await waiting();
    await resume({ decisions: [{ type: "edit", edited_action: { name: FX, args: { from: "EUR", to: 7 } } }] });
    expect((await asked())[0]!.action_requests[0]!.description).toMatch(/^Not taken: edit: invalid arguments for exchange_rate_for_fx: to: [^\n]+\n\nI need the EUR to JPY rate\.$/);
    const state = await resume({ decisions: [{ type: "edit", edited_action: { name: FX, args: { from: "EUR", to: "USD" } } }] });
    expect(JSON.parse(observations(state)[0]!)).toMatchObject({ from: "EUR", to: "USD" });
  });

  it("reject's message is the observation the planner reads; the chat shows the call's result as an error", async () => {
    const { resume, models } = await waiting();
    const state = await resume({ decisions: [{ type: "reject", message: "not in yen" }] });
    const obs = JSON.stringify({ error: `The user rejected this call to ${FX}: not in yen`, response: "" });
    expect(observations(state)).toEqual([obs]);
    expect(models.planner.prompts[1]).toContain(`observation: ${obs}`);
    expect(state.messages.find((m) => ToolMessage.isInstance(m))).toMatchObject({ tool_call_id: "call_2", status: "error", content: obs });
  });

  it("a message typed while the call waits (\"approve\" in a chat) is not an answer: left out, the same approval asked again saying why", async () => {
    const { graph, config, asked, resume } = await waiting();
    // What Agent Chat UI sends: a placeholder result for the unanswered tool call, then the person's message.
    const placeholder = new ToolMessage({ content: "Successfully handled tool call.", tool_call_id: "call_2", name: FX, id: "do-not-render-1" });
    const typed = (await graph.invoke({ messages: [placeholder, new HumanMessage({ content: "approve", id: "h2" })] }, config)) as AgentStateType;
    expect(typed.status).toEqual({ status: "running" });
    expect(roles(typed)).toEqual(["user", "assistant", "caller"]);
    expect(typed.messages.map((m) => m.id)).toEqual(["h1", "step_1"]);
    const [again] = await asked();
    expect(again!.action_requests).toEqual([
      {
        name: FX,
        args: { from: "EUR", to: "JPY" },
        description: `Not taken: a message ("approve") came instead of an answer: answer this call with a decision — approve, edit or reject (a reject's message is what the planner reads)\n\nI need the EUR to JPY rate.`,
      },
    ]);
    const state = await resume({ decisions: [{ type: "approve" }] });
    expect(state.status).toEqual({ status: "finished" });
    expect(state.messages.filter((m) => ToolMessage.isInstance(m)).map((m) => JSON.parse(m.content as string))).toEqual([{ from: "EUR", to: "JPY", rate: 162.5 }]);
  });
});

describe("chat messages: the rationale without the control line; τ keeps it byte-exact", () => {
  const noControlLine = (s: AgentStateType) => s.messages.filter((m) => AIMessage.isInstance(m)).map((m) => m.content);

  it("α-UMi: planner messages (with and without a tool call) carry the rationale; τ's planner turns and the prompts keep `Next: …`", async () => {
    const models = scriptedRoles({ planner: [RATE_PLAN, ENOUGH_PLAN], caller: [call(FX, { from: "EUR", to: "JPY" })], summarizer: ["1 EUR is 162.5 JPY."] });
    const state = (await createAlphaUmiGraph({ tools: demoTools(), models }).invoke({ instruction: "EUR to JPY?" }, { configurable: { thread_id: "m" } })) as AgentStateType;
    expect(noControlLine(state)).toEqual(["I need the EUR to JPY rate.", "I have it.", "1 EUR is 162.5 JPY."]);
    expect((state.messages[1] as AIMessage).tool_calls).toEqual([{ id: "call_2", name: FX, args: { from: "EUR", to: "JPY" }, type: "tool_call" }]);
    expect(state.turns.filter((t) => t.from === "assistant").map((t) => t.value)).toEqual([RATE_PLAN, ENOUGH_PLAN]);
    expect(models.planner.prompts[1]).toBe(plannerPrompt({ tools: state.tools, history: state.turns.slice(0, 4) }));
    expect(models.planner.prompts[1]).toContain(RATE_PLAN);
  });

  it("single LLM: the backbone's message is its rationale with the call as a tool call, not the protocol's lines", async () => {
    const backbone = scriptedRoles({ planner: [`I need the rate.\n${call(FX, { from: "EUR", to: "JPY" })}`, "I have it.\nconclusion: 162.5 yen."] }).planner;
    const state = (await createSingleLlmGraph({ tools: demoTools(), models: { backbone } }).invoke({ instruction: "EUR to JPY?" }, { configurable: { thread_id: "s" } })) as AgentStateType;
    expect(noControlLine(state)).toEqual(["I need the rate.", "I have it.", "162.5 yen."]);
    expect((state.messages[1] as AIMessage).tool_calls).toEqual([{ id: "call_2", name: FX, args: { from: "EUR", to: "JPY" }, type: "tool_call" }]);
    expect(state.turns.filter((t) => t.from === "assistant").map((t) => t.value)).toEqual(["I need the rate.\n Next: caller.", "I have it.\n Next: conclusion."]);
  });
});
