import { join } from "node:path";
import { Annotation } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isTemplates, TEMPLATES, type Templates } from "./protocol/index.js";
import { isContextPolicy, RoleCodec, CONTEXT_POLICIES, type ContextPolicy } from "./codec/index.js";
import { contextWindowOf } from "./models/window.js";
import { DEFAULT_BUDGET } from "./protocol/index.js";
import type { Role, RoleModel } from "./models/generate.js";
import { modelFromSpec, parseModelSpec } from "./models/spec.js";
import type { ToolSpec } from "./tools/spec.js";
import { parseApprovePolicy, type ApprovePolicy } from "./approval.js";
import { packageRoot } from "./paths.js";

/** The replay cassette of the offline demo: the default models, so a graph runs anywhere with nothing installed. */
export function demoCassettePath(): string {
  return join(packageRoot(), "tools", "demo", "cassette.jsonl");
}

/** What LangGraph Studio shows as the graph's configuration (strings and numbers only). */
export const ConfigurationSchema = Annotation.Root({
  /**
   * Model spec per role: `ollama:MODEL[@URL]`, `openai:MODEL@BASE_URL[#lora=ID][&key_env=VAR]` (vLLM, SGLang, TGI,
   * llama-server), `llama:BASE.gguf[+ADAPTER.gguf]` or `replay:PATH`.
   */
  plannerModel: Annotation<string>,
  callerModel: Annotation<string>,
  summarizerModel: Annotation<string>,
  /** The single-LLM baseline's model. */
  backboneModel: Annotation<string>,
  /** Prompt templates: toolbench, toolalpaca, or instruct (chat prompts + JSON-schema replies for off-the-shelf chat models). */
  templates: Annotation<string>,
  /** Per-role override of `templates` (e.g. an instruct caller beside α-UMi planner and summarizer). */
  plannerTemplates: Annotation<string>,
  callerTemplates: Annotation<string>,
  summarizerTemplates: Annotation<string>,
  backboneTemplates: Annotation<string>,
  /** What a prompt longer than the model's context gets: elide (default for bounded models), reference, or none. */
  contextPolicy: Annotation<string>,
  /** Context window (tokens) of every role model: Ollama's num_ctx, llama.cpp's context size, a bound below an OpenAI-compatible server's own, or a bound for any other model. */
  numCtx: Annotation<number>,
  /** Per-call limit for a role model; a call past it fails the run (resumable). */
  modelTimeoutMs: Annotation<number>,
  /** Tool calls that wait for a person's approval: none (default), all, or tool names separated by commas. */
  approve: Annotation<string>,
  /** Planner steps before a run ends as gave_up. */
  maxSteps: Annotation<number>,
  toolTimeoutMs: Annotation<number>,
  /**
   * Tool sources, space-separated (demo, python, toolbench:FILE, toolenv:DIR[@URL|+cache:DIR], module:PATH, mcp:CONFIG.json, openapi:SPEC.json,
   * langchain:MODULE#Export), opened once per server process; empty: the graph's own tools.
   */
  toolSources: Annotation<string>,
  maxObservationChars: Annotation<number>,
});

export interface AgentConfiguration {
  models: Record<Role, RoleModel | string>;
  /** The templates each role reads (α-UMi training prompts, or instruct). */
  templates: Record<Role, Templates>;
  /** Unset: each model's own default (elide when it states a context window, none otherwise). */
  contextPolicy?: ContextPolicy;
  numCtx?: number;
  modelTimeoutMs: number;
  /** The thread the run belongs to: replayed models keep their position per thread. */
  threadId?: string;
  maxSteps: number;
  toolTimeoutMs: number;
  maxObservationChars: number;
  tools: ToolSpec[];
  /** Tool sources named in the configuration: they replace `tools` (see toolsOf). */
  toolSources?: string[];
  /** Which tools' calls wait for approval (src/approval.ts). */
  approve: ApprovePolicy;
}

export const DEFAULTS = {
  templates: "toolbench" as Templates,
  maxSteps: 12,
  toolTimeoutMs: 30_000,
  maxObservationChars: 4096,
  // Generous: a 13B model on a CPU may take minutes; Ollama keeps its own per-attempt timeout.
  modelTimeoutMs: 600_000,
};

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`configuration ${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Read the run's configuration, with defaults (react-agent-js style). Library callers may pass model objects and tools. */
export function ensureConfiguration(config?: RunnableConfig): AgentConfiguration {
  const c = (config?.configurable ?? {}) as Record<string, unknown>;
  const tools = (c.tools as ToolSpec[] | undefined) ?? [];
  const toolSources = typeof c.toolSources === "string" && c.toolSources.trim() !== "" ? c.toolSources.trim().split(/\s+/) : undefined;
  const chosen = (key: string, fallback: string): Templates => {
    const v = (c[key] as string | undefined) || fallback;
    if (!isTemplates(v)) throw new Error(`configuration ${key}: unknown templates "${v}" (${TEMPLATES.join(", ")})`);
    return v;
  };
  const global = chosen("templates", DEFAULTS.templates);
  const model = (key: string) => (c[key] as RoleModel | string | undefined) || "replay:" + demoCassettePath();
  const policy = c.contextPolicy as string | undefined;
  if (policy && !isContextPolicy(policy)) throw new Error(`configuration contextPolicy: unknown policy "${policy}" (${CONTEXT_POLICIES.join(", ")})`);
  return {
    models: { planner: model("plannerModel"), caller: model("callerModel"), summarizer: model("summarizerModel"), backbone: model("backboneModel") },
    templates: {
      planner: chosen("plannerTemplates", global),
      caller: chosen("callerTemplates", global),
      summarizer: chosen("summarizerTemplates", global),
      backbone: chosen("backboneTemplates", global),
    },
    ...(policy ? { contextPolicy: policy as ContextPolicy } : {}),
    ...(c.numCtx !== undefined && c.numCtx !== null && c.numCtx !== "" ? { numCtx: positiveInt("numCtx", c.numCtx, 0) } : {}),
    modelTimeoutMs: positiveInt("modelTimeoutMs", c.modelTimeoutMs, DEFAULTS.modelTimeoutMs),
    ...(typeof c.thread_id === "string" ? { threadId: c.thread_id } : {}),
    maxSteps: positiveInt("maxSteps", c.maxSteps, DEFAULTS.maxSteps),
    toolTimeoutMs: positiveInt("toolTimeoutMs", c.toolTimeoutMs, DEFAULTS.toolTimeoutMs),
    maxObservationChars: positiveInt("maxObservationChars", c.maxObservationChars, DEFAULTS.maxObservationChars),
    tools,
    ...(toolSources ? { toolSources } : {}),
    // The tools of named sources are known once they are open: their names are checked when a call is made.
    approve: parseApprovePolicy(c.approve, toolSources ? undefined : tools.map((t) => t.doc.Name)),
  };
}

/** The run's tools: those of the sources its configuration names (opened once per process), else the graph's own. */
export async function toolsOf(cfg: AgentConfiguration): Promise<ToolSpec[]> {
  if (!cfg.toolSources) return cfg.tools;
  // Imported here: the sources pull in MCP, OpenAPI and pyodide code that most runs never need.
  const { sharedToolSources } = await import("./tools/sources.js");
  return (await sharedToolSources(cfg.toolSources)).tools;
}

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
