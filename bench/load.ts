/**
 * `npm run load:workers`: reliability of workers under load (a script, not a CI test). 256 demo threads as run-jobs on Redis, checkpointed
 * in Postgres, on worker processes with 50 ms models of which 1% of calls fail; every few seconds a worker is killed
 * with SIGKILL and a new one started. Failed runs are resumed (a new job for the same thread) until none is left or the
 * rounds run out. Checks: every thread ends finished, gave up or failed-and-resumable; none is lost (each has a result
 * and a checkpoint); no τ has a duplicated or missing turn (each τ is the reference demo τ, or a prefix of it).
 *
 * Options: --threads N (256) --workers N (2) --kill-every-ms N (5000) --fail-rate F (0.01) --model-ms N (50) --json
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { LLM } from "@langchain/core/language_models/llms";
import { Redis } from "ioredis";
import { checkpointerFrom, closeCheckpointer, postgresPool } from "../src/checkpoint/checkpointers.js";
import { createAlphaUmiGraph } from "../src/graph.js";
import type { Role, RoleModel } from "../src/models/generate.js";
import { roleModels } from "../src/models/spec.js";
import type { AgentStateType, Turn } from "../src/state.js";
import { startWorker } from "../src/worker/index.js";
import { runOnQueue, type RunJob, type RunJobResult } from "../src/queue.js";
import { DEMO_INSTRUCTION, demoTools } from "../tools/demo/index.js";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const THREADS = arg("threads", 256);
const WORKERS = arg("workers", 2);
const KILL_EVERY_MS = arg("kill-every-ms", 5000);
const FAIL_RATE = arg("fail-rate", 0.01);
const MODEL_MS = arg("model-ms", 50);
const ROUNDS = 6;
const PG = process.env.ALPHA_UMI_BENCH_PG ?? "postgres://127.0.0.1:5432/test";
const REDIS = process.env.ALPHA_UMI_BENCH_REDIS ?? "redis://127.0.0.1:6379";
const CASSETTE = resolve("tools/demo/cassette.jsonl");
const MODELS = { planner: `replay:${CASSETTE}`, caller: `replay:${CASSETTE}`, summarizer: `replay:${CASSETTE}` };
/** The jobs' tool source: this module's `tools`. */
const TOOLS = `module:${fileURLToPath(import.meta.url)}`;

/** The demo tools, marked idempotent (they are pure lookups): a call in flight when its worker dies is run again. */
export const tools = demoTools().map((t) => ({ ...t, idempotent: true }));

/** A model that takes MODEL_MS and fails a FAIL_RATE share of its calls, around the replayed one. */
class FlakyModel extends LLM {
  constructor(private readonly inner: RoleModel) {
    super({});
  }
  _llmType(): string {
    return "alpha-umi-load-flaky";
  }
  async _call(prompt: string, options: this["ParsedCallOptions"]): Promise<string> {
    await new Promise((r) => setTimeout(r, MODEL_MS));
    if (Math.random() < FAIL_RATE) throw new Error("injected model failure (load test)");
    const out = await this.inner.invoke(prompt, options);
    return typeof out === "string" ? out : String((out as { content?: unknown }).content ?? "");
  }
}

/** Worker mode: `tsx bench/load.ts --worker QUEUE CHECKPOINTS`, started and killed by the driver below. */
async function workerMain(queue: string, checkpoints: string): Promise<void> {
  const flaky = (specs: Partial<Record<Role, string>>) =>
    Object.fromEntries(Object.entries(roleModels(specs, false)).map(([role, m]) => [role, new FlakyModel(m!)]));
  // Locks long enough for a worker whose two cores are saturated to renew them; every takeover is safe (checkpoints,
  // thread locks), so a job may be taken over many times.
  await startWorker({ queue, checkpoints, concurrency: Math.ceil(THREADS / WORKERS), lockDurationMs: 10_000, stalledIntervalMs: 2000, maxStalledCount: 100, modelsFor: flaky });
  process.stdout.write("load worker ready\n");
}

function startLoadWorker(queue: string, checkpoints: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve("bench/load.ts"), "--worker", queue, checkpoints], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  return new Promise((res, rej) => {
    const read = (d: Buffer) => ((log += d), log.includes("load worker ready") && res(child));
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code, signal) => signal !== "SIGKILL" && rej(new Error(`load worker exited with ${code ?? signal}: ${log.slice(-2000)}`)));
  });
}

/** τ against the reference: equal, a strict prefix (an unfinished run), or broken (a duplicated, missing or wrong turn). */
function compare(turns: Turn[], reference: Turn[]): "equal" | "prefix" | "broken" {
  if (turns.length > reference.length) return "broken";
  for (let i = 0; i < turns.length; i++) if (JSON.stringify(turns[i]) !== JSON.stringify(reference[i])) return "broken";
  return turns.length === reference.length ? "equal" : "prefix";
}

async function driver(): Promise<void> {
  const id = randomUUID().replace(/-/g, "").slice(0, 10);
  const queue = `${REDIS}?prefix=load_${id}`;
  const checkpoints = `${PG}?schema=load_${id}`;
  const reference = (await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "ref" } })).turns;
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => startLoadWorker(queue, checkpoints)));
  let kills = 0;
  let stopping = false;
  // Kill a random worker every few seconds and start a fresh one in its place.
  const killer = (async () => {
    while (!stopping) {
      await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
      if (stopping) break;
      const i = Math.floor(Math.random() * workers.length);
      workers[i]!.kill("SIGKILL");
      kills++;
      workers[i] = await startLoadWorker(queue, checkpoints);
    }
  })();
  const t0 = performance.now();
  const last = new Map<string, RunJobResult>();
  const firstPass: Record<string, number> = {};
  let pending: RunJob[] = Array.from({ length: THREADS }, (_, i) => ({ kind: "run", threadId: `load-${i}`, instruction: DEMO_INSTRUCTION, tools: [TOOLS], models: MODELS }));
  let resumedRuns = 0;
  try {
    for (let round = 0; round < ROUNDS && pending.length; round++) {
      const results = await runOnQueue<RunJobResult>(queue, pending);
      for (const r of results) last.set(r.threadId, r);
      if (round === 0) for (const r of results) firstPass[r.status] = (firstPass[r.status] ?? 0) + 1;
      // A failed run (an injected model failure) is resumable: run the same thread again.
      pending = results.filter((r) => r.status === "failed").map((r) => ({ kind: "run", threadId: r.threadId, tools: [TOOLS], models: MODELS, retry: round + 1 }));
      resumedRuns += pending.length;
    }
  } finally {
    stopping = true;
    await killer;
    for (const w of workers) w.kill("SIGTERM");
  }
  const seconds = (performance.now() - t0) / 1000;
  // Every thread: a result, a checkpoint, and a τ that is the reference or a prefix of it.
  const saver = checkpointerFrom(checkpoints);
  const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver });
  const outcome: Record<string, number> = {};
  const tau: Record<string, number> = {};
  let lost = 0;
  for (let i = 0; i < THREADS; i++) {
    const threadId = `load-${i}`;
    const result = last.get(threadId);
    const state = (await graph.getState({ configurable: { thread_id: threadId } })).values as Partial<AgentStateType>;
    if (!result || !state.turns?.length) {
      lost++;
      continue;
    }
    const status = state.status?.status ?? "unset";
    outcome[status === "failed" ? "failed (resumable)" : status] = (outcome[status === "failed" ? "failed (resumable)" : status] ?? 0) + 1;
    const c = compare(state.turns, reference);
    tau[c] = (tau[c] ?? 0) + 1;
    if (status === "finished" && c !== "equal") tau["finished but not the reference τ"] = (tau["finished but not the reference τ"] ?? 0) + 1;
  }
  await closeCheckpointer(saver);
  const report = {
    threads: THREADS,
    workers: WORKERS,
    killedWorkers: kills,
    modelFailRate: FAIL_RATE,
    modelMs: MODEL_MS,
    seconds: Math.round(seconds * 10) / 10,
    firstPass,
    resumedRuns,
    outcome,
    lost,
    tau,
    ok: lost === 0 && !tau.broken && !tau["finished but not the reference τ"] && Object.keys(outcome).every((k) => ["finished", "gave_up", "failed (resumable)"].includes(k)),
  };
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`load_${id}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const admin = postgresPool(PG, 1);
  await admin.query(`DROP SCHEMA IF EXISTS "load_${id}" CASCADE`).finally(() => admin.end());
  if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    process.stdout.write(
      `load: ${THREADS} threads, ${WORKERS} workers (${kills} killed with SIGKILL, one every ${KILL_EVERY_MS} ms), ${FAIL_RATE * 100}% of ${MODEL_MS} ms model calls failing, ${report.seconds} s\n` +
        `first pass: ${JSON.stringify(firstPass)}; resumed runs: ${resumedRuns}\n` +
        `final: ${JSON.stringify(outcome)}; lost: ${lost}; τ: ${JSON.stringify(tau)}\n` +
        `${report.ok ? "OK" : "FAILED"}: every thread finished, gave up or failed-and-resumable; none lost; no τ with a duplicated or missing turn\n`,
    );
  }
  process.exitCode = report.ok ? 0 : 1;
}

// Loaded as the jobs' tool module too: only the script run by node is a driver or a worker.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const w = process.argv.indexOf("--worker");
  if (w >= 0) await workerMain(process.argv[w + 1]!, process.argv[w + 2]!);
  else await driver();
}
