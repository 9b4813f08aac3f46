import { resolve } from "node:path";
import { ModelCallError, type Role, type RoleModel } from "./generate.js";
import { OllamaRawModel, type OllamaRoleOptions } from "./ollama.js";
import { ReplayModel } from "./replay.js";

/**
 * Model specs, as strings for config and CLI:
 * - `ollama:MODEL[@URL]` — an Ollama model prompted raw;
 * - `replay:PATH` — a JSONL cassette keyed by prompt SHA-256.
 */
export type ModelSpec = string;

export function parseModelSpec(spec: string): { provider: string; rest: string } {
  const at = spec.indexOf(":");
  if (at <= 0) throw new Error(`model spec "${spec}": expected PROVIDER:VALUE, e.g. ollama:alpha-umi-planner or replay:cassette.jsonl`);
  return { provider: spec.slice(0, at), rest: spec.slice(at + 1) };
}

/** Build a LangChain model from a spec string; `ollama` options (templates, temperature, num_ctx…) are per role. */
export function modelFromSpec(spec: ModelSpec, role: Role, ollama: OllamaRoleOptions = {}): RoleModel {
  const { provider, rest } = parseModelSpec(spec);
  switch (provider) {
    case "ollama": {
      const at = rest.lastIndexOf("@");
      const model = at > 0 ? rest.slice(0, at) : rest;
      const host = at > 0 ? rest.slice(at + 1) : undefined;
      if (!model) throw new Error(`model spec "${spec}": no model name after ollama:`);
      return new OllamaRawModel({ ...ollama, model, host, role });
    }
    case "replay":
      if (!rest) throw new Error(`model spec "${spec}": no cassette path after replay:`);
      try {
        return new ReplayModel(resolve(rest), role);
      } catch (err) {
        throw new ModelCallError(role, `${role} model ${spec}: ${(err as Error).message}`);
      }
    default:
      throw new Error(`model spec "${spec}": unknown provider "${provider}" (known: ollama, replay)`);
  }
}
