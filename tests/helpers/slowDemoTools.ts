/**
 * The demo tools (`--tools module:tests/helpers/slowDemoTools.ts`) with a calculator that takes CALCULATOR_MS: a run
 * still streaming for that long after its call is approved, for a client to lose its connection mid-run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { demoTools } from "../../tools/demo/index.js";
import type { ToolSpec } from "../../src/tools/spec.js";

export const CALCULATOR_MS = 3_000;

export const tools: ToolSpec[] = demoTools().map((t) =>
  t.doc.Name === "calculate_for_calculator" ? { ...t, run: async (args, ctx) => (await sleep(CALCULATOR_MS, undefined, { signal: ctx.signal }), t.run(args, ctx)) } : t,
);
