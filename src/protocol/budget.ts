/**
 * The token budget of a prompt. The α-UMi checkpoints have a 4096-token context and may write up to num_predict
 * tokens, so a prompt gets num_ctx − num_predict. When it would not fit, the oldest turns after the first user turn
 * are dropped, a step at a time, and one marker turn says how many: the tool documents, the instruction and the
 * current plan always stay (the reference pipeline cuts prompts from the left and loses exactly those).
 */
import { tokenCounter } from "./tokens.js";
import type { Turn } from "../state.js";
import { renderRolePrompt } from "./instruct.js";
import { renderToolDocs, type PromptInput } from "./render.js";
import type { PromptRole, Templates } from "./templates.js";

export interface TokenBudget {
  numCtx: number;
  numPredict: number;
}

/** The α-UMi checkpoints' context and the reference pipeline's max new tokens. */
export const DEFAULT_BUDGET: TokenBudget = { numCtx: 4096, numPredict: 512 };

/** How many prompt tokens a budget allows. */
export function promptLimit(b: TokenBudget): number {
  return b.numCtx - b.numPredict;
}

/** The marker turn standing where turns were elided (in the prompt only; τ keeps every turn). */
export function elisionTurn(count: number): Turn {
  return { from: "user", value: `[${count} earlier turn${count === 1 ? "" : "s"} omitted to fit the context window]` };
}

export interface FitInput extends PromptInput {
  templates?: Templates;
}

export interface FitResult {
  prompt: string;
  /** How many τ turns were left out of the prompt. */
  elided: number;
  /** The prompt's LLaMA-2 token count (BOS and each `</s>` one token; see src/models/tokens.ts). */
  tokens: number;
  /** False when even the shortest history does not fit: the prompt is then the shortest one. */
  fits: boolean;
}

/** Where each droppable unit ends: a step starts at a planner turn, so calls and their observations go with it. */
function stepEnds(history: readonly Turn[], from: number, to: number): number[] {
  const ends: number[] = [];
  for (let i = from + 1; i <= to; i++) if (i === to || history[i]!.from === "assistant") ends.push(i);
  return ends;
}

/**
 * The role's prompt with as much of the history as fits `budget`. The caller and summarizer keep the planner turn
 * they act on (the last one); everything between the first user turn and it may go, oldest step first.
 */
export async function fitHistory(role: PromptRole, input: FitInput, budget: TokenBudget = DEFAULT_BUDGET): Promise<FitResult> {
  const counter = await tokenCounter();
  const limit = promptLimit(budget);
  const base: PromptInput = { ...input, doc: input.doc ?? renderToolDocs(input.tools) };
  const render = (history: readonly Turn[]) => renderRolePrompt(role, { ...base, history }, input.templates);
  const history = input.history;

  let prompt = render(history);
  let tokens = counter.count(prompt);
  if (tokens <= limit) return { prompt, elided: 0, tokens, fits: true };

  const firstUser = history.findIndex((t) => t.from === "user");
  const keepFrom = role === "planner" ? history.length : history.length - 1;
  const start = firstUser + 1;
  for (const end of stepEnds(history, start, keepFrom)) {
    const elided = end - start;
    prompt = render([...history.slice(0, start), elisionTurn(elided), ...history.slice(end)]);
    tokens = counter.count(prompt);
    if (tokens <= limit) return { prompt, elided, tokens, fits: true };
  }
  return { prompt, elided: Math.max(0, keepFrom - start), tokens, fits: false };
}
