import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configurable.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, planMessage } from "./common.js";
import { stepMessageId, toolCallOf } from "./toolCalls.js";
import { proposedCall } from "./calls.js";

/** The caller: turns the planner's rationale into `Action: NAME` / `Action Input: JSON`. Validation happens when the tool runs. */
export async function callerNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const res = await callRole("caller", state, config, cfg);
  if (!res.ok) return res.update;
  const { turns, call } = res.reading;
  // One chat message per step, as chat UIs expect: the planner's message gains the tool call (same id, replaced in place).
  const plan = state.turns[state.turns.length - 1]!;
  const message = planMessage("planner", plan.value, {
    id: stepMessageId(state.turns.length - 1),
    tool_calls: [toolCallOf(state.turns.length, call!.action, call!.actionInput)],
  });
  return { turns, messages: [message], call: proposedCall(state, cfg, { turn: state.turns.length, ...call! }) };
}
