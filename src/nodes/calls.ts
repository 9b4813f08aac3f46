/**
 * The tool call invariant, the same for every driver (run, eval, search, serve, worker, library, Studio). Stated and
 * enforced here; the tool node (tools.ts) and the callers (caller.ts, backbone.ts) only go through these functions.
 *
 * 1. Approval is fixed when a call is proposed: the caller (or backbone) writes the call with its turn, waiting for a
 *    person when the thread's policies or the run's name its tool (unionApprove: approval only grows), else settled to
 *    run as proposed. The tool node reads the proposal from the checkpoint, so a resume that carries another
 *    configuration (or none) cannot skip the question; no client writes `call` (src/trust.ts).
 * 2. A call is settled — to run with an Action Input, or not, with a rejection's observation — in one step and runs in
 *    the next: by the caller when it needs no approval, else by the person's answer (src/approval.ts), in the tool
 *    node's first step. The graph's durability (CALL_DURABILITY) puts the settled call on disk before it starts.
 * 3. The settled call records the process that settled it. Its start in that process is the first, unless an earlier
 *    start there did not finish (its run was aborted mid-call). Any other start finds a call whose earlier run stopped
 *    after settling it — its process died, or it was aborted — and may have been running then, so it runs again only
 *    when that cannot matter: its tool is idempotent, or it stopped cleanly at an interrupt of its own (journalled in
 *    the call as `asked`), which LangGraph's interrupt() answers by running the tool again. Otherwise its observation
 *    says it was not run again. A run that stops cleanly between the two steps (a breakpoint, the search stepping the
 *    graph a node at a time) leaves nothing in flight: resumed in the same process, the call runs.
 *
 * Whether a call was running when its run stopped is known only to the process it ran in: LangGraph offers nodes no
 * public way to tell a resume after a crash from a first start (the state is the same by design). So the checkpoint
 * holds which process settled the call and whether it was asked, and this process keeps only the calls it started
 * that did not finish (an aborted run's), usually none.
 */
import { randomUUID } from "node:crypto";
import { needsApproval } from "../approval.js";
import type { AgentConfiguration } from "../configurable.js";
import { unionApprove, type AgentStateType, type PendingCall } from "../state.js";
import type { ToolSpec } from "../tools/spec.js";

/** Each step's checkpoint is on disk before the next step starts: a settled call is stored before it runs. */
export const CALL_DURABILITY = "sync" as const;

/** This process, in the attempts it settles (`PROCESS/uuid`). */
const PROCESS = randomUUID();
/** Attempts started here whose tool did not finish (their run was aborted mid-call); bounded, oldest dropped first. */
const unfinished = new Set<string>();
const UNFINISHED_LIMIT = 10_000;

/** The approval policy in force for a call proposed now: the thread's policies and the run's. */
const policyOf = (state: AgentStateType, cfg: Pick<AgentConfiguration, "approve">) => unionApprove(state.approve, cfg.approve);

/** Whether a call to `action` proposed now waits for a person (a thread checkpointed before calls carried it). */
export function callNeedsApproval(state: AgentStateType, cfg: Pick<AgentConfiguration, "approve">, action: string): boolean {
  return needsApproval(policyOf(state, cfg), action);
}

/**
 * What the caller (or backbone) writes with its call at τ index `turn`: one that waits for a person, or one settled to
 * run as proposed, checkpointed with the caller's turn (no extra step for calls that need no approval).
 */
export function proposedCall(state: AgentStateType, cfg: Pick<AgentConfiguration, "approve">, call: { turn: number; action: string; actionInput: string }): PendingCall {
  return callNeedsApproval(state, cfg, call.action) ? { turn: call.turn, approve: true } : settledCall(call.turn, false, { run: true, actionInput: call.actionInput });
}

/** A call settled here: to run with `actionInput`, or not, with its observation. */
export function settledCall(turn: number, approve: boolean, outcome: { run: true; actionInput: string } | { run: false; observation: string }): PendingCall {
  return { turn, approve, ...(outcome.run ? { run: { actionInput: outcome.actionInput, attempt: `${PROCESS}/${randomUUID()}` } } : { observation: outcome.observation }) };
}

/** The call whose tool stopped at an interrupt of its own: its next start, in any run, is the one interrupt() expects. */
export function askedCall(call: PendingCall): PendingCall {
  return { ...call, run: { ...call.run!, asked: true } };
}

/**
 * Start a settled call: the observation of one that may have been in flight and is not run again, or undefined when
 * it runs now — then `finished` must follow when its tool returns or stops at an interrupt of its own.
 *
 * @example const uncertain = startCall(call, tool); // undefined: run the call, then finished(call)
 */
export function startCall(call: PendingCall, tool: ToolSpec | undefined): string | undefined {
  const { attempt, asked } = call.run!;
  const first = attempt.startsWith(`${PROCESS}/`) && !unfinished.has(attempt);
  if (first || asked || !tool || tool.idempotent) {
    if (unfinished.size >= UNFINISHED_LIMIT) unfinished.delete(unfinished.values().next().value!);
    unfinished.add(attempt);
    return undefined;
  }
  return JSON.stringify({
    error: `${tool.doc.Name} was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
    response: "",
  });
}

/** The call's tool returned, or stopped cleanly at an interrupt of its own: it is not in flight. */
export function finished(call: PendingCall): void {
  unfinished.delete(call.run!.attempt);
}
