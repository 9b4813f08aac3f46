/**
 * A model's context window as the model states it: the models own it (Ollama's num_ctx, llama.cpp's context size, an
 * OpenAI-compatible server's answer), the codec reads it.
 */
import type { TokenBudget } from "../protocol/index.js";
import { ModelCallError, type Role } from "./generate.js";

/** A model's context window: prompt plus reply tokens. */
export type ContextWindow = TokenBudget;

/**
 * What a model may say about itself: Ollama (num_ctx) and llama.cpp (context size) models state their window; a model
 * that learns it from its server (`openai:`) has `loadContextWindow`, awaited before its codec is built.
 */
export interface WindowedModel {
  contextWindow?: ContextWindow;
  loadContextWindow?: () => Promise<unknown>;
}

export function contextWindowOf(model: unknown): ContextWindow | undefined {
  const w = (model as WindowedModel | null)?.contextWindow;
  return w && Number.isFinite(w.numCtx) ? w : undefined;
}

/**
 * Let a model that asks its server for its window do so (once). A failure (the server is down, refuses the key) is
 * the role's failed call; without a role (a wrapper passing it on) it is thrown as it is.
 */
export async function loadContextWindow(model: unknown, role?: Role): Promise<void> {
  try {
    await (model as WindowedModel | null)?.loadContextWindow?.();
  } catch (err) {
    if (!role || err instanceof ModelCallError) throw err;
    throw new ModelCallError(role, `${role} model failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
