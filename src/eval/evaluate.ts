/** `eval steps` as a library call: extract, run (resumably), write predictions.json and metrics.json, score. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Role } from "../models/index.js";
import type { CodecSettings } from "../codec/index.js";
import { roleModels, runRoles } from "../models/spec.js";
import { progress } from "./progress.js";
import { runSteps } from "./runner.js";
import { METRIC_KEYS, scoreRecords, type ScoreResult } from "./score.js";
import { extractSteps } from "./steps.js";
import { readToolBenchFile } from "../toolbenchDialogs.js";
import { StepStore } from "./store.js";

export interface EvalStepsOptions {
  data: string;
  models: Partial<Record<Role, string>>;
  singleLlm: boolean;
  /** Templates, context policy and window, model timeout: as in a run. */
  settings: CodecSettings;
  limit?: number;
  concurrency: number;
  out: string;
  /** Also append every prompt and output to this cassette. */
  record?: string;
  /** Progress output (default: stderr). */
  progressStream?: NodeJS.WriteStream;
}

export interface EvalStepsResult {
  score: ScoreResult;
  /** Steps whose model call failed (counted as misses). */
  failures: Array<{ id: number; error: string }>;
  steps: number;
  resumed: number;
  modelCalls: number;
  /** Prompts the nodes cut to fit the context window during this run. */
  elidedPrompts: number;
}

/**
 * @example
 * const { metrics } = await evalSteps({ data: "test.json", models: { planner: "replay:p.jsonl", caller: "replay:c.jsonl", summarizer: "replay:s.jsonl" },
 *   singleLlm: false, settings: {}, concurrency: 2, out: "out/steps" }); // metrics.plan_em, …
 */
export async function evalSteps(o: EvalStepsOptions): Promise<EvalStepsResult> {
  const data = resolve(o.data);
  let steps = extractSteps(readToolBenchFile(data), data);
  if (o.limit !== undefined) steps = steps.slice(0, o.limit);
  const roles = runRoles(o.singleLlm);
  const models = roleModels(o.models, o.singleLlm, { record: o.record, options: { numCtx: o.settings.numCtx, concurrency: o.concurrency } });
  const settings = { data, singleLlm: o.singleLlm, ...o.settings, limit: o.limit ?? null, models: Object.fromEntries(roles.map((r) => [r, o.models[r]])) };
  const store = new StepStore(o.out, settings);
  try {
    const already = store.done().size;
    const bar = progress("eval steps", steps.length, already, o.progressStream);
    let elided = 0;
    const results = await runSteps(steps, {
      models,
      singleLlm: o.singleLlm,
      settings: o.settings,
      concurrency: o.concurrency,
      store,
      onStep: () => bar.tick(),
      onElision: () => elided++,
    });
    bar.done();
    const records = steps.map((s) => {
      const r = results.get(s.id)!;
      return {
        tools: s.tools,
        reference: s.reference,
        predictions: r.predictions,
        dialog: s.dialog,
        turn: s.turn,
        model_input: r.model_input,
        ...(r.error ? { error: r.error } : {}),
      };
    });
    const score = scoreRecords(records);
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "predictions.json"), JSON.stringify(records, null, 1));
    const failures = steps.flatMap((s) => (results.get(s.id)!.error ? [{ id: s.id, error: results.get(s.id)!.error! }] : []));
    const modelCalls = [...results.values()].reduce((a, r) => a + r.calls, 0);
    const metrics = Object.fromEntries(METRIC_KEYS.map((k) => [k, score.metrics[k]]));
    const summary = { ...metrics, steps: steps.length, failed: failures.length, model_calls: modelCalls, settings, warnings: score.warnings.map(({ records: _r, ...w }) => w) };
    writeFileSync(join(o.out, "metrics.json"), JSON.stringify(summary, null, 2));
    return { score, failures, steps: steps.length, resumed: already, modelCalls, elidedPrompts: elided };
  } finally {
    store.close();
  }
}
