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
 * 3. The settled call records the graph run that settled it (LangGraph's run-scoped RunControl, public in every node's
 *    configuration). Its start in that run is the first. A start in another run finds a call whose earlier run
 *    stopped after settling it — its process died, it was aborted, or it paused before the call — and may have been
 *    running then, so it runs again only when that cannot matter: its tool is idempotent, or it stopped cleanly at an
 *    interrupt of its own (journalled in the call as `asked`), which LangGraph's interrupt() answers by running the
 *    tool again. Otherwise its observation says it was not run again. A driver that steps one logical run through
 *    several invocations (the DFSDT search) passes them one RunControl.
 */
import { randomUUID } from "node:crypto";
import type { LangGraphRunnableConfig, RunControl } from "@langchain/langgraph";
import { needsApproval } from "../approval.js";
import type { AgentConfiguration } from "../configuration.js";
import { unionApprove, type AgentStateType, type PendingCall } from "../state.js";
import type { ToolSpec } from "../tools/spec.js";

/** Each step's checkpoint is on disk before the next step starts: a settled call is stored before it runs. */
export const CALL_DURABILITY = "sync" as const;

const runIds = new WeakMap<RunControl, string>();

/** The graph run a node executes in: one id per RunControl (LangGraph makes one per invocation unless given one). */
function runOf(config: LangGraphRunnableConfig): string {
  if (!config.control) return randomUUID(); // outside a graph run: no later start can be this one's
  let id = runIds.get(config.control);
  if (id === undefined) runIds.set(config.control, (id = randomUUID()));
  return id;
}

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
export function proposedCall(
  state: AgentStateType,
  cfg: Pick<AgentConfiguration, "approve">,
  config: LangGraphRunnableConfig,
  call: { turn: number; action: string; actionInput: string },
): PendingCall {
  return callNeedsApproval(state, cfg, call.action) ? { turn: call.turn, approve: true } : settledCall(call.turn, false, { run: true, actionInput: call.actionInput }, config);
}

/** A call settled in this run: to run with `actionInput`, or not, with its observation. */
export function settledCall(
  turn: number,
  approve: boolean,
  outcome: { run: true; actionInput: string } | { run: false; observation: string },
  config: LangGraphRunnableConfig,
): PendingCall {
  return { turn, approve, ...(outcome.run ? { run: { actionInput: outcome.actionInput, settledIn: runOf(config) } } : { observation: outcome.observation }) };
}

/** The call whose tool stopped at an interrupt of its own: its next start, in any run, is the one interrupt() expects. */
export function askedCall(call: PendingCall): PendingCall {
  return { ...call, run: { ...call.run!, asked: true } };
}

/**
 * The observation of a settled call that may have been in flight and is not run again, or undefined when it runs.
 *
 * @example const uncertain = inFlightObservation(call, config, tool); // undefined: run the call
 */
export function inFlightObservation(call: PendingCall, config: LangGraphRunnableConfig, tool: ToolSpec | undefined): string | undefined {
  const run = call.run!;
  if (run.settledIn === runOf(config) || run.asked || !tool || tool.idempotent) return undefined;
  return JSON.stringify({
    error: `${tool.doc.Name} was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
    response: "",
  });
}
