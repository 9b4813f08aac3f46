/**
 * The α-UMi graph's nodes (`alpha-umi/nodes`), plain (state, config) functions, and the routes between them, for an app
 * that wires its own graph. The nodes read the run's settings (models, tools, templates) from `configurable`, as
 * `createAlphaUmiGraph` passes them.
 *
 * @example
 * const graph = new StateGraph(AgentState)
 *   .addNode("intake", intakeNode).addNode("planner", plannerNode).addNode("caller", callerNode)
 *   .addNode("tool", toolsNode).addNode("summarizer", summarizerNode)
 *   .addEdge(START, "intake").addConditionalEdges("intake", resumePoint)
 *   .addConditionalEdges("planner", afterPlanner).addConditionalEdges("caller", continueIfRunning("tool"))
 *   .addConditionalEdges("tool", afterTool("planner")).addEdge("summarizer", END)
 *   .compile({ checkpointer });
 */
export { intakeNode } from "./intake.js";
/** @example graph.addNode("planner", plannerNode) // writes the plan and the decision */
export { plannerNode } from "./planner.js";
/** @example graph.addNode("caller", callerNode) // writes the call */
export { callerNode } from "./caller.js";
/** @example graph.addNode("tool", toolsNode) // runs the call, writes the observation */
export { toolsNode } from "./tools.js";
/** @example graph.addNode("summarizer", summarizerNode) // writes the answer */
export { summarizerNode } from "./summarizer.js";
/** @example graph.addNode("backbone", backboneNode).addConditionalEdges("backbone", afterBackbone) // the single-LLM agent */
export { backboneNode } from "./backbone.js";
/**
 * @example
 * graph.addConditionalEdges("intake", resumePoint).addConditionalEdges("planner", afterPlanner)
 *   .addConditionalEdges("caller", continueIfRunning("tool")).addConditionalEdges("tool", afterTool("planner"));
 * // the single-LLM agent: resumePointSingle after intake, afterBackbone after the backbone, afterTool("backbone")
 */
export { resumePoint, afterPlanner, continueIfRunning, afterTool, resumePointSingle, afterBackbone } from "./routes.js";
