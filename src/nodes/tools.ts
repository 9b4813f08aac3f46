import { ToolMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configuration.js";
import { parseCaller } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { executeCall } from "../tools/executor.js";
import { toolCallId } from "./toolCalls.js";

/** Runs the call in τ's last caller turn and appends its observation; every failure is an observation, never a throw. */
export async function toolsNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const at = state.turns.length - 1;
  const last = state.turns[at];
  if (!last || last.from !== "caller") throw new Error("toolsNode: τ does not end with a caller turn");
  const { action, actionInput } = parseCaller(last.value);
  const result = await executeCall(cfg.tools, action, actionInput, {
    timeoutMs: cfg.toolTimeoutMs,
    maxObservationChars: cfg.maxObservationChars,
    signal: config.signal,
  });
  return {
    turns: [{ from: "observation", value: result.observation }],
    messages: [new ToolMessage({ content: result.observation, tool_call_id: toolCallId(at), name: action, status: result.ok ? "success" : "error" })],
  };
}
