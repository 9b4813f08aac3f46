import type { Command } from "commander";
import { evalToolAlpaca, judgeToolAlpaca, JUDGE_TEMPERATURE, SIMULATOR_TEMPERATURE } from "../eval/toolalpaca.js";
import { codecSettings, contextOptions, positiveInt, roleModelOptions, templateOptions, userErrors, userModel } from "./options.js";

const out = (text: string) => process.stdout.write(text + "\n");
const pct = (x: number) => (x * 100).toFixed(2);

/** `alpha-umi eval toolalpaca`: the paper's Table 1 ToolAlpaca column (run on simulated APIs, then ToolAlpaca's judge). */
export function registerToolAlpacaEval(evalCmd: Command): void {
  const cmd = evalCmd
    .command("toolalpaca")
    .description("run every instruction of a ToolAlpaca file on its simulated API (resumable), then judge the instances as ToolAlpaca's evaluation.py (--judge)")
    .requiredOption("--simulator <spec>", "API simulator model, ToolAlpaca's simulator template (ollama:MODEL[@URL], openai:MODEL@BASE_URL, llama:PATH.gguf, replay:PATH)")
    .option("--judge <spec>", "judge model: ToolAlpaca's evaluation (GPT-4 in the paper); writes DIR/evaluation.json")
    .option("--api <name...>", "only these APIs (by Name)");
  roleModelOptions(cmd, "run", "ToolAlpaca API file (eval_simulated.json: APIs with Documentation, Function_Projection, Instructions, Golden_Answers)");
  templateOptions(cmd, "toolalpaca"); // the α-UMi ToolAlpaca prompts
  contextOptions(cmd)
    .option("--cache <dir>", "simulated answers are cached here (default DIR/simulator-cache)")
    .option("--max-steps <n>", "planner steps before an instruction stops", positiveInt("--max-steps"))
    .option("--limit <n>", "only the first N instructions", positiveInt("--limit"))
    .option("--concurrency <n>", "instructions run at the same time", positiveInt("--concurrency"), 1)
    .requiredOption("--out <dir>", "output dir (instances.json, evaluation.json, toolalpaca.json; toolalpaca.sqlite and checkpoints.sqlite for resuming)")
    .option("--json", "print one JSON object with the result")
    .action(async (o) => {
      const settings = await codecSettings(o);
      const simulator = userModel(o.simulator, "--simulator", { temperature: SIMULATOR_TEMPERATURE });
      // evaluation.py sets no max_tokens: the analysis before the verdicts must not be cut at the roles' 512.
      const judge = o.judge ? userModel(o.judge, "--judge", { temperature: JUDGE_TEMPERATURE, numPredict: 2048 }) : undefined;
      const r = await userErrors(() =>
        evalToolAlpaca({
          data: o.data,
          apis: o.api,
          simulator,
          cacheDir: o.cache,
          models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
          singleLlm: !!o.singleLlm,
          settings,
          maxSteps: o.maxSteps,
          limit: o.limit,
          concurrency: o.concurrency,
          out: o.out,
        }),
      );
      if (!o.json) out(`${r.instances} instance(s) in ${o.out}/instances.json (${r.resumed} from an earlier run)`);
      if (r.failures.length) {
        process.stderr.write(`${r.failures.length} instruction(s) failed (rerun the same command to retry; judging waits for them):\n`);
        for (const f of r.failures.slice(0, 20)) process.stderr.write(`  ${f.api} #${f.id}: ${f.error}\n`);
        process.exitCode = 1;
        return;
      }
      if (!judge) {
        if (o.json) out(JSON.stringify({ instances: r.instances }));
        return;
      }
      const s = await userErrors(() => judgeToolAlpaca(o.out, { judge, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) }));
      if (o.json) {
        out(JSON.stringify({ instances: r.instances, process: s.process, answer: s.answer, both: s.both, statistics: s.statistics }));
        return;
      }
      const st = s.statistics;
      out(`process correctness ${pct(s.process)}%, final-answer correctness ${pct(s.answer)}%, both ${pct(s.both)}% over ${st.num} instructions (${st.error_num} without steps)`);
      out(`${s.judgeCalls} judge calls; written to ${o.out}/evaluation.json`);
    });
}
