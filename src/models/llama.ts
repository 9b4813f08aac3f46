/**
 * Embedded llama.cpp runtime (node-llama-cpp, prebuilt binaries only: nothing is downloaded or built at run time).
 *
 * A role model is a base GGUF, optionally with a LoRA adapter GGUF. The process-wide {@link llamaRuntime} loads each
 * base once; every role model gets its own context (with its adapter, if any) holding `concurrency` sequences, so
 * three roles over one base plus three adapters keep the base weights in memory once.
 *
 * Prompts are tokenized as the α-UMi checkpoints were trained: BOS first, and `<s>`, `</s>`, `<unk>` written in the
 * prompt are the special tokens (node-llama-cpp tokenizes a plain string without specials unless told to).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { resolve } from "node:path";
import { LLM, type BaseLLMCallOptions, type BaseLLMParams } from "@langchain/core/language_models/llms";
import type { Llama, LlamaCompletion, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from "node-llama-cpp";
import { AlphaUmiError, UserError } from "../errors.js";
import type { JsonSchema } from "../protocol/index.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import type { Role } from "./generate.js";
import { GGUF_MAGIC } from "./gguf.js";

/** Per-role settings (config or CLI), analogous to the Ollama ones. */
export interface LlamaRoleOptions {
  /** Context size in tokens (prompt + reply); default 4096, the α-UMi checkpoints' training length. */
  numCtx?: number;
  /** Most tokens one reply may have; default 512. */
  numPredict?: number;
  /** 0 (or unset) is greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Parallel sequences in this role's context: that many calls run at once. */
  concurrency?: number;
  /** Per call. */
  timeoutMs?: number;
  /** LoRA scale (default 1). */
  loraScale?: number;
  /** Layers to offload to the GPU ("auto" by default, 0 for CPU only). */
  gpuLayers?: number | "auto";
  /**
   * CPU threads of this role's context. Default: the process's budget ({@link ThreadGovernor}: ALPHA_UMI_LLAMA_THREADS,
   * else the cores other processes leave free, followed while calls run, at most what the model is worth).
   */
  threads?: number;
}

const ROLE_OPTION_KEYS = ["numCtx", "numPredict", "temperature", "topK", "topP", "seed", "concurrency", "timeoutMs", "loraScale", "gpuLayers", "threads"] as const;

export const LLAMA_DEFAULTS = {
  numCtx: DEFAULT_BUDGET.numCtx,
  numPredict: DEFAULT_BUDGET.numPredict,
  concurrency: 1,
  timeoutMs: 300_000,
};

export interface LlamaCppModelParams extends BaseLLMParams, LlamaRoleOptions {
  /** The base model GGUF. */
  modelPath: string;
  /** A LoRA adapter GGUF for this role. */
  adapterPath?: string;
  role?: Role;
  /** Defaults to the process-wide runtime. */
  runtime?: LlamaRuntime;
}

export interface LlamaCallOptions extends BaseLLMCallOptions {
  /** A JSON schema the reply must follow (compiled to a llama.cpp grammar). */
  format?: JsonSchema;
  /** `false`: wrap the prompt in the model's chat template as one user message. Default: raw completion. */
  raw?: boolean;
}

function envThreads(): number | undefined {
  const raw = process.env.ALPHA_UMI_LLAMA_THREADS;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n > 0)) throw new UserError(`ALPHA_UMI_LLAMA_THREADS: "${raw}" is not a positive integer`);
  return n;
}

/** A failed llama.cpp call or load; the message names the file and says what went wrong. */
export class LlamaCppError extends AlphaUmiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("llama_cpp", message, options);
  }
}

/** Check a GGUF path before llama.cpp sees it: a missing, unreadable or non-GGUF file is the user's mistake. */
export function checkGgufFile(path: string, what = "GGUF file"): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${what} ${path}: not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as { code?: string }).code;
    throw new UserError(`${what} ${path}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? (err as Error).message})`}`);
  }
  const head = Buffer.alloc(4);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new UserError(`${what} ${path}: cannot read it (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
  if (size < 4 || head.readUInt32LE(0) !== GGUF_MAGIC) throw new UserError(`${what} ${path}: not a GGUF file (it does not start with "GGUF")`);
}

/** llama.cpp's log lines, kept so a failed load can say why (llama.cpp only logs the reason). */
class LogTail {
  private lines: string[] = [];
  add(message: string): void {
    const line = message.trim();
    if (!line) return;
    this.lines.push(line);
    if (this.lines.length > 50) this.lines.shift();
  }
  /** The most telling recent line: an error, else a failure, else the last one. */
  reason(): string | undefined {
    const pick = (re: RegExp) => [...this.lines].reverse().find((l) => re.test(l));
    const line = pick(/corrupt|not within|invalid|failed to read/i) ?? pick(/error/i) ?? this.lines.at(-1);
    return line?.replace(/^[a-z_]+:\s*/i, "");
  }
  clear(): void {
    this.lines = [];
  }
}

const llamaLog = new LogTail();
let binding: Promise<Llama> | undefined;

export interface CpuSnapshot {
  idle: number;
  own: NodeJS.CpuUsage;
  at: number;
}

function cpuSnapshot(): CpuSnapshot {
  return { idle: cpus().reduce((sum, c) => sum + c.times.idle, 0), own: process.cpuUsage(), at: performance.now() };
}

/**
 * The cores other processes left to this one between two snapshots: idle CPU time plus this process's own, rounded
 * down unless within a quarter core of the next (at least 1, at most `availableParallelism()`). A core another process
 * uses part of the time counts as taken: llama.cpp's threads meet at a spin barrier after every operation, so one
 * thread that loses its core stalls all the others.
 */
function freeBetween(from: CpuSnapshot, to: CpuSnapshot): number {
  const own = (to.own.user - from.own.user + to.own.system - from.own.system) / 1000;
  const free = (to.idle - from.idle + own) / Math.max(1, to.at - from.at);
  return Math.max(1, Math.min(availableParallelism(), Math.floor(free + 0.25)));
}

/** The cores other processes leave to this one, over a short sample (see {@link freeBetween}). */
export async function freeCores(sampleMs = 200): Promise<number> {
  const from = cpuSnapshot();
  await new Promise((r) => setTimeout(r, sampleMs));
  return freeBetween(from, cpuSnapshot());
}

/**
 * Weights per CPU thread worth running: below this, a token's matrix work is too small to pay for llama.cpp's
 * per-operation barrier. On this project's 2-core machine the 9 MB fixture ran its 8 demo calls in 0.5 s on 1 thread
 * and 72 s on 2, and the 212 MB bench model 35 s against 316 s (both with the machine busy, see docs/llama.md).
 */
export const BYTES_PER_THREAD = 256 * 2 ** 20;

/** The most threads a model of this many bytes is worth: one per {@link BYTES_PER_THREAD}, at least 1, at most the cores. */
export function modelThreads(bytes: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(bytes / BYTES_PER_THREAD)));
}

/** How often the thread budget follows the machine while calls run. */
export const GOVERN_MS = 250;

/**
 * The process's llama.cpp thread budget: node-llama-cpp's `llama.maxThreads`, which bounds every evaluation (contexts
 * evaluating at once split it). ALPHA_UMI_LLAMA_THREADS pins it. Otherwise, while calls run, it follows the cores other
 * processes leave free, sampled every {@link GOVERN_MS} (a run that gets busy mid-way drops to what is left within a
 * quarter second, and rises again when the others finish), never above what the loaded models are worth
 * ({@link modelThreads}) and never below a role's own `threads` option.
 */
export class ThreadGovernor {
  private llama: Llama | undefined;
  private pinned: number | undefined;
  private cap = 1;
  private floor = 1;
  private running = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = cpuSnapshot();
  /** The budget set last (1 until a call has run). */
  budget = 1;

  /** `freeCores`: the cores free since the last sample (tests pass their own). */
  constructor(private readonly freeCores: (since: CpuSnapshot, now: CpuSnapshot) => number = freeBetween) {}

  attach(llama: Llama, pinned?: number): void {
    this.llama = llama;
    this.pinned = pinned;
    this.apply(1);
  }
  /** A model of this many bytes is loaded. */
  addModel(bytes: number): void {
    this.cap = Math.max(this.cap, modelThreads(bytes));
  }
  /** A role asked for this many threads. */
  addRoleThreads(threads: number): void {
    this.floor = Math.max(this.floor, threads);
    this.apply(this.budget);
  }
  /** A call starts: the budget follows the machine until the last running call leaves. */
  enter(): void {
    if (this.running++ > 0) return;
    // What others used while no call ran decides the first budget.
    if (performance.now() - this.last.at >= GOVERN_MS) this.sample();
    else this.apply(this.budget);
    this.timer = setInterval(() => this.sample(), GOVERN_MS);
    this.timer.unref();
  }
  leave(): void {
    if (--this.running > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
  private sample(): void {
    const now = cpuSnapshot();
    const free = this.freeCores(this.last, now);
    this.last = now;
    this.apply(free);
  }
  private apply(free: number): void {
    this.budget = this.pinned ?? Math.max(this.floor, Math.min(this.cap, free));
    if (this.llama) this.llama.maxThreads = this.budget;
  }
}

const threadGovernor = new ThreadGovernor();

/**
 * The prebuilt llama.cpp binary for this platform (CUDA/Vulkan/Metal when usable, else CPU), loaded once. Its thread
 * budget is steered by {@link ThreadGovernor}; node-llama-cpp's own, max(4, cores), made every context on 2 cores spin
 * 4 threads (a 256-token prompt: 64 s instead of 0.55 s).
 */
/**
 * node-llama-cpp, an optional peer dependency (its binaries weigh hundreds of MB, and only `llama:` specs use it):
 * missing, it is one line saying how to install it.
 */
export async function nodeLlamaCpp(): Promise<typeof import("node-llama-cpp")> {
  try {
    return await import("node-llama-cpp");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_MODULE_NOT_FOUND" && /'node-llama-cpp'/.test(e.message))
      throw new UserError("llama: model specs need the optional package node-llama-cpp, which is not installed: npm install node-llama-cpp");
    throw err;
  }
}

function sharedLlama(): Promise<Llama> {
  binding ??= nodeLlamaCpp().then(async ({ getLlama, LlamaLogLevel }) => {
    let pinned: number | undefined;
    try {
      pinned = envThreads();
    } catch (err) {
      binding = undefined;
      throw err;
    }
    try {
      const llama = await getLlama({
        build: "never",
        progressLogs: false,
        maxThreads: pinned ?? 1,
        logLevel: LlamaLogLevel.warn,
        // llama.cpp's warnings (e.g. a context shorter than the training one) would interleave with the CLI's output;
        // they are kept to explain a failed load instead.
        logger: (_level, message) => llamaLog.add(message),
      });
      threadGovernor.attach(llama, pinned);
      return llama;
    } catch (err) {
      binding = undefined;
      throw new LlamaCppError(
        `llama.cpp: no usable prebuilt binary for ${process.platform}-${process.arch} (${(err as Error).message.split("\n")[0]}); reinstall node-llama-cpp with its optional @node-llama-cpp/* packages`,
        { cause: err },
      );
    }
  });
  return binding;
}

/** llama.cpp's log lines reach JS through a queue: a failure can reject before its reason has been logged. */
function logsArrive(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}

export interface SequenceSlot {
  completion: LlamaCompletion;
  sequence: LlamaContextSequence;
}

/** How many leading tokens two token lists share. */
function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * A role's context and its pool of sequences (one call at a time per sequence). A call takes the free sequence whose
 * evaluated tokens share the longest prefix with its prompt: a thread's next step finds its τ still in the KV cache and
 * evaluates only the new tokens, while other threads keep theirs in the other sequences.
 */
export class SequencePool {
  private free: SequenceSlot[];
  private waiting: ((s: SequenceSlot) => void)[] = [];
  constructor(
    readonly context: LlamaContext,
    private readonly slots: readonly SequenceSlot[],
  ) {
    this.free = [...slots];
  }
  /** The context's sequences; each one's `contextTokens` is what llama.cpp last evaluated on it. */
  get sequences(): LlamaContextSequence[] {
    return this.slots.map((s) => s.sequence);
  }
  /** The free sequence holding the longest prefix of `tokens` (as evaluated: BOS first), else the next one freed. */
  async acquire(tokens: readonly Token[] = [], signal?: AbortSignal): Promise<SequenceSlot> {
    if (this.free.length) {
      // Ties (an empty sequence against one that shares only BOS) go to the one holding fewer tokens.
      const score = (s: SequenceSlot) => {
        const held = s.sequence.contextTokens;
        return commonPrefix(held, tokens) * 2 ** 20 - held.length;
      };
      let best = 0;
      this.free.forEach((s, i) => {
        if (score(s) > score(this.free[best]!)) best = i;
      });
      return this.free.splice(best, 1)[0]!;
    }
    return await new Promise<SequenceSlot>((res, rej) => {
      const take = (s: SequenceSlot) => (signal?.removeEventListener("abort", onAbort), res(s));
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== take);
        rej(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(take);
    });
  }
  release(slot: SequenceSlot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

export interface ContextRequest {
  modelPath: string;
  adapterPath?: string;
  loraScale?: number;
  numCtx: number;
  sequences: number;
  gpuLayers?: number | "auto";
  threads?: number;
}

/**
 * Loads llama.cpp once per process, each base GGUF once, and hands out contexts (one per role model, with its LoRA
 * adapter). `loads` counts base-model loads, so tests can check that three adapters share one base.
 */
export class LlamaRuntime {
  loads = 0;
  private readonly models = new Map<string, Promise<LlamaModel>>();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  readonly log = llamaLog;
  /** The process's thread budget (shared by every runtime, as the binding is). */
  readonly threads = threadGovernor;

  /** The llama.cpp binding (one per process: llama.cpp's log callback is process-wide). */
  getLlama(): Promise<Llama> {
    return sharedLlama();
  }

  /** The loaded base model of this path (loaded on first request). */
  model(path: string, gpuLayers?: number | "auto"): Promise<LlamaModel> {
    const key = resolve(path);
    let m = this.models.get(key);
    if (!m) {
      m = this.load(key, gpuLayers);
      this.models.set(key, m);
      m.catch(() => this.models.delete(key));
    }
    return m;
  }

  private async load(path: string, gpuLayers?: number | "auto"): Promise<LlamaModel> {
    checkGgufFile(path, "llama model");
    const llama = await this.getLlama();
    this.log.clear();
    try {
      const model = await llama.loadModel({ modelPath: path, ...(gpuLayers !== undefined ? { gpuLayers } : {}) });
      this.loads++;
      this.threads.addModel(model.size);
      return model;
    } catch (err) {
      await logsArrive();
      throw new UserError(`llama model ${path}: llama.cpp cannot load it: ${this.log.reason() ?? (err as Error).message}`);
    }
  }

  /** A new context on the base model with the adapter applied, and its sequences. */
  async context(req: ContextRequest): Promise<SequencePool> {
    const model = await this.model(req.modelPath, req.gpuLayers);
    if (req.adapterPath) checkGgufFile(req.adapterPath, "LoRA adapter");
    const { LlamaCompletion } = await nodeLlamaCpp();
    const threads = req.threads;
    // A role's own thread count is used as given, even above the shared budget.
    if (threads !== undefined) this.threads.addRoleThreads(threads);
    this.log.clear();
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: req.numCtx,
        sequences: req.sequences,
        // 0: each evaluation wants the budget of the moment (node-llama-cpp reads llama.maxThreads when it starts).
        threads: threads ?? 0,
        ...(req.adapterPath ? { lora: { adapters: [{ filePath: resolve(req.adapterPath), scale: req.loraScale ?? 1 }] } } : {}),
      });
    } catch (err) {
      await logsArrive();
      const where = req.adapterPath ? `LoRA adapter ${req.adapterPath} on ${req.modelPath}` : `llama model ${req.modelPath}`;
      throw new UserError(`${where}: llama.cpp cannot create a ${req.numCtx}-token context: ${this.log.reason() ?? (err as Error).message}`);
    }
    const slots = Array.from({ length: req.sequences }, () => {
      const sequence = context.getSequence();
      return { sequence, completion: new LlamaCompletion({ contextSequence: sequence }) };
    });
    return new SequencePool(context, slots);
  }

  /** A JSON-schema grammar (compiled once per schema). */
  grammar(schema: JsonSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      g = this.getLlama().then((llama) => llama.createGrammarForJsonSchema(gbnfSchema(schema) as never));
      this.grammars.set(key, g);
      g.catch(() => this.grammars.delete(key));
    }
    return g;
  }

  /**
   * Free this runtime's models and their contexts (the runtime can be used again afterwards: it loads anew). A model
   * still busy after a few seconds (a load or an evaluation that does not end) is left for the process's exit to
   * free, rather than holding up the caller's shutdown.
   */
  async dispose(): Promise<void> {
    const models = [...this.models.values()];
    this.models.clear();
    this.grammars.clear();
    const waited = (p: Promise<unknown>) =>
      Promise.race([p.catch(() => undefined), new Promise<void>((res) => setTimeout(res, DISPOSE_WAIT_MS).unref())]);
    await Promise.all(models.map((m) => waited(m.then((x) => x.dispose()))));
  }
}

/**
 * A JSON schema in the dialect node-llama-cpp compiles to a grammar: it knows `oneOf` but not `anyOf` (an unknown
 * keyword would leave the value unconstrained), and for a grammar the two are the same union of alternatives.
 */
export function gbnfSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(gbnfSchema);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k === "anyOf" ? "oneOf" : k, k === "enum" || k === "const" ? v : gbnfSchema(v)]));
}

const DISPOSE_WAIT_MS = 5_000;

/** The process-wide runtime every `llama:` spec uses. */
export const llamaRuntime = new LlamaRuntime();

/**
 * A role model run in-process by llama.cpp, as a LangChain LLM. It completes the protocol prompt raw (BOS first,
 * written `</s>`/`<s>` as special tokens) and stops at EOS, at `</s>` and at the call's `stop` strings; a call's
 * `format` (JSON schema) constrains the reply by grammar; `raw: false` wraps the prompt in the model's chat template.
 *
 * @example
 * const planner = new LlamaCppModel({ modelPath: "base.gguf", adapterPath: "planner.gguf", role: "planner" });
 * const text = await planner.invoke(prompt, { stop: ["</s>"] });
 */
export class LlamaCppModel extends LLM<LlamaCallOptions> {
  readonly modelPath: string;
  readonly adapterPath: string | undefined;
  readonly role: Role | undefined;
  readonly settings: LlamaRoleOptions & typeof LLAMA_DEFAULTS;
  private readonly runtime: LlamaRuntime;
  private pool: Promise<SequencePool> | undefined;

  constructor(params: LlamaCppModelParams) {
    super(params);
    this.modelPath = resolve(params.modelPath);
    this.adapterPath = params.adapterPath ? resolve(params.adapterPath) : undefined;
    this.role = params.role;
    this.runtime = params.runtime ?? llamaRuntime;
    const given = Object.fromEntries(ROLE_OPTION_KEYS.filter((k) => params[k] !== undefined).map((k) => [k, params[k]]));
    this.settings = { ...LLAMA_DEFAULTS, ...given } as LlamaRoleOptions & typeof LLAMA_DEFAULTS;
    for (const key of ["numCtx", "numPredict", "concurrency", "timeoutMs"] as const) {
      const v = this.settings[key];
      if (!(Number.isInteger(v) && v > 0)) throw new UserError(`llama model ${this.where()}: ${key} ${v} is not a positive integer`);
    }
  }

  _llmType(): string {
    return "alpha-umi-llama-cpp";
  }

  /** What the prompt budget fits into: this model's context size and reply length. */
  get contextWindow(): { numCtx: number; numPredict: number } {
    return { numCtx: this.settings.numCtx, numPredict: this.settings.numPredict };
  }

  private where(): string {
    return this.adapterPath ? `${this.modelPath}+${this.adapterPath}` : this.modelPath;
  }

  /** Load the base (once per process) and create this model's context; calls do it on first use. */
  load(): Promise<SequencePool> {
    this.pool ??= this.runtime.context({
      modelPath: this.modelPath,
      adapterPath: this.adapterPath,
      loraScale: this.settings.loraScale,
      numCtx: this.settings.numCtx,
      sequences: this.settings.concurrency,
      gpuLayers: this.settings.gpuLayers,
      threads: this.settings.threads,
    });
    this.pool.catch(() => (this.pool = undefined));
    return this.pool;
  }

  /** The tokens a prompt is evaluated as, BOS excluded (node-llama-cpp prepends it): specials parsed. */
  async promptTokens(prompt: string, raw = true): Promise<Token[]> {
    const model = (await this.load()).context.model;
    if (raw) return model.tokenize(prompt, true);
    const { resolveChatWrapper, GeneralChatWrapper } = await nodeLlamaCpp();
    const wrapper = resolveChatWrapper(model) ?? new GeneralChatWrapper();
    const { contextText } = wrapper.generateContextState({ chatHistory: [{ type: "user", text: prompt }, { type: "model", response: [] }] });
    const tokens = contextText.tokenize(model.tokenizer);
    return tokens[0] === model.tokens.bos ? tokens.slice(1) : tokens;
  }

  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    const s = this.settings;
    const pool = await this.load();
    const timeout = AbortSignal.timeout(s.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const tokens = await this.promptTokens(prompt, options.raw !== false);
    const free = s.numCtx - tokens.length - 1;
    if (free < 1)
      throw new LlamaCppError(
        `llama model ${this.where()}: the prompt has ${tokens.length + 1} tokens but the context is ${s.numCtx}; raise numCtx or use fewer tools`,
      );
    const grammar = options.format ? await this.runtime.grammar(options.format) : undefined;
    let slot: SequenceSlot | undefined;
    let entered = false;
    try {
      const { bos, shouldPrependBosToken } = pool.context.model.tokens;
      slot = await pool.acquire(shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens, signal);
      this.runtime.threads.enter();
      entered = true;
      return await slot.completion.generateCompletion(tokens, {
        signal,
        maxTokens: Math.min(s.numPredict, free),
        disableContextShift: true,
        temperature: s.temperature ?? 0,
        ...(s.topK !== undefined ? { topK: s.topK } : {}),
        ...(s.topP !== undefined ? { topP: s.topP } : {}),
        ...(s.seed !== undefined ? { seed: s.seed } : {}),
        repeatPenalty: false,
        grammar,
        customStopTriggers: options.stop?.length ? options.stop : ["</s>"],
      });
    } catch (err) {
      if (options.signal?.aborted) throw new LlamaCppError(`llama model ${this.where()}: call aborted`, { cause: err });
      if (timeout.aborted) throw new LlamaCppError(`llama model ${this.where()}: no reply within ${s.timeoutMs / 1000} s`, { cause: err });
      throw new LlamaCppError(`llama model ${this.where()}: ${(err as Error).message}`, { cause: err });
    } finally {
      if (entered) this.runtime.threads.leave();
      if (slot) pool.release(slot);
    }
  }
}

/**
 * Parse the path part of a `llama:` spec: `BASE.gguf` or `BASE.gguf+ADAPTER.gguf`.
 *
 * @example
 * parseLlamaSpec("models/base.gguf+models/planner.gguf"); // { modelPath: "models/base.gguf", adapterPath: "models/planner.gguf" }
 */
export function parseLlamaSpec(rest: string): { modelPath: string; adapterPath?: string } {
  // A "+" may occur in a file name; the split is at the "+" that follows ".gguf".
  const m = /^(.+?\.gguf)\+(.+)$/i.exec(rest);
  const modelPath = m ? m[1]! : rest;
  const adapterPath = m ? m[2] : undefined;
  if (!modelPath) throw new UserError(`model spec "llama:${rest}": no GGUF path after llama: (expected llama:BASE.gguf or llama:BASE.gguf+ADAPTER.gguf)`);
  return adapterPath ? { modelPath, adapterPath } : { modelPath };
}

/**
 * The model of a `llama:BASE.gguf[+ADAPTER.gguf]` spec for a role, with that role's settings (keys other providers
 * use are ignored). The files are checked now, so a wrong path fails before the run starts.
 *
 * @example
 * const caller = llamaModelFromSpec("base.gguf+caller.gguf", "caller", { numCtx: 4096, concurrency: 4 });
 */
export function llamaModelFromSpec(rest: string, role: Role, options: Partial<Record<string, unknown>> = {}): LlamaCppModel {
  const paths = parseLlamaSpec(rest);
  checkGgufFile(paths.modelPath, "llama model");
  if (paths.adapterPath) checkGgufFile(paths.adapterPath, "LoRA adapter");
  const picked = Object.fromEntries(ROLE_OPTION_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as LlamaRoleOptions;
  return new LlamaCppModel({ ...picked, ...paths, role });
}
