/**
 * Reading a run's configuration (react-agent-js style): the settings of src/settings.ts, with their defaults, from
 * `config.configurable`. Library callers may pass model objects and tools there.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Templates } from "./protocol/index.js";
import type { ContextPolicy } from "./codec/index.js";
import type { Role, RoleModel } from "./models/generate.js";
import type { ToolSpec } from "./tools/spec.js";
import { parseApprovePolicy, type ApprovePolicy } from "./approval.js";
import { configurationSchema, defaultModel, readSetting, settingDefault } from "./settings.js";

export { demoCassettePath } from "./settings.js";

/** What LangGraph Studio shows as the graph's configuration: every setting with its default, choices and description. */
export const ConfigurationSchema = configurationSchema();

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
  /** Tool sources named in the configuration: they replace `tools` (see toolsOf in src/runCache.ts). */
  toolSources?: string[];
  /** Which tools' calls wait for approval (src/approval.ts). */
  approve: ApprovePolicy;
}

/** The settings' defaults, as the drivers read them. */
export const DEFAULTS = {
  templates: settingDefault("templates")!,
  maxSteps: settingDefault("maxSteps")!,
  toolTimeoutMs: settingDefault("toolTimeoutMs")!,
  maxObservationChars: settingDefault("maxObservationChars")!,
  modelTimeoutMs: settingDefault("modelTimeoutMs")!,
};

/** Read the run's configuration, with defaults. A bad value is one line naming its key. */
export function ensureConfiguration(config?: RunnableConfig): AgentConfiguration {
  const c = (config?.configurable ?? {}) as Record<string, unknown>;
  const tools = (readSetting(c, "tools") as ToolSpec[] | undefined) ?? [];
  const sources = readSetting(c, "toolSources")?.trim();
  const toolSources = sources ? sources.split(/\s+/) : undefined;
  const global = readSetting(c, "templates");
  const model = (key: "plannerModel" | "callerModel" | "summarizerModel" | "backboneModel") => (readSetting(c, key) as RoleModel | string | undefined) ?? defaultModel();
  const policy = readSetting(c, "contextPolicy");
  const numCtx = readSetting(c, "numCtx");
  return {
    models: { planner: model("plannerModel"), caller: model("callerModel"), summarizer: model("summarizerModel"), backbone: model("backboneModel") },
    templates: {
      planner: readSetting(c, "plannerTemplates") ?? global,
      caller: readSetting(c, "callerTemplates") ?? global,
      summarizer: readSetting(c, "summarizerTemplates") ?? global,
      backbone: readSetting(c, "backboneTemplates") ?? global,
    },
    ...(policy ? { contextPolicy: policy } : {}),
    ...(numCtx !== undefined ? { numCtx } : {}),
    modelTimeoutMs: readSetting(c, "modelTimeoutMs"),
    ...(typeof c.thread_id === "string" ? { threadId: c.thread_id } : {}),
    maxSteps: readSetting(c, "maxSteps"),
    toolTimeoutMs: readSetting(c, "toolTimeoutMs"),
    maxObservationChars: readSetting(c, "maxObservationChars"),
    tools,
    ...(toolSources ? { toolSources } : {}),
    // The tools of named sources are known once they are open: their names are checked when a call is made.
    approve: parseApprovePolicy(c.approve, toolSources ? undefined : tools.map((t) => t.doc.Name)),
  };
}
