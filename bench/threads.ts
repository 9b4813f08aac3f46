/**
 * Threads: the embedded runtime's default thread budget on an idle and on a busy machine, side by side in one run.
 *
 * The workload is docs/llama.md's fixture run: `alpha-umi run … --max-steps 3` with the 9 MB random fixture for all
 * three roles, a whole CLI process each (what a user waits for). Configurations, alternated within each repetition:
 * the default, ALPHA_UMI_LLAMA_THREADS=1, and ALPHA_UMI_LLAMA_THREADS=<all cores> (the old default on an idle machine;
 * once, idle only: on a busy machine it takes minutes). Scenarios: idle (whatever else runs on the machine: the load
 * average is in the notes), busy from the start (one CPU burner per core started before the run) and busy after load
 * (the burners start 3 s into the run). Rows: the default against one thread while idle (target ≤ 1.1: it costs what
 * the best fixed count costs), and each busy scenario's default against the idle default (target ≤ 2: degrading
 * gracefully).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeFixture } from "../src/models/gguf.js";
import { packageRoot } from "../src/paths.js";
import type { BenchRow } from "./index.js";

const REPS = Number(process.env.ALPHA_UMI_BENCH_REPS ?? 3);
/** A run slower than this is stopped and counted as this long (and fails its row). */
const RUN_LIMIT_S = 180;
const BUSY_AFTER_S = 3;
const TARGET_IDLE = 1.1;
const TARGET_BUSY = 2;

type Scenario = "idle" | "busy from the start" | "busy after load";
const SCENARIOS: Scenario[] = ["idle", "busy from the start", "busy after load"];

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One spinning process per core: the "other work" of a busy machine. */
function burners(): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" }));
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      return exited;
    }),
  );
}

/** Seconds of one CLI fixture run (RUN_LIMIT_S if it had to be stopped); burners as the scenario says. */
async function fixtureRun(model: string, env: NodeJS.ProcessEnv, scenario: Scenario): Promise<{ seconds: number; ok: boolean }> {
  const spec = `llama:${model}`;
  const args = ["--import", "tsx", join(packageRoot(), "src/cli/bin.ts"), "run", "What is 2 + 2?", "--tools", "demo", "--planner", spec, "--caller", spec, "--summarizer", spec, "--max-steps", "3", "--checkpoints", "memory"];
  const busy: ChildProcess[] = scenario === "busy from the start" ? burners() : [];
  const later = scenario === "busy after load" ? setTimeout(() => busy.push(...burners()), BUSY_AFTER_S * 1000) : undefined;
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: packageRoot(), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.resume();
  const limit = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_S * 1000);
  const code = await new Promise<number | null>((r) => child.once("close", (c) => r(c)));
  const seconds = Math.min(RUN_LIMIT_S, (performance.now() - t0) / 1000);
  clearTimeout(limit);
  clearTimeout(later);
  await stop(busy);
  return { seconds, ok: [0, 1, 3].includes(code ?? -1) && /^(finished in|gave up:|failed:) /m.test(out) };
}

export async function runThreadsBench(): Promise<BenchRow[]> {
  const log = (s: string) => process.stderr.write(`bench threads: ${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-bench-threads-"));
  const section = "threads";
  const cores = availableParallelism();
  const configs = { default: {}, "1 thread": { ALPHA_UMI_LLAMA_THREADS: "1" }, [`${cores} threads`]: { ALPHA_UMI_LLAMA_THREADS: String(cores) } } as Record<string, NodeJS.ProcessEnv>;
  const allCores = `${cores} threads`;
  const times = new Map<string, number[]>();
  const loads: string[] = [];
  let failed = 0;
  try {
    const { model } = await writeFixture(dir);
    const noThreads = { ALPHA_UMI_LLAMA_THREADS: undefined };
    for (let rep = 0; rep < REPS; rep++)
      for (const scenario of SCENARIOS)
        for (const [name, env] of Object.entries(configs)) {
          if (name === allCores && (rep > 0 || scenario !== "idle")) continue;
          const r = await fixtureRun(model, { ...noThreads, ...env }, scenario);
          // The old default is reference only: it may well hit the limit.
          if (!r.ok && name !== allCores) failed++;
          const key = `${scenario}/${name}`;
          times.set(key, [...(times.get(key) ?? []), r.seconds]);
          loads.push(loadAverage());
          log(`rep ${rep + 1} ${key}: ${r.seconds.toFixed(1)} s${r.ok ? "" : " (did not end with a reason)"} (load average ${loads.at(-1)})`);
        }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const t = (scenario: Scenario, config: string) => median(times.get(`${scenario}/${config}`)!);
  const all = (scenario: Scenario, config: string) => times.get(`${scenario}/${config}`)?.map((x) => x.toFixed(1)).join(", ") ?? "not run";
  const note = (scenario: Scenario) =>
    `median of ${REPS} CLI fixture runs (3 steps, ${cores} cores; default ${all(scenario, "default")} s, 1 thread ${all(scenario, "1 thread")} s, ${allCores} ${all(scenario, allCores)} s${scenario === "idle" ? ` (limit ${RUN_LIMIT_S} s)` : ""}; load average ${loads[0]} … ${loads.at(-1)}${failed ? `; ${failed} run(s) did not end with a reason` : ""})`;
  const idle = t("idle", "default");
  const rows: BenchRow[] = [
    {
      section, name: "default threads vs 1 thread, idle: s per fixture run", ours: idle, peer: t("idle", "1 thread"), unit: "s", ratio: idle / t("idle", "1 thread"),
      target: `≤ ${TARGET_IDLE}`, pass: idle / t("idle", "1 thread") <= TARGET_IDLE && failed === 0, note: note("idle"),
    },
  ];
  for (const scenario of ["busy from the start", "busy after load"] as const) {
    const busy = t(scenario, "default");
    rows.push({
      section, name: `default threads, ${scenario} vs idle: s per fixture run`, ours: busy, peer: idle, unit: "s", ratio: busy / idle,
      target: `≤ ${TARGET_BUSY}`, pass: busy / idle <= TARGET_BUSY && failed === 0, note: note(scenario),
    });
  }
  return rows;
}
