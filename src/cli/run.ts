import { SUMMARIES } from "./summaries.js";
import type { Command } from "commander";
import { DEFAULT_CHECKPOINTS } from "../checkpoint/checkpointers.js";
import { demoCassettePath, settingDefault } from "../settings.js";
import { runAgent, type RunOptions } from "../runAgent.js";
import { loadToolSources } from "../tools/sources.js";
import { loadToolPack } from "../tools/packs.js";
import { UserError } from "../errors.js";
import type { SearchOptions } from "../search/index.js";
import { checkpointsLocation, codecSettings, contextOptions, missPolicy, openCheckpointer, positiveInt, templateOptions, userErrors } from "./options.js";
import { approvePolicyOption, terminalAsk } from "./approve.js";
import { exitCodeOf, formatTurn, printEvent, statusLine, turnLabel } from "./printer.js";
import { resumeCommand, resumeLine } from "./resume.js";

const out = (line: string) => process.stdout.write(line + "\n");

/** Ctrl-C aborts the model or tool call in flight; τ up to the last finished step is already checkpointed. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\ninterrupted\n");
    controller.abort();
  });
  return controller.signal;
}

/** `resume(threadId, waiting)`: the line saying how to resume the thread (src/cli/resume.ts). */
async function execute(opts: RunOptions, resume: (threadId: string, waiting: boolean) => string, waitingFor: () => unknown): Promise<number> {
  const { threadId, state, search } = await runAgent(opts, (e) => printEvent(e, out));
  if (search?.finishType === "give_up") {
    out(`gave up: the search found no answer (thread ${threadId})`);
    return 3;
  }
  const waiting = state.status.status === "running" ? waitingFor() : undefined;
  const hint = resume(threadId, waiting !== undefined);
  // A failure goes to stderr so scripts that capture the trajectory still see why the run stopped.
  (state.status.status === "failed" ? (line: string) => process.stderr.write(line + "\n") : out)(statusLine(state, threadId, { hint, waitingFor: waiting }));
  return exitCodeOf(state);
}

function searchOption(o: Record<string, unknown>): SearchOptions | undefined {
  if (o.search !== "react" && o.search !== "dfsdt") throw new UserError(`--search: unknown "${String(o.search)}" (react or dfsdt)`);
  if (o.search === "react") return undefined;
  const { beam, chainSteps, maxQueries } = o as { beam?: number; chainSteps?: number; maxQueries?: number };
  return { search: "dfsdt", beam, chainSteps, maxQueries, hideDiversity: !!o.hideDiversity };
}

export function registerRun(program: Command): void {
  const run = program
    .command("run")
    .description(SUMMARIES.run)
    .argument("[instruction]", "the task; omit it to resume --thread")
    .option("--tools <sources...>", "tool sources: demo, python, toolbench:FILE, toolenv:DIR[@URL|+cache:DIR], module:PATH, mcp:CONFIG.json, openapi:SPEC.json[@BASE_URL], langchain:MODULE#Export")
    .option("--planner <spec>", "planner model: ollama:MODEL[@URL], openai:MODEL@BASE_URL[#lora=ID], llama:PATH.gguf[+ADAPTER.gguf] or replay:PATH (default, as in the library: the demo's replay cassette)")
    .option("--caller <spec>", "caller model")
    .option("--summarizer <spec>", "summarizer model")
    .option("--backbone <spec>", "single-LLM model (with --single-llm)")
    .option("--single-llm", "run the paper's single-LLM baseline instead of α-UMi")
    .option("--thread <id>", "thread id: resumes the thread if it has a checkpoint")
    .option("--checkpoints <location>", "SQLite checkpoint file, postgres://…[?schema=NAME], or 'memory'", checkpointsLocation, DEFAULT_CHECKPOINTS)
    .option("--approve [tools...]", "ask before running these tools' calls (every tool when none is named); answers on stdin: y, e {JSON args}, r REASON")
    .option("--miss <policy>", "a toolbench: or toolenv: call with no recorded or cached answer: error, or simulate:SPEC (a model simulates the API)", "error")
    .option("--cache <dir>", "simulated API answers are cached here (a rerun makes no model call for them)")
    .option("--record <path>", "also record every prompt and output to a replay cassette (JSONL)")
    .option("--max-steps <n>", `planner step budget (default ${settingDefault("maxSteps")})`, positiveInt("--max-steps"))
    .option("--tool-timeout-ms <n>", `per-call tool timeout (default ${settingDefault("toolTimeoutMs")})`, positiveInt("--tool-timeout-ms"))
    .option("--max-observation-chars <n>", `observations are cut to this many characters (default ${settingDefault("maxObservationChars")})`, positiveInt("--max-observation-chars"))
    .option("--search <kind>", "react (one chain) or dfsdt (ToolBench's depth-first tree search over checkpoints)", "react")
    .option("--beam <n>", "dfsdt: children per node", positiveInt("--beam"))
    .option("--chain-steps <n>", "dfsdt: planner steps per chain", positiveInt("--chain-steps"))
    .option("--max-queries <n>", "dfsdt: model queries for the whole search", positiveInt("--max-queries"))
    .option("--hide-diversity", "dfsdt: show the diversity turn to its own step only (ToolBench), not keep it in τ (α-UMi)");
  templateOptions(run);
  contextOptions(run);
  run.action(async (instruction: string | undefined, o, cmd: Command) => {
      if (!o.tools?.length) throw new UserError("no tools: pass --tools demo, python, toolbench:FILE, toolenv:DIR[@URL|+cache:DIR], module:PATH, mcp:CONFIG.json, openapi:SPEC.json or langchain:MODULE#Export");
      if (!instruction && !o.thread) throw new UserError("give an INSTRUCTION, or --thread ID to resume a run");
      // Before the tool sources start (MCP servers, the sandbox): a checkpoint store that cannot be reached is one line.
      const checkpointer = await openCheckpointer(o.checkpoints);
      // MCP servers and the Python sandbox live as long as the run: close() stops them however it ends.
      const { tools, close } = await userErrors(() => loadToolSources(o.tools, { miss: missPolicy(o.miss, o.cache) }));
      const terminal = terminalAsk(out);
      // The question left unanswered, if any: a run that ends on one says what it waits for.
      let asked: unknown;
      const ask = async (question: unknown) => {
        const answer = o.approve ? await terminal.ask(question) : undefined;
        asked = answer === undefined ? question : undefined;
        return answer;
      };
      const hint = (threadId: string, waiting: boolean) => resumeLine(resumeCommand(cmd, threadId, { waiting }));
      process.exitCode = await execute({
        approve: approvePolicyOption(o.approve, tools.map((t) => t.doc.Name)),
        // Without --approve, a thread waiting for an answer stays waiting (never runs the call unasked).
        ask,
        instruction,
        tools,
        models: { planner: o.planner, caller: o.caller, summarizer: o.summarizer, backbone: o.backbone },
        singleLlm: !!o.singleLlm,
        checkpointer,
        threadId: o.thread,
        record: o.record,
        ...(await codecSettings(o)),
        maxSteps: o.maxSteps,
        toolTimeoutMs: o.toolTimeoutMs,
        maxObservationChars: o.maxObservationChars,
        signal: interruptSignal(),
        search: searchOption(o),
      }, hint, () => asked).finally(() => (terminal.close(), close()));
    });

  program
    .command("demo")
    .description(SUMMARIES.demo)
    .option("--single-llm", "run the single-LLM baseline instead")
    .option("--checkpoints <location>", "SQLite checkpoint file, postgres://…[?schema=NAME], or 'memory'", checkpointsLocation, DEFAULT_CHECKPOINTS)
    .action(async (o) => {
      const checkpointer = await openCheckpointer(o.checkpoints);
      const demo = (await loadToolPack("demo"))!;
      const cassette = demoCassettePath();
      out(`alpha-umi demo — the models are REPLAYED from ${cassette} (recorded outputs, no LLM runs);`);
      out("the graph, the tool executor, the demo tools and the SQLite checkpoint are real.\n");
      out(`[task] ${demo.instruction}`);
      const spec = "replay:" + cassette;
      const { threadId, state } = await runAgent(
        {
          instruction: demo.instruction,
          tools: demo.tools(),
          models: { planner: spec, caller: spec, summarizer: spec, backbone: spec },
          singleLlm: !!o.singleLlm,
          checkpointer,
        },
        (e) => e.kind === "turn" && e.turn.from !== "user" && out(formatTurn(e.turn, undefined, turnLabel(e.turn, e.node))),
      );
      out("\n" + statusLine(state, threadId));
      out(`trajectory τ (${state.turns.length} turns) checkpointed in ${o.checkpoints} as thread ${threadId}`);
      process.exitCode = exitCodeOf(state);
    });
}
