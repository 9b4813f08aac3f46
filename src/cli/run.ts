import type { Command } from "commander";
import { checkpointerFrom, DEFAULT_CHECKPOINTS } from "../checkpoint.js";
import { demoCassettePath } from "../configuration.js";
import type { Role } from "../models/generate.js";
import { runAgent, type RunOptions } from "../run.js";
import { loadToolSources } from "../tools/sources.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { UserError } from "../errors.js";
import { contextOptions, positiveInt, templateChoice, templateOptions } from "./options.js";
import { approvePolicyOption, terminalAsk } from "./approve.js";
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

async function execute(opts: RunOptions): Promise<number> {
  const { threadId, state } = await runAgent(opts, (e) => printEvent(e, out));
  // A failure goes to stderr so scripts that capture the trajectory still see why the run stopped.
  (state.status.status === "failed" ? (line: string) => process.stderr.write(line + "\n") : out)(statusLine(state, threadId));
  return exitCodeOf(state);
}

export function registerRun(program: Command): void {
  const run = program
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
    .option("--checkpoints <location>", "SQLite checkpoint file, postgres://…[?schema=NAME], or 'memory'", DEFAULT_CHECKPOINTS)
    .option("--approve [tools...]", "ask before running these tools' calls (every tool when none is named); answers on stdin: y, e {JSON args}, r REASON")
    .option("--record <path>", "also record every prompt and output to a replay cassette (JSONL)")
    .option("--max-steps <n>", "planner step budget", positiveInt("--max-steps"))
    .option("--tool-timeout-ms <n>", "per-call tool timeout", positiveInt("--tool-timeout-ms"));
  templateOptions(run);
  contextOptions(run);
  run.action(async (instruction: string | undefined, o) => {
      if (!o.tools?.length) throw new UserError("no tools: pass --tools demo, --tools toolbench:FILE or --tools module:PATH");
      if (!instruction && !o.thread) throw new UserError("give an INSTRUCTION, or --thread ID to resume a run");
      const { templates, roleTemplates } = templateChoice(o);
      const tools = await loadToolSources(o.tools).catch((e: Error) => {
        throw new UserError(e.message);
      });
      const terminal = terminalAsk(out);
      process.exitCode = await execute({
        approve: approvePolicyOption(o.approve, tools.map((t) => t.doc.Name)),
        // Without --approve, a thread waiting for an answer stays waiting (never runs the call unasked).
        ask: o.approve ? terminal.ask : undefined,
        instruction,
        tools,
        models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
        singleLlm: !!o.singleLlm,
        checkpointer: checkpointerFrom(o.checkpoints),
        threadId: o.thread,
        record: o.record,
        templates,
        roleTemplates,
        contextPolicy: o.contextPolicy,
        numCtx: o.numCtx,
        modelTimeoutMs: o.modelTimeoutMs,
        maxSteps: o.maxSteps,
        toolTimeoutMs: o.toolTimeoutMs,
        signal: interruptSignal(),
      }).finally(terminal.close);
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
