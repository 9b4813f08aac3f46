import { createAlphaUmiGraph } from "../src/graph.js";
import { withSubgraphMessages } from "../src/server/stream.js";
import { demoTools } from "../tools/demo/index.js";

/**
 * The α-UMi graph for LangGraph Studio (langgraph.json). Models, templates and step budget are set per run in Studio's
 * configuration panel; the defaults replay the offline demo cassette over the demo tools. Wrapped so that Studio's
 * `messages` stream works with subgraphs shown (see src/server/stream.ts).
 */
export const graph = withSubgraphMessages(createAlphaUmiGraph({ tools: demoTools(), checkpointer: false }));
