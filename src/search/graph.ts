/**
 * DFSDT as a graph of its own, for LangGraph Studio and `alpha-umi serve`: a configuration key alone cannot make the
 * α-UMi graph search, since the search drives that graph from outside (forks of one thread's checkpoints). Its
 * `search` node runs `searchAgent` — the same walk as `run --search dfsdt` — on a search thread beside the run's own
 * (`THREAD:dfsdt`) in the run's checkpointer, streams each tree node as a custom event, and returns the tree and the
 * answer. A run stopped mid-search resumes like any LangGraph run: the node runs again and the search replays its tree
 * from the search thread's checkpoints (no completed tool call runs again).
 *
 * Approval (`approve` in the run's configuration, as for the α-UMi graph): a chain that waits on an interrupt stops the
 * search, and the `ask` node raises the same value as this run's own `interrupt()`, so clients answer it as they answer
 * the α-UMi graph; `Command({resume})` brings the answer back to `search` (as `reply`), which replays the tree and
 * hands it to the waiting chain. The reply is kept with the id of the interrupt it answers, so it never answers another
 * question (one asked after a crash between the two, say); and each question is one interrupt of its own `ask` step,
 * since LangGraph matches a node's answers to its interrupts by their order, which a replayed search does not keep.
 */
import { randomUUID } from "node:crypto";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { Annotation, BaseCheckpointSaver, Command, END, interrupt, MemorySaver, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ensureConfiguration } from "../configurable.js";
import { toolsOf } from "../runCache.js";
import { configurationSchema } from "../settings.js";
import type { ApprovePolicy } from "../approval.js";
import type { Role, RoleModel } from "../models/generate.js";
import type { Turn } from "../state.js";
import type { ToolSpec } from "../tools/spec.js";
import { searchAgent, SEARCH_DEFAULTS, type SearchNode, type SearchQuestion, type SearchStop } from "./dfsdt.js";
import { UserError } from "../errors.js";

/** The α-UMi graph's configuration plus the search's settings (ToolBench's defaults when unset). */
export const SearchConfigurationSchema = configurationSchema({
  beam: z.number().int().positive().default(SEARCH_DEFAULTS.beam).describe("Children per node (`tree_beam_size`)."),
  chainSteps: z.number().int().positive().default(SEARCH_DEFAULTS.chainSteps).describe("Planner steps per chain (ToolBench's 12 tree nodes)."),
  maxQueries: z.number().int().positive().default(SEARCH_DEFAULTS.maxQueries).describe("Model queries for the whole search (`max_query_count`)."),
  observationChars: z.number().int().positive().default(SEARCH_DEFAULTS.observationChars).describe("Observations cut to this many characters plus `...`."),
  hideDiversity: z.boolean().default(false).describe("Show the diversity turn to its own step only (ToolBench) instead of keeping it in τ (α-UMi)."),
  plannerTemperature: z.number().positive().default(SEARCH_DEFAULTS.plannerTemperature).describe("Planner temperature where its provider takes one."),
  singleLlm: z.boolean().default(false).describe("Search with the single-LLM baseline instead of α-UMi."),
});

const last = <T>(fallback: T) => Annotation<T>({ reducer: (_a, b) => b, default: () => fallback });

export const SearchState = Annotation.Root({
  instruction: Annotation<string>,
  /** The thread holding the search's checkpoints (one per tree node step), browsable on its own. */
  searchThread: last<string | null>(null),
  tree: last<SearchNode[]>([]),
  answer: last<string | null>(null),
  finishType: last<"give_answer" | "give_up" | null>(null),
  stop: last<SearchStop | null>(null),
  queries: last(0),
  modelCalls: last(0),
  /** τ of the answering chain (or of the chain that ended the search, or that waits). */
  turns: last<Turn[]>([]),
  /** The question a chain of the search waits on, until `ask` has its answer. */
  waiting: last<SearchQuestion | null>(null),
  /** The answer to the interrupt `interruptId` of the search thread, for `search` to hand on. */
  reply: last<{ interruptId: string; value: unknown } | null>(null),
});
export type SearchStateType = typeof SearchState.State;

function setting(c: Record<string, unknown>, key: string): number | undefined {
  const v = c[key];
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  if (!(n > 0) || (key !== "plannerTemperature" && !Number.isInteger(n))) throw new UserError(`configuration ${key}: expected a positive ${key === "plannerTemperature" ? "number" : "integer"}, got ${JSON.stringify(v)}`);
  return n;
}

// A run without a checkpointer (a graph compiled without one, run as a subgraph, or a server's stateless run) still
// searches, in this process only.
const processSaver = new MemorySaver();

async function searchNode(state: SearchStateType, config: LangGraphRunnableConfig, checkpointer: BaseCheckpointSaver) {
  if (!state.instruction) throw new Error("dfsdt: the input needs an instruction");
  const c = (config.configurable ?? {}) as Record<string, unknown>;
  const cfg = ensureConfiguration(config);
  const tools: ToolSpec[] = await toolsOf(cfg);
  const searchThread = state.searchThread ?? `${typeof c.thread_id === "string" ? c.thread_id : randomUUID()}:dfsdt`;
  const singleLlm = c.singleLlm === true || c.singleLlm === "true";
  // The search drives the α-UMi graph as a driver does, on a thread of its own: run outside this node's LangGraph context,
  // so that the inner graph is not taken for a subgraph of this run (its step interrupts would end this run).
  const detached = <T>(fn: () => Promise<T>): Promise<T> => AsyncLocalStorageProviderSingleton.getInstance().run(undefined, fn) as Promise<T>;
  const reply = state.reply;
  const r = await detached(() => searchAgent(
    {
      instruction: state.instruction,
      tools,
      models: cfg.models as Record<Role, RoleModel | string>,
      singleLlm,
      checkpointer,
      threadId: searchThread,
      roleTemplates: cfg.templates,
      contextPolicy: cfg.contextPolicy,
      numCtx: cfg.numCtx,
      modelTimeoutMs: cfg.modelTimeoutMs,
      toolTimeoutMs: cfg.toolTimeoutMs,
      beam: setting(c, "beam"),
      chainSteps: setting(c, "chainSteps"),
      maxQueries: setting(c, "maxQueries"),
      observationChars: setting(c, "observationChars"),
      plannerTemperature: setting(c, "plannerTemperature"),
      hideDiversity: c.hideDiversity === true || c.hideDiversity === "true",
      approve: cfg.approve,
      // Only the answer to this very interrupt: any other question stops the search for `ask`.
      ask: async (_question, where) => (reply?.interruptId === where.interruptId ? reply.value : undefined),
      signal: config.signal,
    },
    // Studio and the API's `custom` stream mode show the tree as it grows.
    (e) => (e.kind === "search" || e.kind === "search_end" ? config.writer?.(e) : undefined),
  ));
  const s = r.search;
  const update = { searchThread, tree: s.tree, answer: s.answer, finishType: s.finishType, stop: s.stop, queries: s.queries, modelCalls: s.modelCalls, turns: r.state.turns };
  return new Command({ update: { ...update, waiting: s.waiting ?? null, reply: null }, goto: s.waiting ? "ask" : END });
}

/** The search's question as this run's own interrupt (the same value); the answer goes back to `search`. */
function askNode(state: SearchStateType) {
  const { value, interruptId } = state.waiting!;
  return new Command({ update: { reply: { interruptId, value: interrupt(value) }, waiting: null }, goto: "search" });
}

export interface SearchGraphOptions {
  tools?: ToolSpec[];
  models?: Partial<Record<Role, RoleModel | string>>;
  approve?: ApprovePolicy;
  /** The graph's own checkpointer: in memory by default; `false` for a server that brings its own. */
  checkpointer?: BaseCheckpointSaver | false;
  /**
   * Where the search threads live. Default: the graph's checkpointer as the run finds it (its own, or the one a
   * LangGraph server set for the run), else this process's memory. A server that shares one graph between runs with
   * different checkpointers, or a parent graph running this one as a subgraph, names it here.
   */
  searchCheckpointer?: BaseCheckpointSaver;
}

/**
 * The DFSDT search graph (`dfsdt` in langgraph.json and `alpha-umi serve`). Input `{instruction}`; output the tree,
 * the answer and the answering chain. Tools, models and `approve` come from the run's configuration, else `opts`.
 *
 * @example
 * const graph = createSearchGraph({ tools: demoTools(), models: { planner: "ollama:p", caller: "ollama:c", summarizer: "ollama:s" } });
 * const out = await graph.invoke({ instruction: "Weather in Lisbon?" }, { configurable: { thread_id: "t1", beam: 2 } });
 * out.tree.length; out.answer;
 */
export function createSearchGraph(opts: SearchGraphOptions = {}) {
  const configurable: Record<string, unknown> = { tools: opts.tools ?? [], ...(opts.approve ? { approve: opts.approve } : {}) };
  for (const role of ["planner", "caller", "summarizer", "backbone"] as const) if (opts.models?.[role]) configurable[`${role}Model`] = opts.models[role];
  // Read when a search starts: a LangGraph server sets the graph's checkpointer before each run (docs/search.md).
  let compiled: { checkpointer?: unknown } = {};
  const searchCheckpointer = (): BaseCheckpointSaver =>
    opts.searchCheckpointer ?? (compiled.checkpointer instanceof BaseCheckpointSaver ? compiled.checkpointer : processSaver);
  const graph = new StateGraph(SearchState, SearchConfigurationSchema)
    .addNode("search", (state: SearchStateType, config: LangGraphRunnableConfig) => searchNode(state, config, searchCheckpointer()), { ends: ["ask", END] })
    .addNode("ask", askNode, { ends: ["search"] })
    .addEdge(START, "search")
    .compile({ checkpointer: opts.checkpointer === false ? undefined : (opts.checkpointer ?? new MemorySaver()), name: "dfsdt" })
    .withConfig({ configurable });
  compiled = graph;
  return graph;
}
