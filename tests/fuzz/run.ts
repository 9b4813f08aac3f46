/**
 * `npm run fuzz [-- --runs N --seed S --concurrency C]`: seeded whole-run fuzzing (see fuzz.ts); prints the counts and
 * exits 1 when any exception escaped, any invocation hung or any invariant broke.
 */
import { parseArgs } from "node:util";
import { fuzz } from "./fuzz.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10000" }, seed: { type: "string", default: "1" }, concurrency: { type: "string", default: "4" } } });
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`fuzz: --${name}: expected a positive integer, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const report = await fuzz({ runs: int("runs", values.runs), firstSeed: int("seed", values.seed), concurrency: int("concurrency", values.concurrency) });
const { samples, ...counts } = report;
process.stdout.write(JSON.stringify(counts, null, 2) + "\n");
for (const s of samples) process.stdout.write(`  ${s}\n`);
process.exit(report.escaped + report.hangs + report.invariantBreaks + report.unhandledRejections === 0 ? 0 : 1);
