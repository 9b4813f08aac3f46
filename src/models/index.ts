/**
 * Role models (`alpha-umi/models`): any LangChain language model serves a role; these build one from a spec string
 * (`ollama:`, `llama:`, `openai:`, `replay:`), or directly, and record and replay cassettes. llama.cpp loads only when a
 * `llama:` model is built.
 */
export { ModelCallError, type Role, type RoleModel, type ModelRequest } from "./generate.js";
export { modelFromSpec, roleModels, type ModelSpec, type RoleModelOptions } from "./spec.js";
export { OllamaRawModel, type OllamaModelParams, type OllamaCallOptions, type OllamaRoleOptions } from "./ollama.js";
export { OpenAICompatModel, type OpenAICompatModelParams, type OpenAICallOptions, type OpenAIRoleOptions } from "./openai.js";
export { LlamaCppModel, type LlamaCppModelParams, type LlamaCallOptions, type LlamaRoleOptions } from "./llama.js";
export { ReplayModel, RecordingModel } from "./replay.js";
export type { CassetteLine } from "./cassette.js";
export { ScriptedModel, scriptedRoles, type ScriptStep, type ScriptedRoles } from "./scripted.js";
export type { ContextWindow, WindowedModel } from "./window.js";
