import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { RunnableConfig } from "@langchain/core/runnables";
import { cutAtEos } from "../protocol/index.js";

export const ROLES = ["planner", "caller", "summarizer", "backbone"] as const;
export type Role = (typeof ROLES)[number];

/** Any LangChain language model: an LLM (string out) or a chat model (message out). */
export type RoleModel = BaseLanguageModelInterface;

/** A model call that failed (server down, cassette miss…): not the model's bad output, which the agent recovers from. */
export class ModelCallError extends Error {
  constructor(
    readonly role: Role,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ModelCallError";
  }
}

/** The text of a LangChain model's output or of a message, whatever its kind (string, message, content parts). */
export function contentText(out: unknown): string {
  if (typeof out === "string") return out;
  const content = (out as { content?: unknown } | null)?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content.map((c) => (typeof c === "string" ? c : typeof c?.text === "string" ? c.text : "")).join("");
  throw new TypeError(`a model returned ${typeof out}, not text`);
}

/**
 * Invoke a role model on a raw protocol prompt, stopping at `</s>` as the checkpoints were trained to. `callOptions`
 * go to the model as is (e.g. `format`, the JSON schema of an instruct-pack call).
 */
export async function generate(
  role: Role,
  model: RoleModel,
  prompt: string,
  config?: RunnableConfig,
  callOptions?: Record<string, unknown>,
): Promise<string> {
  try {
    const out = await model.invoke(prompt, {
      ...callOptions,
      stop: ["</s>"],
      callbacks: config?.callbacks,
      signal: config?.signal,
      tags: [`alpha-umi:${role}`],
      metadata: { alpha_umi_role: role },
    } as RunnableConfig);
    return cutAtEos(contentText(out));
  } catch (err) {
    if (err instanceof ModelCallError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new ModelCallError(role, `${role} model failed: ${msg}`, { cause: err });
  }
}
