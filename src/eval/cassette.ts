/**
 * A replay cassette of the REFERENCE outputs of a test set: each step's planner prompt → the reference plan, and the
 * caller or summarizer prompt over that plan → the reference call or answer (or, for the single-LLM baseline, the
 * backbone prompt → the merged reference target). Prompts come from the roles' codecs with the given settings: by
 * default unbounded (the full reference prompts, as a replay model reads them); with `numCtx` and a context policy,
 * fitted as a bounded model's would be. Replayed through `eval steps` with the same settings, it must score 1.0: a
 * check that the nodes' prompts are byte-exact and the step plumbing is lossless.
 */
import { rmSync } from "node:fs";
import { backboneTarget } from "../protocol/render.js";
import { CassetteWriter } from "../models/cassette.js";
import { promptSha256 } from "../models/cassette.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import { RoleCodec, type CodecSettings } from "../codec/index.js";
import type { Role } from "../models/generate.js";
import type { Turn } from "../state.js";
import type { EvalStep } from "./steps.js";

export interface CassetteSummary {
  lines: number;
  /** Prompts (by hash) that occur with different outputs: replay serves them in order, so run with concurrency 1. */
  collisions: number;
  /** Prompts fitted to the context window. */
  elided: number;
}

export async function writeReferenceCassette(steps: readonly EvalStep[], path: string, settings: CodecSettings = {}, singleLlm = false): Promise<CassetteSummary> {
  rmSync(path, { force: true });
  const writer = new CassetteWriter(path);
  const outputs = new Map<string, Set<string>>();
  const summary: CassetteSummary = { lines: 0, collisions: 0, elided: 0 };
  const window = settings.numCtx ? { numCtx: settings.numCtx, numPredict: DEFAULT_BUDGET.numPredict } : undefined;
  const codecs = new Map<Role, RoleCodec>();
  const codec = (role: Role) => {
    let c = codecs.get(role);
    if (!c) codecs.set(role, (c = new RoleCodec(role, { templates: settings.roleTemplates?.[role] ?? settings.templates, window, policy: settings.contextPolicy })));
    return c;
  };
  const write = async (role: Role, step: EvalStep, history: Turn[], output: string) => {
    const rendered = await codec(role).render({ tools: step.tools, turns: history });
    if (rendered.elision) summary.elided++;
    writer.write(role, rendered.prompt, output);
    const h = promptSha256(rendered.prompt);
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
