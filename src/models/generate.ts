import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isGraphInterrupt } from "@langchain/langgraph";
import { errorMessage } from "../stringify.js";
import { AlphaUmiError } from "../errors.js";

export const ROLES = ["planner", "caller", "summarizer", "backbone"] as const;
export type Role = (typeof ROLES)[number];

/** Any LangChain language model: an LLM (string out) or a chat model (message out). */
export type RoleModel = BaseLanguageModelInterface;

/**
 * A model call that failed (server down, cassette miss…): not the model's bad output, which the agent recovers from.
 *
 * @example
 * catch (err) { if (err instanceof ModelCallError) console.error(err.role, err.message); }
 */
export class ModelCallError extends AlphaUmiError {
  constructor(
    readonly role: Role,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("model_call", message, options);
  }
}

/** Our own failures and LangGraph's interrupts pass as they are; the check never throws (`isGraphInterrupt(null)` does). */
function passesThrough(err: unknown): boolean {
  try {
    return err instanceof ModelCallError || (err !== null && typeof err === "object" && isGraphInterrupt(err));
  } catch {
    return false;
  }
}

/**
 * What a role's failed step throws: an interrupt or a ModelCallError as they are, anything else (an Error, `null`, a
 * string, a revoked proxy) as a ModelCallError whose message names the role.
 *
 * @example (asRoleFailure("planner", null) as Error).message // "planner model failed: threw null (not an Error)"
 */
export function asRoleFailure(role: Role, err: unknown): unknown {
  return passesThrough(err) ? err : new ModelCallError(role, `${role} model failed: ${errorMessage(err)}`, { cause: err });
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

/** "WHERE: " for a model that says where it runs (`servedAt`: a server's URL and model name), so a timeout names the server. */
function servedAt(model: RoleModel): string {
  const where = (model as { servedAt?: unknown }).servedAt;
  return typeof where === "string" && where ? `${where}: ` : "";
}

/** What a model call gets from its role's codec (see src/codec). */
export interface ModelRequest {
  prompt: string;
  callOptions: object;
}

/**
 * Invoke a role model on the prompt and call options its codec rendered, within `timeoutMs`. The caller's abort
 * signal and the timeout both reach the model (as `signal`), and the call returns as soon as either fires even if the
 * model ignores its signal. A failure is a ModelCallError; the model's text, however bad, is returned as is.
 */
export async function generate(role: Role, model: RoleModel, req: ModelRequest, config?: RunnableConfig, timeoutMs?: number): Promise<string> {
  const controller = new AbortController();
  const signal = config?.signal ? AbortSignal.any([config.signal, controller.signal]) : controller.signal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    if (timeoutMs !== undefined)
      timer = setTimeout(() => {
        const err = new ModelCallError(role, `${role} model failed: ${servedAt(model)}no reply within ${timeoutMs / 1000} s (modelTimeoutMs)`);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    timer?.unref();
    onAbort = () => reject(new ModelCallError(role, `${role} model call aborted`));
    if (config?.signal?.aborted) onAbort();
    else config?.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const call = model.invoke(req.prompt, {
      ...req.callOptions,
      callbacks: config?.callbacks,
      signal,
      tags: [`alpha-umi:${role}`],
      metadata: { alpha_umi_role: role },
    } as RunnableConfig);
    // A call that loses the race may still fail later: that is not an unhandled rejection.
    call.catch(() => undefined);
    return contentText(await Promise.race([call, stopped]));
  } catch (err) {
    throw asRoleFailure(role, err);
  } finally {
    clearTimeout(timer);
    if (onAbort) config?.signal?.removeEventListener("abort", onAbort);
  }
}
