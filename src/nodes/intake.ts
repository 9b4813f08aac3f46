import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configuration.js";
import { contentText } from "../models/generate.js";
import { toolDocs } from "../tools/spec.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Entry of every invocation. Starts τ from `instruction` or a chat message, takes a follow-up question in a finished
 * thread, and re-opens a failed run so that invoking the same thread again retries from where τ stands.
 */
export async function intakeNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const update: AgentUpdate = {};
  if (state.tools.length === 0) update.tools = toolDocs(cfg.tools);
  const last = state.messages[state.messages.length - 1];
  const followUp = last && HumanMessage.isInstance(last) ? contentText(last) : undefined;
  const hasUser = state.turns.some((t) => t.from === "user");
  if (!hasUser) {
    const instruction = state.instruction || followUp;
    if (!instruction) return { ...update, status: { status: "failed", reason: "no instruction: pass `instruction` or a human message" } };
    return {
      ...update,
      instruction,
      turns: [{ from: "user", value: instruction }],
      status: { status: "running" },
      ...(followUp === undefined ? { messages: [new HumanMessage(instruction)] } : {}),
    };
  }
  if (followUp !== undefined && state.status.status !== "running")
    return { ...update, turns: [{ from: "user", value: followUp }], status: { status: "running" }, answer: null, decision: null, steps: 0 };
  if (state.status.status === "failed") return { ...update, status: { status: "running" } };
  return update;
}
