import type { Command } from "commander";
import { evalMath } from "../eval/math.js";
import { codecSettings, contextOptions, positiveInt, roleModelOptions, templateOptions, userErrors } from "./options.js";

const out = (text: string) => process.stdout.write(text + "\n");

/** `alpha-umi eval math`: the paper's appendix D agent (math templates, sandboxed Python) on a GSM8K-format file. */
export function registerMathEval(evalCmd: Command): void {
  const math = evalCmd
    .command("math")
    .description("solve each question of a GSM8K-format JSONL file with the python tool and report accuracy (resumable)");
  roleModelOptions(math, "run", 'JSONL, one {"question", "answer"} per line; the answer ends with "#### NUMBER"');
  templateOptions(math, "math"); // the appendix D prompts
  contextOptions(math)
    .option("--limit <n>", "only the first N questions", positiveInt("--limit"))
    .option("--concurrency <n>", "questions solved at the same time (one Python sandbox each)", positiveInt("--concurrency"), 1)
    .option("--max-steps <n>", "planner steps before a question is given up", positiveInt("--max-steps"))
    .option("--python-timeout-ms <n>", "time limit of one program", positiveInt("--python-timeout-ms"))
    .option("--python-memory-mb <n>", "memory limit of one program", positiveInt("--python-memory-mb"))
    .option("--out <dir>", "output dir (math.json, math-metrics.json, math.sqlite for resuming)", "eval-out")
    .option("--json", "print one JSON object with the accuracy")
    .action(async (o) => {
      const settings = await codecSettings(o);
      const result = await userErrors(() =>
        evalMath({
        data: o.data,
        models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
        singleLlm: !!o.singleLlm,
        settings,
        limit: o.limit,
        concurrency: o.concurrency,
        maxSteps: o.maxSteps,
        python: { timeoutMs: o.pythonTimeoutMs, memoryMb: o.pythonMemoryMb },
        out: o.out,
      }),
      );
      const total = result.rows.length;
      if (o.json) out(JSON.stringify({ accuracy: result.accuracy, correct: result.correct, total }));
      else {
        out(`accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${total} correct)`);
        out(`${total} questions (${result.resumed} from an earlier run); written to ${o.out}/math.json and math-metrics.json`);
      }
      const failed = result.rows.filter((r) => r.status === "failed");
      if (failed.length) {
        process.stderr.write(`${failed.length} question(s) failed:\n`);
        for (const r of failed.slice(0, 20)) process.stderr.write(`  question ${r.index}: ${r.reason}\n`);
      }
    });
}
