import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../paths.js";

export const TEMPLATE_VARIANTS = ["toolbench", "toolalpaca", "math"] as const;
/** The α-UMi training prompt sets (what the released checkpoints read, sent raw). */
export type TemplateVariant = (typeof TEMPLATE_VARIANTS)[number];
/**
 * The templates a role reads: an α-UMi variant, or `instruct` (chat-form prompts with JSON-schema-constrained replies,
 * for off-the-shelf chat models). The one word for this choice in code, configuration and CLI.
 *
 * @example
 * for (const t of TEMPLATES) console.log(t); // toolbench, toolalpaca, math, instruct
 */
export const TEMPLATES = [...TEMPLATE_VARIANTS, "instruct"] as const;
export type Templates = (typeof TEMPLATES)[number];
/**
 * What every role reads unless told otherwise: the ToolBench prompts the released α-UMi checkpoints were trained on.
 *
 * @example
 * createAlphaUmiGraph({ tools, models }); // reads the roles' replies in DEFAULT_TEMPLATES ("toolbench") unless configured
 */
export const DEFAULT_TEMPLATES = "toolbench" satisfies TemplateVariant;
export const PROMPT_ROLES = ["planner", "caller", "summarizer", "backbone"] as const;
export type PromptRole = (typeof PROMPT_ROLES)[number];

/** What each role's prompt ends with: the speaker tag the model continues from. */
export const ROLE_SUFFIX: Record<PromptRole, string> = {
  planner: " assistant: ",
  caller: " caller: ",
  summarizer: " conclusion: ",
  backbone: " assistant: ",
};

// Every prompt file (α-UMi, instruct and real-time templates), read once.
const cache = new Map<string, string>();

export function isTemplateVariant(v: string): v is TemplateVariant {
  return (TEMPLATE_VARIANTS as readonly string[]).includes(v);
}

/**
 * @example
 * if (!isTemplates(flag)) throw new UserError(`--templates ${flag}: expected one of ${TEMPLATES.join(", ")}`);
 */
export function isTemplates(v: string): v is Templates {
  return (TEMPLATES as readonly string[]).includes(v);
}

/**
 * The one template loader: the text of `prompts/{name}.txt`, read once; the file's final newline is a file
 * convention, not template text.
 *
 * @example loadPrompt("judge_answer") // the answer judge's template, placeholders unfilled
 */
export function loadPrompt(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    const raw = readFileSync(join(packageRoot(), "prompts", `${name}.txt`), "utf8");
    text = raw.endsWith("\n") ? raw.slice(0, -1) : raw;
    cache.set(name, text);
  }
  return text;
}

/**
 * The template text of `prompts/{variant}_{role}.txt`.
 *
 * @example
 * loadTemplate("toolbench", "planner") // the planner's prompt template, with its {doc} and {history} slots
 */
export function loadTemplate(variant: TemplateVariant, role: PromptRole): string {
  return loadPrompt(`${variant}_${role}`);
}
