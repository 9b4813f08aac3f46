import type { Command } from "commander";
import { readScoreRecords } from "../eval/records.js";
import { METRIC_KEYS, scoreRecords, type Metrics } from "../eval/score.js";
import { scoreReport } from "../eval/format.js";
import { UserError } from "./errors.js";

const out = (text: string) => process.stdout.write(text + "\n");

/** Exactly the metric keys, in the reference's order of definition. */
function metricsJson(m: Metrics): string {
  return JSON.stringify(Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k]])));
}

/** Library errors about the user's files become one-line user errors. */
function userErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
}

export function registerEval(program: Command): void {
  const evalCmd = program.command("eval").description("the paper's step-level evaluation, reports and episode runs");

  evalCmd
    .command("score")
    .description("score a predictions file [{tools, reference, predictions}] with the reference scorer's definitions")
    .argument("<file>", "predictions JSON file")
    .option("--json", "print one JSON object with the metrics")
    .action((file: string, o: { json?: boolean }) => {
      const result = scoreRecords(userErrors(() => readScoreRecords(file)));
      if (o.json) out(metricsJson(result.metrics));
      else out(scoreReport(result));
      if (o.json) for (const w of result.warnings) process.stderr.write(`warning: ${w.message} (${w.count}×)\n`);
    });
}
