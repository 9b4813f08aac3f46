/**
 * What a run builds from its configuration and keeps for the process: role models from spec strings, role codecs,
 * and the tools of configured sources.
 */
import { RoleCodec } from "./codec/index.js";
import { contextWindowOf } from "./models/window.js";
import { DEFAULT_BUDGET } from "./protocol/budget.js";
import type { Role, RoleModel } from "./models/generate.js";
import { modelFromSpec, parseModelSpec } from "./models/spec.js";
import type { ToolSpec } from "./tools/spec.js";
import type { AgentConfiguration } from "./configurable.js";

/** The run's tools: those of the sources its configuration names (opened once per process), else the graph's own. */
export async function toolsOf(cfg: AgentConfiguration): Promise<ToolSpec[]> {
  if (!cfg.toolSources) return cfg.tools;
  const { sharedToolSources } = await toolSourcesModule();
  return (await sharedToolSources(cfg.toolSources)).tools;
}

// Imported on first use: the sources pull in MCP, OpenAPI and pyodide code that most runs never need. The promise is
// kept: nodes ask at every step, and a dynamic import() costs a loader round trip even when the module is cached.
let sourcesModule: Promise<typeof import("./tools/sources.js")> | undefined;
const toolSourcesModule = () => (sourcesModule ??= import("./tools/sources.js"));

const specCache = new Map<string, RoleModel>();
const SPEC_CACHE_LIMIT = 1000;

/**
 * The model for a role: an object as given, a spec string built once per process — except a replay, which is built
 * per thread, so that two threads (two Studio chats, two eval episodes) replay a cassette from its start independently.
 */
export function roleModel(role: Role, cfg: AgentConfiguration): RoleModel {
  const m = cfg.models[role];
  if (typeof m !== "string") return m;
  const perThread = parseModelSpec(m).provider === "replay";
  const key = [role, m, cfg.numCtx ?? "", perThread ? (cfg.threadId ?? "") : ""].join("\u0000");
  let built = specCache.get(key);
  if (!built) {
    // A long-lived server sees unbounded threads: start over rather than grow forever.
    if (specCache.size >= SPEC_CACHE_LIMIT) specCache.clear();
    specCache.set(key, (built = modelFromSpec(m, role, cfg.numCtx ? { numCtx: cfg.numCtx } : {})));
  }
  return built;
}

const codecCache = new WeakMap<object, Map<string, RoleCodec>>();

/**
 * The role's codec for this configuration: templates, context policy, and the model's context window (the model's
 * own, else `numCtx`, else unbounded). Built once per model and settings.
 */
export function roleCodec(role: Role, cfg: AgentConfiguration, model: RoleModel = roleModel(role, cfg)): RoleCodec {
  let byKey = codecCache.get(model);
  if (!byKey) codecCache.set(model, (byKey = new Map()));
  const key = [role, cfg.templates[role], cfg.contextPolicy ?? "", cfg.numCtx ?? ""].join("\u0000");
  let codec = byKey.get(key);
  if (!codec) {
    const window = contextWindowOf(model) ?? (cfg.numCtx ? { numCtx: cfg.numCtx, numPredict: DEFAULT_BUDGET.numPredict } : undefined);
    byKey.set(key, (codec = new RoleCodec(role, { templates: cfg.templates[role], window, policy: cfg.contextPolicy })));
  }
  return codec;
}
