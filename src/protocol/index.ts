/**
 * The α-UMi text protocol (`alpha-umi/protocol`): the only module that builds prompt text or reads model text. An app
 * uses it to see the exact prompt a role gets and to read or write a role's reply; the Python emulation, the judges'
 * and simulators' prompts and the step-level scoring text stay inside the package.
 */
export { TEMPLATES, DEFAULT_TEMPLATES, isTemplates, loadTemplate, type Templates, type TemplateVariant, type PromptRole } from "./templates.js";
export { renderToolDocs, type PromptInput } from "./render.js";
export { renderRolePrompt, type JsonSchema } from "./instruct.js";
export {
  parsePlanner,
  parseCaller,
  parseBackbone,
  formatCall,
  withDecision,
  type ParsedPlan,
  type ParsedCall,
  type ParsedBackbone,
} from "./parse.js";
export type { TokenBudget } from "./budget.js";
