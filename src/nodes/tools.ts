import { ToolMessage } from "@langchain/core/messages";
import { isGraphInterrupt, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { askApproval } from "../approval.js";
import { ensureConfiguration } from "../configurable.js";
import { toolsOf } from "../runCache.js";
import { parseCaller } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate, PendingCall } from "../state.js";
import { executeCall } from "../tools/executor.js";
import { truncate } from "../stringify.js";
import { askedCall, callNeedsApproval, finished, settledCall, startCall } from "./calls.js";
import { toolCallId, toolCallOf } from "./toolCalls.js";

/** The call of τ's last caller turn, as proposed. */
function lastCall(state: AgentStateType): { at: number; action: string; actionInput: string } {
  const at = state.turns.length - 1;
  const last = state.turns[at];
  if (!last || last.from !== "caller") throw new Error("bug: toolsNode: τ does not end with a caller turn");
  return { at, ...parseCaller(last.value) };
}

/**
 * Runs the call in τ's last caller turn and appends its observation; every failure is an observation, never a throw.
 * A call that waits for approval takes two steps: the question (approve, edit or reject), then the run. The call
 * invariant (settled before it runs, in flight after a crash) is src/nodes/calls.ts's.
 */
export async function toolsNode(state: AgentStateType, config: LangGraphRunnableConfig): Promise<AgentUpdate> {
  const last = lastCall(state);
  const pending = state.call?.turn === last.at ? state.call : null;
  return pending && (pending.run || pending.observation !== undefined) ? runCall(last, pending, config) : settleCall(state, last, pending, config);
}

type LastCall = ReturnType<typeof lastCall>;

async function settleCall(state: AgentStateType, { at, action, actionInput }: LastCall, proposed: PendingCall | null, config: LangGraphRunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const tool = (await toolsOf(cfg)).find((t) => t.doc.Name === action);
  // The proposal's policy decides; a thread checkpointed before calls carried it asks under the current one.
  const approve = proposed?.approve ?? callNeedsApproval(state, cfg, action);
  const outcome =
    tool && approve ? askApproval(tool, { args: toolCallOf(at, action, actionInput).args, actionInput }, state.turns, proposed?.notTaken) : { run: true as const, actionInput };
  return { call: settledCall(at, approve, outcome) };
}

async function runCall({ at, action }: LastCall, call: PendingCall, config: LangGraphRunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const tools = await toolsOf(cfg);
  // A rejected call is not run: the person's reason is its observation.
  const notRun = call.observation ?? startCall(call, tools.find((t) => t.doc.Name === action));
  let result;
  try {
    result =
      notRun !== undefined
        ? { ok: false, observation: truncate(notRun, cfg.maxObservationChars) }
        : await executeCall(tools, action, call.run!.actionInput, { timeoutMs: cfg.toolTimeoutMs, maxObservationChars: cfg.maxObservationChars, signal: config.signal });
  } catch (err) {
    if (!isGraphInterrupt(err)) throw err; // an abort: the call stays in flight
    finished(call);
    // The tool asked something (its own interrupt): journalled, so that the answer's run, in any process, runs it
    // again; the next step asks the same question.
    if (!call.run!.asked) return { call: askedCall(call) };
    throw err;
  }
  // An aborted run keeps nothing of this step: its call stays in flight, though the tool may have answered.
  if (notRun === undefined && !config.signal?.aborted) finished(call);
  return {
    call: null,
    turns: [{ from: "observation", value: result.observation }],
    messages: [new ToolMessage({ content: result.observation, tool_call_id: toolCallId(at), name: action, status: result.ok ? "success" : "error" })],
  };
}
