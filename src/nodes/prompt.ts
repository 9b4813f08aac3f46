import { backbonePrompt, callerPrompt, plannerPrompt, renderToolDocs, summarizerPrompt, type PromptRole } from "../protocol/index.js";
import type { AgentConfiguration } from "../configuration.js";
import type { AgentStateType, ToolDoc } from "../state.js";

// Tool documents repeat in every prompt of a run: serialise them once per tool list.
const docCache = new WeakMap<readonly ToolDoc[], string>();
function docsOf(tools: readonly ToolDoc[]): string {
  let doc = docCache.get(tools);
  if (doc === undefined) docCache.set(tools, (doc = renderToolDocs(tools)));
  return doc;
}

const BUILDERS = { planner: plannerPrompt, caller: callerPrompt, summarizer: summarizerPrompt, backbone: backbonePrompt } as const;

/** The one place nodes get their prompt: the role's template over τ. */
export function buildPrompt(role: PromptRole, state: AgentStateType, cfg: AgentConfiguration): string {
  return BUILDERS[role]({ tools: state.tools, history: state.turns, variant: cfg.templates, doc: docsOf(state.tools) });
}
