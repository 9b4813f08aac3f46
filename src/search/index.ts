/** Tree search over the agent's checkpoints (`alpha-umi/search`): DFSDT (ToolBench), next to the plain ReAct chain. */
export {
  searchAgent,
  type SearchKind,
  type SearchOptions,
  type SearchRunOptions,
  type SearchRunEvent,
  type SearchEvent,
  type SearchNode,
  type NodeKind,
  type SearchStop,
  type SearchQuestion,
  type SearchSummary,
} from "./dfsdt.js";
