import { ToolMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { askApproval, needsApproval } from "../approval.js";
import { ensureConfiguration, toolsOf } from "../configuration.js";
import { callInFlightAtCrash } from "../worker/recovery.js";
import { parseCaller } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { executeCall } from "../tools/executor.js";
import { truncate } from "../tools/stringify.js";
import { toolCallId } from "./toolCalls.js";

/** Runs the call in τ's last caller turn and appends its observation; every failure is an observation, never a throw. */
export async function toolsNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const at = state.turns.length - 1;
  const last = state.turns[at];
  if (!last || last.from !== "caller") throw new Error("toolsNode: τ does not end with a caller turn");
  const { action, actionInput } = parseCaller(last.value);
  const tools = await toolsOf(cfg);
  const tool = tools.find((t) => t.doc.Name === action);
  const uncertain = tool && callInFlightAtCrash(config, at, tool);
  const approval = uncertain
    ? { run: false as const, observation: uncertain }
    : tool && needsApproval(cfg.approve, action)
      ? askApproval(tool, actionInput, state.turns)
      : { run: true as const, actionInput };
  // A rejected call is not run: the person's reason is its observation.
  const result = !approval.run
    ? { ok: false, observation: truncate(approval.observation, cfg.maxObservationChars) }
    : await executeCall(tools, action, approval.actionInput, {
        timeoutMs: cfg.toolTimeoutMs,
        maxObservationChars: cfg.maxObservationChars,
        signal: config.signal,
      });
  return {
    turns: [{ from: "observation", value: result.observation }],
    messages: [new ToolMessage({ content: result.observation, tool_call_id: toolCallId(at), name: action, status: result.ok ? "success" : "error" })],
  };
}
