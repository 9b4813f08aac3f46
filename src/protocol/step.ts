/**
 * The step-level evaluation text (metrics.md): the reference and prediction strings of one planner step, and how
 * the reference scorer reads them back (`parse_output`), quirks included.
 */
import type { Turn } from "../state.js";
import { parseCaller } from "./parse.js";

export type StepPlan = "call" | "finish" | "give up";

export interface StepReading {
  plan: StepPlan;
  /** The called action (plan `call` only): after the last `Action:` up to `Action Input:`; `none` when absent. */
  action: string | null;
  /** The action input text (plan `call` only): after the last `Action Input:`; `{}` when absent. */
  actionInput: string | null;
  /** The final answer (plan `finish` only), every `</s>` removed. */
  answer: string | null;
  /**
   * Where the reference scorer raises instead of answering, the value used here and why: a call without any `</s>`
   * (Python: IndexError; read as no call text), or `conclusion:` without the `conclusion: ` it slices at
   * (Python: ValueError; read as the whole text).
   */
  quirk: "no-eos" | "no-conclusion-space" | null;
}

const EOS = "</s>";

/** Read a step's reference or prediction string exactly as the reference scorer's `parse_output` does. */
export function parseStepOutput(text: string): StepReading {
  if (text.includes("Next: give up")) return { plan: "give up", action: null, actionInput: null, answer: null, quirk: null };
  if (text.includes("Next: conclusion")) {
    const at = text.lastIndexOf("conclusion: ");
    const quirk = at < 0 && text.includes("conclusion:") ? "no-conclusion-space" : null;
    const answer = (at >= 0 ? text.slice(at + "conclusion: ".length) : text).split(EOS).join("");
    return { plan: "finish", action: null, actionInput: null, answer, quirk };
  }
  // Python's text.split('</s>')[1]: the piece between the first and the second `</s>`.
  const pieces = text.split(EOS, 2);
  const call = pieces[1] ?? "";
  const quirk = pieces.length < 2 ? "no-eos" : null;
  return { plan: "call", ...parseCaller(call), answer: null, quirk };
}

/**
 * Whether a step's reference takes the following turn (a call or a conclusion) rather than the bare plan. The reference
 * tests `Next: caller` without its period here, unlike everywhere else: kept, since it decides the reference strings.
 */
export function stepTakesNextTurn(plan: string): boolean {
  return plan.includes("Next: caller") || plan.includes("Next: conclusion.");
}

/**
 * A step's reference string: `assistant: PLAN</s>NEXT_FROM: NEXT_VALUE</s>` for a call or a conclusion, the bare PLAN
 * for a give up (the reference pipeline's test-set rule: a plan mentioning `Next: caller` or `Next: conclusion.` takes
 * the following turn).
 */
export function renderStepReference(plan: string, next: Turn | undefined): string {
  if (stepTakesNextTurn(plan)) {
    if (!next) throw new Error("bug: a call or conclusion step needs the turn after the plan");
    return `assistant: ${plan}${EOS}${next.from}: ${next.value}${EOS}`;
  }
  return plan;
}

/** A step's prediction string from the agent's own turns: the plan, then its caller or conclusion turn if any. */
export function renderStepPrediction(plan: string, next: Turn | undefined): string {
  return next ? `assistant: ${plan}${EOS}${next.from}: ${next.value}` : plan;
}

/**
 * The prediction recorded for a step whose model call failed: a plan that differs from the reference plan and calls
 * nothing, so the step scores as a miss (a give up, or a conclusion where the reference gives up).
 */
export function failedStepPrediction(referencePlan: StepPlan): string {
  return referencePlan === "give up"
    ? `assistant: (model call failed) Next: conclusion.${EOS}conclusion: none`
    : "(model call failed) Next: give up.";
}
