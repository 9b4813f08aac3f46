import { SUMMARIES } from "./summaries.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { readScoreRecords } from "../eval/records.js";
import { METRIC_KEYS, scoreRecords, type Metrics } from "../eval/score.js";
import { scoreReport } from "../eval/format.js";
import { evalSteps } from "../eval/evaluate.js";
import { evalEpisodes } from "../eval/episodes.js";
import { episodesReport } from "../eval/episodeMetrics.js";
import { writeReferenceCassette } from "../eval/cassette.js";
import { extractSteps } from "../eval/steps.js";
import { readToolBenchFile } from "../toolbenchDialogs.js";
import { loadReport, renderHtml, renderMarkdown } from "../eval/report.js";
import { registerRealtimeEval } from "./evalRealtime.js";
import { registerMathEval } from "./evalMath.js";
import { registerToolAlpacaEval } from "./evalToolAlpaca.js";
import { UserError } from "../errors.js";
import { codecSettings, contextOptions, positiveInt, userErrors, roleModelOptions, templateOptions } from "./options.js";

const out = (text: string) => process.stdout.write(text + "\n");

/** Exactly the metric keys, in the reference's order of definition. */
function metricsJson(m: Metrics): string {
  return JSON.stringify(Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k]])));
}

/** What `roleModelOptions` parsed, plus --limit and --concurrency, as the eval runners take them. */
async function roleModelArgs(o: Record<string, string | number | boolean | undefined>) {
  return {
    data: o.data as string,
    models: { planner: o.planner as string, caller: o.caller as string, summarizer: o.summarizer as string, backbone: o.backbone as string },
    singleLlm: !!o.singleLlm,
    settings: await codecSettings(o),
    limit: o.limit as number | undefined,
    concurrency: o.concurrency as number,
  };
}

export function registerEval(program: Command): void {
  const evalCmd = program.command("eval").description(SUMMARIES.eval);

  evalCmd
    .command("score")
    .description("score a predictions file [{tools, reference, predictions}] with the reference scorer's definitions")
    .argument("<file>", "predictions JSON file")
    .option("--json", "print one JSON object with the metrics")
    .action((file: string, o: { json?: boolean }) => {
      const records = userErrors(() => readScoreRecords(file));
      if (records.length === 0) throw new UserError(`${file}: no records to score (the array is empty)`);
      const result = scoreRecords(records);
      if (o.json) out(metricsJson(result.metrics));
      else out(scoreReport(result));
      if (o.json) for (const w of result.warnings) process.stderr.write(`warning: ${w.message} (${w.count}×)\n`);
    });

  const steps = roleModelOptions(
    evalCmd
      .command("steps")
      .description("run the real graph nodes teacher-forced on every step of a test set, resumably, and score them"),
    "evaluate",
  );
  templateOptions(steps);
  contextOptions(steps)
    .option("--limit <n>", "only the first N steps", positiveInt("--limit"))
    .option("--concurrency <n>", "steps run at the same time", positiveInt("--concurrency"), 1)
    .option("--out <dir>", "output dir (predictions.json, metrics.json, steps.sqlite for resuming)", "eval-out")
    .option("--record <file>", "also record every prompt and output to a replay cassette (JSONL)")
    .option("--json", "print one JSON object with the metrics")
    .action(async (o) => {
      const args = await roleModelArgs(o);
      const result = await userErrors(() =>
        evalSteps({
          ...args,
          out: o.out,
          record: o.record,
        }),
      );
      if (o.json) out(metricsJson(result.score.metrics));
      else {
        out(scoreReport(result.score));
        out(`${result.steps} steps (${result.resumed} from an earlier run), ${result.modelCalls} model calls; written to ${o.out}/predictions.json and metrics.json`);
        if (result.elidedPrompts) out(`${result.elidedPrompts} prompt(s) had their oldest turns elided to fit the model's context window`);
      }
      if (result.failures.length) {
        process.stderr.write(`${result.failures.length} step(s) failed (scored as misses):\n`);
        for (const f of result.failures.slice(0, 20)) process.stderr.write(`  step ${f.id}: ${f.error}\n`);
        if (result.failures.length > 20) process.stderr.write(`  … see the error field in ${o.out}/predictions.json\n`);
      }
    });

  const episodes = roleModelOptions(
    evalCmd
      .command("episodes")
      .description("run the agent from each test dialog's instruction on that dialog's replayed tools: outcome rates, steps, per-role usage"),
    "run",
  );
  templateOptions(episodes);
  contextOptions(episodes)
    .option("--limit <n>", "only the first N dialogs", positiveInt("--limit"))
    .option("--concurrency <n>", "episodes run at the same time", positiveInt("--concurrency"), 1)
    .option("--max-steps <n>", "planner steps before an episode gives up", positiveInt("--max-steps"))
    .option("--out <dir>", "output dir (episodes.json, episodes-metrics.json, episodes.sqlite for resuming)", "eval-out")
    .option("--json", "print one JSON object with the metrics")
    .option("--queue <url>", "run the episodes on `alpha-umi worker` processes: redis://…[?prefix=NAME] (--concurrency is then theirs)")
    .action(async (o) => {
      const args = await roleModelArgs(o);
      const result = await userErrors(() =>
        evalEpisodes({
          ...args,
          maxSteps: o.maxSteps,
          out: o.out,
          queue: o.queue,
        }),
      );
      if (o.json) out(JSON.stringify(result.metrics));
      else {
        out(episodesReport(result.metrics));
        out(`${result.rows.length} episodes (${result.resumed} from an earlier run); written to ${o.out}/episodes.json and episodes-metrics.json`);
        if (result.elidedPrompts) out(`${result.elidedPrompts} prompt(s) had their oldest turns elided to fit the model's context window`);
      }
      const failed = result.rows.filter((r) => r.status === "failed");
      if (failed.length) {
        process.stderr.write(`${failed.length} episode(s) failed:\n`);
        for (const r of failed.slice(0, 20)) process.stderr.write(`  episode ${r.index}: ${r.reason}\n`);
        if (failed.length > 20) process.stderr.write(`  … see the reason field in ${o.out}/episodes.json\n`);
      }
    });

  const cassette = evalCmd
    .command("cassette")
    .description("write a replay cassette of a test set's REFERENCE outputs (a byte-exactness check for eval steps)")
    .requiredOption("--data <file>", "test set [{tools, instruction, conversations}]")
    .requiredOption("--out <file>", "cassette to write (JSONL)")
    .option("--single-llm", "backbone prompts and merged targets instead of the three roles");
  templateOptions(cassette);
  contextOptions(cassette).action(async (o) => {
      const settings = await codecSettings(o);
      const steps = userErrors(() => extractSteps(readToolBenchFile(o.data), o.data));
      const s = await writeReferenceCassette(steps, o.out, settings, !!o.singleLlm);
      out(`${o.out}: ${s.lines} lines for ${steps.length} steps (${s.elided} prompt(s) fitted to a ${settings.numCtx ?? "unbounded"}-token context)`);
      if (s.collisions)
        out(`${s.collisions} prompt(s) occur with different reference outputs: replay serves them in order, so run eval steps with --concurrency 1`);
    });

  evalCmd
    .command("report")
    .description("compare runs side by side: a static offline HTML report (tables, bar charts, failing steps) plus Markdown")
    .argument("<dirs...>", "run directories written by eval steps, eval toolalpaca or eval realtime")
    .option("--out <file>", "HTML file to write (the Markdown goes beside it, .md)", "report.html")
    .action((dirs: string[], o: { out: string }) => {
      const { runs, realtime, toolalpaca } = userErrors(() => loadReport(dirs));
      mkdirSync(dirname(o.out), { recursive: true });
      const md = o.out.replace(/\.html?$/i, "") + ".md";
      writeFileSync(o.out, renderHtml(runs, realtime, toolalpaca));
      writeFileSync(md, renderMarkdown(runs, realtime, toolalpaca));
      out(`wrote ${o.out} and ${md} (${runs.length + realtime.length + toolalpaca.length} run(s))`);
    });

  registerRealtimeEval(evalCmd);
  registerMathEval(evalCmd);
  registerToolAlpacaEval(evalCmd);
}
