import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { CassetteWriter } from "./cassette.js";
import { ModelCallError, type Role, type RoleModel } from "./generate.js";
import { llamaModelFromSpec, type LlamaRoleOptions } from "./llama.js";
import { OllamaRawModel, type OllamaRoleOptions } from "./ollama.js";
import { openaiModelFromSpec, type OpenAIRoleOptions } from "./openai.js";
import { RecordingModel, ReplayModel } from "./replay.js";

/**
 * Model specs, as strings for config and CLI:
 * - `ollama:MODEL[@URL]` — an Ollama model prompted raw;
 * - `replay:PATH` — a JSONL cassette keyed by prompt SHA-256;
 * - `llama:BASE.gguf[+ADAPTER.gguf]` — a GGUF run in-process by llama.cpp, optionally with a LoRA adapter;
 * - `openai:MODEL@BASE_URL[#lora=ID][&key_env=VAR]` — a model on an OpenAI-compatible server (vLLM, SGLang, TGI,
 *   llama-server) through the completions API; see src/models/openai.ts and docs/openai.md.
 */
export type ModelSpec = string;

export function parseModelSpec(spec: string): { provider: string; rest: string } {
  const at = spec.indexOf(":");
  if (at <= 0) throw new UserError(`model spec "${spec}": expected PROVIDER:VALUE, e.g. ollama:alpha-umi-planner, openai:planner@http://127.0.0.1:8000/v1 or replay:cassette.jsonl`);
  return { provider: spec.slice(0, at), rest: spec.slice(at + 1) };
}

/** Per-role model settings for spec-built models (num_ctx, temperature, seed…; each provider takes what it knows). */
export type RoleModelOptions = OllamaRoleOptions & LlamaRoleOptions & OpenAIRoleOptions;

/**
 * Build a LangChain model from a spec string with that role's settings.
 *
 * @example
 * const planner = modelFromSpec("ollama:alpha-umi-planner", "planner", { numCtx: 4096 });
 */
export function modelFromSpec(spec: ModelSpec, role: Role, options: RoleModelOptions = {}): RoleModel {
  const { provider, rest } = parseModelSpec(spec);
  switch (provider) {
    case "ollama": {
      const at = rest.lastIndexOf("@");
      const model = at > 0 ? rest.slice(0, at) : rest;
      const host = at > 0 ? rest.slice(at + 1) : undefined;
      if (!model) throw new UserError(`model spec "${spec}": no model name after ollama:`);
      return new OllamaRawModel({ ...options, model, host, role });
    }
    case "replay":
      if (!rest) throw new UserError(`model spec "${spec}": no cassette path after replay:`);
      try {
        return new ReplayModel(resolve(rest), role);
      } catch (err) {
        throw new ModelCallError(role, `${role} model ${spec}: ${(err as Error).message}`);
      }
    case "llama":
      return llamaModelFromSpec(rest, role, options as Record<string, unknown>);
    case "openai":
      return openaiModelFromSpec(rest, role, options as Record<string, unknown>);
    default:
      throw new UserError(`model spec "${spec}": unknown provider "${provider}" (known: ollama, replay, llama, openai)`);
  }
}

/** The roles a run uses: the α-UMi three, or the single-LLM backbone. */
export function runRoles(singleLlm: boolean): Role[] {
  return singleLlm ? ["backbone"] : ["planner", "caller", "summarizer"];
}

/**
 * The model of each role a run uses, from a spec string (with that role's settings) or as given; with `record`,
 * each is wrapped to append every prompt and output to that cassette.
 *
 * @example
 * const models = roleModels({ planner: "ollama:p", caller: "ollama:c", summarizer: "ollama:s" }, false, { record: "run.jsonl" });
 */
export function roleModels(
  specs: Partial<Record<Role, string | RoleModel>>,
  singleLlm: boolean,
  opts: { record?: string; options?: RoleModelOptions } = {},
): Partial<Record<Role, RoleModel>> {
  const writer = opts.record ? new CassetteWriter(opts.record) : undefined;
  const models: Partial<Record<Role, RoleModel>> = {};
  for (const role of runRoles(singleLlm)) {
    const spec = specs[role];
    if (!spec) throw new UserError(`no ${role} model: pass --${role} SPEC`);
    const model = typeof spec === "string" ? modelFromSpec(spec, role, opts.options) : spec;
    models[role] = writer ? new RecordingModel(model, role, writer) : model;
  }
  return models;
}
