import { join } from "node:path";
import { Annotation } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isTemplateVariant, type TemplateVariant } from "./protocol/index.js";
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
  /** Prompt templates: toolbench or toolalpaca. */
  templates: Annotation<string>,
  /** Planner steps before a run ends as gave_up. */
  maxSteps: Annotation<number>,
  toolTimeoutMs: Annotation<number>,
  maxObservationChars: Annotation<number>,
});

export interface AgentConfiguration {
  models: Record<Role, RoleModel | string>;
  templates: TemplateVariant;
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
  const templates = (c.templates as string | undefined) ?? DEFAULTS.templates;
  if (!isTemplateVariant(templates)) throw new Error(`configuration templates: unknown variant "${templates}" (toolbench or toolalpaca)`);
  const model = (key: string) => (c[key] as RoleModel | string | undefined) || "replay:" + demoCassettePath();
  return {
    models: { planner: model("plannerModel"), caller: model("callerModel"), summarizer: model("summarizerModel"), backbone: model("backboneModel") },
    templates,
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
  const key = role + "\u0000" + m;
  let built = specCache.get(key);
  if (!built) specCache.set(key, (built = modelFromSpec(m, role)));
  return built;
}
