import type { RunnableConfig } from "@langchain/core/runnables";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { callRole, roleMessage } from "./common.js";

/** The summarizer: the final answer, written when the planner decides on conclusion. */
export async function summarizerNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const res = await callRole("summarizer", state, config);
  if (!res.ok) return res.update;
  const { turns, answer } = res.reading;
  return { turns, answer: answer!, status: { status: "finished" }, messages: [roleMessage("summarizer", answer!)] };
}
