import type { Command } from "commander";
import { evalPass, evalPrefer, type PassResult } from "../eval/judge.js";
import { evalRealtime } from "../eval/realtime.js";
import { UserError } from "../errors.js";
import { codecSettings, contextOptions, missPolicy, positiveInt, userErrors, userModel, roleModelOptions, templateOptions } from "./options.js";

const out = (text: string) => process.stdout.write(text + "\n");
const warn = (text: string) => process.stderr.write(`warning: ${text}\n`);
const pct = (x: number) => (x * 100).toFixed(2);
const pct1 = (x: number) => (x * 100).toFixed(1);

function seedOption(v: string): number {
  if (!/^\d+$/.test(v)) throw new UserError(`--seed: expected a non-negative integer, got "${v}"`);
  return Number(v);
}

const JUDGE_NUM_CTX = "the judge's context window in tokens (Ollama num_ctx, llama.cpp context size; a judge prompt holds a whole trajectory)";

/** `--judge SPEC` with `--num-ctx`, as a judge reads prompts larger than the role models' 4096-token default. */
function judgeModel(o: { judge: string; numCtx?: number }) {
  return userModel(o.judge, "--judge", o.numCtx ? { numCtx: o.numCtx } : {});
}

/** `eval realtime`, `eval pass` and `eval prefer`: the paper's Table 2. */
export function registerRealtimeEval(evalCmd: Command): void {
  const realtime = roleModelOptions(
    evalCmd
      .command("realtime")
      .description("run every query live (ReAct chain or DFSDT search) on the ToolBench replay pack or a StableToolBench tool environment; one answer file per query, resumable"),
    "run",
  )
    .requiredOption(
      "--tools <source>",
      "toolbench:FILE (the replay pack: ToolBench-format dialogs) or toolenv:DIR[@URL|+cache:CACHE_DIR] (ToolBench's tools; calls to a StableToolBench server or answered from its tool_response_cache; each query runs on its api_list)",
    )
    .option("--miss <policy>", "a call with no recorded or cached answer: error, or simulate:SPEC (a model simulates the API)", "error")
    .option("--cache <dir>", "simulated answers are cached here (a rerun makes no model call for them)")
    .option("--search <kind>", "react or dfsdt", "react")
    .option("--beam <n>", "dfsdt: children per node", positiveInt("--beam"))
    .option("--chain-steps <n>", "dfsdt: planner steps per chain", positiveInt("--chain-steps"))
    .option("--max-queries <n>", "dfsdt: model queries per task", positiveInt("--max-queries"))
    .option("--max-steps <n>", "react: planner steps before a chain gives up", positiveInt("--max-steps"))
    .option("--tool-timeout-ms <n>", "per-call tool timeout (a StableToolBench server that simulates may need more than the default)", positiveInt("--tool-timeout-ms"))
    .option("--limit <n>", "only the first N queries", positiveInt("--limit"))
    .option("--concurrency <n>", "queries run at the same time", positiveInt("--concurrency"), 1)
    .requiredOption("--out <dir>", "answer directory (one QUERY_ID.json per query; checkpoints.sqlite for resuming)");
  templateOptions(realtime);
  contextOptions(realtime);
  realtime.action(async (o) => {
    if (o.search !== "react" && o.search !== "dfsdt") throw new UserError(`--search: unknown "${o.search}" (react or dfsdt)`);
    const settings = await codecSettings(o);
    const r = await userErrors(() =>
      evalRealtime({
        data: o.data,
        tools: o.tools,
        miss: missPolicy(o.miss, o.cache),
        search: { search: o.search, beam: o.beam, chainSteps: o.chainSteps, maxQueries: o.maxQueries },
        models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
        singleLlm: !!o.singleLlm,
        out: o.out,
        concurrency: o.concurrency,
        limit: o.limit,
        run: { ...settings, maxSteps: o.maxSteps, toolTimeoutMs: o.toolTimeoutMs },
        onAnswer: (a) => out(`${a.query_id}: ${a.answer_generation.finish_type} after ${a.answer_generation.query_count} queries (${a.answer_generation.model_calls} model calls)`),
      }),
    );
    const answered = r.answers.filter((a) => a.answer_generation.finish_type === "give_answer").length;
    out(`${r.answers.length} answer file(s) in ${o.out} (${r.skipped} from an earlier run): ${answered} answered, ${r.answers.length - answered} gave up`);
    if (r.failures.length) {
      process.stderr.write(`${r.failures.length} quer${r.failures.length === 1 ? "y" : "ies"} failed (rerun the same command to retry):\n`);
      for (const f of r.failures.slice(0, 20)) process.stderr.write(`  ${f.id}: ${f.error}\n`);
      process.exitCode = 1;
    }
  });

  evalCmd
    .command("pass")
    .description(
      "judge eval realtime directories: pass rate (ToolEval, seeded coin on Unsure) and solvable pass rate (mean ± std), then SoPR per query file as StableToolBench's tables; writes DIR/pass.json",
    )
    .argument("<dirs...>", "answer directories written by eval realtime (one per query file: G1_instruction, G1_category, …)")
    .requiredOption("--judge <spec>", "judge model (ollama:MODEL[@URL], openai:MODEL@BASE_URL, llama:PATH.gguf, replay:PATH, …)")
    .option("--times <n>", "judge samples per query", positiveInt("--times"), 4)
    .option("--num-ctx <n>", JUDGE_NUM_CTX, positiveInt("--num-ctx"))
    .option("--seed <n>", "seed of the Unsure coin", seedOption, 0)
    .option("--json", "print the result as JSON")
    .action(async (dirs: string[], o) => {
      const judge = judgeModel(o);
      const results: Array<{ dir: string; r: PassResult }> = [];
      for (const dir of dirs) results.push({ dir, r: await userErrors(() => evalPass(dir, { judge, times: o.times, seed: o.seed, onWarning: warn })) });
      const groups = results.flatMap(({ r }) => r.groups);
      const average = groups.reduce((sum, g) => sum + g.solvablePassRate.mean, 0) / groups.length;
      if (o.json) {
        const one = ({ r }: { r: PassResult }) => ({ passRate: r.passRate, solvablePassRate: r.solvablePassRate, judgeCalls: r.judgeCalls });
        out(JSON.stringify(results.length === 1 ? { ...one(results[0]!), groups } : { dirs: results.map((x) => ({ dir: x.dir, ...one(x) })), groups, averageSoPR: average }));
        return;
      }
      for (const { dir, r } of results) {
        if (results.length > 1) out(`${dir}:`);
        out(`pass rate ${pct(r.passRate)}% over ${r.queries.length} queries (${r.times} judge samples each, seed ${r.seed})`);
        out(`solvable pass rate ${pct(r.solvablePassRate.mean)}% ± ${pct(r.solvablePassRate.std)} (runs: ${r.solvablePassRate.runs.map(pct).join(", ")})`);
        out(`${r.judgeCalls} judge calls; written to ${dir}/pass.json`);
      }
      // StableToolBench's tables: one column per test set, SoPR in % with one decimal, ± the std over judge runs.
      const width = Math.max(7, ...groups.map((g) => g.group.length));
      out(`SoPR per query file (mean ± std over ${o.times} judge runs, %):`);
      out(`  ${"group".padEnd(width)}  queries  SoPR`);
      for (const g of groups) out(`  ${g.group.padEnd(width)}  ${String(g.queries).padStart(7)}  ${pct1(g.solvablePassRate.mean)} ± ${pct1(g.solvablePassRate.std)}`);
      out(`  ${"average".padEnd(width)}  ${"".padStart(7)}  ${pct1(average)}`);
    });

  evalCmd
    .command("prefer")
    .description("win rate of DIR against REF_DIR: a pass beats a fail, otherwise the judge prefers one answer (or a tie)")
    .argument("<dir>", "answer directory")
    .argument("<refDir>", "reference answer directory (same queries)")
    .requiredOption("--judge <spec>", "judge model")
    .option("--times <n>", "judge samples per query when a pass.json is missing", positiveInt("--times"), 4)
    .option("--num-ctx <n>", JUDGE_NUM_CTX, positiveInt("--num-ctx"))
    .option("--seed <n>", "seed of the answer order and the Unsure coin", seedOption, 0)
    .option("--json", "print the result as JSON")
    .action(async (dir: string, refDir: string, o) => {
      const r = await userErrors(() => evalPrefer(dir, refDir, { judge: judgeModel(o), times: o.times, seed: o.seed, onWarning: warn }));
      if (o.json) {
        out(JSON.stringify({ wins: r.wins, ties: r.ties, losses: r.losses, winRate: r.winRate }));
        return;
      }
      out(`${r.wins} wins, ${r.ties} ties, ${r.losses} losses against ${refDir}: win rate ${pct(r.winRate)}% (ties count half)`);
      if (r.unmatched.length) warn(`${r.unmatched.length} quer${r.unmatched.length === 1 ? "y has" : "ies have"} no answer in ${refDir}: ${r.unmatched.slice(0, 10).join(", ")}`);
    });
}
