/**
 * Token counting of a huge observation (a tool result with the observation cap raised): counted once, bounded past
 * the exact window (src/models/tokens.ts), against tokenizing every line exactly as before — the event loop is blocked
 * for the whole count, so this is how long every other run on the process waits.
 */
import { performance } from "node:perf_hooks";
import { countTokens } from "../src/protocol/tokens.js";
import type { BenchRow } from "./index.js";

const MB = 1_000_000;
const TARGET = 0.25;

/** A 1 MB pretty-printed JSON observation, unique per call so that no line is cached. */
function observation(tag: string): string {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < MB; i++) {
    const line = `  {"id": ${i}, "tag": "${tag}", "city": "Tokyo", "rate": ${(i * 1.37).toFixed(2)}, "note": "sunny and mild"},`;
    lines.push(line);
    n += line.length + 1;
  }
  return `Observation: [\n${lines.join("\n")}\n]`;
}

export async function runTokensBench(): Promise<BenchRow[]> {
  const tok = (await import("llama-tokenizer-js")).default;
  // Warm the tokenizer and the JIT on both paths first.
  const warm = observation(`w${Date.now()}`);
  await countTokens(warm);
  for (const line of warm.split("\n").slice(0, 2000)) tok.encode(line, false, false);
  const text = observation(`a${Date.now()}`);
  const t0 = performance.now();
  await countTokens(text);
  const ours = performance.now() - t0;
  const exact = observation(`b${Date.now()}`);
  const t1 = performance.now();
  for (const line of exact.split("\n")) tok.encode(line, false, false);
  const peer = performance.now() - t1;
  const ratio = ours / peer;
  return [
    {
      section: "tokens",
      name: "count a 1 MB observation (ms the event loop is blocked)",
      ours,
      peer,
      unit: "ms",
      ratio,
      target: `≤ ${TARGET} of exact per-line tokenizing`,
      pass: ratio <= TARGET,
    },
  ];
}
