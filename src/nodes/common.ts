import { AIMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { ensureConfiguration, roleModel, type AgentConfiguration } from "../configuration.js";
import { generate, type Role } from "../models/generate.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { buildPrompt } from "./prompt.js";

export type ModelTurn = { ok: true; text: string; cfg: AgentConfiguration } | { ok: false; update: AgentUpdate };

/** Prompt a role's model over τ. A failed call (server down, cassette miss) ends the run as `failed`, resumable later. */
export async function callRole(role: Role, state: AgentStateType, config: RunnableConfig): Promise<ModelTurn> {
  const cfg = ensureConfiguration(config);
  try {
    const { prompt, callOptions, elision } = await buildPrompt(role, state, cfg);
    if (elision) (config as LangGraphRunnableConfig).writer?.(elision);
    return { ok: true, text: await generate(role, roleModel(role, cfg), prompt, config, callOptions), cfg };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, update: { status: { status: "failed", reason }, decision: null } };
  }
}

/** A chat-view message for a role's turn (Studio and useStream clients show `messages`). */
export function roleMessage(role: Role, content: string, extra: Partial<ConstructorParameters<typeof AIMessage>[0] & object> = {}): AIMessage {
  return new AIMessage({ content, name: role, ...extra });
}
