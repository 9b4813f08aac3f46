import { LLM, type BaseLLMCallOptions, type BaseLLMParams } from "@langchain/core/language_models/llms";
import { Ollama, type GenerateRequest, type GenerateResponse, type Options } from "ollama";
import type { ContextWindow } from "./window.js";
import type { JsonSchema } from "../protocol/index.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import type { Role } from "./generate.js";
import { countTokens } from "../protocol/tokens.js";
import { AlphaUmiError, UserError } from "../errors.js";

export const DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434";

/** `OLLAMA_HOST` as the ollama CLI accepts it (`host:port`, `:port`, a bare host or a URL) as a URL without a trailing slash. */
export function normalizeOllamaHost(raw: string | undefined): string {
  let host = (raw ?? "").trim();
  if (host === "") return DEFAULT_OLLAMA_URL;
  if (host.startsWith(":")) host = "127.0.0.1" + host;
  const explicit = /^[a-z][a-z0-9+.-]*:\/\//i.test(host);
  let url: URL;
  try {
    url = new URL(explicit ? host : `http://${host}`);
  } catch {
    throw new UserError(`Ollama host "${raw}" is not a URL or host:port (set OLLAMA_HOST like http://127.0.0.1:11434)`);
  }
  if (!explicit && url.port === "") url.port = "11434";
  return url.toString().replace(/\/$/, "");
}

/** The Ollama URL to use: the spec's, else OLLAMA_HOST, else the default. */
export function ollamaHost(fromSpec?: string): string {
  return normalizeOllamaHost(fromSpec || process.env.OLLAMA_HOST);
}

/** Per-role settings (config or CLI). */
export interface OllamaRoleOptions {
  temperature?: number;
  numCtx?: number;
  numPredict?: number;
  seed?: number;
  /** How long the model stays loaded after a call (Ollama's default is 5m; three role models must stay loaded). */
  keepAlive?: string | number;
  /** Per HTTP attempt. */
  timeoutMs?: number;
  /** Retries after a 5xx or a dropped connection. */
  retries?: number;
  /** Retries after connection refused: a stopped server must fail fast. */
  connectRetries?: number;
  /** First backoff delay; it doubles per retry. */
  backoffMs?: number;
}

export const OLLAMA_DEFAULTS = {
  numCtx: DEFAULT_BUDGET.numCtx,
  numPredict: DEFAULT_BUDGET.numPredict,
  keepAlive: "30m",
  timeoutMs: 120_000,
  retries: 2,
  connectRetries: 2,
  backoffMs: 250,
};

export interface OllamaModelParams extends BaseLLMParams, OllamaRoleOptions {
  model: string;
  /** URL or host:port; default OLLAMA_HOST, else http://127.0.0.1:11434. */
  host?: string;
  /** The role this model plays (named in errors). */
  role?: Role;
  /** For tests and proxies. */
  fetch?: typeof fetch;
}

export interface OllamaCallOptions extends BaseLLMCallOptions {
  /** True (default): the prompt is sent as is, no chat template (the α-UMi protocol); false: the model's chat template wraps it. */
  raw?: boolean;
  /** A JSON schema that constrains the reply (Ollama structured outputs). */
  format?: JsonSchema;
}

export type OllamaErrorKind = "unreachable" | "model-not-found" | "context" | "timeout" | "server" | "aborted" | "request";

/** A failed Ollama call: the message names the URL and the model and says what to do. */
export class OllamaError extends AlphaUmiError {
  constructor(
    readonly kind: OllamaErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("ollama", message, options);
  }
}

const RETRYABLE_NET = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "EAI_AGAIN", "ECONNABORTED"]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // A network error's code (ECONNRESET…), not this package's own error codes.
    if (typeof code === "string" && !(e instanceof AlphaUmiError)) return code;
  }
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), reject(signal!.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A role model served by Ollama, as a LangChain LLM (so callbacks and tracing see every call). It sends the prompt its
 * role's codec rendered: raw (no chat template, stop at `</s>`) for the α-UMi templates, or wrapped in the model's chat
 * template with the call's JSON schema as `format` for the instruct templates; the reply comes back as is.
 *
 * @example
 * const planner = new OllamaRawModel({ model: "alpha-umi-planner", role: "planner", numCtx: 4096 });
 * createAlphaUmiGraph({ tools, models: { planner, caller, summarizer } });
 */
export class OllamaRawModel extends LLM<OllamaCallOptions> {
  readonly model: string;
  readonly host: string;
  readonly role: Role | undefined;
  readonly settings: Required<Omit<OllamaRoleOptions, "temperature" | "seed">> & Pick<OllamaRoleOptions, "temperature" | "seed">;
  /** num_ctx and num_predict: the role's codec fits prompts to them. */
  readonly contextWindow: ContextWindow;
  private readonly fetchImpl: typeof fetch;

  constructor(params: OllamaModelParams) {
    super(params);
    this.model = params.model;
    this.host = ollamaHost(params.host);
    this.role = params.role;
    const pick = <K extends keyof OllamaRoleOptions>(k: K) => (params[k] ?? (OLLAMA_DEFAULTS as OllamaRoleOptions)[k]) as NonNullable<OllamaRoleOptions[K]>;
    this.settings = {
      numCtx: pick("numCtx"),
      numPredict: pick("numPredict"),
      keepAlive: pick("keepAlive"),
      timeoutMs: pick("timeoutMs"),
      retries: pick("retries"),
      connectRetries: pick("connectRetries"),
      backoffMs: pick("backoffMs"),
      temperature: params.temperature,
      seed: params.seed,
    };
    this.contextWindow = { numCtx: this.settings.numCtx, numPredict: this.settings.numPredict };
    this.fetchImpl = params.fetch ?? fetch;
  }

  _llmType(): string {
    return "alpha-umi-ollama";
  }

  /** The exact request body `_call` sends (the tests compare it with the protocol rendering). */
  request(prompt: string, options: Pick<OllamaCallOptions, "stop" | "format" | "raw">): GenerateRequest & { stream: false } {
    const s = this.settings;
    const raw = options.raw ?? true;
    const opts: Partial<Options> = { num_ctx: s.numCtx, num_predict: s.numPredict, stop: options.stop ?? (raw ? ["</s>"] : []) };
    if (s.temperature !== undefined) opts.temperature = s.temperature;
    if (s.seed !== undefined) opts.seed = s.seed;
    return {
      model: this.model,
      prompt,
      raw,
      stream: false,
      keep_alive: s.keepAlive,
      options: opts,
      ...(options.format && !raw ? { format: options.format } : {}),
    };
  }

  private where(): string {
    return `Ollama at ${this.host}, model ${this.model}`;
  }

  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    if (options.raw ?? true) await this.checkContext(prompt);
    const res = await this.generateWithRetries(this.request(prompt, options), options.signal);
    return res.response ?? "";
  }

  /** A prompt longer than the context would be cut from the left by Ollama, losing the tool docs: refuse it. */
  private async checkContext(prompt: string): Promise<void> {
    const tokens = await countTokens(prompt);
    if (tokens >= this.settings.numCtx)
      throw new OllamaError(
        "context",
        `${this.where()}: the prompt has ${tokens} tokens but num_ctx is ${this.settings.numCtx}; context too small — raise num_ctx (the α-UMi checkpoints were trained with 4096) or use fewer tools`,
      );
  }

  private async generateWithRetries(req: GenerateRequest & { stream: false }, signal?: AbortSignal): Promise<GenerateResponse> {
    const s = this.settings;
    let serverTries = 0;
    let connectTries = 0;
    for (;;) {
      try {
        return await this.attempt(req, signal);
      } catch (err) {
        const e = this.classify(err, signal);
        const retry =
          (e.kind === "unreachable" && connectTries++ < s.connectRetries) ||
          ((e.kind === "server" || (e.kind === "request" && RETRYABLE_NET.has(errorCode(err) ?? ""))) && serverTries++ < s.retries);
        if (!retry) throw e;
        // Connection refused: quick, short retries (a server that is starting); otherwise exponential backoff.
        const delay = e.kind === "unreachable" ? 100 * connectTries : s.backoffMs * 2 ** (serverTries - 1);
        try {
          await sleep(delay * (0.75 + Math.random() / 2), signal);
        } catch {
          throw new OllamaError("aborted", `${this.where()}: call aborted`);
        }
      }
    }
  }

  /** One HTTP attempt, aborted by the caller's signal or this attempt's timeout. */
  private async attempt(req: GenerateRequest & { stream: false }, signal?: AbortSignal): Promise<GenerateResponse> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const base = this.fetchImpl;
    // The client passes no signal on non-streamed calls, so the abort goes in through its `fetch` hook.
    const client = new Ollama({ host: this.host, fetch: (input, init) => base(input, { ...init, signal: combined }) });
    return await client.generate(req);
  }

  private classify(err: unknown, signal?: AbortSignal): OllamaError {
    if (err instanceof OllamaError) return err;
    const where = this.where();
    if (signal?.aborted) return new OllamaError("aborted", `${where}: call aborted`, { cause: err });
    const name = (err as { name?: string })?.name;
    if (name === "TimeoutError" || (name === "AbortError" && !signal?.aborted))
      return new OllamaError(
        "timeout",
        `${where}: no reply within ${this.settings.timeoutMs / 1000} s — the model may still be loading or too slow; raise the timeout or check \`ollama ps\``,
        { cause: err },
      );
    const status = (err as { status_code?: unknown }).status_code;
    const msg = err instanceof Error ? err.message : String(err);
    if (typeof status === "number") {
      if (status === 404 || /not found/i.test(msg))
        return new OllamaError(
          "model-not-found",
          `${where}: model not found — create it with \`alpha-umi models create\` (or \`ollama create ${this.model} -f prompts/ollama/Modelfile.ROLE\`), or pull it with \`ollama pull ${this.model}\``,
          { cause: err },
        );
      if (/context|too long|exceeds/i.test(msg))
        return new OllamaError("context", `${where}: ${msg}; context too small — raise num_ctx or use fewer tools`, { cause: err });
      if (status >= 500) return new OllamaError("server", `${where}: server error ${status}: ${msg}`, { cause: err });
      return new OllamaError("request", `${where}: request rejected (${status}): ${msg}`, { cause: err });
    }
    const code = errorCode(err);
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH")
      return new OllamaError("unreachable", `${where}: cannot connect (${code}) — start \`ollama serve\` or set OLLAMA_HOST`, { cause: err });
    return new OllamaError("request", `${where}: ${msg}${code ? ` (${code})` : ""}`, { cause: err });
  }
}
