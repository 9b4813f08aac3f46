import { END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { ConfigurationSchema } from "./configuration.js";
import type { Role, RoleModel } from "./models/generate.js";
import { afterBackbone, afterPlanner, continueIfRunning, resumePoint, resumePointSingle } from "./nodes/routes.js";
import { backboneNode, callerNode, intakeNode, plannerNode, summarizerNode, toolsNode } from "./nodes/index.js";
import { AgentState } from "./state.js";
import { fromLangChainTool, isToolSpec } from "./tools/adapters.js";
import { checkUniqueNames, type ToolSpec } from "./tools/spec.js";
import { codecConfigurable, type CodecSettings } from "./codec/index.js";
import type { ApprovePolicy } from "./approval.js";

/** Besides tools and models: templates, context policy and window, model timeout (see CodecSettings). */
export interface GraphOptions extends CodecSettings {
  /** α-UMi tool specs or LangChain tools. */
  tools?: Array<ToolSpec | StructuredToolInterface>;
  /** A LangChain model or a spec string (`ollama:…`, `replay:…`) per role; unset roles come from the run's configuration. */
  models?: Partial<Record<Role, RoleModel | string>>;
  /** Defaults to an in-memory saver; `false` compiles without one (LangGraph Studio brings its own). */
  checkpointer?: BaseCheckpointSaver | false;
  maxSteps?: number;
  toolTimeoutMs?: number;
  maxObservationChars?: number;
  /** Tool calls that wait for a person (LangGraph `interrupt()`): `none` (default), `all` or tool names; see src/approval.ts. */
  approve?: ApprovePolicy;
}

function boundConfig(opts: GraphOptions) {
  const tools = (opts.tools ?? []).map((t) => (isToolSpec(t) ? t : fromLangChainTool(t)));
  checkUniqueNames(tools, "graph tools");
  const configurable: Record<string, unknown> = { tools, ...codecConfigurable(opts) };
  const set = (key: string, v: unknown) => v !== undefined && (configurable[key] = v);
  set("plannerModel", opts.models?.planner);
  set("callerModel", opts.models?.caller);
  set("summarizerModel", opts.models?.summarizer);
  set("backboneModel", opts.models?.backbone);
  set("maxSteps", opts.maxSteps);
  set("toolTimeoutMs", opts.toolTimeoutMs);
  set("maxObservationChars", opts.maxObservationChars);
  set("approve", opts.approve);
  // The step budget bounds a run; LangGraph's own recursion limit must not cut it first.
  return { configurable, recursionLimit: 10_000 };
}

const saverOf = (opts: GraphOptions) => (opts.checkpointer === false ? undefined : (opts.checkpointer ?? new MemorySaver()));

/** α-UMi: planner → (caller → tools → planner)* → summarizer, or give up → end. */
export function createAlphaUmiGraph(opts: GraphOptions = {}) {
  return new StateGraph(AgentState, ConfigurationSchema)
    .addNode("intake", intakeNode)
    .addNode("planner", plannerNode)
    .addNode("caller", callerNode)
    .addNode("tool", toolsNode)
    .addNode("summarizer", summarizerNode)
    .addEdge(START, "intake")
    .addConditionalEdges("intake", resumePoint, ["planner", "caller", "tool", "summarizer", END])
    .addConditionalEdges("planner", afterPlanner, ["caller", "summarizer", END])
    .addConditionalEdges("caller", continueIfRunning("tool"), ["tool", END])
    .addEdge("tool", "planner")
    .addEdge("summarizer", END)
    .compile({ checkpointer: saverOf(opts), name: "alphaUmi" })
    .withConfig(boundConfig(opts));
}

/** The paper's single-LLM baseline over the same tools and state: backbone → (tools → backbone)*. */
export function createSingleLlmGraph(opts: GraphOptions = {}) {
  return new StateGraph(AgentState, ConfigurationSchema)
    .addNode("intake", intakeNode)
    .addNode("backbone", backboneNode)
    .addNode("tool", toolsNode)
    .addEdge(START, "intake")
    .addConditionalEdges("intake", resumePointSingle, ["backbone", "tool", END])
    .addConditionalEdges("backbone", afterBackbone, ["tool", END])
    .addEdge("tool", "backbone")
    .compile({ checkpointer: saverOf(opts), name: "singleLlm" })
    .withConfig(boundConfig(opts));
}

export type AlphaUmiGraph = ReturnType<typeof createAlphaUmiGraph>;
