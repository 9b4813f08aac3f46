import { randomUUID } from "node:crypto";
import { HumanMessage } from "@langchain/core/messages";
import { Command, type BaseCheckpointSaver } from "@langchain/langgraph";
import { pendingInterrupt, type ApprovePolicy } from "./approval.js";
import { UserError } from "./errors.js";
import { driveThread, threadConfig, threadGraph } from "./threadDriver.js";
import { takesNewQuestion } from "./nodes/intake.js";
import type { Role, RoleModel } from "./models/generate.js";
import { RoleCodec, type ElisionEvent } from "./codec/index.js";
import { promptSha256, readCassette } from "./models/cassette.js";
import { runRoles } from "./models/spec.js";
import { demoCassettePath, type Settings } from "./settings.js";
import { toolDocs } from "./tools/spec.js";
import { DEFAULT_TEMPLATES } from "./protocol/index.js";
import { loadToolPack } from "./tools/packs.js";
import type { AgentStateType, Turn } from "./state.js";
import type { ToolSpec } from "./tools/spec.js";
import type { Templates } from "./protocol/index.js";
import { searchAgent, type SearchEvent, type SearchOptions, type SearchSummary } from "./search/index.js";

/** Every setting of src/settings.ts (templates, context policy and window, timeouts, step budget, observation cut…). */
export interface RunOptions extends Settings {
  instruction?: string;
  tools: ToolSpec[];
  /**
   * Spec string or model per role (planner, caller, summarizer; backbone with singleLlm); unset: the demo's replay
   * cassette, which answers only the demo question (any other is refused before the first model call).
   */
  models?: Partial<Record<Role, string | RoleModel>>;
  /** Per-role override of `templates`. */
  roleTemplates?: Partial<Record<Role, Templates>>;
  singleLlm?: boolean;
  checkpointer: BaseCheckpointSaver;
  threadId?: string;
  /** Also write every (prompt, output) to this replay cassette. */
  record?: string;
  signal?: AbortSignal;
  /** Tool calls that wait for a person (src/approval.ts). */
  approve?: ApprovePolicy;
  /** Answers what the thread waits on (an approval request, or a tool's own `interrupt()`); undefined leaves it waiting. */
  ask?: (question: unknown) => Promise<unknown>;
  /** `dfsdt`: ToolBench's depth-first tree search over this thread's checkpoints (see src/search); default one chain. */
  search?: SearchOptions;
}

export type RunEvent = { kind: "start"; threadId: string; resumed: boolean } | { kind: "turn"; turn: Turn; node: string } | ElisionEvent | SearchEvent;

export interface RunResult {
  threadId: string;
  state: AgentStateType;
  /** The search tree and outcome, with `search: dfsdt`. */
  search?: SearchSummary;
}

/**
 * Run (or resume) one thread, reporting each new turn of τ as it is written. A thread that exists is resumed from its
 * checkpoint; a finished one takes `instruction` as a follow-up question.
 *
 * @example
 * const { state, threadId } = await runAgent(
 *   { instruction: DEMO_INSTRUCTION, tools: demoTools(), checkpointer: checkpointerFrom("runs.sqlite") },
 *   (e) => e.kind === "turn" && console.log(`[${e.turn.from}] ${e.turn.value}`),
 * );
 */
export async function runAgent(opts: RunOptions, onEvent: (e: RunEvent) => void = () => undefined): Promise<RunResult> {
  if (opts.search?.search === "dfsdt") {
    if (opts.instruction) await coveredByDefaultModels(opts, opts.instruction);
    return searchAgent({ ...opts, models: opts.models ?? {}, ...opts.search, threadId: opts.threadId ?? newThreadId() }, onEvent);
  }
  // Every setting goes to the graph as it is (GraphOptions takes the schema's keys).
  const graph = threadGraph(opts);
  const threadId = opts.threadId ?? newThreadId();
  const config = threadConfig(threadId, opts.signal);
  const existing = (await graph.getState(config)).values as Partial<AgentStateType>;
  const resumed = (existing.turns?.length ?? 0) > 0;
  let input: Record<string, unknown> | Command;
  if (!resumed) {
    if (!opts.instruction) throw new UserError(`thread ${threadId} has no checkpoint: give an INSTRUCTION to start it`);
    await coveredByDefaultModels(opts, opts.instruction);
    input = { instruction: opts.instruction };
  } else if (opts.instruction && takesNewQuestion(existing.status!.status)) {
    input = { messages: [new HumanMessage(opts.instruction)] };
  } else {
    // An unfinished run (failed or interrupted) resumes; a different question would be refused by intake, so say it now.
    if (opts.instruction && !existing.turns!.some((t) => t.from === "user" && t.value === opts.instruction))
      throw new UserError(
        `thread ${threadId} has an unfinished run (${existing.status!.status}): resume it without an INSTRUCTION (or with the same one); a new question is taken once it has finished or given up`,
      );
    input = {};
  }
  onEvent({ kind: "start", threadId, resumed });
  // A thread waiting on an interrupt (e.g. for approval, maybe since another process stopped) goes on only with an answer.
  let waiting = resumed ? pendingInterrupt(await graph.getState(config)) : undefined;
  for (;;) {
    if (waiting) {
      const answer = opts.ask ? await opts.ask(waiting.value) : undefined;
      if (answer === undefined) break;
      input = new Command({ resume: answer });
    }
    const snap = await driveThread(graph, threadId, input as Parameters<typeof graph.stream>[0], { signal: opts.signal, onTurn: (turn, node) => onEvent({ kind: "turn", turn, node }), onElision: onEvent });
    waiting = pendingInterrupt(snap);
    if (!waiting) break;
  }
  return { threadId, state: (await graph.getState(config)).values as AgentStateType };
}

/**
 * A role left unset gets the default model, the demo's replay cassette, which holds the demo question's prompts only.
 * With the first role (planner, or backbone) unset, a new thread on any other question (or tools, or templates) is
 * refused here, before the first model call, with one line saying so — rather than failing at the first prompt on a
 * cassette miss. That first prompt tells: it holds the instruction, the tool documents and the templates.
 */
async function coveredByDefaultModels(opts: RunOptions, instruction: string): Promise<void> {
  const roles = runRoles(!!opts.singleLlm);
  const first = roles[0]!;
  // The first model call is the first role's: with its model given, that call is the model's own to fail or not.
  if (opts.models?.[first]) return;
  const unset = roles.filter((role) => !opts.models?.[role]);
  const codec = new RoleCodec(first, { templates: opts.roleTemplates?.[first] ?? opts.templates ?? DEFAULT_TEMPLATES });
  const cassette = demoCassettePath();
  if (readCassette(cassette).has(promptSha256(codec.prompt(toolDocs(opts.tools), [{ from: "user", value: instruction }])))) return;
  const demo = await loadToolPack("demo");
  const what = unset.length === roles.length ? "no models given" : `no ${unset.join(" or ")} model given`;
  throw new UserError(
    `${what}: the default model replays ${cassette}, which answers only the demo question ("${demo?.instruction}" with --tools demo); give ${unset.map((r) => `--${r} SPEC`).join(", ")} (library: models.${unset.join(", models.")}), e.g. ollama:MODEL[@URL] or openai:MODEL@BASE_URL`,
  );
}

function newThreadId(): string {
  return `run-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomUUID().slice(0, 8)}`;
}
