import type { TemplateVariant } from "../protocol/index.js";
import { backboneTarget } from "../protocol/render.js";
import { hasDecision } from "../protocol/parse.js";
import { RoleCodec } from "../codec/index.js";
import type { Turn } from "../state.js";
import type { SkipLog } from "./io.js";
import type { RoleRecord, Stage2Record } from "./records.js";

/**
 * The four GLPFT datasets, in the order they are written.
 *
 * @example
 * for (const d of DATASETS) console.log(`train_${d}.json`); // backbone, planner, caller, summarizer
 */
export const DATASETS = ["backbone", "planner", "caller", "summarizer"] as const;
export type Dataset = (typeof DATASETS)[number];

/** A caller turn the ToolBench annotation marks as calling a tool that does not exist: no training example. */
const HALLUCINATED = "invalid_hallucination_function_name";

interface DialogView {
  dialog: Stage2Record;
  /** The role's codec renders each training prompt: what a model is trained on is what it is later sent. */
  codec: RoleCodec;
  skip: (reason: string) => void;
}

/**
 * Every training example of one dialog, per dataset (glpft-data.md); what is left out is counted in `skips`.
 *
 * @example
 * const { planner, caller } = glpftRecords(dialog, "toolbench", new SkipLog()); // one role record per step
 */
export function glpftRecords(dialog: Stage2Record, variant: TemplateVariant, skips: SkipLog): Record<Dataset, RoleRecord[]> {
  const out = {} as Record<Dataset, RoleRecord[]>;
  for (const dataset of DATASETS) {
    const view: DialogView = { dialog, codec: codecOf(dataset, variant), skip: (reason) => skips.add(`${dataset}: ${reason}`) };
    out[dataset] = BUILDERS[dataset](view);
  }
  return out;
}

const codecs = new Map<string, RoleCodec>();
function codecOf(role: Dataset, variant: TemplateVariant): RoleCodec {
  const key = `${role}:${variant}`;
  let codec = codecs.get(key);
  // Unbounded: training prompts are the full prompts (the context policy applies when a model is sent one).
  if (!codec) codecs.set(key, (codec = new RoleCodec(role, { templates: variant })));
  return codec;
}

const BUILDERS: Record<Dataset, (v: DialogView) => RoleRecord[]> = {
  backbone: backboneRecords,
  planner: plannerRecords,
  caller: callerRecords,
  summarizer: summarizerRecords,
};

/** Why an assistant turn with no give up has no caller or conclusion turn after it to learn from. */
function noDecision(next: Turn | undefined): string {
  return next ? `assistant_turn_followed_by_${next.from}` : "conversation_ends_on_assistant_turn";
}

/** One example per planner step: a give up, or a turn followed by a caller or conclusion turn. */
function plannerRecords({ dialog, codec, skip }: DialogView): RoleRecord[] {
  const { tools, conversations: turns } = dialog;
  const out: RoleRecord[] = [];
  turns.forEach((t, i) => {
    if (t.from !== "assistant") return;
    const next = turns[i + 1];
    if (next?.from === "caller" && next.value.includes(HALLUCINATED)) return skip(HALLUCINATED);
    if (!hasDecision(t.value, "give up") && next?.from !== "caller" && next?.from !== "conclusion") return skip(noDecision(next));
    const history = turns.slice(0, i);
    out.push({ tools, history, input: codec.prompt(tools, history), target: t.value });
  });
  return out;
}

/**
 * One example per caller turn; `{thought}` is the planner turn before it. As in the reference, the prompt's history
 * leaves out earlier hallucinated caller turns (they are never learned from), while the record's `history` keeps them.
 */
function callerRecords({ dialog, codec, skip }: DialogView): RoleRecord[] {
  const { tools, conversations: turns } = dialog;
  const isHallucinated = (t: Turn) => t.from === "caller" && t.value.includes(HALLUCINATED);
  const anyHallucinated = turns.some(isHallucinated);
  const out: RoleRecord[] = [];
  turns.forEach((t, i) => {
    if (t.from !== "caller") return;
    if (isHallucinated(t)) return skip(HALLUCINATED);
    if (turns[i - 1]?.from !== "assistant") return skip("caller_turn_without_planner_turn");
    const history = turns.slice(0, i);
    const seen = anyHallucinated ? history.filter((h) => !isHallucinated(h)) : history;
    out.push({ tools, history, input: codec.prompt(tools, seen), target: t.value });
  });
  return out;
}

/** One example per conclusion turn with an answer (`none` is not one). */
function summarizerRecords({ dialog, codec, skip }: DialogView): RoleRecord[] {
  const { tools, conversations: turns } = dialog;
  const out: RoleRecord[] = [];
  turns.forEach((t, i) => {
    if (t.from !== "conclusion") return;
    if (t.value === "none") return skip("conclusion_none");
    const history = turns.slice(0, i);
    out.push({ tools, history, input: codec.prompt(tools, history), target: t.value });
  });
  return out;
}

/**
 * One example per planner step, plan and action merged (`backboneTarget`). Unlike the reference script, a give up's
 * prompt is built from its own history: the reference reuses the previous step's prompt there (a documented defect).
 */
function backboneRecords({ dialog, codec, skip }: DialogView): RoleRecord[] {
  const { tools, conversations: turns } = dialog;
  const out: RoleRecord[] = [];
  turns.forEach((t, i) => {
    if (t.from !== "assistant") return;
    const target = backboneTarget(t.value, turns[i + 1]);
    if (target === null) return skip(noDecision(turns[i + 1]));
    const history = turns.slice(0, i);
    out.push({ tools, history, input: codec.prompt(tools, history), target });
  });
  return out;
}
