import { Command, END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { ConfigurationSchema } from "./configurable.js";
import type { Role, RoleModel } from "./models/generate.js";
import type { Templates } from "./protocol/index.js";
import { settingsConfigurable, type Settings } from "./settings.js";
import { afterBackbone, afterPlanner, afterTool, afterUpdate, continueIfRunning, resumePoint, resumePointSingle } from "./nodes/routes.js";
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
  // The step budget bounds a run; LangGraph's own recursion limit must not cut it first. Every step's checkpoint is
  // written before the next step starts ("sync"), in every driver: a completed call never runs again after a crash, and
  // a call settled to run is on disk before it starts (the crash policy, src/nodes/inFlight.ts).
  return { configurable, recursionLimit: 10_000, durability: "sync" as const };
}

type Node = (state: AgentStateType, config: RunnableConfig) => Promise<AgentUpdate>;
type Route = (state: AgentStateType) => string;

/** Where each graph goes after a node, read on the state after the node's update (the summarizer always ends). */
const ROUTES: Record<"alphaUmi" | "singleLlm", Record<string, Route>> = {
  alphaUmi: { intake: resumePoint, planner: afterPlanner, caller: continueIfRunning("tool"), tool: afterTool("planner") },
  singleLlm: { intake: resumePointSingle, backbone: afterBackbone, tool: afterTool("backbone") },
};

/**
 * A node that names its successor (a LangGraph Command) by `route` on the state after its update. The same route as a
 * conditional edge after the node, without the edge's own runnable and fresh read of every channel at each step.
 */
function routed(node: Node, route: Route) {
  return async (state: AgentStateType, config: RunnableConfig) => {
    const update = await node(state, config);
    return new Command({ update, goto: route(afterUpdate(state, update)) });
  };
}

/**
 * `graph.updateState(config, update, asNode)` that also routes as the node would: nodes name their successor
 * themselves, so a plain update written as a node would leave the thread with no next node.
 *
 * @example await updateAsNode(graph, snapshot, { turns: [{ from: "user", value: "Try another tool." }] }, "tool");
 */
export async function updateAsNode(
  graph: Pick<AlphaUmiGraph, "updateState" | "name">,
  snapshot: { config: RunnableConfig; values: unknown },
  update: AgentUpdate,
  asNode: string,
): Promise<RunnableConfig> {
  const route = ROUTES[graph.name as keyof typeof ROUTES]?.[asNode];
  const values = route ? new Command({ update, goto: route(afterUpdate(snapshot.values as AgentStateType, update)) }) : update;
  return graph.updateState(snapshot.config, values, asNode);
}

const saverOf = (opts: GraphOptions) => (opts.checkpointer === false ? undefined : (opts.checkpointer ?? new MemorySaver()));

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
  return new StateGraph(AgentState, ConfigurationSchema)
    .addNode("intake", routed(intakeNode, ROUTES.alphaUmi.intake!), { ends: ["planner", "caller", "tool", "summarizer", END] })
    .addNode("planner", routed(plannerNode, ROUTES.alphaUmi.planner!), { ends: ["caller", "summarizer", END] })
    .addNode("caller", routed(callerNode, ROUTES.alphaUmi.caller!), { ends: ["tool", END] })
    .addNode("tool", routed(toolsNode, ROUTES.alphaUmi.tool!), { ends: ["tool", "planner"] })
    .addNode("summarizer", summarizerNode)
    .addEdge(START, "intake")
    .addEdge("summarizer", END)
    .compile({ checkpointer: saverOf(opts), name: "alphaUmi" })
    .withConfig(boundConfig(opts));
}

/**
 * The paper's single-LLM baseline over the same tools and state: backbone → (tools → backbone)*.
 *
 * @example
 * const graph = createSingleLlmGraph({ tools: demoTools(), models: { backbone: "ollama:alpha-umi-backbone" } });
 * const state = await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "b1" } });
 */
export function createSingleLlmGraph(opts: GraphOptions = {}) {
  return new StateGraph(AgentState, ConfigurationSchema)
    .addNode("intake", routed(intakeNode, ROUTES.singleLlm.intake!), { ends: ["backbone", "tool", END] })
    .addNode("backbone", routed(backboneNode, ROUTES.singleLlm.backbone!), { ends: ["tool", END] })
    .addNode("tool", routed(toolsNode, ROUTES.singleLlm.tool!), { ends: ["tool", "backbone"] })
    .addEdge(START, "intake")
    .compile({ checkpointer: saverOf(opts), name: "singleLlm" })
    .withConfig(boundConfig(opts));
}

export type AlphaUmiGraph = ReturnType<typeof createAlphaUmiGraph>;
