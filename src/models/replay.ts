import { LLM, type BaseLLMParams } from "@langchain/core/language_models/llms";
import { contentText, type RoleModel, type Role } from "./generate.js";
import { CassetteWriter, promptSha256, readCassette } from "./cassette.js";
import { contextWindowOf, loadContextWindow, type ContextWindow } from "./window.js";
import { AlphaUmiError } from "../errors.js";

/**
 * Replays a cassette: each exact prompt (by SHA-256 of its UTF-8 bytes) gets its recorded outputs in order, then the
 * last one again. A prompt that differs by one byte misses, which is the point: it proves prompts are byte-exact.
 *
 * @example
 * const planner = new ReplayModel("run.jsonl", "planner"); // the same as the spec "replay:run.jsonl"
 */
export class ReplayModel extends LLM {
  private readonly byHash: Map<string, string[]>;
  private readonly served = new Map<string, number>();

  constructor(
    readonly path: string,
    readonly role: string = "model",
    params: BaseLLMParams = {},
  ) {
    super(params);
    this.byHash = readCassette(path);
  }

  _llmType(): string {
    return "alpha-umi-replay";
  }

  async _call(prompt: string): Promise<string> {
    const hash = promptSha256(prompt);
    const outputs = this.byHash.get(hash);
    if (!outputs) throw new AlphaUmiError("model_call", `replay cassette ${this.path} has no output for the ${this.role} prompt with sha256 ${hash}`);
    const n = this.served.get(hash) ?? 0;
    this.served.set(hash, n + 1);
    return outputs[Math.min(n, outputs.length - 1)]!;
  }
}

/**
 * Wraps any model and appends each (prompt, output) to a cassette that `replay:` can play back. It is transparent to
 * the role's codec: the inner model's context window is its own.
 *
 * @example
 * const planner = new RecordingModel(myChatModel, "planner", new CassetteWriter("run.jsonl")); // then replay:run.jsonl
 */
export class RecordingModel extends LLM {
  constructor(
    readonly inner: RoleModel,
    readonly role: Role,
    readonly writer: CassetteWriter,
  ) {
    super({});
  }

  get contextWindow(): ContextWindow | undefined {
    return contextWindowOf(this.inner);
  }

  loadContextWindow(): Promise<void> {
    return loadContextWindow(this.inner);
  }

  /** Where the inner model runs, if it says (timeouts name it). */
  get servedAt(): string | undefined {
    const where = (this.inner as { servedAt?: unknown }).servedAt;
    return typeof where === "string" ? where : undefined;
  }

  _llmType(): string {
    return "alpha-umi-recording";
  }

  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    // Every call option goes through (stop, signal, an instruct call's `format`): recording must not change the call.
    const out = await this.inner.invoke(prompt, options);
    const text = contentText(out);
    this.writer.write(this.role, prompt, text);
    return text;
  }
}
