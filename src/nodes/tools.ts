import { ToolMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isGraphInterrupt } from "@langchain/langgraph";
import { askApproval, needsApproval, type ApprovePolicy } from "../approval.js";
import { ensureConfiguration } from "../configurable.js";
import { toolsOf } from "../runCache.js";
import { parseCaller } from "../protocol/index.js";
import { unionApprove, type AgentStateType, type AgentUpdate, type PendingCall } from "../state.js";
import { executeCall } from "../tools/executor.js";
import { truncate } from "../stringify.js";
import { inFlightObservation, newAttempt, suspendAttempt } from "./inFlight.js";
import { toolCallId, toolCallOf } from "./toolCalls.js";

/** The call of τ's last caller turn, as proposed. */
function lastCall(state: AgentStateType): { at: number; action: string; actionInput: string } {
  const at = state.turns.length - 1;
  const last = state.turns[at];
  if (!last || last.from !== "caller") throw new Error("bug: toolsNode: τ does not end with a caller turn");
  return { at, ...parseCaller(last.value) };
}

/**
 * What the caller (or backbone) writes with its call, under the approval policy in force now: a call that waits for a
 * person, or one already settled to run as proposed — checkpointed with the caller's turn, so it is on disk before the
 * tool starts (no extra step for calls that need no approval). The tool node reads it from the checkpoint: a resume
 * that carries another configuration (or none) cannot skip the question.
 */
export function proposedCall(turn: number, action: string, actionInput: string, policy: ApprovePolicy): PendingCall {
  return needsApproval(policy, action) ? { turn, approve: true } : { turn, approve: false, run: { actionInput, attempt: newAttempt() } };
}

/**
 * Runs the call in τ's last caller turn and appends its observation; every failure is an observation, never a throw.
 * A call that waits for approval takes two steps, each checkpointed: the question (approve, edit or reject), then the
 * run. A settled call found again on resume may have been in flight (see inFlight.ts).
 */
export async function toolsNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const last = lastCall(state);
  const pending = state.call?.turn === last.at ? state.call : null;
  return pending && (pending.run || pending.observation !== undefined) ? runCall(last, pending, config) : settleCall(state, last, pending, config);
}

type LastCall = ReturnType<typeof lastCall>;

async function settleCall(state: AgentStateType, { at, action, actionInput }: LastCall, proposed: PendingCall | null, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const tool = (await toolsOf(cfg)).find((t) => t.doc.Name === action);
  // The proposal's policy decides; a thread checkpointed before calls carried it asks under the current one.
  const approve = proposed?.approve ?? needsApproval(unionApprove(state.approve, cfg.approve), action);
  const outcome =
    tool && approve ? askApproval(tool, { args: toolCallOf(at, action, actionInput).args, actionInput }, state.turns, proposed?.notTaken) : { run: true as const, actionInput };
  return {
    call: { turn: at, approve, ...(outcome.run ? { run: { actionInput: outcome.actionInput, attempt: newAttempt() } } : { observation: outcome.observation }) },
  };
}

async function runCall({ at, action }: LastCall, call: PendingCall, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  const tools = await toolsOf(cfg);
  const uncertain = call.run && inFlightObservation(config, call.run.attempt, tools.find((t) => t.doc.Name === action));
  // A rejected call is not run: the person's reason is its observation.
  const notRun = call.observation ?? uncertain;
  const result =
    notRun !== undefined
      ? { ok: false, observation: truncate(notRun, cfg.maxObservationChars) }
      : await executeCall(tools, action, call.run!.actionInput, {
          timeoutMs: cfg.toolTimeoutMs,
          maxObservationChars: cfg.maxObservationChars,
          signal: config.signal,
        }).catch((err: unknown) => {
          if (isGraphInterrupt(err)) suspendAttempt(call.run!.attempt);
          throw err;
        });
  return {
    call: null,
    turns: [{ from: "observation", value: result.observation }],
    messages: [new ToolMessage({ content: result.observation, tool_call_id: toolCallId(at), name: action, status: result.ok ? "success" : "error" })],
  };
}
