/**
 * A replay cassette of the REFERENCE outputs of a test set: each step's planner prompt → the reference plan, and the
 * caller or summarizer prompt over that plan → the reference call or answer (or, for the single-LLM baseline, the
 * backbone prompt → the merged reference target). Prompts are built by the protocol exactly as the nodes build them
 * for an α-UMi checkpoint (its 4096-token context: over-long histories elided by `fitHistory`). Replayed through
 * `eval steps`, it must score 1.0: a check that the nodes' prompts are byte-exact and the step plumbing is lossless.
 */
import { rmSync } from "node:fs";
import { backboneTarget, DEFAULT_BUDGET, fitHistory, renderToolDocs, type PromptRole, type TemplateVariant } from "../protocol/index.js";
import { CassetteWriter, promptSha256 } from "../models/index.js";
import type { ToolDoc, Turn } from "../state.js";
import type { EvalStep } from "./steps.js";

export interface CassetteSummary {
  lines: number;
  /** Prompts (by hash) that occur with different outputs: replay serves them in order, so run with concurrency 1. */
  collisions: number;
  /** Prompts whose history was elided to fit the context window. */
  elided: number;
}

export async function writeReferenceCassette(steps: readonly EvalStep[], path: string, variant: TemplateVariant, singleLlm = false): Promise<CassetteSummary> {
  rmSync(path, { force: true });
  const writer = new CassetteWriter(path);
  const outputs = new Map<string, Set<string>>();
  const docs = new Map<readonly ToolDoc[], string>();
  const summary: CassetteSummary = { lines: 0, collisions: 0, elided: 0 };
  const write = async (role: PromptRole, step: EvalStep, history: Turn[], output: string) => {
    let doc = docs.get(step.tools);
    if (doc === undefined) docs.set(step.tools, (doc = renderToolDocs(step.tools)));
    const fit = await fitHistory(role, { tools: step.tools, history, variant, doc }, DEFAULT_BUDGET);
    if (fit.elided > 0) summary.elided++;
    writer.write(role, fit.prompt, output);
    const h = promptSha256(fit.prompt);
    const set = outputs.get(h) ?? new Set<string>();
    set.add(output);
    outputs.set(h, set);
    summary.lines++;
  };
  for (const s of steps) {
    if (singleLlm) {
      await write("backbone", s, s.history, backboneTarget(s.plan, s.next) ?? s.plan);
      continue;
    }
    await write("planner", s, s.history, s.plan);
    if (!s.next) continue;
    const history: Turn[] = [...s.history, { from: "assistant", value: s.plan }];
    await write(s.next.from === "caller" ? "caller" : "summarizer", s, history, s.next.value);
  }
  for (const set of outputs.values()) if (set.size > 1) summary.collisions++;
  return summary;
}
