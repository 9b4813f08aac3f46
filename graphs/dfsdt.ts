import { createSearchGraph } from "../src/search/graph.js";
import { withSubgraphMessages } from "../src/server/stream.js";
import { demoTools } from "../tools/demo/index.js";

/**
 * DFSDT for LangGraph Studio (langgraph.json): the same tree search as `run --search dfsdt`, over the demo tools by
 * default. Models, tool sources and the search settings (beam, chainSteps, maxQueries, …) are set per run in Studio's
 * configuration panel; the tree streams as custom events and lands in the output state.
 */
export const graph = withSubgraphMessages(createSearchGraph({ tools: demoTools(), checkpointer: false }));
