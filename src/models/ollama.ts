import { LLM, type BaseLLMParams } from "@langchain/core/language_models/llms";
import { Ollama } from "ollama";

export const DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434";

export interface OllamaRawOptions extends BaseLLMParams {
  model: string;
  host?: string;
  options?: Record<string, unknown>;
}

/** An Ollama model prompted with the raw protocol text (`raw: true`: no chat template), stopping at `</s>`. */
export class OllamaRawModel extends LLM {
  readonly model: string;
  readonly host: string;
  private readonly client: Ollama;
  private readonly options: Record<string, unknown>;

  constructor(opts: OllamaRawOptions) {
    super(opts);
    this.model = opts.model;
    this.host = opts.host || process.env.OLLAMA_HOST || DEFAULT_OLLAMA_URL;
    this.options = { num_predict: 512, ...opts.options };
    this.client = new Ollama({ host: this.host });
  }

  _llmType(): string {
    return "alpha-umi-ollama-raw";
  }

  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    try {
      const res = await this.client.generate({
        model: this.model,
        prompt,
        raw: true,
        stream: false,
        options: { ...this.options, stop: options.stop ?? ["</s>"] },
      });
      return res.response ?? "";
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`Ollama at ${this.host}, model ${this.model}: ${msg}. Is \`ollama serve\` running there and the model created?`);
    }
  }
}
