import { randomUUID } from "node:crypto";
import { HumanMessage } from "@langchain/core/messages";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { createAlphaUmiGraph, createSingleLlmGraph } from "./graph.js";
import type { Role, RoleModel } from "./models/generate.js";
import { roleModels } from "./models/spec.js";
import type { OllamaRoleOptions } from "./models/ollama.js";
import type { TemplatePack, TemplateVariant } from "./protocol/index.js";
import type { ElisionEvent } from "./nodes/prompt.js";
import type { AgentStateType, Turn } from "./state.js";
import type { ToolSpec } from "./tools/spec.js";

export interface RunOptions {
  instruction?: string;
  tools: ToolSpec[];
  /** Spec string or model per role (planner, caller, summarizer; backbone with singleLlm). */
  models: Partial<Record<Role, string | RoleModel>>;
  singleLlm?: boolean;
  checkpointer: BaseCheckpointSaver;
  threadId?: string;
  /** Also write every (prompt, output) to this replay cassette. */
  record?: string;
  templates?: TemplateVariant;
  /** Per role, the template pack its Ollama model reads (default: the α-UMi training prompts). */
  packs?: Partial<Record<Role, TemplatePack>>;
  maxSteps?: number;
  toolTimeoutMs?: number;
  signal?: AbortSignal;
}

export type RunEvent = { kind: "start"; threadId: string; resumed: boolean } | { kind: "turn"; turn: Turn; node: string } | ElisionEvent;

export interface RunResult {
  threadId: string;
  state: AgentStateType;
}

/**
 * Run (or resume) one thread, reporting each new turn of τ as it is written. A thread that exists is resumed from its
 * checkpoint; a finished one takes `instruction` as a follow-up question.
 */
/** Each role's template pack as the Ollama option that carries it. */
function ollamaOptions(packs: RunOptions["packs"]): Partial<Record<Role, OllamaRoleOptions>> {
  return Object.fromEntries(Object.entries(packs ?? {}).map(([role, templates]) => [role, { templates }]));
}

export async function runAgent(opts: RunOptions, onEvent: (e: RunEvent) => void = () => undefined): Promise<RunResult> {
  const create = opts.singleLlm ? createSingleLlmGraph : createAlphaUmiGraph;
  const graph = create({
    tools: opts.tools,
    models: roleModels(opts.models, !!opts.singleLlm, { record: opts.record, ollama: ollamaOptions(opts.packs) }),
    checkpointer: opts.checkpointer,
    templates: opts.templates,
    maxSteps: opts.maxSteps,
    toolTimeoutMs: opts.toolTimeoutMs,
  });
  const threadId = opts.threadId ?? `run-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomUUID().slice(0, 8)}`;
  const config = { configurable: { thread_id: threadId }, signal: opts.signal };
  const existing = (await graph.getState(config)).values as Partial<AgentStateType>;
  const resumed = (existing.turns?.length ?? 0) > 0;
  let input: Record<string, unknown>;
  if (!resumed) {
    if (!opts.instruction) throw new Error(`thread ${threadId} has no checkpoint: give an INSTRUCTION to start it`);
    input = { instruction: opts.instruction };
  } else if (opts.instruction && existing.status?.status !== "running" && existing.status?.status !== "failed") {
    input = { messages: [new HumanMessage(opts.instruction)] };
  } else {
    input = {};
  }
  onEvent({ kind: "start", threadId, resumed });
  for await (const [mode, chunk] of await graph.stream(input, { ...config, streamMode: ["updates", "custom"] })) {
    if (mode === "custom") {
      if ((chunk as ElisionEvent).kind === "elision") onEvent(chunk as ElisionEvent);
      continue;
    }
    for (const [node, update] of Object.entries(chunk as Record<string, { turns?: Turn[] } | undefined>)) {
      for (const turn of update?.turns ?? []) onEvent({ kind: "turn", turn, node });
    }
  }
  return { threadId, state: (await graph.getState(config)).values as AgentStateType };
}
