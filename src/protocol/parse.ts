import type { Decision } from "../state.js";
import { pyStrip } from "./pystr.js";

const MARKERS: ReadonlyArray<[Decision, string]> = [
  ["give up", "Next: give up."],
  ["conclusion", "Next: conclusion."],
  ["caller", "Next: caller."],
];

export interface ParsedPlan {
  /** The plan as it goes into τ: the text up to and including the first decision marker. */
  plan: string;
  decision: Decision;
  /** The model wrote no marker, so the step is treated as a call (the reference pipeline's rule). */
  markerMissing: boolean;
  /** The model wrote nothing usable (empty, "." or ","): the reference reads this as the text `none`. */
  empty: boolean;
}

/** The reference pipeline replaces an empty or punctuation-only generation by the text `none`. */
export function normaliseEmpty(text: string): string {
  const t = pyStrip(text);
  return t === "" || t === "." || t === "," ? "none" : text;
}

/**
 * Read the planner's output: keep the text up to and including the first decision marker, checking give up, then
 * conclusion, then caller; with no marker the step is a call and ` Next: caller.` is appended.
 *
 * @example
 * parsePlanner("Look up Japan.\n Next: caller.") // { plan: "Look up Japan.\n Next: caller.", decision: "caller", … }
 */
export function parsePlanner(output: string): ParsedPlan {
  const text = normaliseEmpty(output);
  const empty = text !== output || output === "none";
  for (const [decision, marker] of MARKERS) {
    const at = text.indexOf(marker);
    if (at >= 0) return { plan: text.slice(0, at + marker.length), decision, markerMissing: false, empty: false };
  }
  return { plan: withDecision(text, "caller"), decision: "caller", markerMissing: true, empty };
}

/**
 * A planner turn as a reader sees it: its rationale, without the decision marker that ends it (the control line the
 * conditional edge reads; τ and the prompts keep it).
 *
 * @example planRationale("I need the capital.\n Next: caller.") // "I need the capital."
 */
export function planRationale(turn: string): string {
  const { plan, decision } = parsePlanner(turn);
  return pyStrip(plan.slice(0, plan.length - decisionMarker(decision).length));
}

export interface ParsedCall {
  /** The text after the last `Action:` up to `Action Input:`, stripped; `none` when there is no `Action:`. */
  action: string;
  /** The text after the last `Action Input:`, stripped; `{}` when absent. */
  actionInput: string;
}

/**
 * Read `Action: NAME\nAction Input: JSON` as the reference does (last occurrences win, Python `str.strip()`): the one
 * reading shared by the running agent and the step scorer.
 *
 * @example
 * parseCaller('Action: atlas\nAction Input: {"country": "Japan"}') // { action: "atlas", actionInput: '{"country": "Japan"}' }
 */
export function parseCaller(output: string): ParsedCall {
  const inputAt = output.lastIndexOf("Action Input:");
  const actionInput = inputAt >= 0 ? pyStrip(output.slice(inputAt + "Action Input:".length)) : "{}";
  const actionAt = output.lastIndexOf("Action:");
  if (actionAt < 0) return { action: "none", actionInput };
  let action = pyStrip(output.slice(actionAt + "Action:".length));
  const cut = action.indexOf("Action Input:");
  if (cut >= 0) action = pyStrip(action.slice(0, cut));
  return { action, actionInput };
}

/**
 * The caller turn's text in τ, as the training data writes it.
 *
 * @example
 * formatCall("calculate_for_calculator", '{"expression": "2 * 3"}') // 'Action: calculate_for_calculator\nAction Input: {"expression": "2 * 3"}'
 */
export function formatCall(action: string, actionInput: string): string {
  return `Action: ${action}\nAction Input: ${actionInput}`;
}

export type ParsedBackbone =
  | { kind: "call"; rationale: string; action: string; actionInput: string }
  | { kind: "conclusion"; rationale: string; answer: string }
  | { kind: "give up"; rationale: string };

/**
 * The backbone writes its decision as an action or a conclusion, never as a planner marker: a marker in its rationale
 * would contradict the decision once the rationale is recorded as a planner turn (τ, training data, step scores).
 */
function backboneRationale(text: string): string {
  return MARKERS.reduce((r, [, marker]) => r.split(marker).join(""), text).trim();
}

/**
 * Read the single-LLM backbone's output: `RATIONALE\nAction: NAME\nAction Input: JSON`, `RATIONALE\nconclusion: ANSWER`
 * or `RATIONALE\nconclusion: give up.`. Anything else is read as a call (it becomes an error observation downstream).
 *
 * @example
 * parseBackbone("Look it up.\nAction: atlas\nAction Input: {}") // { kind: "call", rationale: "Look it up.", action: "atlas", actionInput: "{}" }
 */
export function parseBackbone(output: string): ParsedBackbone {
  const text = normaliseEmpty(output);
  const conclAt = text.lastIndexOf("conclusion:");
  const actionAt = text.indexOf("Action:");
  if (conclAt >= 0 && (actionAt < 0 || conclAt > actionAt)) {
    const rationale = backboneRationale(text.slice(0, conclAt));
    const answer = text.slice(conclAt + "conclusion:".length).trim();
    if (answer === "give up." || answer === "give up") return { kind: "give up", rationale };
    return { kind: "conclusion", rationale, answer };
  }
  const rationale = backboneRationale(actionAt >= 0 ? text.slice(0, actionAt) : text);
  return { kind: "call", rationale, ...parseCaller(text) };
}

/** Strip a generation at the first `</s>` (servers without stop sequences return it verbatim). */
export function cutAtEos(output: string): string {
  const at = output.indexOf("</s>");
  return at >= 0 ? output.slice(0, at) : output;
}

/** Whether a planner text carries any decision marker (what makes an assistant turn a step). */
export function hasAnyDecision(text: string): boolean {
  return MARKERS.some(([, marker]) => text.includes(marker));
}

/** The decision marker as the training data writes it, e.g. `Next: caller.`. */
export function decisionMarker(decision: Decision): string {
  return MARKERS.find(([d]) => d === decision)![1];
}

/** Whether a planner text carries this decision's marker anywhere (the reference's `in` test). */
export function hasDecision(text: string, decision: Decision): boolean {
  return text.includes(decisionMarker(decision));
}

/**
 * A planner turn's text as stage 2 builds it: the message span (content + "\n", or empty) then ` Next: DECISION.`.
 *
 * @example
 * withDecision("Look up Japan.\n", "caller") // "Look up Japan.\n Next: caller."
 */
export function withDecision(span: string, decision: Decision): string {
  return `${span} ${decisionMarker(decision)}`;
}

/** A planner turn in training form: `RATIONALE\n Next: DECISION.` (how the targets of the training data end). */
export function decisionTurn(rationale: string, decision: Decision): { from: "assistant"; value: string } {
  return { from: "assistant", value: withDecision(rationale === "" ? "" : rationale + "\n", decision) };
}
