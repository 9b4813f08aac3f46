/** Tree search over the agent's checkpoints: DFSDT (ToolBench), next to the plain ReAct chain. */
export * from "./dfsdt.js";
export * from "./format.js";
