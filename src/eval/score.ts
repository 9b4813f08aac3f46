/**
 * The paper's step-level metrics, as the reference scorer (GLPFT evaluate-multi_agent.py) computes them, quirks
 * included (metrics.md). Where the reference crashes, a defined value is used and a counted warning says so.
 */
import { isPyDict, pyEquals, pyJsonLoads, type PyValue } from "../protocol/pyjson-loads.js";
import { parseStepOutput, type StepPlan, type StepReading } from "../protocol/step.js";
import { RougeEmptyError, rougeL } from "./rouge.js";

export interface ScoreRecord {
  tools: ReadonlyArray<{ Name: string }>;
  reference: string;
  predictions: string;
}

export const METRIC_KEYS = ["plan_em", "action_em", "hallu_rate", "easy_f1", "hard_f1", "f1", "rouge"] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
export type Metrics = Record<MetricKey, number>;

export type WarningCode =
  | "empty-data"
  | "empty-easy-f1"
  | "empty-hard-f1"
  | "empty-f1"
  | "rouge-empty"
  | "no-eos"
  | "no-conclusion-space";

export interface ScoreWarning {
  code: WarningCode;
  /** How many steps (or lists) it concerns. */
  count: number;
  message: string;
  /** Indexes of the records concerned (where it is about records). */
  records: number[];
}

export interface StepDetail {
  index: number;
  refPlan: StepPlan;
  predPlan: StepPlan;
  planOk: boolean;
  /** The predicted action is not `none` and not one of the step's tool names. */
  hallucinated: boolean;
  refAction: string | null;
  predAction: string | null;
  /** For reference calls: the predicted action equals the reference action. */
  actionOk: boolean | null;
  /** For reference calls whose input parses: this step's argument F1 and the list it went to. */
  argF1: number | null;
  argKind: "easy" | "hard" | null;
  /** For reference conclusions: Rouge-L F of the predicted answer. */
  rouge: number | null;
}

export interface ScoreResult {
  metrics: Metrics;
  /** Counts behind the metrics (denominators). */
  counts: { steps: number; calls: number; finishes: number; giveUps: number; easy: number; hard: number; f1: number };
  warnings: ScoreWarning[];
  steps: StepDetail[];
}

class Warnings {
  private readonly map = new Map<WarningCode, ScoreWarning>();
  add(code: WarningCode, message: string, record?: number): void {
    let w = this.map.get(code);
    if (!w) this.map.set(code, (w = { code, count: 0, message, records: [] }));
    w.count++;
    if (record !== undefined) w.records.push(record);
  }
  list(): ScoreWarning[] {
    return [...this.map.values()];
  }
}

const QUIRK_MESSAGES: Record<NonNullable<StepReading["quirk"]>, string> = {
  "no-eos": "a call-shaped text has no `</s>` (the reference raises IndexError): read as no call, action `none`",
  "no-conclusion-space": "a conclusion has `conclusion:` but never `conclusion: ` (the reference raises ValueError): the whole text is the answer",
};

function read(text: string, index: number, warnings: Warnings): StepReading {
  const r = parseStepOutput(text);
  if (r.quirk) warnings.add(r.quirk, QUIRK_MESSAGES[r.quirk], index);
  return r;
}

/**
 * The argument score of one reference call whose action matches: which list it goes to and its value, or null where
 * the reference input does not parse (the reference skips the step). Mirrors the reference's try/except flow: any
 * failure inside (a non-dict input, P + R = 0) scores 0.
 */
function argumentScore(refInput: string, predInput: string): { kind: "easy" | "hard"; value: number } | null {
  const ref = pyJsonLoads(refInput);
  if (!ref.ok) return null;
  const refIsEmpty = isPyDict(ref.value) && ref.value.size === 0;
  const kind = refIsEmpty ? "easy" : "hard";
  const pred = pyJsonLoads(predInput);
  if (!pred.ok) return { kind, value: 0 };
  if (refIsEmpty) return { kind, value: isPyDict(pred.value) && pred.value.size === 0 ? 1 : 0 };
  return { kind, value: keyF1(ref.value, pred.value) };
}

function keyF1(ref: PyValue, pred: PyValue): number {
  // The reference iterates ref.items() and calls pred.keys(): anything but two dicts raises, scoring 0.
  if (!isPyDict(ref) || !isPyDict(pred)) return 0;
  let full = 0;
  let half = 0;
  for (const [k, v] of ref) {
    if (!pred.has(k)) continue;
    if (pyEquals(pred.get(k)!, v)) full++;
    else half++;
  }
  const recall = (0.5 * half + full) / (ref.size + 1e-30);
  const precision = (0.5 * half + full) / (pred.size + 1e-30);
  if (recall + precision === 0) return 0; // ZeroDivisionError in the reference, caught as 0
  return (2 * recall * precision) / (recall + precision);
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Score predictions in the reference format. Pure: no I/O.
 *
 * @example
 * const { metrics } = scoreRecords(records); // plan_em, action_em, hallu_rate, easy_f1, hard_f1, f1, rouge
 */
export function scoreRecords(records: readonly ScoreRecord[]): ScoreResult {
  const warnings = new Warnings();
  const steps: StepDetail[] = [];
  let planHits = 0;
  let hallu = 0;
  let actionHits = 0;
  let calls = 0;
  let giveUps = 0;
  const easy: number[] = [];
  const hard: number[] = [];
  const f1: number[] = [];
  const rouges: number[] = [];

  records.forEach((rec, index) => {
    const ref = read(rec.reference, index, warnings);
    const pred = read(rec.predictions, index, warnings);
    const hallucinated = pred.action !== null && pred.action !== "none" && !rec.tools.some((t) => t.Name === pred.action);
    if (hallucinated) hallu++;
    const planOk = ref.plan === pred.plan;
    if (planOk) planHits++;
    const detail: StepDetail = {
      index,
      refPlan: ref.plan,
      predPlan: pred.plan,
      planOk,
      hallucinated,
      refAction: ref.action,
      predAction: pred.action,
      actionOk: null,
      argF1: null,
      argKind: null,
      rouge: null,
    };
    if (ref.plan === "give up") giveUps++;
    else if (ref.plan === "finish") {
      let value = 0;
      try {
        value = rougeL(pred.answer ?? "none", ref.answer!).f;
      } catch (err) {
        if (!(err instanceof RougeEmptyError)) throw err;
        warnings.add("rouge-empty", "an answer pair has no sentence on one side (the rouge package raises ValueError): scored 0", index);
      }
      rouges.push(value);
      detail.rouge = value;
    } else {
      calls++;
      const predAction = pred.action ?? "none";
      detail.actionOk = predAction === ref.action;
      if (detail.actionOk) actionHits++;
      if (!detail.actionOk) {
        easy.push(0);
        hard.push(0);
        f1.push(0);
        detail.argF1 = 0;
      } else {
        const arg = argumentScore(ref.actionInput!, pred.actionInput ?? "{}");
        if (arg) {
          (arg.kind === "easy" ? easy : hard).push(arg.value);
          f1.push(arg.value);
          detail.argF1 = arg.value;
          detail.argKind = arg.kind;
        }
      }
    }
    steps.push(detail);
  });

  const n = records.length;
  if (n === 0) warnings.add("empty-data", "no records (the reference divides by zero for hallu_rate): every metric is 0");
  const listMean = (xs: number[], code: WarningCode, name: string): number => {
    if (xs.length > 0) return mean(xs) + 1e-30; // the reference's own epsilon, kept for identical output
    warnings.add(code, `no step contributes to ${name} (the reference divides by zero): reported as 0`);
    return 0;
  };
  const metrics: Metrics = {
    plan_em: n === 0 ? 0 : planHits / n,
    action_em: calls === 0 ? 0 : actionHits / calls,
    hallu_rate: n === 0 ? 0 : hallu / n,
    easy_f1: listMean(easy, "empty-easy-f1", "easy_f1"),
    hard_f1: listMean(hard, "empty-hard-f1", "hard_f1"),
    f1: listMean(f1, "empty-f1", "f1"),
    rouge: rouges.length === 0 ? 0 : mean(rouges),
  };
  return {
    metrics,
    counts: { steps: n, calls, finishes: rouges.length, giveUps, easy: easy.length, hard: hard.length, f1: f1.length },
    warnings: warnings.list(),
    steps,
  };
}
