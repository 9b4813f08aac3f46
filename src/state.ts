import { z } from "zod";
import type { BaseMessage } from "@langchain/core/messages";
import { Annotation, DeltaChannel, messagesDeltaReducer, type Messages } from "@langchain/langgraph";

/** A ToolBench tool document: what the models see of a tool. Key order matters (it is serialised as is). */
export const ToolDocSchema = z.object({
  Name: z.string().min(1),
  function: z.string(),
  input: z.record(z.string(), z.string()),
});
export type ToolDoc = z.infer<typeof ToolDocSchema>;

export const TURN_ROLES = ["user", "assistant", "caller", "observation", "conclusion"] as const;
export const TurnSchema = z.object({
  from: z.enum(TURN_ROLES),
  value: z.string(),
});
/** One turn of the trajectory τ, exactly the stage-2 conversation format of the training data. */
export type Turn = z.infer<typeof TurnSchema>;
export type TurnRole = Turn["from"];

export const RUN_STATUSES = ["running", "finished", "gave_up", "failed"] as const;
export const RunStatusSchema = z.object({
  status: z.enum(RUN_STATUSES),
  reason: z.string().optional(),
});
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * The call of τ's last caller turn until its observation is in: whether it waits for a person (the approval policy in
 * force when it was proposed), then the decision — what runs, or the observation of a call not run. Checkpointed, so
 * that a resume answers the interrupt it finds and a crash mid-call is known as one: the invariant it keeps is stated
 * in src/nodes/calls.ts.
 */
export interface PendingCall {
  /** Index in τ of the caller turn. */
  turn: number;
  approve: boolean;
  /**
   * Settled to run with this Action Input (the proposed one, or a person's edit); `attempt` names the process that
   * settled it and the try; `asked` once its tool stopped at an interrupt of its own.
   */
  run?: { actionInput: string; attempt: string; asked?: boolean };
  /** Settled not to run (rejected): its observation. */
  observation?: string;
  /** Waiting for approval: why the last run did not answer it (a message came instead), shown when it is asked again. */
  notTaken?: string;
}

/** Which tools' calls wait for a person: none, all, or these names. */
export type ApprovePolicy = "none" | "all" | readonly string[];

/**
 * Both policies: every tool either one names. Approval only grows this way — the operator's policy is a floor a
 * client's adds to, and a thread keeps the policies it ran under (a fork or a resume without configuration still asks).
 *
 * @example unionApprove(["convert"], ["search"]) // ["convert", "search"]
 */
export function unionApprove(a: ApprovePolicy, b: ApprovePolicy): ApprovePolicy {
  if (a === "all" || b === "all") return "all";
  if (a === "none") return b;
  if (b === "none") return a;
  return [...new Set([...a, ...b])];
}

/** What the planner decided; `none` only for an empty plan. */
export type Decision = "caller" | "conclusion" | "give up";

/**
 * How many writes a growing channel takes between full copies in a checkpoint. Between them a checkpoint holds only
 * the step's own writes, so a step's checkpoint cost does not grow with τ; loading a thread replays at most this many
 * writes onto the last copy.
 */
export const SNAPSHOT_EVERY = 32;

const appendTurns = (turns: Turn[], writes: Turn[][]): Turn[] => turns.concat(...writes);

/**
 * The graph state. τ (`turns`) is append-only: nodes return the turns they add.
 * `messages` mirrors τ for chat UIs (LangGraph Studio, useStream); it is derived, never read back by the engine.
 * Both are delta channels (LangGraph's DeltaChannel): checkpointed as per-step writes plus a copy every SNAPSHOT_EVERY.
 *
 * @example
 * const graph = new StateGraph(AgentState).addNode("planner", plannerNode); // your own wiring of alpha-umi/nodes
 */
export const AgentState = Annotation.Root({
  messages: new DeltaChannel<BaseMessage[], Messages>(messagesDeltaReducer, { snapshotFrequency: SNAPSHOT_EVERY }),
  instruction: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
  tools: Annotation<ToolDoc[]>({ reducer: (_a, b) => b, default: () => [] }),
  turns: new DeltaChannel<Turn[], Turn[]>(appendTurns, { snapshotFrequency: SNAPSHOT_EVERY }),
  /** The planner's last decision, which the conditional edge follows. */
  decision: Annotation<Decision | null>({ reducer: (_a, b) => b, default: () => null }),
  steps: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  answer: Annotation<string | null>({ reducer: (_a, b) => b, default: () => null }),
  status: Annotation<RunStatus>({ reducer: (_a, b) => b, default: () => ({ status: "running" as const }) }),
  call: Annotation<PendingCall | null>({ reducer: (_a, b) => b, default: () => null }),
  /** Every approval policy the thread's runs were given (see unionApprove): the floor for its later calls. */
  approve: Annotation<ApprovePolicy>({ reducer: unionApprove, default: () => "none" }),
});
export type AgentStateType = typeof AgentState.State;
export type AgentUpdate = typeof AgentState.Update;
