/**
 * `npm run fuzz [-- --runs N --seed S --concurrency C --every N]`: seeded whole-run fuzzing (see fuzz.ts); prints the
 * counts and exits 1 when any exception escaped, any invocation hung or any invariant broke. A progress line goes to
 * stderr every N runs (--every) and at least every 5 seconds, so a long fuzz is seen to move.
 */
import { parseArgs } from "node:util";
import { fuzz, type FuzzReport } from "./fuzz.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string", default: "1" },
    concurrency: { type: "string", default: "4" },
    every: { type: "string", default: "500" },
  },
});
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`fuzz: --${name}: expected a positive integer, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const runs = int("runs", values.runs);
const every = int("every", values.every);
const started = performance.now();
let shown = started;
const failures = (r: FuzzReport) => r.escaped + r.hangs + r.invariantBreaks + r.unhandledRejections;
const progress = (r: FuzzReport) => {
  const now = performance.now();
  if (r.runs % every !== 0 && now - shown < 5000 && r.runs !== runs) return;
  shown = now;
  const rate = r.runs / Math.max((now - started) / 1000, 1e-3);
  process.stderr.write(`fuzz: ${r.runs}/${runs} runs, ${rate.toFixed(1)} runs/s, ${failures(r)} failure(s)\n`);
};
const report = await fuzz({ runs, firstSeed: int("seed", values.seed), concurrency: int("concurrency", values.concurrency), onRun: progress });
const { samples, ...counts } = report;
process.stdout.write(JSON.stringify(counts, null, 2) + "\n");
for (const s of samples) process.stdout.write(`  ${s}\n`);
process.exit(failures(report) === 0 ? 0 : 1);
