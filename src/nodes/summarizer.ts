import type { RunnableConfig } from "@langchain/core/runnables";
import { normaliseEmpty } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, roleMessage } from "./common.js";

/** The summarizer: the final answer, written when the planner decides on conclusion. */
export async function summarizerNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const res = await callRole("summarizer", state, config);
  if (!res.ok) return res.update;
  const answer = normaliseEmpty(res.text);
  return {
    turns: [{ from: "conclusion", value: answer }],
    answer,
    status: { status: "finished" },
    messages: [roleMessage("summarizer", answer)],
  };
}
