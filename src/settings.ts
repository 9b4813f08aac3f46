/**
 * The one settings schema: every run setting with its type, default, choices and description. The library options
 * (GraphOptions, RunOptions), the graphs' configuration schema (what LangGraph Studio and `alpha-umi serve` show),
 * worker job payloads and the CLI's defaults are derived from it: adding a setting is one entry here plus the code that
 * reads it.
 */
import { join } from "node:path";
import { z } from "zod";
import { CONTEXT_POLICIES } from "./codec/index.js";
import { ROLES, type Role } from "./models/generate.js";
import { DEFAULT_TEMPLATES, TEMPLATES, type Templates } from "./protocol/index.js";
import { packageRoot } from "./paths.js";
import { UserError } from "./errors.js";

export { DEFAULT_TEMPLATES };

/** The replay cassette of the offline demo. */
export function demoCassettePath(): string {
  return join(packageRoot(), "tools", "demo", "cassette.jsonl");
}

/**
 * The default model of every role, for the library and the CLI alike: the demo's replay cassette, so a graph runs on a
 * fresh machine with nothing installed (a question it was not recorded for fails with one line naming the cassette).
 */
export function defaultModel(): string {
  return "replay:" + demoCassettePath();
}

const positiveInt = () => z.number({ error: (i) => `expected a positive integer, got ${JSON.stringify(i.input)}` }).int({ error: (i) => `expected a positive integer, got ${JSON.stringify(i.input)}` }).positive({ error: (i) => `expected a positive integer, got ${JSON.stringify(i.input)}` });
const choice = <T extends readonly [string, ...string[]]>(what: string, values: T) =>
  z.enum(values, { error: (i) => `unknown ${what} ${JSON.stringify(i.input)} (${values.join(", ")})` });
const MODEL_SPEC = "`ollama:MODEL[@URL]`, `openai:MODEL@BASE_URL[#lora=ID][&key_env=VAR]` (vLLM, SGLang, TGI, llama-server), `llama:BASE.gguf[+ADAPTER.gguf]` (llama.cpp in process) or `replay:PATH`";
/** A spec string, or (library callers) a LangChain model object. */
const model = (role: string) =>
  z
    .union([z.string().min(1), z.custom<object>((v) => typeof v === "object" && v !== null)], { error: (i) => `expected a model spec string or a model object, got ${JSON.stringify(i.input)}` })
    .optional().describe(`The ${role}'s model: ${MODEL_SPEC}; default: the demo's replay cassette.`);
const roleTemplates = (role: string) => choice("templates", TEMPLATES).optional().describe(`The ${role}'s templates, overriding \`templates\` (e.g. an instruct caller beside α-UMi planner and summarizer).`);

export const SettingsSchema = z.object({
  plannerModel: model("planner"),
  callerModel: model("caller"),
  summarizerModel: model("summarizer"),
  backboneModel: model("single-LLM baseline (backbone)"),
  templates: choice("templates", TEMPLATES)
    .default(DEFAULT_TEMPLATES)
    .describe("Prompt templates: toolbench, toolalpaca or math (α-UMi training prompts), or instruct (chat prompts + JSON-schema replies for off-the-shelf chat models)."),
  plannerTemplates: roleTemplates("planner"),
  callerTemplates: roleTemplates("caller"),
  summarizerTemplates: roleTemplates("summarizer"),
  backboneTemplates: roleTemplates("backbone"),
  contextPolicy: choice("policy", CONTEXT_POLICIES)
    .optional()
    .describe("What a prompt longer than the model's context gets: elide (default for models with a context window), reference (the paper's left truncation), or none."),
  numCtx: positiveInt()
    .optional()
    .describe("Context window (tokens) of every role model: Ollama's num_ctx, llama.cpp's context size, a bound below an OpenAI-compatible server's own, or a bound for any other model."),
  // Generous: a 13B model on a CPU may take minutes; Ollama keeps its own per-attempt timeout.
  modelTimeoutMs: positiveInt().default(600_000).describe("Per-call limit for a role model (ms); a call past it fails the run (resumable)."),
  approve: z
    .union([z.string(), z.array(z.string()).readonly()])
    .default("none")
    .describe("Tool calls that wait for a person's approval: none, all, or tool names separated by commas."),
  maxSteps: positiveInt().default(12).describe("Planner steps before a run ends as gave_up."),
  toolTimeoutMs: positiveInt().default(30_000).describe("Per-call tool timeout (ms)."),
  maxObservationChars: positiveInt().default(4096).describe("Observations longer than this are cut before they enter τ."),
  toolSources: z
    .string()
    .optional()
    .describe("Tool sources, space-separated (demo, python, toolbench:FILE, toolenv:DIR[@URL|+cache:DIR], module:PATH, mcp:CONFIG.json, openapi:SPEC.json, langchain:MODULE#Export), opened once per server process; empty: the graph's own tools."),
  tools: z.array(z.any()).optional().describe("The graph's own tools (bound by the library; α-UMi tool specs)."),
});

export type SettingKey = keyof typeof SettingsSchema.shape;

/**
 * Who may set each setting (docs/security.md). `client`: anything arriving over HTTP or through the queue may set it
 * (a step budget, sampling, templates among the installed ones, tools to approve — `approve` only adds to the
 * operator's). `operator`: the value names code, a file, a host, an environment variable or a secret, or sizes the
 * servers, so only the command line, `langgraph.json` or the library sets it; a client's value is refused unless the
 * operator opened the key (serve `--client-settable`, `alpha_umi.client_settable` in langgraph.json).
 */
export const SETTING_TRUST: Record<SettingKey, { who: "client" } | { who: "operator"; why: string }> = {
  plannerModel: { who: "operator", why: "a model spec names a host, a file or an environment variable" },
  callerModel: { who: "operator", why: "a model spec names a host, a file or an environment variable" },
  summarizerModel: { who: "operator", why: "a model spec names a host, a file or an environment variable" },
  backboneModel: { who: "operator", why: "a model spec names a host, a file or an environment variable" },
  templates: { who: "client" },
  plannerTemplates: { who: "client" },
  callerTemplates: { who: "client" },
  summarizerTemplates: { who: "client" },
  backboneTemplates: { who: "client" },
  contextPolicy: { who: "client" },
  numCtx: { who: "operator", why: "the context window sizes the model server's memory" },
  modelTimeoutMs: { who: "client" },
  approve: { who: "client" },
  maxSteps: { who: "client" },
  toolTimeoutMs: { who: "client" },
  maxObservationChars: { who: "client" },
  toolSources: { who: "operator", why: "a tool source names code, a file, a command or a host" },
  tools: { who: "operator", why: "tools are code" },
};
type Input = z.input<typeof SettingsSchema>;
const ROLE_KEYS = ["plannerModel", "callerModel", "summarizerModel", "backboneModel", "plannerTemplates", "callerTemplates", "summarizerTemplates", "backboneTemplates"] as const;

/**
 * The settings as the library takes them (role models and per-role templates are grouped as `models` and
 * `roleTemplates` by GraphOptions; tools as `tools`). Every key is optional: unset is the schema's default.
 */
export type Settings = Omit<Input, (typeof ROLE_KEYS)[number] | "tools" | "toolSources">;
/** The JSON-able settings a job carries across processes (worker payloads). */
export type JobSettings = Settings & Pick<Input, "plannerTemplates" | "callerTemplates" | "summarizerTemplates" | "backboneTemplates">;

const SETTING_KEYS = Object.keys(SettingsSchema.shape) as SettingKey[];

/** The default of a setting (undefined when it has none). */
export function settingDefault<K extends SettingKey>(key: K): z.output<typeof SettingsSchema>[K] | undefined {
  const s = SettingsSchema.shape[key] as z.ZodType;
  return (s instanceof z.ZodDefault ? (s.def.defaultValue as never) : undefined) as never;
}

/** A setting's description (for CLI help). */
export function settingDescription(key: SettingKey): string {
  return SettingsSchema.shape[key].description ?? "";
}

/**
 * The schema's settings found in `o`, as configuration keys (`configurable`), `models` and `roleTemplates` spread to
 * their per-role keys; unset ones are left out.
 */
export function settingsConfigurable(o: object & { models?: Partial<Record<Role, unknown>>; roleTemplates?: Partial<Record<Role, Templates>> }): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) c[key] = v;
  }
  for (const role of ROLES) {
    if (o.models?.[role] !== undefined) c[`${role}Model`] = o.models[role];
    if (o.roleTemplates?.[role] !== undefined) c[`${role}Templates`] = o.roleTemplates[role];
  }
  return c;
}

/**
 * One setting read from a configuration: unset (undefined, null or "") is its default; a bad value is one line naming it.
 */
export function readSetting<K extends SettingKey>(c: Record<string, unknown>, key: K): z.output<typeof SettingsSchema>[K] {
  const raw = c[key] === null || c[key] === "" ? undefined : c[key];
  // Every node reads its settings at every step: a value once checked is not parsed again (objects by identity).
  const memo = (parsed[key] ??= { byValue: new Map(), byObject: new WeakMap() });
  const isObject = typeof raw === "object" && raw !== null;
  if (isObject ? memo.byObject.has(raw) : memo.byValue.has(raw)) return (isObject ? memo.byObject.get(raw) : memo.byValue.get(raw)) as never;
  const r = (SettingsSchema.shape[key] as z.ZodType).safeParse(raw);
  if (!r.success) throw new UserError(`configuration ${key}: ${r.error.issues[0]?.message ?? "invalid"}`);
  if (isObject) memo.byObject.set(raw, r.data);
  else {
    if (memo.byValue.size >= 1000) memo.byValue.clear(); // a long-lived server may see unbounded distinct strings
    memo.byValue.set(raw, r.data);
  }
  return r.data as never;
}

const parsed: Partial<Record<SettingKey, { byValue: Map<unknown, unknown>; byObject: WeakMap<object, unknown> }>> = {};

/**
 * For LangGraph: each setting with its default, choices and description for Studio's configuration panel, none
 * required, and never refused there (LangGraph validates `configurable` before any node runs; a bad value is refused
 * by readSetting with a line naming it instead of a Zod dump).
 */
function lenient(shape: Record<string, z.ZodType>) {
  return z.object(
    Object.fromEntries(
      Object.entries(shape).map(([key, s]) => {
        let inner = s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : s instanceof z.ZodOptional ? (s.unwrap() as z.ZodType) : s;
        // A union's first option is what a form can enter (a model spec string, a comma-separated tool list).
        if (inner instanceof z.ZodUnion) inner = inner.options[0] as z.ZodType;
        const def = s instanceof z.ZodDefault ? { default: s.def.defaultValue } : {};
        return [key, inner.optional().catch(undefined).meta({ ...def, ...(s.description ? { description: s.description } : {}) })];
      }),
    ),
  );
}

/** The graphs' configuration schema (what Studio shows), derived from SettingsSchema; `extra` adds a graph's own settings. */
export function configurationSchema(extra: Record<string, z.ZodType> = {}) {
  return lenient({ ...SettingsSchema.shape, ...extra });
}
