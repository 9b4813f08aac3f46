import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configurable.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, planMessage } from "./common.js";
import { stepMessageId } from "./toolCalls.js";

/** The planner: a rationale ending in the decision the conditional edge follows. */
export async function plannerNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const { maxSteps } = cfg;
  if (state.steps >= maxSteps)
    return { decision: "give up", status: { status: "gave_up", reason: `step budget exhausted: ${maxSteps} planner steps without a conclusion` } };
  const res = await callRole("planner", state, config, cfg);
  if (!res.ok) return res.update;
  const { turns, decision } = res.reading;
  return {
    turns,
    decision,
    steps: state.steps + 1,
    messages: [planMessage("planner", turns[0]!.value, { id: stepMessageId(state.turns.length) })],
    ...(decision === "give up" ? { status: { status: "gave_up" as const, reason: "the planner gave up" } } : {}),
  };
}
