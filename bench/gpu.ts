/**
 * GPU figures for the embedded llama.cpp runtime (issue 8): on a machine with an NVIDIA GPU, write a LLaMA-2-7B-shaped
 * random-weight F16 GGUF and three LoRA adapters with the project's GGUF writer (speed does not depend on the weights'
 * values), then measure on the demo task (the prompts of tools/demo/cassette.jsonl, each reply forced to the length of
 * the recorded one):
 * - seconds per instance, α-UMi (base + one adapter per role, one context per role) against the single-LLM baseline
 *   (the backbone prompts on the base), next to the paper's Table 3 (6.27 s per instance at 7B);
 * - prompt and generation tokens/s per role;
 * - memory of three full models (the same GGUF loaded three times, one context each) against one base with three
 *   adapter contexts (VRAM from llama.cpp, and process RSS).
 * Results go to bench/results/gpu.json with the device and date; `npm run bench` prints that file.
 *
 *   npx tsx bench/gpu.ts                      # on a GPU machine: 7B shape, writes bench/results/gpu.json
 *   npx tsx bench/gpu.ts --tiny --out /tmp/x.json   # end-to-end check of the script with tiny dims (CPU is fine)
 *
 * `--dir DIR` is where the GGUFs are written (default: a temp dir, removed afterwards).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Token } from "node-llama-cpp";
import { LLAMA2_7B, llamaModelSpec, loraSpec, TINY_LLAMA, writeGguf, type LlamaDims } from "../src/models/gguf.js";
import { LlamaRuntime } from "../src/models/llama.js";
import type { BenchRow } from "./index.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const GPU_RESULTS = join(HERE, "results", "gpu.json");
const CASSETTE = join(HERE, "..", "tools", "demo", "cassette.jsonl");
const PAPER_ALPHA_UMI_7B_S = 6.27;
const ROLES = ["planner", "caller", "summarizer"] as const;

interface RoleFigures {
  calls: number;
  promptTokens: number;
  outputTokens: number;
  promptTokensPerSecond: number;
  outputTokensPerSecond: number;
}

export interface GpuResults {
  device: string;
  gpu: string | false;
  date: string;
  tiny: boolean;
  dims: LlamaDims;
  weights: string;
  runs: number;
  secondsPerInstance: { alphaUmi: number; singleLlm: number; paperAlphaUmi7B: number };
  roles: Record<string, RoleFigures>;
  memory: { threeModels: { vramBytes: number; rssBytes: number }; baseAndThreeAdapters: { vramBytes: number; rssBytes: number } };
}

/** The rows `npm run bench` prints: the committed GPU figures, or one row saying there are none. */
export async function runGpuBench(): Promise<BenchRow[]> {
  if (!existsSync(GPU_RESULTS))
    return [{ section: "gpu", name: "not measured: no GPU was available", ours: NaN, peer: null, unit: "-", ratio: null, target: "-", pass: null, note: "run `npx tsx bench/gpu.ts` on a machine with an NVIDIA GPU" }];
  const r = JSON.parse(readFileSync(GPU_RESULTS, "utf8")) as GpuResults;
  const where = `${r.device}, ${r.date.slice(0, 10)}`;
  const s = r.secondsPerInstance;
  const rows: BenchRow[] = [
    { section: "gpu", name: "α-UMi s/instance (demo, 7B shape) vs single-LLM", ours: s.alphaUmi, peer: s.singleLlm, unit: "s", ratio: s.alphaUmi / s.singleLlm, target: "report", pass: null, note: `${where}; paper Table 3: ${s.paperAlphaUmi7B} s/instance at 7B` },
    { section: "gpu", name: "α-UMi s/instance vs paper Table 3", ours: s.alphaUmi, peer: s.paperAlphaUmi7B, unit: "s", ratio: s.alphaUmi / s.paperAlphaUmi7B, target: "report", pass: null },
  ];
  for (const [role, f] of Object.entries(r.roles))
    rows.push({ section: "gpu", name: `${role} generation tokens/s (prompt tokens/s as peer)`, ours: f.outputTokensPerSecond, peer: f.promptTokensPerSecond, unit: "tok/s", ratio: null, target: "report", pass: null });
  const m = r.memory;
  rows.push({ section: "gpu", name: "VRAM: base + 3 adapters vs 3 models", ours: m.baseAndThreeAdapters.vramBytes / 2 ** 30, peer: m.threeModels.vramBytes / 2 ** 30, unit: "GiB", ratio: m.baseAndThreeAdapters.vramBytes / m.threeModels.vramBytes, target: "≈ 1/3", pass: null });
  return rows;
}

interface CassetteLine {
  role: string;
  prompt: string;
  output: string;
}

function demoCalls(): CassetteLine[] {
  return readFileSync(CASSETTE, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CassetteLine);
}

async function memoryNow(runtime: LlamaRuntime): Promise<{ vram: number; rss: number }> {
  const llama = await runtime.getLlama();
  return { vram: (await llama.getVramState()).used, rss: process.memoryUsage().rss };
}

async function measure(opts: { tiny: boolean; dir: string; runs: number }): Promise<GpuResults> {
  const runtime = new LlamaRuntime();
  const llama = await runtime.getLlama();
  if (!llama.gpu && !opts.tiny) throw new Error("no GPU binary is usable here (node-llama-cpp reports gpu: false); run with --tiny to check the script on CPU");
  const dims = opts.tiny ? TINY_LLAMA : LLAMA2_7B;
  const type = opts.tiny ? "F32" : "F16";
  const base = join(opts.dir, "base.gguf");
  const log = (s: string) => process.stderr.write(`bench gpu: ${s}\n`);
  log(`writing a ${opts.tiny ? "tiny" : "7B-shaped"} ${type} GGUF and 3 adapters in ${opts.dir}`);
  writeGguf(base, await llamaModelSpec({ dims, type, seed: 1, name: "alpha-umi bench random llama" }));
  const adapters = Object.fromEntries(ROLES.map((role, i) => {
    const path = join(opts.dir, `lora-${role}.gguf`);
    writeGguf(path, loraSpec({ dims, seed: 100 + i, rank: 16, alpha: 32, targets: ["attn_q", "attn_k", "attn_v", "attn_output"] }));
    return [role, path];
  })) as Record<(typeof ROLES)[number], string>;

  // Memory: one base with three adapter contexts (the registry), then three separately loaded models.
  const numCtx = 4096;
  const before = await memoryNow(runtime);
  const pools = Object.fromEntries(
    await Promise.all(ROLES.map(async (role) => [role, await runtime.context({ modelPath: base, adapterPath: adapters[role], numCtx, sequences: 1 })] as const)),
  );
  const shared = await memoryNow(runtime);
  const singlePool = await runtime.context({ modelPath: base, numCtx, sequences: 1 });
  const baseAndThreeAdapters = { vramBytes: shared.vram - before.vram, rssBytes: shared.rss - before.rss };

  // Speed: the demo instance, call by call as the graph makes them, each reply forced to the recorded length.
  const calls = demoCalls();
  const model = singlePool.context.model;
  const { TokenBias } = await import("node-llama-cpp");
  const noEos = new TokenBias(model.tokenizer).set(model.tokens.eos!, "never");
  const roles: Record<string, RoleFigures & { promptSeconds: number; outputSeconds: number }> = {};
  let alphaUmi = 0;
  let singleLlm = 0;
  for (let run = 0; run < opts.runs; run++) {
    // Fresh sequences per run: each instance starts with empty KV caches, as a new task does.
    for (const p of [...Object.values(pools), singlePool]) for (const s of p.sequences) await s.clearHistory();
    for (const call of calls) {
      const pool = call.role === "backbone" ? singlePool : pools[call.role as (typeof ROLES)[number]]!;
      const slot = await pool.acquire();
      const tokens: Token[] = model.tokenize(call.prompt, true);
      const length = model.tokenize(call.output, true).length;
      const start = performance.now();
      let first = 0;
      await slot.completion.generateCompletion(tokens, {
        maxTokens: length,
        temperature: 0,
        tokenBias: noEos,
        repeatPenalty: false,
        onToken: () => (first ||= performance.now()),
      });
      const end = performance.now();
      pool.release(slot);
      const seconds = (end - start) / 1000;
      if (call.role === "backbone") singleLlm += seconds;
      else alphaUmi += seconds;
      if (run === 0) continue; // the first run warms up
      const f = (roles[call.role] ??= { calls: 0, promptTokens: 0, outputTokens: 0, promptTokensPerSecond: 0, outputTokensPerSecond: 0, promptSeconds: 0, outputSeconds: 0 });
      f.calls++;
      f.promptTokens += tokens.length + 1;
      f.outputTokens += length;
      f.promptSeconds += (first - start) / 1000;
      f.outputSeconds += (end - first) / 1000;
    }
    if (run === 0) alphaUmi = singleLlm = 0;
  }
  const measured = Math.max(1, opts.runs - 1);
  const roleFigures: Record<string, RoleFigures> = {};
  for (const [role, f] of Object.entries(roles))
    roleFigures[role] = {
      calls: f.calls / measured,
      promptTokens: f.promptTokens / measured,
      outputTokens: f.outputTokens / measured,
      promptTokensPerSecond: f.promptTokens / f.promptSeconds,
      // The first token comes with the prompt's evaluation; the rest are generation steps.
      outputTokensPerSecond: (f.outputTokens - f.calls) / f.outputSeconds,
    };
  await runtime.dispose();

  const before3 = await memoryNow(runtime);
  const three = [];
  for (let i = 0; i < 3; i++) {
    const m = await llama.loadModel({ modelPath: base });
    const threads = Number(process.env.ALPHA_UMI_LLAMA_THREADS) || undefined;
    three.push({ m, c: await m.createContext({ contextSize: numCtx, sequences: 1, ...(threads ? { threads } : {}) }) });
  }
  const after3 = await memoryNow(runtime);
  for (const { m } of three) await m.dispose();
  const threeModels = { vramBytes: after3.vram - before3.vram, rssBytes: after3.rss - before3.rss };

  return {
    device: opts.tiny ? `${llama.gpu || "cpu"} (tiny dims: a check of the script, not GPU figures)` : (await llama.getGpuDeviceNames()).join(", "),
    gpu: llama.gpu,
    date: new Date().toISOString(),
    tiny: opts.tiny,
    dims,
    weights: `random ${type}, seed 1; LoRA rank 16 on attn_q/k/v/output`,
    runs: measured,
    secondsPerInstance: { alphaUmi: alphaUmi / measured, singleLlm: singleLlm / measured, paperAlphaUmi7B: PAPER_ALPHA_UMI_7B_S },
    roles: roleFigures,
    memory: { threeModels, baseAndThreeAdapters },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const tiny = args.includes("--tiny");
  const out = resolve(value("--out") ?? (tiny ? join(tmpdir(), "alpha-umi-gpu-tiny.json") : GPU_RESULTS));
  if (tiny && out === GPU_RESULTS) throw new Error("--tiny figures are not GPU figures: give --out elsewhere");
  const keep = value("--dir");
  const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), "alpha-umi-gpu-"));
  mkdirSync(dir, { recursive: true });
  try {
    const results = await measure({ tiny, dir, runs: Number(value("--runs") ?? 4) });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    process.stderr.write(`bench gpu: wrote ${out}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
