/**
 * Teacher-forced step runs: the REAL graph nodes on the reference history of each step (planner, then caller or
 * summarizer on the planner's own output, as at run time; or the single-LLM backbone), resumable and concurrent.
 */
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { callerNode, plannerNode, summarizerNode, backboneNode } from "../nodes/index.js";
import { failedStepPrediction, parseStepOutput, renderStepPrediction } from "../protocol/step.js";
import type { CodecSettings } from "../codec/index.js";
import { settingsConfigurable } from "../settings.js";
import type { PromptEvent } from "../nodes/common.js";
import type { RoleModel } from "../models/index.js";
import type { AgentStateType, AgentUpdate, RunStatus, Turn } from "../state.js";
import type { EvalStep } from "./steps.js";
import type { StepStore, StoredStep } from "./store.js";

export interface RoleModels {
  planner?: RoleModel | string;
  caller?: RoleModel | string;
  summarizer?: RoleModel | string;
  backbone?: RoleModel | string;
}

export interface StepRunOptions {
  models: RoleModels;
  singleLlm: boolean;
  /** Templates, context policy and window, model timeout: as in a run. */
  settings: CodecSettings;
  /** Called when a node elided the oldest turns of a prompt to fit the model's context window. */
  onElision?: () => void;
}

function stateFor(step: EvalStep, turns: Turn[]): AgentStateType {
  return { messages: [], instruction: step.instruction, tools: step.tools, turns, decision: null, steps: 0, answer: null, status: { status: "running" }, call: null, approve: "none" };
}

function failure(update: AgentUpdate): string | null {
  const status = update.status as RunStatus | undefined;
  return status?.status === "failed" ? (status.reason ?? "model call failed") : null;
}

/** One step, teacher-forced. Never throws for a model failure: the step comes back as a listed miss. */
export async function predictStep(step: EvalStep, opts: StepRunOptions): Promise<Omit<StoredStep, "ms">> {
  // The step's model input is the first prompt the nodes sent (planner or backbone), exactly as sent.
  let modelInput: string | null = null;
  const config: LangGraphRunnableConfig = {
    writer: (event: unknown) => {
      const kind = (event as { kind?: string }).kind;
      if (kind === "elision") opts.onElision?.();
      if (kind === "prompt") modelInput ??= (event as PromptEvent).prompt;
    },
    configurable: {
      ...settingsConfigurable({ ...opts.settings, models: opts.models }),
    },
  };
  const miss = (error: string, calls: number) => ({
    id: step.id,
    predictions: failedStepPrediction(parseStepOutput(step.reference).plan),
    error,
    calls,
    model_input: modelInput,
  });
  const turnsOf = (u: AgentUpdate) => (Array.isArray(u.turns) ? u.turns : u.turns ? [u.turns] : []) as Turn[];
  const first = opts.singleLlm ? await backboneNode(stateFor(step, step.history), config) : await plannerNode(stateFor(step, step.history), config);
  const err = failure(first);
  if (err) return miss(err, 1);
  const [plan, next] = turnsOf(first);
  if (!plan) return miss(`the ${opts.singleLlm ? "backbone" : "planner"} node returned no turn`, 1);
  if (opts.singleLlm || first.decision === "give up")
    return { id: step.id, predictions: renderStepPrediction(plan.value, next), error: null, calls: 1, model_input: modelInput };
  const node = first.decision === "conclusion" ? summarizerNode : callerNode;
  const second = await node(stateFor(step, [...step.history, plan]), config);
  const err2 = failure(second);
  if (err2) return miss(err2, 2);
  return { id: step.id, predictions: renderStepPrediction(plan.value, turnsOf(second)[0]), error: null, calls: 2, model_input: modelInput };
}

/**
 * Run `fn` on every item, at most `concurrency` at a time (a bounded pool: items start in order as slots free up).
 * Callers save each result inside `fn`, so a killed run loses at most the items in flight.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** Run every step not already in the store, saving each as it finishes. Returns every step's stored result. */
export async function runSteps(
  steps: readonly EvalStep[],
  opts: StepRunOptions & { concurrency: number; store: StepStore; onStep?: () => void },
): Promise<Map<number, StoredStep>> {
  const results = opts.store.done();
  await runPool(
    steps.filter((s) => !results.has(s.id)),
    opts.concurrency,
    async (step) => {
      const t0 = performance.now();
      const r = await predictStep(step, opts);
      const stored = { ...r, ms: performance.now() - t0 };
      opts.store.save(stored);
      results.set(step.id, stored);
      opts.onStep?.();
    },
  );
  return results;
}
