import { createAlphaUmiGraph } from "../src/graph.js";
import { demoTools } from "../tools/demo/index.js";

/**
 * The α-UMi graph for LangGraph Studio (langgraph.json). Models, templates and step budget are set per run in Studio's
 * configuration panel; the defaults replay the offline demo cassette over the demo tools.
 */
export const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: false });
