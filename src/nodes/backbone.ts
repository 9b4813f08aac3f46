import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configuration.js";
import { decisionTurn, formatCall, parseBackbone } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, roleMessage } from "./common.js";
import { toolCallOf } from "./toolCalls.js";

/**
 * The paper's single-LLM baseline: one model writes rationale and action together. Its output is recorded in τ in
 * α-UMi form (planner turn + caller/conclusion turn), so both agents share tools, state, evaluation and training export.
 */
export async function backboneNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const { maxSteps } = ensureConfiguration(config);
  if (state.steps >= maxSteps)
    return { decision: "give up", status: { status: "gave_up", reason: `step budget exhausted: ${maxSteps} steps without a conclusion` } };
  const res = await callRole("backbone", state, config);
  if (!res.ok) return res.update;
  const out = parseBackbone(res.text);
  const steps = state.steps + 1;
  if (out.kind === "give up") {
    const plan = decisionTurn(out.rationale, "give up");
    return { turns: [plan], decision: "give up", steps, status: { status: "gave_up", reason: "the model gave up" }, messages: [roleMessage("backbone", plan.value)] };
  }
  if (out.kind === "conclusion") {
    const plan = decisionTurn(out.rationale, "conclusion");
    return {
      turns: [plan, { from: "conclusion", value: out.answer }],
      decision: "conclusion",
      steps,
      answer: out.answer,
      status: { status: "finished" },
      messages: [roleMessage("backbone", plan.value), roleMessage("summarizer", out.answer)],
    };
  }
  const plan = decisionTurn(out.rationale, "caller");
  const call = formatCall(out.action, out.actionInput);
  return {
    turns: [plan, { from: "caller", value: call }],
    decision: "caller",
    steps,
    messages: [roleMessage("backbone", plan.value + "\n" + call, { tool_calls: [toolCallOf(state.turns.length + 1, out.action, out.actionInput)] })],
  };
}
