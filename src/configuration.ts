import { join } from "node:path";
import { Annotation } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isTemplatePack, isTemplateVariant, type TemplatePack, type TemplateVariant } from "./protocol/index.js";
import type { Role, RoleModel } from "./models/generate.js";
import { modelFromSpec } from "./models/spec.js";
import type { ToolSpec } from "./tools/spec.js";
import { packageRoot } from "./paths.js";

/** The replay cassette of the offline demo: the default models, so a graph runs anywhere with nothing installed. */
export function demoCassettePath(): string {
  return join(packageRoot(), "tools", "demo", "cassette.jsonl");
}

/** What LangGraph Studio shows as the graph's configuration (strings and numbers only). */
export const ConfigurationSchema = Annotation.Root({
  /** Model spec per role: `ollama:MODEL[@URL]` or `replay:PATH`. */
  plannerModel: Annotation<string>,
  callerModel: Annotation<string>,
  summarizerModel: Annotation<string>,
  /** The single-LLM baseline's model. */
  backboneModel: Annotation<string>,
  /** Prompt templates: toolbench, toolalpaca, or instruct (chat prompts + JSON-schema replies for off-the-shelf Ollama models). */
  templates: Annotation<string>,
  /** Per-role override of `templates` (e.g. an instruct caller beside α-UMi planner and summarizer). */
  plannerTemplates: Annotation<string>,
  callerTemplates: Annotation<string>,
  summarizerTemplates: Annotation<string>,
  /** Planner steps before a run ends as gave_up. */
  maxSteps: Annotation<number>,
  toolTimeoutMs: Annotation<number>,
  maxObservationChars: Annotation<number>,
});

export interface AgentConfiguration {
  models: Record<Role, RoleModel | string>;
  /** The α-UMi template variant (toolbench or toolalpaca). */
  templates: TemplateVariant;
  /** The template pack each role's Ollama model reads: α-UMi training prompts, or instruct. */
  packs: Record<Role, TemplatePack>;
  maxSteps: number;
  toolTimeoutMs: number;
  maxObservationChars: number;
  tools: ToolSpec[];
}

export const DEFAULTS = { templates: "toolbench" as TemplateVariant, maxSteps: 12, toolTimeoutMs: 30_000, maxObservationChars: 4096 };

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`configuration ${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Read the run's configuration, with defaults (react-agent-js style). Library callers may pass model objects and tools. */
export function ensureConfiguration(config?: RunnableConfig): AgentConfiguration {
  const c = (config?.configurable ?? {}) as Record<string, unknown>;
  const chosen = (key: string, fallback: string) => {
    const v = (c[key] as string | undefined) || fallback;
    if (v !== "instruct" && !isTemplateVariant(v)) throw new Error(`configuration ${key}: unknown templates "${v}" (toolbench, toolalpaca or instruct)`);
    return v;
  };
  const global = chosen("templates", DEFAULTS.templates);
  const templates = isTemplateVariant(global) ? global : DEFAULTS.templates;
  const pack = (role: string): TemplatePack => {
    const v = chosen(`${role}Templates`, global);
    return isTemplatePack(v) ? v : "alpha-umi";
  };
  const model = (key: string) => (c[key] as RoleModel | string | undefined) || "replay:" + demoCassettePath();
  return {
    models: { planner: model("plannerModel"), caller: model("callerModel"), summarizer: model("summarizerModel"), backbone: model("backboneModel") },
    templates,
    packs: { planner: pack("planner"), caller: pack("caller"), summarizer: pack("summarizer"), backbone: pack("backbone") },
    maxSteps: positiveInt("maxSteps", c.maxSteps, DEFAULTS.maxSteps),
    toolTimeoutMs: positiveInt("toolTimeoutMs", c.toolTimeoutMs, DEFAULTS.toolTimeoutMs),
    maxObservationChars: positiveInt("maxObservationChars", c.maxObservationChars, DEFAULTS.maxObservationChars),
    tools: (c.tools as ToolSpec[] | undefined) ?? [],
  };
}

const specCache = new Map<string, RoleModel>();

/** The model for a role: an object as given, a spec string built once per process. */
export function roleModel(role: Role, cfg: AgentConfiguration): RoleModel {
  const m = cfg.models[role];
  if (typeof m !== "string") return m;
  const key = [role, m, cfg.packs[role]].join("\u0000");
  let built = specCache.get(key);
  if (!built) specCache.set(key, (built = modelFromSpec(m, role, { templates: cfg.packs[role] })));
  return built;
}
