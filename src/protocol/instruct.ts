/**
 * The instruct pack: role prompts for off-the-shelf chat models (qwen2.5, llama3.x…) that never saw α-UMi training.
 * They are sent through the model's own chat template (not raw), the planner's and caller's replies are constrained by
 * a JSON schema (Ollama's `format`), and the replies are converted back into α-UMi τ text, so a run recorded with
 * instruct models is still a trajectory in training format.
 */
import type { Decision, ToolDoc, Turn } from "../state.js";
import { decisionTurn, formatCall } from "./parse.js";
import { backbonePrompt, callerPrompt, fillParts, plannerPrompt, renderToolDocs, renderToolNames, summarizerPrompt, type PromptInput } from "./render.js";
import { DEFAULT_TEMPLATES, isTemplateVariant, loadPrompt, type PromptRole, type Templates, type TemplateVariant } from "./templates.js";
import { UserError } from "../errors.js";

export const INSTRUCT_ROLES = ["planner", "caller", "summarizer"] as const;
export type InstructRole = (typeof INSTRUCT_ROLES)[number];

/** `prompts/instruct_{role}.txt`. */
export function loadInstructTemplate(role: InstructRole): string {
  return loadPrompt(`instruct_${role}`);
}

const SPEAKER: Record<Turn["from"], string> = {
  user: "User",
  assistant: "Planner",
  caller: "Caller",
  observation: "Observation",
  conclusion: "Conclusion",
};

/** τ as plain lines for a chat model: `Speaker: value`, no `</s>` (which means nothing to these tokenizers). */
export function renderInstructHistory(turns: readonly Turn[]): string {
  return turns.map((t) => `${SPEAKER[t.from]}: ${t.value}\n`).join("");
}

function isInstructRole(role: PromptRole): role is InstructRole {
  return (INSTRUCT_ROLES as readonly string[]).includes(role);
}

/** The instruct prompt of a role over the same inputs as the α-UMi prompt (caller/summarizer history ends with the plan). */
export function instructPrompt(role: PromptRole, input: PromptInput): string {
  if (!isInstructRole(role)) throw new UserError(`the instruct template pack has no ${role} prompt (it covers planner, caller and summarizer)`);
  const last = input.history[input.history.length - 1];
  if (role !== "planner" && last?.from !== "assistant")
    throw new Error(`bug: instruct ${role} prompt: the history must end with the planner's assistant turn`);
  const history = role === "summarizer" ? input.history.filter((t) => !(t.from === "conclusion" && t.value === "none")) : input.history;
  return fillParts(loadInstructTemplate(role), {
    doc: input.doc ?? renderToolDocs(input.tools),
    toolNames: renderToolNames(input.tools),
    history: renderInstructHistory(history),
    thought: role === "caller" ? last!.value : undefined,
  });
}

/**
 * A role's prompt in the chosen templates: the one entry point for prompt text of a model step.
 *
 * @example
 * const prompt = renderRolePrompt("planner", { tools: toolDocs, history: state.turns }); // what the planner model is sent
 */
export function renderRolePrompt(role: PromptRole, input: PromptInput, templates: Templates = input.variant ?? DEFAULT_TEMPLATES): string {
  if (!isTemplateVariant(templates)) return instructPrompt(role, input);
  input = { ...input, variant: templates };
  switch (role) {
    case "planner":
      return plannerPrompt(input);
    case "caller":
      return callerPrompt(input);
    case "summarizer":
      return summarizerPrompt(input);
    case "backbone":
      return backbonePrompt(input);
  }
}

/** A JSON schema as Ollama's `format` takes it. */
export type JsonSchema = Record<string, unknown>;

/** The decisions a planner may take: ToolAlpaca prompts have no give up. */
export function plannerDecisions(variant: TemplateVariant = DEFAULT_TEMPLATES): Decision[] {
  return variant === "toolalpaca" ? ["caller", "conclusion"] : ["caller", "conclusion", "give up"];
}

export function plannerFormat(variant: TemplateVariant = DEFAULT_TEMPLATES): JsonSchema {
  return {
    type: "object",
    properties: { thought: { type: "string" }, next: { type: "string", enum: plannerDecisions(variant) } },
    required: ["thought", "next"],
  };
}

const JSON_TYPES: Record<string, string> = {
  string: "string",
  str: "string",
  number: "number",
  float: "number",
  double: "number",
  integer: "integer",
  int: "integer",
  boolean: "boolean",
  bool: "boolean",
  array: "array",
  list: "array",
  object: "object",
  dict: "object",
};

/**
 * A tool's arguments as a schema. ToolBench writes each argument as `"TYPE, DESCRIPTION"` (or just `"TYPE"`) and does
 * not say which are required, so none is; an unknown TYPE leaves the value unconstrained.
 */
export function toolInputSchema(tool: ToolDoc): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [arg, spec] of Object.entries(tool.input)) {
    const comma = spec.indexOf(",");
    const type = JSON_TYPES[(comma >= 0 ? spec.slice(0, comma) : spec).trim().toLowerCase()];
    const description = comma >= 0 ? spec.slice(comma + 1).trim() : "";
    properties[arg] = { ...(type ? { type } : {}), ...(description ? { description } : {}) };
  }
  return { type: "object", properties, additionalProperties: false };
}

/** The caller's reply: one of the tools by exact name, with that tool's arguments. Undefined when there are no tools. */
export function callerFormat(tools: readonly ToolDoc[]): JsonSchema | undefined {
  if (tools.length === 0) return undefined;
  return {
    anyOf: tools.map((t) => ({
      type: "object",
      properties: { action: { type: "string", enum: [t.Name] }, action_input: toolInputSchema(t) },
      required: ["action", "action_input"],
    })),
  };
}

/** The `format` to send with an instruct-pack call of this role (the summarizer writes free text). */
export function instructFormat(role: PromptRole, tools: readonly ToolDoc[], variant: TemplateVariant = DEFAULT_TEMPLATES): JsonSchema | undefined {
  if (role === "planner") return plannerFormat(variant);
  if (role === "caller") return callerFormat(tools);
  return undefined;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * An instruct reply as α-UMi τ text: the planner's `{thought, next}` becomes `THOUGHT\n Next: DECISION.`, the caller's
 * `{action, action_input}` becomes `Action: NAME\nAction Input: JSON`. A reply that is not the expected JSON is
 * returned as is, so the α-UMi parsers handle it like any free-text output.
 */
export function instructOutputToText(role: PromptRole, output: string, variant: TemplateVariant = DEFAULT_TEMPLATES): string {
  const obj = role === "planner" || role === "caller" ? parseObject(output.trim()) : null;
  if (!obj) return output;
  if (role === "planner") {
    const next = obj.next as Decision;
    if (typeof obj.thought !== "string" || !plannerDecisions(variant).includes(next)) return output;
    return decisionTurn(obj.thought.trim(), next).value;
  }
  if (typeof obj.action !== "string") return output;
  return formatCall(obj.action, JSON.stringify(obj.action_input ?? {}, null, 2));
}
