import type { ToolDoc, Turn } from "../state.js";
import { decisionMarker, hasDecision } from "./parse.js";
import { pyJsonDumps } from "./pyjson.js";
import { DEFAULT_TEMPLATES, loadTemplate, ROLE_SUFFIX, type PromptRole, type TemplateVariant } from "./templates.js";

/**
 * `{doc}`: every tool as Python json.dumps, each followed by a newline.
 *
 * @example
 * renderToolDocs([{ Name: "atlas", function: "Country facts.", input: {} }]) // the tool list as the models were trained on it
 */
export function renderToolDocs(tools: readonly ToolDoc[]): string {
  let out = "";
  for (const t of tools) out += pyJsonDumps(t) + "\n";
  return out;
}

/** `{tool_names}` */
export function renderToolNames(tools: readonly ToolDoc[]): string {
  return tools.map((t) => t.Name).join(", ");
}

/** One turn as the models saw it in training: `from: value</s>`, except an observation, which has no `</s>`. */
export function renderTurn(turn: Turn): string {
  return turn.from === "observation" ? `observation: ${turn.value}` : `${turn.from}: ${turn.value}</s>`;
}

export function renderHistory(turns: readonly Turn[]): string {
  let out = "";
  for (const t of turns) out += renderTurn(t);
  return out;
}

/** Python's str.replace: every occurrence, no `$` pattern interpretation. */
function replaceAll(s: string, placeholder: string, value: string): string {
  return s.split(placeholder).join(value);
}

export interface PromptParts {
  /** The tool documents already rendered (cache them when prompting repeatedly over the same tools). */
  doc: string;
  toolNames: string;
  history: string;
  thought?: string;
}

/**
 * The one fill of role templates (α-UMi and instruct): placeholders replaced in the reference order ({doc},
 * {tool_names}, then {history}, then {thought}), each as Python's str.replace does, so prompts are byte for byte the
 * training data's.
 */
export function fillParts(template: string, p: PromptParts): string {
  let s = replaceAll(template, "{doc}", p.doc);
  s = replaceAll(s, "{tool_names}", p.toolNames);
  s = replaceAll(s, "{history}", p.history);
  if (p.thought !== undefined) s = replaceAll(s, "{thought}", p.thought);
  return s;
}

/** An α-UMi role's prompt: its template filled, then the role suffix the model continues from. */
export function fillTemplate(template: string, role: PromptRole, p: PromptParts): string {
  return fillParts(template, p) + ROLE_SUFFIX[role];
}

export interface PromptInput {
  tools: readonly ToolDoc[];
  /** τ before the turn the role writes (for caller and summarizer it ends with the planner's turn). */
  history: readonly Turn[];
  variant?: TemplateVariant;
  /** Pre-rendered `{doc}` for these tools, to skip re-serialising on hot paths. */
  doc?: string;
}

function parts(input: PromptInput, history: readonly Turn[]): PromptParts {
  return {
    doc: input.doc ?? renderToolDocs(input.tools),
    toolNames: renderToolNames(input.tools),
    history: renderHistory(history),
  };
}

export function plannerPrompt(input: PromptInput): string {
  return fillTemplate(loadTemplate(input.variant ?? DEFAULT_TEMPLATES, "planner"), "planner", parts(input, input.history));
}

/** The caller sees the planner's turn in the history and again as `{thought}`. */
export function callerPrompt(input: PromptInput): string {
  const last = input.history[input.history.length - 1];
  if (!last || last.from !== "assistant") throw new Error("bug: callerPrompt: the history must end with the planner's assistant turn");
  return fillTemplate(loadTemplate(input.variant ?? DEFAULT_TEMPLATES, "caller"), "caller", { ...parts(input, input.history), thought: last.value });
}

/** The summarizer's history leaves out earlier `conclusion` turns whose value is `none`. */
export function summarizerPrompt(input: PromptInput): string {
  const history = input.history.filter((t) => !(t.from === "conclusion" && t.value === "none"));
  return fillTemplate(loadTemplate(input.variant ?? DEFAULT_TEMPLATES, "summarizer"), "summarizer", parts(input, history));
}

/**
 * The single-LLM baseline. Its history keeps only user, assistant and observation turns, and each assistant turn
 * holds the merged plan + action (see `mergeBackboneTurns`).
 */
export function backbonePrompt(input: PromptInput): string {
  return fillTemplate(loadTemplate(input.variant ?? DEFAULT_TEMPLATES, "backbone"), "backbone", parts(input, mergeBackboneTurns(input.history)));
}


/**
 * The backbone's view of τ: an assistant turn followed by a caller turn becomes `PLAN\nCALL`; followed by a conclusion,
 * `PLAN\nconclusion: ANSWER`; a give up, `PLAN\nconclusion: give up.` (PLAN without its `Next:` marker, trimmed).
 * Turns already in backbone form (no marker) pass through.
 */
export function mergeBackboneTurns(turns: readonly Turn[]): Turn[] {
  const out: Turn[] = [];
  for (let i = 0; i < turns.length; i++) {
    const t = turns[i]!;
    if (t.from === "caller" || t.from === "conclusion") continue;
    if (t.from !== "assistant") {
      out.push(t);
      continue;
    }
    out.push({ from: "assistant", value: backboneTarget(t.value, turns[i + 1]) ?? t.value });
  }
  return out;
}

/** The backbone's merged text for one planner turn and the turn after it, or null when it has nothing to merge with. */
export function backboneTarget(plan: string, next: Turn | undefined): string | null {
  const strip = (marker: string) => replaceAll(plan, marker, "").trim();
  if (hasDecision(plan, "give up")) return strip(decisionMarker("give up")) + "\nconclusion: give up.";
  if (next?.from === "caller") return strip(decisionMarker("caller")) + "\n" + next.value;
  if (next?.from === "conclusion") return strip(decisionMarker("conclusion")) + "\nconclusion: " + next.value;
  return null;
}
