/**
 * The GPU section of `npm run bench`: the figures bench/gpu/run.sh took on a machine with an NVIDIA GPU (llama-server
 * built with CUDA from the bundled llama.cpp, a LLaMA-2-7B-shaped random F16 GGUF with role adapters, the demo task's
 * calls with replies of the recorded lengths), read from bench/results/gpu.json. That machine has no Node, so the
 * measuring is Python (bench/gpu/client.py); this file only prints what it wrote.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./index.js";

export const GPU_RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results", "gpu.json");

/** bench/gpu/client.py's output. */
export interface GpuResults {
  device: string;
  gpu: boolean;
  date: string;
  dims: string;
  engine: string;
  instances: number;
  secondsPerInstance: { alphaUmi: number; singleLlm: number; ratio: number; paperAlphaUmi7B: number };
  promptTokens: { alphaUmi: number; alphaUmiMinimum: number; ratio: number };
  roles: Record<string, { calls: number; promptTokens: number; outputTokens: number; promptTokensPerSecond: number | null; outputTokensPerSecond: number | null }>;
  memory: { kind: "vram" | "rss"; baseAndThreeAdaptersBytes: number; threeModelsBytes: number; ratio: number };
}

/** The rows `npm run bench` prints: the committed GPU figures, or one row saying there are none. */
export async function runGpuBench(): Promise<BenchRow[]> {
  const section = "gpu";
  if (!existsSync(GPU_RESULTS))
    return [{ section, name: "not measured: no GPU was available", ours: NaN, peer: null, unit: "-", ratio: null, target: "-", pass: null, note: "run bench/gpu/run.sh on a machine with an NVIDIA GPU" }];
  const r = JSON.parse(readFileSync(GPU_RESULTS, "utf8")) as GpuResults;
  const where = `${r.device}, ${r.date.slice(0, 10)}, ${r.engine}, ${r.dims}`;
  const s = r.secondsPerInstance;
  const t = r.promptTokens;
  const m = r.memory;
  const rows: BenchRow[] = [
    { section, name: `α-UMi vs single-LLM s/instance (demo, ${r.dims} shape)`, ours: s.alphaUmi, peer: s.singleLlm, unit: "s", ratio: s.ratio, target: "≤ 1.1", pass: s.ratio <= 1.1, note: where },
    { section, name: "α-UMi s/instance vs paper Table 3 (7B)", ours: s.alphaUmi, peer: s.paperAlphaUmi7B, unit: "s", ratio: s.alphaUmi / s.paperAlphaUmi7B, target: "report", pass: null },
    { section, name: "α-UMi prompt tokens evaluated per instance vs minimum", ours: t.alphaUmi, peer: t.alphaUmiMinimum, unit: "tokens", ratio: t.ratio, target: "≤ 1.2", pass: t.ratio <= 1.2 },
  ];
  for (const [role, f] of Object.entries(r.roles))
    rows.push({ section, name: `${role} generation tokens/s (prompt tokens/s as peer)`, ours: f.outputTokensPerSecond ?? NaN, peer: f.promptTokensPerSecond, unit: "tok/s", ratio: null, target: "report", pass: null });
  rows.push({ section, name: `${m.kind.toUpperCase()}: base + 3 adapters vs 3 models`, ours: m.baseAndThreeAdaptersBytes / 2 ** 30, peer: m.threeModelsBytes / 2 ** 30, unit: "GiB", ratio: m.ratio, target: "≤ 0.5", pass: m.ratio <= 0.5 });
  return rows;
}
