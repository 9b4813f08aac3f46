/**
 * Role models served by an OpenAI-compatible server — vLLM, SGLang, TGI, llama.cpp's llama-server — through the
 * *completions* API with the protocol prompt sent raw, as ModelScope-Agent serves α-UMi's three roles.
 *
 * Client: the `openai` package 6.x. 7.x (and @langchain/openai 1.6, which also speaks only chat) needs Node >= 22,
 * and this package supports Node 20; 6.x declares no engine and sends the servers' own body fields (`lora`,
 * `json_schema`, `guided_json`, `cache_prompt`) as given.
 *
 * Spec: `openai:MODEL@BASE_URL[#OPTIONS]`, e.g. `openai:planner@http://gpu-box:8000/v1`. The fragment (never sent to
 * the server) holds `&`-separated options:
 * - `lora=ID[:SCALE]` — the llama-server adapter this role applies per request (`"lora": [{"id": ID, "scale": SCALE}]`);
 *   vLLM and SGLang select adapters by model name instead (`--lora-modules planner=…`);
 * - `key_env=VAR` — the API key is read from the environment variable VAR instead of OPENAI_API_KEY. A spec names a
 *   variable, never a key: specs are written to run settings, reports and checkpoints;
 * - `slot=N` — llama-server only: always use slot N (`id_slot`), so a role keeps its own prompt cache (see below).
 *
 * llama-server keeps one prompt cache per slot and clears it when a request's adapters differ from the slot's; it
 * picks the slot by prompt similarity, which knows nothing of adapters, so three roles over shared tool documents take
 * each other's slots and clear each other's caches. With one slot per role (`alpha-umi models serve`'s default) each
 * role's spec pins its slot. A request with no `lora` list gets the server's start-up scales (every adapter at 1) and
 * keeps the slot's cache computed under another adapter, so a role without an adapter sends all scales 0.
 */
import { LLM, type BaseLLMCallOptions, type BaseLLMParams } from "@langchain/core/language_models/llms";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { LLMResult } from "@langchain/core/outputs";
import type { ClientOptions, OpenAI } from "openai";
import type { ContextWindow } from "./window.js";
import { AlphaUmiError, UserError } from "../errors.js";
import type { JsonSchema } from "../protocol/index.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import type { Role } from "./generate.js";

/** The openai package once a model has made its client (its error classes tell a timeout from a refused connection). */
let sdk: typeof import("openai") | undefined;

/** Per-role settings (config or CLI), as for the other providers. */
export interface OpenAIRoleOptions {
  /** Context window when the server states none (vLLM's max_model_len, llama-server's n_ctx); a bound below it otherwise. */
  numCtx?: number;
  /** `max_tokens` of one reply; default 512. */
  numPredict?: number;
  /** Default 0 (greedy), as the embedded llama.cpp models: the servers' own defaults differ (OpenAI's is 1). */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Per call, streaming included (default 120000). */
  timeoutMs?: number;
  /** Retries after a 5xx, 429 or a refused connection (the client's exponential backoff); a timed-out call is not retried. */
  retries?: number;
}

export const OPENAI_DEFAULTS = { numPredict: DEFAULT_BUDGET.numPredict, temperature: 0, timeoutMs: 120_000, retries: 2 };

const ROLE_OPTION_KEYS = ["numCtx", "numPredict", "temperature", "topP", "seed", "timeoutMs", "retries"] as const;

/** What an `openai:` spec says. */
export interface OpenAISpec {
  model: string;
  baseURL: string;
  lora?: { id: number; scale: number };
  /** The environment variable holding the API key (default OPENAI_API_KEY). */
  keyEnv: string;
  /** llama-server's slot for every request of this role. */
  slot?: number;
}

/**
 * Parse the part of an `openai:` spec after the provider. Without `@BASE_URL`, OPENAI_BASE_URL is the server.
 *
 * @example
 * parseOpenAISpec("base@http://127.0.0.1:8080/v1#lora=1&key_env=LLAMA_KEY");
 * // { model: "base", baseURL: "http://127.0.0.1:8080/v1", lora: { id: 1, scale: 1 }, keyEnv: "LLAMA_KEY" }
 */
export function parseOpenAISpec(rest: string): OpenAISpec {
  const spec = `openai:${rest}`;
  const hash = rest.indexOf("#");
  const head = hash >= 0 ? rest.slice(0, hash) : rest;
  const m = /^(.*?)@([a-z][a-z0-9+.-]*:\/\/.*)$/i.exec(head);
  const model = m ? m[1]! : head;
  const rawBase = m ? m[2]! : process.env.OPENAI_BASE_URL?.trim() || "";
  if (!model) throw new UserError(`model spec "${spec}": no model name after openai: (expected openai:MODEL@http://HOST:PORT/v1)`);
  if (!rawBase) throw new UserError(`model spec "${spec}": no server URL (write openai:${model}@http://HOST:PORT/v1 or set OPENAI_BASE_URL)`);
  let url: URL;
  try {
    url = new URL(rawBase);
  } catch {
    throw new UserError(`model spec "${spec}": "${rawBase}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UserError(`model spec "${spec}": the server URL must be http:// or https://`);
  if (url.username || url.password) throw new UserError(`model spec "${spec}": no credentials in the URL — put the key in OPENAI_API_KEY (or key_env=VAR)`);
  const out: OpenAISpec = { model, baseURL: url.toString().replace(/\/+$/, ""), keyEnv: "OPENAI_API_KEY" };
  if (hash >= 0) {
    for (const [key, value] of new URLSearchParams(rest.slice(hash + 1))) {
      if (key === "lora") {
        const lm = /^(\d+)(?::(\d+(?:\.\d+)?))?$/.exec(value);
        if (!lm) throw new UserError(`model spec "${spec}": lora=${value}: expected lora=ID or lora=ID:SCALE (ID as llama-server numbers its --lora adapters, from 0)`);
        out.lora = { id: Number(lm[1]), scale: lm[2] === undefined ? 1 : Number(lm[2]) };
      } else if (key === "slot") {
        if (!/^\d+$/.test(value)) throw new UserError(`model spec "${spec}": slot=${value}: expected a slot number (from 0)`);
        out.slot = Number(value);
      } else if (key === "key_env") {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new UserError(`model spec "${spec}": key_env=${value}: expected the name of an environment variable`);
        out.keyEnv = value;
      } else throw new UserError(`model spec "${spec}": unknown option "${key}" after # (known: lora, slot, key_env)`);
    }
  }
  return out;
}

export interface OpenAICompatModelParams extends BaseLLMParams, OpenAIRoleOptions {
  spec: OpenAISpec;
  role?: Role;
  /** For tests and proxies. */
  fetch?: typeof fetch;
}

export interface OpenAICallOptions extends BaseLLMCallOptions {
  /** True (default): the prompt is completed as is (α-UMi); false: sent as one user message, the server's chat template wraps it. */
  raw?: boolean;
  /** A JSON schema that constrains the reply, in the server's own field (see {@link schemaFields}). */
  format?: JsonSchema;
}

/** How a server takes a JSON schema; found out by {@link OpenAICompatModel.load}. */
export type ServerKind = "llama.cpp" | "vllm" | "sglang" | "generic";

/** What a server says about itself. */
export interface ServerInfo {
  kind: ServerKind;
  /** Its context window per request (vLLM/SGLang max_model_len, llama-server's per-slot n_ctx), if it states one. */
  numCtx?: number;
  /** vLLM's version: `guided_json` was replaced by `structured_outputs` (removed in 0.12). */
  version?: string;
  /** llama-server: how many LoRA adapters it loaded. */
  adapters?: number;
}

/**
 * The body fields that carry a JSON schema for this server: llama-server `json_schema`, vLLM `structured_outputs.json`
 * (`guided_json` before 0.12), SGLang `json_schema` as a string; an unknown server gets both common forms.
 */
export function schemaFields(info: ServerInfo, schema: JsonSchema): Record<string, unknown> {
  switch (info.kind) {
    case "llama.cpp":
      return { json_schema: schema };
    case "vllm": {
      const [major = 0, minor = 0] = (info.version ?? "").split(".").map((p) => Number.parseInt(p, 10));
      return info.version && major === 0 && minor < 12 ? { guided_json: schema } : { structured_outputs: { json: schema } };
    }
    case "sglang":
      return { json_schema: JSON.stringify(schema) };
    default:
      return { guided_json: schema, json_schema: schema };
  }
}

/** A failed call: the message is one line naming the server and model, and what to do. */
export class OpenAIServerError extends AlphaUmiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("openai_server", message, options);
  }
}

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$|^UND_ERR/.test(code)) return code;
  }
  return undefined;
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

interface Completed {
  text: string;
  finishReason?: string;
  /** llama-server's per-request figures (`cache_n`: prompt tokens reused from the slot's cache, `prompt_n`: evaluated). */
  timings?: Record<string, number>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * A role model on an OpenAI-compatible server, as a LangChain LLM (callbacks see every streamed token). α-UMi
 * prompts go to `POST BASE/completions` raw, stopped at `</s>`; instruct prompts (`raw: false`) to
 * `/chat/completions` as one user message. The call's `format` goes in the server's schema field. The context window
 * is the server's (read once by {@link load}, which the role nodes await before building the codec), else `numCtx`.
 * The API key (OPENAI_API_KEY or the spec's `key_env`) is sent as a bearer token and kept in a private field only.
 *
 * @example
 * const planner = openaiModelFromSpec("planner@http://gpu-box:8000/v1", "planner");
 * await planner.load();
 * const text = await planner.invoke(prompt, { stop: ["</s>"] });
 */
export class OpenAICompatModel extends LLM<OpenAICallOptions> {
  readonly model: string;
  readonly baseURL: string;
  readonly lora: OpenAISpec["lora"];
  readonly slot: number | undefined;
  readonly role: Role | undefined;
  readonly settings: OpenAIRoleOptions & typeof OPENAI_DEFAULTS;
  /** Where this model runs, for messages (a model-call timeout names it, see `generate`). */
  readonly servedAt: string;
  readonly #clientOptions: ClientOptions;
  #client: Promise<OpenAI> | undefined;
  readonly #keyEnv: string;
  readonly #hasKey: boolean;
  #info: ServerInfo | undefined;
  #loading: Promise<ServerInfo> | undefined;

  constructor(params: OpenAICompatModelParams) {
    const { spec, role, fetch: fetchImpl, ...rest } = params;
    super(rest);
    this.model = spec.model;
    this.baseURL = spec.baseURL;
    this.lora = spec.lora;
    this.slot = spec.slot;
    this.role = role;
    this.servedAt = `OpenAI-compatible server at ${this.baseURL}, model ${this.model}${this.lora ? `, LoRA adapter ${this.lora.id}` : ""}`;
    const given = Object.fromEntries(ROLE_OPTION_KEYS.filter((k) => params[k] !== undefined).map((k) => [k, params[k]]));
    this.settings = { ...OPENAI_DEFAULTS, ...given };
    for (const key of ["numCtx", "numPredict", "timeoutMs"] as const) {
      const v = this.settings[key];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new UserError(`openai model ${this.where()}: ${key} ${v} is not a positive integer`);
    }
    this.#keyEnv = spec.keyEnv;
    const key = process.env[spec.keyEnv]?.trim();
    if (spec.keyEnv !== "OPENAI_API_KEY" && !key) throw new UserError(`openai model ${this.where()}: key_env=${spec.keyEnv} but ${spec.keyEnv} is not set`);
    this.#hasKey = !!key;
    this.#clientOptions = {
      baseURL: this.baseURL,
      // The client insists on a key; a server without one (vLLM or llama-server without --api-key) gets no header.
      apiKey: key || "none",
      ...(key ? {} : { defaultHeaders: { Authorization: null } }),
      organization: null,
      project: null,
      // Probes time out on the client's clock; completions on the call's (see `complete`).
      timeout: this.settings.timeoutMs,
      maxRetries: this.settings.retries,
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    };
  }

  /** The client, made on the first request: the openai package (about 150 modules) loads then, not with alpha-umi. */
  private client(): Promise<OpenAI> {
    return (this.#client ??= import("openai").then((mod) => ((sdk = mod), new mod.OpenAI(this.#clientOptions))));
  }

  _llmType(): string {
    return "alpha-umi-openai";
  }

  /** The window the role's codec fits prompts to: the server's (after {@link load}) bounded by `numCtx`, else `numCtx` or 4096. */
  get contextWindow(): ContextWindow {
    const stated = this.#info?.numCtx;
    const given = this.settings.numCtx;
    const numCtx = stated ? Math.min(stated, given ?? stated) : (given ?? DEFAULT_BUDGET.numCtx);
    return { numCtx, numPredict: this.settings.numPredict };
  }

  /** What the server is and its context window, asked once (again after a failure). */
  load(): Promise<ServerInfo> {
    if (this.#info) return Promise.resolve(this.#info);
    this.#loading ??= this.probe().then(
      (info) => (this.#info = info),
      (err: unknown) => {
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }

  /** Called by the role nodes before the codec is built (see src/codec `loadContextWindow`). */
  async loadContextWindow(): Promise<ContextWindow> {
    await this.load();
    return this.contextWindow;
  }

  private where(): string {
    return this.servedAt;
  }

  /** Where llama-server's own routes live (`/props`, `/version`): the base URL without its `/v1`. */
  private root(): string {
    return this.baseURL.replace(/\/v1$/, "");
  }

  /** GET a server route; undefined when the server has no such route. */
  private async getJson(path: string, again = true): Promise<Record<string, unknown> | undefined> {
    try {
      return (await (await this.client()).get(path, { maxRetries: 0 })) as Record<string, unknown>;
    } catch (err) {
      // The server closed a kept-alive connection as it was reused (UND_ERR_SOCKET): the GET is safe to send once more.
      if (again && sdk && err instanceof sdk.APIConnectionError && causeCode(err) === "UND_ERR_SOCKET") return this.getJson(path, false);
      if (sdk && err instanceof sdk.APIError && err.status !== undefined && ![401, 403].includes(err.status) && err.status < 500) return undefined;
      throw this.classify(err);
    }
  }

  private async probe(): Promise<ServerInfo> {
    const models = await this.getJson("/models");
    const data = Array.isArray(models?.data) ? (models.data as Array<Record<string, unknown>>) : [];
    const entry = data.find((d) => d.id === this.model) ?? data[0];
    const ownedBy = typeof entry?.owned_by === "string" ? entry.owned_by : "";
    const maxLen = typeof entry?.max_model_len === "number" ? entry.max_model_len : undefined;
    if (ownedBy === "vllm") {
      const v = await this.getJson(`${this.root()}/version`);
      return { kind: "vllm", ...(maxLen ? { numCtx: maxLen } : {}), ...(typeof v?.version === "string" ? { version: v.version } : {}) };
    }
    if (ownedBy === "sglang") return { kind: "sglang", ...(maxLen ? { numCtx: maxLen } : {}) };
    if (maxLen) return { kind: "generic", numCtx: maxLen };
    // llama-server states its per-slot context in /props (its /v1/models gives only the training context).
    const props = await this.getJson(`${this.root()}/props`);
    const n = (props?.default_generation_settings as { n_ctx?: unknown } | undefined)?.n_ctx;
    if (!(typeof n === "number" && n > 0)) return { kind: ownedBy === "llamacpp" ? "llama.cpp" : "generic" };
    const loras = await this.getJson(`${this.root()}/lora-adapters`);
    return { kind: "llama.cpp", numCtx: n, ...(Array.isArray(loras) ? { adapters: loras.length } : {}) };
  }

  /** The exact request body a call sends (the tests compare it with what the server received). */
  async request(prompt: string, options: Pick<OpenAICallOptions, "stop" | "format" | "raw">): Promise<Record<string, unknown>> {
    const info = await this.load();
    const s = this.settings;
    const raw = options.raw ?? true;
    const body: Record<string, unknown> = {
      model: this.model,
      ...(raw ? { prompt } : { messages: [{ role: "user", content: prompt }] }),
      max_tokens: s.numPredict,
      stop: options.stop?.length ? options.stop : ["</s>"],
      temperature: s.temperature,
      ...(s.topP !== undefined ? { top_p: s.topP } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      stream: true,
      ...(options.format ? schemaFields(info, options.format) : {}),
    };
    if (info.kind === "llama.cpp") {
      // Each slot keeps its prompt's KV cache: the next step of a thread evaluates only its new tokens.
      body.cache_prompt = true;
      // The full adapter list, always (see the module comment): unnamed adapters get scale 0.
      if (this.lora) body.lora = [this.lora];
      else if (info.adapters) body.lora = [{ id: 0, scale: 0 }];
      if (this.slot !== undefined) body.id_slot = this.slot;
    } else if (this.lora) body.lora = [this.lora];
    return body;
  }

  async _call(prompt: string, options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<string> {
    return (await this.complete(prompt, options, runManager)).text;
  }

  /** As `_call`, and each generation carries the server's finish reason, usage and (llama-server) timings. */
  override async _generate(prompts: string[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<LLMResult> {
    const generations = [];
    for (const prompt of prompts) {
      const c = await this.complete(prompt, options, runManager);
      generations.push([{ text: c.text, generationInfo: { finish_reason: c.finishReason, usage: c.usage, timings: c.timings } }]);
    }
    return { generations };
  }

  private async complete(prompt: string, options: OpenAICallOptions, runManager?: CallbackManagerForLLMRun): Promise<Completed> {
    const raw = options.raw ?? true;
    const body = await this.request(prompt, options);
    const out: Completed = { text: "" };
    // The call's own timeout signal rather than the client's: the client tells its timeout from a dropped connection
    // by the abort error's class, which another realm (jest's VM modules) does not share.
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const path = raw ? "/completions" : "/chat/completions";
      const stream = (await (await this.client()).post(path, { body, stream: true, signal })) as AsyncIterable<Record<string, unknown>>;
      for await (const chunk of stream) {
        const choice = (chunk.choices as Array<Record<string, unknown>> | undefined)?.[0];
        const piece = raw ? choice?.text : (choice?.delta as { content?: unknown } | undefined)?.content;
        if (typeof piece === "string" && piece !== "") {
          out.text += piece;
          await runManager?.handleLLMNewToken(piece);
        }
        if (typeof choice?.finish_reason === "string") out.finishReason = choice.finish_reason;
        if (chunk.timings && typeof chunk.timings === "object") out.timings = chunk.timings as Record<string, number>;
        if (chunk.usage && typeof chunk.usage === "object") out.usage = chunk.usage as Completed["usage"];
      }
    } catch (err) {
      throw this.classify(err, options.signal, timeout);
    }
    return out;
  }

  private classify(err: unknown, signal?: AbortSignal, timeout?: AbortSignal): OpenAIServerError {
    if (err instanceof OpenAIServerError) return err;
    const where = this.where();
    if (!sdk) return new OpenAIServerError(`${where}: cannot load the openai client (${oneLine(err instanceof Error ? err.message : String(err))})`, { cause: err });
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = sdk;
    if (!timeout?.aborted && (err instanceof APIUserAbortError || signal?.aborted)) return new OpenAIServerError(`${where}: call aborted`, { cause: err });
    if (timeout?.aborted || err instanceof APIConnectionTimeoutError)
      return new OpenAIServerError(`${where}: no reply within ${this.settings.timeoutMs / 1000} s — the server may be overloaded or still loading; raise timeoutMs`, { cause: err });
    if (err instanceof APIConnectionError) {
      const code = causeCode(err);
      return new OpenAIServerError(`${where}: cannot connect${code ? ` (${code})` : ""} — is the server running? (\`alpha-umi models serve\` starts a llama-server)`, { cause: err });
    }
    if (err instanceof APIError && err.status !== undefined) {
      const status = err.status;
      // The client's message is "STATUS body": keep the server's words, on one line, without the repeated status.
      const said = oneLine(err.message.replace(/^\d+\s*/, "")).slice(0, 300);
      if (status === 401 || status === 403)
        return new OpenAIServerError(
          `${where}: ${status} ${this.#hasKey ? `the key in ${this.#keyEnv} was refused` : `the server wants an API key — set ${this.#keyEnv}`}${said ? ` (${said})` : ""}`,
          { cause: err },
        );
      if (status === 404)
        return new OpenAIServerError(`${where}: 404 not found${said ? ` (${said})` : ""} — check the model name (GET ${this.baseURL}/models lists them) and that the URL ends in /v1`, { cause: err });
      if (/context|too long|exceed/i.test(said)) return new OpenAIServerError(`${where}: ${status} ${said}; context too small — raise the server's context or use fewer tools`, { cause: err });
      if (status >= 500) return new OpenAIServerError(`${where}: server error ${status}${said ? `: ${said}` : ""}`, { cause: err });
      return new OpenAIServerError(`${where}: request rejected (${status})${said ? `: ${said}` : ""}`, { cause: err });
    }
    const msg = oneLine(err instanceof Error ? err.message : String(err));
    const code = causeCode(err);
    return new OpenAIServerError(`${where}: ${msg}${code ? ` (${code})` : ""}`, { cause: err });
  }
}

/**
 * The model of an `openai:MODEL@BASE_URL[#lora=ID][&key_env=VAR]` spec for a role with that role's settings (keys
 * other providers use are ignored).
 *
 * @example
 * const caller = openaiModelFromSpec("base@http://127.0.0.1:8080/v1#lora=1", "caller", { numPredict: 256 });
 */
export function openaiModelFromSpec(rest: string, role: Role, options: Partial<Record<string, unknown>> = {}): OpenAICompatModel {
  const picked = Object.fromEntries(ROLE_OPTION_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as OpenAIRoleOptions;
  return new OpenAICompatModel({ ...picked, spec: parseOpenAISpec(rest), role });
}
