import { fitHistory, instructFormat, renderToolDocs, type PromptRole } from "../protocol/index.js";
import { roleModel, type AgentConfiguration } from "../configuration.js";
import { promptProfileOf } from "../models/ollama.js";
import type { AgentStateType, ToolDoc } from "../state.js";

// Tool documents repeat in every prompt of a run: serialise them once per tool list.
const docCache = new WeakMap<readonly ToolDoc[], string>();
function docsOf(tools: readonly ToolDoc[]): string {
  let doc = docCache.get(tools);
  if (doc === undefined) docCache.set(tools, (doc = renderToolDocs(tools)));
  return doc;
}

export interface BuiltPrompt {
  prompt: string;
  /** Model call options: the JSON schema (`format`) that constrains an instruct-pack reply. */
  callOptions: Record<string, unknown>;
  /** Set when the history did not fit the model's token budget and its oldest turns were elided. */
  elision?: ElisionEvent;
}

/** Streamed to `custom` stream-mode listeners (the CLI prints it); τ itself keeps every turn. */
export interface ElisionEvent {
  kind: "elision";
  role: PromptRole;
  elided: number;
  tokens: number;
  budget: number;
  fits: boolean;
}

/**
 * The one place nodes get their prompt: the role's template over τ, in the template pack the role's model reads
 * (α-UMi or instruct), fitted to the model's token budget (the oldest steps elided, with a marker, when too long).
 */
export async function buildPrompt(role: PromptRole, state: AgentStateType, cfg: AgentConfiguration): Promise<BuiltPrompt> {
  const { templates, budget } = promptProfileOf(roleModel(role, cfg));
  const input = { tools: state.tools, history: state.turns, variant: cfg.templates, doc: docsOf(state.tools), templates };
  const fit = await fitHistory(role, input, budget);
  const format = templates === "instruct" ? instructFormat(role, state.tools, cfg.templates) : undefined;
  const elision: ElisionEvent | undefined =
    fit.elided > 0 || !fit.fits
      ? { kind: "elision", role, elided: fit.elided, tokens: fit.tokens, budget: budget.numCtx - budget.numPredict, fits: fit.fits }
      : undefined;
  return { prompt: fit.prompt, callOptions: format ? { format } : {}, elision };
}
