/**
 * Step extraction (metrics.md "Steps"): every planner turn of a test dialog with a decision marker is a step whose input
 * is the planner prompt over the history before it, and whose reference is that turn plus the turn after it.
 */
import type { Templates } from "../protocol/index.js";
import { hasAnyDecision } from "../protocol/parse.js";
import { renderStepReference, stepTakesNextTurn } from "../protocol/step.js";
import { RoleCodec } from "../codec/index.js";
import type { ToolDoc, Turn } from "../state.js";
import type { ToolBenchDialog } from "../toolbenchDialogs.js";
import { UserError } from "../errors.js";

export interface EvalStep {
  /** Position in the whole test set (stable across runs: the resume key). */
  id: number;
  dialog: number;
  /** Index of the planner turn in the dialog's conversation. */
  turn: number;
  instruction: string;
  tools: ToolDoc[];
  /** τ before the planner turn. */
  history: Turn[];
  /** The reference planner turn and the turn after it (caller or conclusion), if the reference takes it. */
  plan: string;
  next: Turn | undefined;
  reference: string;
}

/** Every step of every dialog, in order. */
export function extractSteps(dialogs: readonly ToolBenchDialog[], source = "test set"): EvalStep[] {
  const steps: EvalStep[] = [];
  dialogs.forEach((d, dialog) => {
    const c = d.conversations;
    c.forEach((t, turn) => {
      if (t.from !== "assistant" || !hasAnyDecision(t.value)) return;
      const next = stepTakesNextTurn(t.value) ? c[turn + 1] : undefined;
      if (stepTakesNextTurn(t.value) && !next)
        throw new UserError(`${source}: record ${dialog}, field conversations.${turn}: a call or conclusion plan is the last turn (no caller/conclusion turn after it)`);
      steps.push({
        id: steps.length,
        dialog,
        turn,
        instruction: d.instruction,
        tools: d.tools,
        history: c.slice(0, turn),
        plan: t.value,
        next,
        reference: renderStepReference(t.value, next),
      });
    });
  });
  return steps;
}

/** The full planner prompt of every step (no context fitting), as the planner's codec renders it. */
export function stepPrompts(steps: readonly EvalStep[], templates: Templates): string[] {
  const codec = new RoleCodec("planner", { templates });
  return steps.map((s) => codec.prompt(s.tools, s.history));
}
