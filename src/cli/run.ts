import type { Command } from "commander";
import { checkpointerFrom, DEFAULT_CHECKPOINTS } from "../checkpoint.js";
import { demoCassettePath } from "../configuration.js";
import { isTemplateVariant, type TemplatePack, type TemplateVariant } from "../protocol/index.js";
import type { Role } from "../models/generate.js";
import { runAgent, type RunOptions } from "../run.js";
import { loadToolSources } from "../tools/sources.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { UserError } from "../errors.js";
import { positiveInt } from "./options.js";
import { exitCodeOf, formatTurn, printEvent, statusLine } from "./printer.js";

const out = (line: string) => process.stdout.write(line + "\n");

/** Ctrl-C aborts the model or tool call in flight; τ up to the last finished step is already checkpointed. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\ninterrupted: the thread can be resumed with --thread\n");
    controller.abort();
  });
  return controller.signal;
}

/** `--templates` picks the α-UMi variant, or the instruct pack; per-role options override it for one role. */
function templateChoice(o: Record<string, string | undefined>): { variant: TemplateVariant; packs: Partial<Record<Role, TemplatePack>> } {
  const check = (flag: string, v: string) => {
    if (v !== "instruct" && !isTemplateVariant(v)) throw new UserError(`${flag}: unknown variant "${v}" (toolbench, toolalpaca or instruct)`);
    return v;
  };
  const global = check("--templates", o.templates ?? "toolbench");
  const packs: Partial<Record<Role, TemplatePack>> = {};
  for (const role of ["planner", "caller", "summarizer", "backbone"] as const) {
    const v = check(`--${role}-templates`, o[`${role}Templates`] ?? global);
    packs[role] = v === "instruct" ? "instruct" : "alpha-umi";
  }
  return { variant: isTemplateVariant(global) ? global : "toolbench", packs };
}

async function execute(opts: RunOptions): Promise<number> {
  const { threadId, state } = await runAgent(opts, (e) => printEvent(e, out));
  // A failure goes to stderr so scripts that capture the trajectory still see why the run stopped.
  (state.status.status === "failed" ? (line: string) => process.stderr.write(line + "\n") : out)(statusLine(state, threadId));
  return exitCodeOf(state);
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run the agent on an instruction (or resume a thread), streaming each step")
    .argument("[instruction]", "the task; omit it to resume --thread")
    .option("--tools <sources...>", "tool sources: demo, toolbench:FILE, module:PATH")
    .option("--planner <spec>", "planner model (ollama:MODEL[@URL] or replay:PATH)", "ollama:alpha-umi-planner")
    .option("--caller <spec>", "caller model", "ollama:alpha-umi-caller")
    .option("--summarizer <spec>", "summarizer model", "ollama:alpha-umi-summarizer")
    .option("--backbone <spec>", "single-LLM model (with --single-llm)", "ollama:alpha-umi-backbone")
    .option("--single-llm", "run the paper's single-LLM baseline instead of α-UMi")
    .option("--thread <id>", "thread id: resumes the thread if it has a checkpoint")
    .option("--checkpoints <path>", "SQLite checkpoint file, or 'memory'", DEFAULT_CHECKPOINTS)
    .option("--record <path>", "also record every prompt and output to a replay cassette (JSONL)")
    .option("--templates <variant>", "prompt templates: toolbench, toolalpaca, or instruct (off-the-shelf Ollama chat models)", "toolbench")
    .option("--planner-templates <variant>", "override --templates for the planner")
    .option("--caller-templates <variant>", "override --templates for the caller")
    .option("--summarizer-templates <variant>", "override --templates for the summarizer")
    .option("--max-steps <n>", "planner step budget", positiveInt("--max-steps"))
    .option("--tool-timeout-ms <n>", "per-call tool timeout", positiveInt("--tool-timeout-ms"))
    .action(async (instruction: string | undefined, o) => {
      if (!o.tools?.length) throw new UserError("no tools: pass --tools demo, --tools toolbench:FILE or --tools module:PATH");
      if (!instruction && !o.thread) throw new UserError("give an INSTRUCTION, or --thread ID to resume a run");
      const { variant, packs } = templateChoice(o);
      const tools = await loadToolSources(o.tools).catch((e: Error) => {
        throw new UserError(e.message);
      });
      process.exitCode = await execute({
        instruction,
        tools,
        models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
        singleLlm: !!o.singleLlm,
        checkpointer: checkpointerFrom(o.checkpoints),
        threadId: o.thread,
        record: o.record,
        templates: variant,
        packs,
        maxSteps: o.maxSteps,
        toolTimeoutMs: o.toolTimeoutMs,
        signal: interruptSignal(),
      });
    });

  program
    .command("demo")
    .description("the offline demo: real graph, tools and SQLite checkpoint, with REPLAYED models (no LLM needed)")
    .option("--single-llm", "run the single-LLM baseline instead")
    .option("--checkpoints <path>", "SQLite checkpoint file", DEFAULT_CHECKPOINTS)
    .action(async (o) => {
      const cassette = demoCassettePath();
      out(`alpha-umi demo — the models are REPLAYED from ${cassette} (recorded outputs, no LLM runs);`);
      out("the graph, the tool executor, the demo tools and the SQLite checkpoint are real.\n");
      out(`[task] ${DEMO_INSTRUCTION}`);
      const spec = "replay:" + cassette;
      const { threadId, state } = await runAgent(
        {
          instruction: DEMO_INSTRUCTION,
          tools: demoTools(),
          models: { planner: spec, caller: spec, summarizer: spec, backbone: spec },
          singleLlm: !!o.singleLlm,
          checkpointer: checkpointerFrom(o.checkpoints),
        },
        (e) => e.kind === "turn" && e.turn.from !== "user" && out(formatTurn(e.turn)),
      );
      out("\n" + statusLine(state, threadId));
      out(`trajectory τ (${state.turns.length} turns) checkpointed in ${o.checkpoints} as thread ${threadId}`);
      process.exitCode = exitCodeOf(state);
    });
}
