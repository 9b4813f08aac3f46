import { AIMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { Reading, RenderedPrompt } from "../codec/index.js";
import { loadContextWindow } from "../models/window.js";
import { ensureConfiguration } from "../configurable.js";
import { roleCodec, roleModel } from "../runCache.js";
import { asRoleFailure, generate, ModelCallError, type Role } from "../models/generate.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { planRationale } from "../protocol/parse.js";
import { capReason } from "../stringify.js";

export type ModelTurn = { ok: true; reading: Reading } | { ok: false; update: AgentUpdate };

/** Streamed (custom stream mode) with every model call: the exact prompt sent, for eval records and debugging. */
export interface PromptEvent {
  kind: "prompt";
  role: Role;
  prompt: string;
}

/**
 * Prompt a role's model over τ through the role's codec. A failed call (server down, cassette miss, timeout) ends the
 * run as `failed`, resumable later; a LangGraph interrupt passes through.
 */
export async function callRole(role: Role, state: AgentStateType, config: RunnableConfig, cfg = ensureConfiguration(config)): Promise<ModelTurn> {
  const writer = (config as LangGraphRunnableConfig).writer;
  try {
    const model = roleModel(role, cfg);
    await loadContextWindow(model, role);
    const codec = roleCodec(role, cfg, model);
    const rendered: RenderedPrompt = await codec.render(state);
    if (rendered.elision) writer?.(rendered.elision);
    writer?.({ kind: "prompt", role, prompt: rendered.prompt } satisfies PromptEvent);
    const text = await generate(role, model, rendered, config, cfg.modelTimeoutMs);
    return { ok: true, reading: codec.read(text) };
  } catch (err) {
    const failure = asRoleFailure(role, err);
    if (!(failure instanceof ModelCallError)) throw failure; // an interrupt
    const reason = capReason(failure);
    return { ok: false, update: { status: { status: "failed", reason }, decision: null } };
  }
}

/** A chat-view message for a role's turn (Studio and useStream clients show `messages`). */
export function roleMessage(role: Role, content: string, extra: Partial<ConstructorParameters<typeof AIMessage>[0] & object> = {}): AIMessage {
  return new AIMessage({ content, name: role, ...extra });
}

/** The chat-view message of a planner turn: its rationale, without the decision marker a chat reader has no use for. */
export function planMessage(role: Role, planTurn: string, extra: Partial<ConstructorParameters<typeof AIMessage>[0] & object> = {}): AIMessage {
  return roleMessage(role, planRationale(planTurn), extra);
}
