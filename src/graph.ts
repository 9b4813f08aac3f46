import { END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { ConfigurationSchema } from "./configurable.js";
import type { Role, RoleModel } from "./models/generate.js";
import type { Templates } from "./protocol/index.js";
import { settingsConfigurable, type Settings } from "./settings.js";
import { CALL_DURABILITY } from "./nodes/calls.js";
import { afterBackbone, afterPlanner, afterTool, continueIfRunning, resumePoint, resumePointSingle, type Route } from "./nodes/routes.js";
import { backboneNode, callerNode, intakeNode, plannerNode, summarizerNode, toolsNode } from "./nodes/index.js";
import { AgentState, type AgentStateType, type AgentUpdate } from "./state.js";
import { fromLangChainTool, isToolSpec } from "./tools/adapters.js";
import { checkUniqueNames, type ToolSpec } from "./tools/spec.js";

/**
 * The library's graph options: every setting of src/settings.ts (templates, context policy and window, timeouts, step
 * budget, approval…), with role models as `models` and per-role templates as `roleTemplates`.
 */
export interface GraphOptions extends Settings {
  /** α-UMi tool specs or LangChain tools. */
  tools?: Array<ToolSpec | StructuredToolInterface>;
  /** A LangChain model or a spec string (`ollama:…`, `replay:…`) per role; unset roles come from the run's configuration. */
  models?: Partial<Record<Role, RoleModel | string>>;
  /** Per-role override of `templates`. */
  roleTemplates?: Partial<Record<Role, Templates>>;
  /** Defaults to an in-memory saver; `false` compiles without one (LangGraph Studio brings its own). */
  checkpointer?: BaseCheckpointSaver | false;
}

function boundConfig(opts: GraphOptions) {
  const tools = (opts.tools ?? []).map((t) => (isToolSpec(t) ? t : fromLangChainTool(t)));
  checkUniqueNames(tools, "graph tools");
  const configurable = { ...settingsConfigurable(opts), tools };
  // The step budget bounds a run; LangGraph's own recursion limit must not cut it first. Durability is the call
  // invariant's (src/nodes/calls.ts): every step's checkpoint is on disk before the next step starts, in every driver.
  return { configurable, recursionLimit: 10_000, durability: CALL_DURABILITY };
}

type Node = (state: AgentStateType, config: RunnableConfig) => Promise<AgentUpdate>;

/**
 * A graph as data: each node and where the graph goes after it (a route on the reduced state, or a fixed successor).
 * The one definition of the routes: LangGraph's edges (and so Studio's drawing, `graph.updateState(config, update,
 * asNode)` and every run, resumed ones included: the intake's route is the resume point) are built from it; the search
 * steps the graph with `interruptAfter: "*"`.
 */
type Wiring = { intake: { node: Node; next: Route } } & Record<string, { node: Node; next: Route | typeof END }>;

const ALPHA_UMI = {
  intake: { node: intakeNode, next: resumePoint },
  planner: { node: plannerNode, next: afterPlanner },
  caller: { node: callerNode, next: continueIfRunning("tool") },
  tool: { node: toolsNode, next: afterTool("planner") },
  summarizer: { node: summarizerNode, next: END },
} satisfies Wiring;

const SINGLE_LLM = {
  intake: { node: intakeNode, next: resumePointSingle },
  backbone: { node: backboneNode, next: afterBackbone },
  tool: { node: toolsNode, next: afterTool("backbone") },
} satisfies Wiring;

/** The compiled graph of a wiring, entered at `intake`. */
function compileWiring(wiring: Wiring, name: string, opts: GraphOptions) {
  const graph = new StateGraph(AgentState, ConfigurationSchema).addNode(Object.fromEntries(Object.entries(wiring).map(([n, w]) => [n, w.node])));
  graph.addEdge(START, "intake");
  for (const [n, { next }] of Object.entries(wiring)) {
    if (typeof next === "string") graph.addEdge(n, next);
    else graph.addConditionalEdges(n, next, [...next.ends]);
  }
  const checkpointer = opts.checkpointer === false ? undefined : (opts.checkpointer ?? new MemorySaver());
  return graph.compile({ checkpointer, name }).withConfig(boundConfig(opts));
}

/**
 * α-UMi: planner → (caller → tools → planner)* → summarizer, or give up → end.
 *
 * @example
 * const graph = createAlphaUmiGraph({
 *   tools: demoTools(), // α-UMi tool specs (defineTool) or LangChain tools
 *   models: { planner: "ollama:alpha-umi-planner", caller: "ollama:alpha-umi-caller", summarizer: "ollama:alpha-umi-summarizer" },
 *   checkpointer: checkpointerFrom("runs.sqlite"), // default: in memory
 * });
 * const state = await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "t1" } });
 * state.status.status; // "finished" | "gave_up" | "failed"
 */
export function createAlphaUmiGraph(opts: GraphOptions = {}) {
  return compileWiring(ALPHA_UMI, "alphaUmi", opts);
}

/**
 * The paper's single-LLM baseline over the same tools and state: backbone → (tools → backbone)*.
 *
 * @example
 * const graph = createSingleLlmGraph({ tools: demoTools(), models: { backbone: "ollama:alpha-umi-backbone" } });
 * const state = await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "b1" } });
 */
export function createSingleLlmGraph(opts: GraphOptions = {}) {
  return compileWiring(SINGLE_LLM, "singleLlm", opts);
}

export type AlphaUmiGraph = ReturnType<typeof createAlphaUmiGraph>;
