import { createSingleLlmGraph } from "../src/graph.js";
import { withSubgraphMessages } from "../src/server/stream.js";
import { demoTools } from "../tools/demo/index.js";

/** The single-LLM baseline for LangGraph Studio, over the same demo tools. */
export const graph = withSubgraphMessages(createSingleLlmGraph({ tools: demoTools(), checkpointer: false }));
