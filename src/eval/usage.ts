/**
 * Per-role model usage of one run, counted by a LangChain callback handler: the nodes tag every model call with
 * `alpha-umi:ROLE` (models/generate.ts), so the handler sees calls, prompts, outputs and timing without wrapping the
 * models (a wrapper would hide an Ollama model's prompt profile from the nodes).
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { LLMResult } from "@langchain/core/outputs";
import type { Role } from "../models/index.js";
import { ROLES } from "../models/generate.js";
import type { TokenCounter } from "../protocol/tokens.js";

export interface RoleUsage {
  /** Model calls, failed ones included. */
  calls: number;
  /** LLaMA-2 tokens of the prompts (BOS included) and of the outputs, as the checkpoints' tokenizer counts them. */
  prompt_tokens: number;
  completion_tokens: number;
  /** Wall time of the calls, start to end or error. */
  ms: number;
}

export type Usage = Partial<Record<Role, RoleUsage>>;

const TAG = "alpha-umi:";

function roleOf(tags: readonly string[] | undefined): Role | undefined {
  const tag = tags?.find((t) => t.startsWith(TAG))?.slice(TAG.length);
  return (ROLES as readonly string[]).includes(tag ?? "") ? (tag as Role) : undefined;
}

export class UsageCounter extends BaseCallbackHandler {
  name = "alpha-umi-usage";
  readonly usage: Usage = {};
  private readonly open = new Map<string, { role: Role; t0: number }>();

  constructor(private readonly tokens: TokenCounter) {
    // Awaited, not queued in the background: latency is measured at the call itself and every call is counted by the
    // time the run returns.
    super({ _awaitHandler: true });
  }

  private entry(role: Role): RoleUsage {
    return (this.usage[role] ??= { calls: 0, prompt_tokens: 0, completion_tokens: 0, ms: 0 });
  }

  override handleLLMStart(_llm: unknown, prompts: string[], runId: string, _parent?: string, _extra?: unknown, tags?: string[]): void {
    const role = roleOf(tags);
    if (!role) return;
    const u = this.entry(role);
    u.calls++;
    for (const p of prompts) u.prompt_tokens += this.tokens.count(p);
    this.open.set(runId, { role, t0: performance.now() });
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    const call = this.finish(runId);
    // The counter adds a BOS to whole prompts; an output has none.
    if (call) for (const g of output.generations.flat()) call.completion_tokens += this.tokens.count(g.text) - 1;
  }

  override handleLLMError(_err: Error, runId: string): void {
    this.finish(runId);
  }

  private finish(runId: string): RoleUsage | undefined {
    const call = this.open.get(runId);
    if (!call) return undefined;
    this.open.delete(runId);
    const u = this.entry(call.role);
    u.ms += performance.now() - call.t0;
    return u;
  }
}
