import { reviewedCalls } from "../approval.js";
import type { RunEvent } from "../runAgent.js";
import type { AgentStateType, Turn } from "../state.js";
import { formatSearchEvent } from "../search/format.js";

const LABEL: Record<Turn["from"], string> = {
  user: "user",
  assistant: "planner",
  caller: "caller",
  observation: "observation",
  conclusion: "answer",
};

/** Who wrote a turn: its role, except that the single-LLM backbone writes both the planner's and the caller's turns. */
export function turnLabel(turn: Turn, node?: string): string {
  return node === "backbone" && (turn.from === "assistant" || turn.from === "caller") ? "backbone" : LABEL[turn.from];
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + ` … (${text.length - max} more chars)`;
}

/** One readable block per turn of τ; observations are clipped on screen (τ keeps them whole). */
export function formatTurn(turn: Turn, width = 600, name = LABEL[turn.from]): string {
  const label = `[${name}]`;
  const body = turn.from === "observation" ? clip(turn.value, width) : turn.value;
  return `${label} ${body.replace(/\n/g, "\n" + " ".repeat(label.length + 1))}`;
}

export function printEvent(e: RunEvent, out: (line: string) => void): void {
  if (e.kind === "start") out(e.resumed ? `resuming thread ${e.threadId}` : `thread ${e.threadId}`);
  else if (e.kind === "elision")
    out(
      e.policy === "reference"
        ? `[budget] ${e.role} prompt over its ${e.budget}-token budget: its first ${e.dropped} token(s) cut (reference policy)`
        : `[budget] ${e.role} prompt over its ${e.budget}-token budget: ${e.elided} oldest turn(s) elided (${e.tokens} tokens${e.fits ? "" : ", still too long"})`,
    );
  else if (e.kind === "search" || e.kind === "search_end") out(formatSearchEvent(e));
  else if (e.node === "diversity") out(formatTurn(e.turn, undefined, "diversity"));
  else if (e.turn.from !== "user" || e.node === "intake") out(formatTurn(e.turn, undefined, turnLabel(e.turn, e.node)));
}

/**
 * How the run ended; one that did not (failed, stopped, waiting for an answer) is followed by `hint`, the line saying
 * how to resume it (src/cli/resume.ts). `waitingFor` is the question the thread waits on, if any.
 */
export function statusLine(state: AgentStateType, threadId: string, o: { hint?: string; waitingFor?: unknown } = {}): string {
  const { status, reason } = state.status;
  if (status === "finished") return `finished in ${state.steps} planner step(s) (thread ${threadId})`;
  if (status === "gave_up") return `gave up: ${reason ?? "no reason given"} (thread ${threadId})`;
  const reviewed = reviewedCalls(o.waitingFor);
  const head =
    status === "failed"
      ? `failed: ${reason ?? "unknown error"}`
      : o.waitingFor !== undefined
        ? `waiting for ${reviewed ? `approval of ${reviewed.map((c) => c.name).join(", ")}` : "an answer"} (thread ${threadId})`
        : `stopped while running (thread ${threadId})`;
  return o.hint ? `${head}\n${o.hint}` : head;
}

/** finished → 0, failed → 1, gave up → 3: scripts can tell a give-up from a crash. */
export function exitCodeOf(state: AgentStateType): number {
  return state.status.status === "finished" ? 0 : state.status.status === "gave_up" ? 3 : 1;
}
