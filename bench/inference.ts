/**
 * Inference: what α-UMi's three roles cost on the real llama.cpp against the single-LLM baseline, on this machine.
 *
 * A project-written random-weight LLaMA (LLaMA-2 vocabulary, 768-dim, 8 layers: 106M parameters, F16, so matrix work
 * dominates; cached outside the repo) with four rank-16 LoRA adapters (planner, caller, summarizer, and the
 * single-LLM backbone, so both sides pay for an adapter) runs the demo task as recorded in tools/demo/cassette.jsonl:
 * every call's prompt as the graph sent it and a reply forced to the recorded reply's length in tokens (EOS banned, no
 * stop strings), so the two sides generate what the recorded models generated and random weights cannot end a reply
 * early. α-UMi's eight calls and the backbone's four make one instance each; instances alternate, from empty caches.
 * Engines: the embedded runtime (src/models/llama.ts, its default threads) and llama-server built from the same
 * bundled llama.cpp (scripts/llama-server.sh; one slot per role, the same thread count), side by side in one run.
 * Rows: seconds per instance (α-UMi / single-LLM, target ≤ 1.1: the paper's Table 3 has 6.27 s for both at 7B);
 * prompt tokens evaluated per α-UMi instance against the minimum (each distinct prompt prefix evaluated once per role:
 * what perfect prefix reuse evaluates; target ≤ 1.2); memory of one base with three adapters against three models.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { LlamaModel, Token } from "node-llama-cpp";
import { llamaModelSpec, loraSpec, writeGguf, type LlamaDims } from "../src/models/gguf.js";
import { LlamaRuntime, type SequencePool } from "../src/models/llama.js";
import type { BenchRow } from "./index.js";
import { freePort } from "../src/models/llamaServer.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const CASSETTE = join(ROOT, "tools", "demo", "cassette.jsonl");
/** ~106M parameters: 2 × 32000 × 768 in the embedding and output matrices, 8 × 7.1M in the blocks. */
const DIMS: LlamaDims = { nEmbd: 768, nLayer: 8, nHead: 12, nHeadKv: 12, nFf: 2048, contextLength: 4096 };
const ROLES = ["planner", "caller", "summarizer", "backbone"] as const;
type BenchRole = (typeof ROLES)[number];
const ALPHA_UMI_ROLES = ["planner", "caller", "summarizer"] as const;
const NUM_CTX = 2048;
/** Measured instances per side and engine (after one warm-up instance each); the fastest of them counts. */
const INSTANCES = Number(process.env.ALPHA_UMI_BENCH_INSTANCES ?? 3);
/**
 * One thread for both engines: the ratios compare α-UMi with the single LLM, not thread counts, and on a machine shared
 * with other work more threads make every figure hostage to the scheduler (see docs/llama.md, Threads).
 */
const THREADS = 1;
const TARGET_SECONDS = 1.1;
const TARGET_TOKENS = 1.2;
const TARGET_MEMORY = 0.5;
const PAPER_7B_S = 6.27;

interface Call {
  role: BenchRole;
  prompt: string;
  output: string;
}

interface Files {
  base: string;
  adapters: Record<BenchRole, string>;
}

function demoCalls(): Call[] {
  return readFileSync(CASSETTE, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Call);
}

/** The model and adapters, written once into the cache (ALPHA_UMI_CACHE, else $XDG_CACHE_HOME or ~/.cache, /alpha-umi). */
async function benchFiles(log: (s: string) => void): Promise<Files> {
  const cache = process.env.ALPHA_UMI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "alpha-umi");
  const dir = join(cache, "bench-inference", `llama-${DIMS.nEmbd}x${DIMS.nLayer}-f16-v1`);
  mkdirSync(dir, { recursive: true });
  const write = (path: string, make: () => Promise<Parameters<typeof writeGguf>[1]>) => async () => {
    if (existsSync(path)) return;
    // Written beside and renamed: a killed bench leaves no half file for the next one to load.
    const tmp = `${path}.${process.pid}.tmp`;
    writeGguf(tmp, await make());
    renameSync(tmp, path);
  };
  const base = join(dir, "base.gguf");
  if (!existsSync(base)) log(`writing a ${DIMS.nEmbd}-dim ${DIMS.nLayer}-layer random LLaMA (212 MB) and 4 adapters into ${dir}`);
  await write(base, () => llamaModelSpec({ dims: DIMS, type: "F16", seed: 1, name: "alpha-umi bench random llama" }))();
  const adapters = {} as Record<BenchRole, string>;
  for (const [i, role] of ROLES.entries()) {
    adapters[role] = join(dir, `lora-${role}.gguf`);
    await write(adapters[role], async () => loraSpec({ dims: DIMS, seed: 100 + i, rank: 16, alpha: 32, targets: ["attn_q", "attn_k", "attn_v", "attn_output"], name: `bench lora (${role})` }))();
  }
  return { base, adapters };
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Prompt tokens perfect prefix reuse evaluates: each role's prompts, BOS first, less what an earlier one shares. */
function minimumTokens(calls: readonly { role: BenchRole; tokens: Token[] }[]): number {
  let total = 0;
  calls.forEach((c, i) => {
    const shared = Math.max(0, ...calls.slice(0, i).filter((e) => e.role === c.role).map((e) => commonPrefix(e.tokens, c.tokens)));
    total += c.tokens.length - shared;
  });
  return total;
}

interface Prepared {
  role: BenchRole;
  prompt: string;
  /** The prompt as evaluated: BOS first. */
  tokens: Token[];
  /** The recorded reply's length in tokens. */
  outputTokens: number;
}

interface Side {
  seconds: number[];
  promptTokens: number[];
}

/** One instance of calls on an engine: seconds and prompt tokens it evaluated. */
type Engine = { instance: (calls: readonly Prepared[]) => Promise<{ seconds: number; promptTokens: number }>; close: () => Promise<void> };

/** α-UMi and single-LLM instances alternating (one warm-up each), so load on the machine hits both alike. */
async function measure(engine: Engine, alpha: Prepared[], single: Prepared[]): Promise<{ alpha: Side; single: Side }> {
  const out = { alpha: { seconds: [], promptTokens: [] } as Side, single: { seconds: [], promptTokens: [] } as Side };
  for (let i = 0; i <= INSTANCES; i++)
    for (const [side, calls] of [["alpha", alpha], ["single", single]] as const) {
      const r = await engine.instance(calls);
      process.stderr.write(`bench inference:   ${i === 0 ? "warm-up" : `instance ${i}`} ${side}: ${r.seconds.toFixed(2)} s, ${r.promptTokens} prompt tokens evaluated\n`);
      if (i === 0) continue;
      out[side].seconds.push(r.seconds);
      out[side].promptTokens.push(r.promptTokens);
    }
  return out;
}

async function embeddedEngine(files: Files, runtime: LlamaRuntime): Promise<Engine> {
  const pools = {} as Record<BenchRole, SequencePool>;
  for (const role of ROLES) pools[role] = await runtime.context({ modelPath: files.base, adapterPath: files.adapters[role], numCtx: NUM_CTX, sequences: 1, threads: THREADS });
  const model = pools.planner.context.model;
  const { TokenBias } = await import("node-llama-cpp");
  const noEos = new TokenBias(model.tokenizer).set(model.tokens.eos!, "never");
  return {
    async instance(calls) {
      for (const p of Object.values(pools)) for (const s of p.sequences) await s.clearHistory();
      let promptTokens = 0;
      const start = performance.now();
      for (const call of calls) {
        const pool = pools[call.role];
        const slot = await pool.acquire(call.tokens);
        const before = slot.sequence.tokenMeter.usedInputTokens;
        // The tokens after BOS: LlamaCompletion prepends it.
        await slot.completion.generateCompletion(call.tokens.slice(1), { maxTokens: call.outputTokens, temperature: 0, tokenBias: noEos, repeatPenalty: false, disableContextShift: true });
        promptTokens += slot.sequence.tokenMeter.usedInputTokens - before;
        pool.release(slot);
      }
      return { seconds: (performance.now() - start) / 1000, promptTokens };
    },
    close: async () => undefined,
  };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, stdout) => (err ? rej(err) : res(stdout.trim())));
    child.stderr?.on("data", (d) => process.stderr.write(d));
  });
}


interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

async function startServer(binary: string, base: string, adapters: string[], slots: number, threads: number): Promise<ServerProcess> {
  const port = await freePort();
  const args = ["-m", base, ...adapters.flatMap((a) => ["--lora", a]), ...(adapters.length ? ["--lora-init-without-apply"] : []),
    "--host", "127.0.0.1", "--port", String(port), "-np", String(slots), "-c", String(NUM_CTX * slots), "--threads", String(threads), "--threads-batch", String(threads), "--no-webui",
    // Erasing a slot between instances (POST /slots/N?action=erase) is only served with a slot save path.
    "--slot-save-path", tmpdir()];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d) => (log = (log + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited while loading: ${log.split("\n").slice(-5).join(" | ")}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) return { url, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error("llama-server did not become healthy within 120 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 200)}`);
  return json;
}

/** llama-server with one slot and one adapter per role, driven over its /completion API. */
async function serverEngine(binary: string, files: Files, threads: number): Promise<Engine & { server: ServerProcess }> {
  const server = await startServer(binary, files.base, ROLES.map((r) => files.adapters[r]), ROLES.length, threads);
  return {
    server,
    async instance(calls) {
      for (let slot = 0; slot < ROLES.length; slot++) await post(`${server.url}/slots/${slot}?action=erase`, {});
      let promptTokens = 0;
      const start = performance.now();
      for (const call of calls) {
        const k = ROLES.indexOf(call.role);
        // Slot pinned per role (each keeps its role's prompt cache); the server adds BOS and parses </s> as EOS.
        const r = await post(`${server.url}/completion`, {
          prompt: call.prompt, n_predict: call.outputTokens, ignore_eos: true, temperature: 0, cache_prompt: true, id_slot: k,
          lora: ROLES.map((_, id) => ({ id, scale: id === k ? 1 : 0 })),
        });
        const t = r.timings as { prompt_n: number };
        const predicted = (r.tokens_predicted as number) ?? 0;
        if (predicted !== call.outputTokens) throw new Error(`llama-server generated ${predicted} tokens, asked for ${call.outputTokens}`);
        promptTokens += t.prompt_n;
      }
      return { seconds: (performance.now() - start) / 1000, promptTokens };
    },
    close: () => server.stop(),
  };
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * RSS growth of this process after one short evaluation per context (the mapped weights paged in): one base with three
 * adapter contexts, then three models from three copies of the base file (as three fine-tuned models are three files).
 */
async function embeddedMemory(files: Files, runtime: LlamaRuntime): Promise<{ shared: number; three: number }> {
  const { LlamaCompletion } = await import("node-llama-cpp");
  const touch = async (context: import("node-llama-cpp").LlamaContext) =>
    void (await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("Hello", { maxTokens: 1 }));
  const llama = await runtime.getLlama();
  const rss = () => process.memoryUsage().rss;
  const r0 = rss();
  const base = await llama.loadModel({ modelPath: files.base });
  for (const role of ALPHA_UMI_ROLES) await touch(await base.createContext({ contextSize: NUM_CTX, sequences: 1, threads: THREADS, lora: { adapters: [{ filePath: files.adapters[role] }] } }));
  const shared = rss() - r0;
  // A model's dispose can wait on llama.cpp forever without holding the event loop (the process would just end): at
  // most 5 s, as LlamaRuntime.dispose does.
  const disposed = (m: LlamaModel) => Promise.race([m.dispose(), new Promise<void>((r) => setTimeout(r, 5000))]);
  await disposed(base);
  const copies = [1, 2, 3].map((i) => files.base.replace(/\.gguf$/, `.copy${i}.gguf`));
  for (const c of copies) if (!existsSync(c)) copyFileSync(files.base, c);
  const r1 = rss();
  const models: LlamaModel[] = [];
  for (const c of copies) {
    const m = await llama.loadModel({ modelPath: c });
    await touch(await m.createContext({ contextSize: NUM_CTX, sequences: 1, threads: THREADS }));
    models.push(m);
  }
  const three = rss() - r1;
  for (const m of models) await disposed(m);
  return { shared, three };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The fastest instance: other processes on the machine only ever add time. */
const best = (xs: number[]) => Math.min(...xs);

export async function runInferenceBench(): Promise<BenchRow[]> {
  const log = (s: string) => process.stderr.write(`bench inference: ${s}\n`);
  const files = await benchFiles(log);
  const runtime = new LlamaRuntime();
  const rows: BenchRow[] = [];
  const section = "inference";
  try {
    const threads = THREADS;
    // Memory first, while the process holds nothing else.
    const mem = await embeddedMemory(files, runtime);
    const planner = await runtime.context({ modelPath: files.base, numCtx: NUM_CTX, sequences: 1, threads: THREADS });
    const model = planner.context.model;
    const bos = model.tokens.bos!;
    const prepared = demoCalls().map((c) => ({
      role: c.role as BenchRole,
      prompt: c.prompt,
      tokens: [bos, ...model.tokenize(c.prompt, true)],
      outputTokens: model.tokenize(c.output, true).length,
    }));
    await planner.context.dispose();
    const alpha = prepared.filter((c) => c.role !== "backbone");
    const single = prepared.filter((c) => c.role === "backbone");
    const minimum = minimumTokens(alpha);
    const singleMinimum = minimumTokens(single);
    const out = (c: Prepared[]) => c.reduce((a, x) => a + x.outputTokens, 0);
    const shape = `${alpha.length} α-UMi calls, ${out(alpha)} generated tokens; ${single.length} single-LLM calls, ${out(single)}; ${threads} thread(s)`;

    const perEngine: Record<string, { alpha: Side; single: Side }> = {};
    log(`embedded: ${shape}`);
    const embedded = await embeddedEngine(files, runtime);
    perEngine.embedded = await measure(embedded, alpha, single);
    await runtime.dispose();

    let binary: string | undefined;
    let serverNote = "";
    try {
      log("llama-server: scripts/llama-server.sh (builds it once if missing, about 8 min on 2 cores)");
      binary = await run("bash", [join(ROOT, "scripts", "llama-server.sh")]);
    } catch (err) {
      serverNote = `no llama-server: ${(err as Error).message.split("\n")[0]}`;
    }
    let serverMemory: { shared: number; one: number } | undefined;
    if (binary) {
      const server = await serverEngine(binary, files, threads);
      try {
        log(`llama-server: ${shape}`);
        perEngine["llama-server"] = await measure(server, alpha, single);
      } finally {
        await server.close();
      }
      // RSS after one completion (the weights paged in): α-UMi's base with three adapters and a slot each, against
      // one process per model with one slot (three models are three of them).
      const rssAfterCompletion = async (adapters: string[], slots: number) => {
        const p = await startServer(binary!, files.base, adapters, slots, threads);
        try {
          await post(`${p.url}/completion`, { prompt: alpha[0]!.prompt, n_predict: 1 });
          return rssOf(p.child.pid!);
        } finally {
          await p.stop();
        }
      };
      serverMemory = { shared: await rssAfterCompletion(ALPHA_UMI_ROLES.map((r) => files.adapters[r]), 3), one: await rssAfterCompletion([], 1) };
    }

    for (const [engine, r] of Object.entries(perEngine)) {
      const a = best(r.alpha.seconds);
      const s = best(r.single.seconds);
      rows.push({
        section, name: `${engine}: α-UMi vs single-LLM s/instance (demo, 106M random LLaMA)`, ours: a, peer: s, unit: "s", ratio: a / s,
        target: `≤ ${TARGET_SECONDS}`, pass: a / s <= TARGET_SECONDS,
        note: `fastest of ${INSTANCES}; ${shape}; instances ${r.alpha.seconds.map((x) => x.toFixed(2)).join(", ")} s vs ${r.single.seconds.map((x) => x.toFixed(2)).join(", ")} s; paper Table 3: ${PAPER_7B_S} s both at 7B on GPU`,
      });
      const t = mean(r.alpha.promptTokens);
      rows.push({
        section, name: `${engine}: α-UMi prompt tokens evaluated per instance vs minimum`, ours: t, peer: minimum, unit: "tokens", ratio: t / minimum,
        target: `≤ ${TARGET_TOKENS}`, pass: t / minimum <= TARGET_TOKENS,
        note: `single-LLM: ${mean(r.single.promptTokens)} evaluated, minimum ${singleMinimum}`,
      });
    }
    if (perEngine.embedded && perEngine["llama-server"]) {
      const e = best(perEngine.embedded.alpha.seconds);
      const l = best(perEngine["llama-server"].alpha.seconds);
      rows.push({ section, name: "α-UMi s/instance: embedded vs llama-server", ours: e, peer: l, unit: "s", ratio: e / l, target: "report", pass: null });
    }
    if (!binary) rows.push({ section, name: "llama-server: not measured", ours: NaN, peer: null, unit: "-", ratio: null, target: "-", pass: null, note: serverNote });

    const MiB = 2 ** 20;
    rows.push({
      section, name: "embedded memory: base + 3 adapters vs 3 models (RSS)", ours: mem.shared / MiB, peer: mem.three / MiB, unit: "MiB", ratio: mem.shared / mem.three,
      target: `≤ ${TARGET_MEMORY}`, pass: mem.shared / mem.three <= TARGET_MEMORY, note: "three models: three copies of the base file, each mapped and paged in by one evaluation",
    });
    if (serverMemory)
      rows.push({
        section, name: "llama-server memory: base + 3 adapters vs 3 one-model servers (RSS)", ours: serverMemory.shared / MiB, peer: (3 * serverMemory.one) / MiB, unit: "MiB",
        ratio: serverMemory.shared / (3 * serverMemory.one), target: `≤ ${TARGET_MEMORY}`, pass: serverMemory.shared / (3 * serverMemory.one) <= TARGET_MEMORY,
        note: `3 slots of ${NUM_CTX} tokens in one process against 1 slot in each of 3`,
      });
  } finally {
    await runtime.dispose();
  }
  return rows;
}
