import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configurable.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, planMessage, roleMessage } from "./common.js";
import { toolCallOf } from "./toolCalls.js";
import { proposedCall } from "./calls.js";

/**
 * The paper's single-LLM baseline: one model writes rationale and action together. Its output is recorded in τ in
 * α-UMi form (planner turn + caller/conclusion turn), so both agents share tools, state, evaluation and training export.
 */
export async function backboneNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const { maxSteps } = cfg;
  if (state.steps >= maxSteps)
    return { decision: "give up", status: { status: "gave_up", reason: `step budget exhausted: ${maxSteps} steps without a conclusion` } };
  const res = await callRole("backbone", state, config, cfg);
  if (!res.ok) return res.update;
  const { turns, decision, call, answer } = res.reading;
  const plan = turns[0]!;
  const steps = state.steps + 1;
  if (decision === "give up")
    return { turns, decision, steps, status: { status: "gave_up", reason: "the model gave up" }, messages: [planMessage("backbone", plan.value)] };
  if (decision === "conclusion")
    return {
      turns,
      decision,
      steps,
      answer: answer!,
      status: { status: "finished" },
      messages: [planMessage("backbone", plan.value), roleMessage("summarizer", answer!)],
    };
  return {
    turns,
    decision,
    steps,
    // The call shows as the message's tool call (a card), not as the protocol's Action lines.
    messages: [planMessage("backbone", plan.value, { tool_calls: [toolCallOf(state.turns.length + 1, call!.action, call!.actionInput)] })],
    call: proposedCall(state, cfg, { turn: state.turns.length + 1, ...call! }),
  };
}
