/**
 * One codec per role: everything between τ and a model. `render` turns the state into the exact prompt and call
 * options the role's model gets (templates, context fitting, the instruct templates' JSON schema); `read` turns the
 * model's text back into τ turns and the decision. Nodes, `eval steps`, `eval cassette`, `--record` and the GLPFT data
 * all take prompts from here, so what is recorded is byte for byte what was sent.
 */
import {
  DEFAULT_TEMPLATES,
  formatCall,
  parseBackbone,
  parseCaller,
  parsePlanner,
  renderRolePrompt,
  renderToolDocs,
  type JsonSchema,
  type Templates,
  type TokenBudget,
} from "../protocol/index.js";
import { DEFAULT_BUDGET, fitHistory, promptLimit } from "../protocol/budget.js";
import { instructOutputToText } from "../protocol/instruct.js";
import { cutAtEos, decisionTurn, normaliseEmpty } from "../protocol/parse.js";
import { instructFormat } from "../protocol/instruct.js";
import { isTemplateVariant } from "../protocol/templates.js";
import type { Role } from "../models/generate.js";
import type { ContextWindow } from "../models/window.js";
import { REFERENCE_SLACK, truncateLeft } from "../models/truncate.js";
import { countTokens } from "../protocol/tokens.js";
import type { Decision, ToolDoc, Turn } from "../state.js";

/**
 * @example
 * createAlphaUmiGraph({ tools, models, contextPolicy: "reference" }); // one of CONTEXT_POLICIES
 */
export const CONTEXT_POLICIES = ["elide", "reference", "none"] as const;
/**
 * What to do with a prompt longer than the model's context window:
 * - `elide` (default for a bounded model): drop the oldest steps after the instruction, with a marker turn; tool
 *   documents, instruction and the current plan stay;
 * - `reference`: the official pipeline's left truncation to the last `num_ctx − num_predict − 8` tokens (it drops
 *   BOS, tool documents and instruction first) — to reproduce the paper's numbers;
 * - `none`: send the full prompt (what an unbounded model, a replay or a scripted model gets by default).
 */
export type ContextPolicy = (typeof CONTEXT_POLICIES)[number];

/**
 * @example
 * if (!isContextPolicy(flag)) throw new UserError(`--context-policy ${flag}: expected ${CONTEXT_POLICIES.join(", ")}`);
 */
export function isContextPolicy(v: string): v is ContextPolicy {
  return (CONTEXT_POLICIES as readonly string[]).includes(v);
}

/** Call options a role model is invoked with (besides signal and callbacks). */
export interface RoleCallOptions {
  stop: string[];
  /** True: the prompt is sent as is (α-UMi templates); false: the model wraps it in its own chat template (instruct). */
  raw: boolean;
  /** A JSON schema the reply must follow (instruct templates' planner and caller). */
  format?: JsonSchema;
}

/** Streamed to `custom` stream-mode listeners (the CLI prints it); τ itself keeps every turn. */
export interface ElisionEvent {
  kind: "elision";
  role: Role;
  policy: ContextPolicy;
  /** τ turns left out (elide), or 0 (reference cuts tokens, not turns). */
  elided: number;
  /** Tokens dropped from the left (reference). */
  dropped?: number;
  tokens: number;
  budget: number;
  fits: boolean;
}

export interface RenderedPrompt {
  role: Role;
  prompt: string;
  callOptions: RoleCallOptions;
  /** Set when the prompt had to be fitted to the context window. */
  elision?: ElisionEvent;
}

export interface Reading {
  /** The model's text as α-UMi τ text (an instruct reply converted). */
  text: string;
  /** The turns the role adds to τ. */
  turns: Turn[];
  decision: Decision;
  /** The call written (caller, or a backbone that calls). */
  call?: { action: string; actionInput: string };
  /** The final answer (summarizer, or a backbone that concludes). */
  answer?: string;
}

export interface CodecOptions {
  templates?: Templates;
  /** The model's context window; absent: unbounded. */
  window?: ContextWindow;
  /** Default: `elide` for a bounded model, `none` otherwise. */
  policy?: ContextPolicy;
}

/** What a codec renders from: the tools and τ up to the turn the role writes (a plain slice of the graph state). */
export interface CodecInput {
  tools: readonly ToolDoc[];
  turns: readonly Turn[];
}

// Tool documents repeat in every prompt of a run: serialise them once per tool list.
const docCache = new WeakMap<readonly ToolDoc[], string>();
function docsOf(tools: readonly ToolDoc[]): string {
  let doc = docCache.get(tools);
  if (doc === undefined) docCache.set(tools, (doc = renderToolDocs(tools)));
  return doc;
}

/**
 * The codec of one role.
 *
 * @example
 * ```ts
 * import { RoleCodec } from "alpha-umi/codec";
 * const codec = new RoleCodec("planner", { templates: "toolbench", window: { numCtx: 4096, numPredict: 512 } });
 * const { prompt, callOptions } = await codec.render({ tools: [], turns: [{ from: "user", value: "Hi" }] });
 * const { decision } = codec.read("Nothing to call.\n Next: conclusion."); // "conclusion"
 * ```
 */
export class RoleCodec {
  readonly templates: Templates;
  readonly window: ContextWindow | undefined;
  readonly policy: ContextPolicy;

  constructor(
    readonly role: Role,
    opts: CodecOptions = {},
  ) {
    this.templates = opts.templates ?? DEFAULT_TEMPLATES;
    this.window = opts.window;
    this.policy = opts.policy ?? (opts.window ? "elide" : "none");
    if (this.policy !== "none" && !this.window) this.window = DEFAULT_BUDGET;
  }

  /** True for the α-UMi training prompts (sent raw); false for the instruct templates. */
  get alphaUmi(): boolean {
    return isTemplateVariant(this.templates);
  }

  /** The role's full prompt over this history, with no context fitting (training data, unbounded models). */
  prompt(tools: readonly ToolDoc[], history: readonly Turn[]): string {
    return renderRolePrompt(this.role, { tools, history, doc: docsOf(tools) }, this.templates);
  }

  callOptions(tools: readonly ToolDoc[]): RoleCallOptions {
    const format = this.alphaUmi ? undefined : instructFormat(this.role, tools);
    return { stop: ["</s>"], raw: this.alphaUmi, ...(format ? { format } : {}) };
  }

  /** The exact prompt and call options the model gets for this state. */
  async render(input: CodecInput): Promise<RenderedPrompt> {
    const { tools, turns } = input;
    const callOptions = this.callOptions(tools);
    if (this.policy === "none" || !this.window) return { role: this.role, prompt: this.prompt(tools, turns), callOptions };
    const budget = promptLimit(this.window);
    if (this.policy === "elide") {
      const fit = await fitHistory(this.role, { tools, history: turns, doc: docsOf(tools), templates: this.templates }, this.window);
      const elision: ElisionEvent | undefined =
        fit.elided > 0 || !fit.fits ? { kind: "elision", role: this.role, policy: "elide", elided: fit.elided, tokens: fit.tokens, budget, fits: fit.fits } : undefined;
      return { role: this.role, prompt: fit.prompt, callOptions, ...(elision ? { elision } : {}) };
    }
    const full = this.prompt(tools, turns);
    const keep = budget - REFERENCE_SLACK;
    const cut = await truncateLeft(full, keep);
    if (cut.dropped === 0) return { role: this.role, prompt: full, callOptions };
    const elision: ElisionEvent = { kind: "elision", role: this.role, policy: "reference", elided: 0, dropped: cut.dropped, tokens: await countTokens(cut.text), budget: keep, fits: true };
    return { role: this.role, prompt: cut.text, callOptions, elision };
  }

  /** The model's text as τ turns and the decision. A bad output never throws: the agent recovers from what it reads. */
  read(output: string): Reading {
    const said = cutAtEos(output);
    const text = this.alphaUmi ? said : instructOutputToText(this.role, said);
    switch (this.role) {
      case "planner": {
        const { plan, decision } = parsePlanner(text);
        return { text, turns: [{ from: "assistant", value: plan }], decision };
      }
      case "caller": {
        const { action, actionInput } = parseCaller(text);
        return { text, turns: [{ from: "caller", value: formatCall(action, actionInput) }], decision: "caller", call: { action, actionInput } };
      }
      case "summarizer": {
        const answer = normaliseEmpty(text);
        return { text, turns: [{ from: "conclusion", value: answer }], decision: "conclusion", answer };
      }
      case "backbone": {
        const out = parseBackbone(text);
        if (out.kind === "give up") return { text, turns: [decisionTurn(out.rationale, "give up")], decision: "give up" };
        if (out.kind === "conclusion")
          return { text, turns: [decisionTurn(out.rationale, "conclusion"), { from: "conclusion", value: out.answer }], decision: "conclusion", answer: out.answer };
        const plan = decisionTurn(out.rationale, "caller");
        const call = { action: out.action, actionInput: out.actionInput };
        return { text, turns: [plan, { from: "caller", value: formatCall(call.action, call.actionInput) }], decision: "caller", call };
      }
    }
  }
}

/** The model-boundary settings of a run, as run, eval and Studio configuration take them. */
export interface CodecSettings {
  /** The templates every role reads (default toolbench); `roleTemplates` overrides it per role. */
  templates?: Templates;
  roleTemplates?: Partial<Record<Role, Templates>>;
  contextPolicy?: ContextPolicy;
  /** Context window of every role model; bounds models that state none (replay, LangChain models). */
  numCtx?: number;
  /** Per model call; past it the run ends as failed, resumable. */
  modelTimeoutMs?: number;
}
