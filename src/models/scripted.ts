import { LLM } from "@langchain/core/language_models/llms";
import { UserError } from "../errors.js";

/** One scripted reply: text, an error to throw, a function of the prompt, or text after a delay. */
export type ScriptStep = string | Error | ((prompt: string) => string | Promise<string>) | { output: string; delayMs: number };

/**
 * A model that answers from a script and records every prompt it saw: for users' own jest scenarios.
 * Each call takes the next step; past the end it throws, so a scenario cannot silently loop.
 *
 * @example
 * const planner = new ScriptedModel([plan("Look it up.", "caller"), plan("Done.", "conclusion")]);
 * createAlphaUmiGraph({ tools, models: { planner, caller, summarizer } }); planner.prompts[0]; // the first prompt it saw
 */
export class ScriptedModel extends LLM {
  readonly prompts: string[] = [];
  private next = 0;

  constructor(
    private readonly script: ScriptStep[],
    readonly label: string = "scripted",
  ) {
    super({});
  }

  _llmType(): string {
    return "alpha-umi-scripted";
  }

  /** How many scripted steps are still unused. */
  get remaining(): number {
    return this.script.length - this.next;
  }

  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    this.prompts.push(prompt);
    if (this.next >= this.script.length)
      throw new UserError(`ScriptedModel(${this.label}): script exhausted after ${this.script.length} call(s)`);
    const step = this.script[this.next++]!;
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step(prompt);
    if (typeof step === "string") return step;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, step.delayMs);
      options.signal?.addEventListener("abort", () => (clearTimeout(timer), reject(new Error("aborted"))), { once: true });
    });
    return step.output;
  }
}

export interface ScriptedRoles {
  planner: ScriptedModel;
  caller: ScriptedModel;
  summarizer: ScriptedModel;
}

/**
 * One ScriptedModel per α-UMi role.
 *
 * @example
 * const models = scriptedRoles({
 *   planner: ["Check the weather.\n Next: caller.", "Warm enough.\n Next: conclusion."],
 *   caller: ['Action: current_weather_for_meteo\nAction Input: {"city": "Lisbon"}'],
 *   summarizer: ["Yes, 21 °C."],
 * });
 * const state = await createAlphaUmiGraph({ tools: [weather], models }).invoke({ instruction: "Is it warm in Lisbon?" }, { configurable: { thread_id: "s" } });
 * models.caller.prompts[0]; // the caller's prompt, with the planner's rationale
 */
export function scriptedRoles(script: { planner?: ScriptStep[]; caller?: ScriptStep[]; summarizer?: ScriptStep[] }): ScriptedRoles {
  return {
    planner: new ScriptedModel(script.planner ?? [], "planner"),
    caller: new ScriptedModel(script.caller ?? [], "caller"),
    summarizer: new ScriptedModel(script.summarizer ?? [], "summarizer"),
  };
}
