/**
 * Step extraction (metrics.md "Steps"): every planner turn of a test dialog with a decision marker is a step whose input
 * is the planner prompt over the history before it, and whose reference is that turn plus the turn after it.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { isStepPlan, plannerPrompt, renderStepReference, renderToolDocs, stepTakesNextTurn, type TemplateVariant } from "../protocol/index.js";
import { ToolDocSchema, TurnSchema, type ToolDoc, type Turn } from "../state.js";
import { parseJsonFile } from "./records.js";

export const DialogSchema = z.object({
  tools: z.array(ToolDocSchema),
  instruction: z.string(),
  conversations: z.array(TurnSchema),
});
export type Dialog = z.infer<typeof DialogSchema>;

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

/** Read and check a test set `[{tools, instruction, conversations}]`; errors name the file, record and field. */
export function readDialogs(path: string): Dialog[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const data = parseJsonFile(path, text);
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of {tools, instruction, conversations} dialogs`);
  return data.map((d, i) => {
    const r = DialogSchema.safeParse(d);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new Error(`${path}: record ${i}, field ${issue.path.join(".") || "(record)"}: ${issue.message}`);
    }
    return r.data;
  });
}

/** Every step of every dialog, in order. */
export function extractSteps(dialogs: readonly Dialog[], source = "test set"): EvalStep[] {
  const steps: EvalStep[] = [];
  dialogs.forEach((d, dialog) => {
    const c = d.conversations;
    c.forEach((t, turn) => {
      if (t.from !== "assistant" || !isStepPlan(t.value)) return;
      const next = stepTakesNextTurn(t.value) ? c[turn + 1] : undefined;
      if (stepTakesNextTurn(t.value) && !next)
        throw new Error(`${source}: record ${dialog}, field conversations.${turn}: a call or conclusion plan is the last turn (no caller/conclusion turn after it)`);
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

/** The planner prompt of every step (tool documents rendered once per dialog). */
export function stepPrompts(steps: readonly EvalStep[], variant: TemplateVariant): string[] {
  const docs = new Map<readonly ToolDoc[], string>();
  return steps.map((s) => {
    let doc = docs.get(s.tools);
    if (doc === undefined) docs.set(s.tools, (doc = renderToolDocs(s.tools)));
    return plannerPrompt({ tools: s.tools, history: s.history, variant, doc });
  });
}
