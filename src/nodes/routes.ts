import { END } from "@langchain/langgraph";
import { parsePlanner } from "../protocol/index.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Where a run stands is read off τ, so an interrupted or failed thread resumes at the right node. */
export function resumePoint(state: AgentStateType): "planner" | "caller" | "tool" | "summarizer" | typeof END {
  if (state.status.status !== "running") return END;
  const last = state.turns[state.turns.length - 1];
  switch (last?.from) {
    case "caller":
      return "tool";
    case "assistant": {
      const { decision } = parsePlanner(last.value);
      return decision === "caller" ? "caller" : decision === "conclusion" ? "summarizer" : END;
    }
    case "conclusion":
      return END;
    default:
      return "planner";
  }
}

/** The conditional edge on the planner's parsed decision. */
export function afterPlanner(state: AgentStateType): "caller" | "summarizer" | typeof END {
  if (state.status.status !== "running") return END;
  return state.decision === "caller" ? "caller" : state.decision === "conclusion" ? "summarizer" : END;
}

export function continueIfRunning<T extends string>(next: T) {
  return (state: AgentStateType): T | typeof END => (state.status.status === "running" ? next : END);
}

/** After the tool node: its second step (the settled call runs) while τ still ends with the call, else the next model. */
export function afterTool<T extends string>(next: T) {
  return (state: AgentStateType): T | "tool" => (state.turns[state.turns.length - 1]?.from === "caller" ? "tool" : next);
}

/** The single-LLM graph: after the backbone, run the call it wrote or stop. */
export function afterBackbone(state: AgentStateType): "tool" | typeof END {
  return state.status.status === "running" && state.decision === "caller" ? "tool" : END;
}

/** The single-LLM graph's resume point: the backbone writes plan and call together. */
export function resumePointSingle(state: AgentStateType): "backbone" | "tool" | typeof END {
  if (state.status.status !== "running") return END;
  const last = state.turns[state.turns.length - 1];
  if (last?.from === "caller") return "tool";
  if (last?.from === "assistant" || last?.from === "conclusion") return END;
  return "backbone";
}

/**
 * The state a route reads after a node's update: τ with the node's turns appended, other fields as updated (routes
 * read neither `messages` nor `tools`, which keep their values here).
 *
 * @example afterPlanner(afterUpdate(state, await plannerNode(state, config))) // "caller" | "summarizer" | END
 */
export function afterUpdate(state: AgentStateType, update: AgentUpdate): AgentStateType {
  const { turns, messages: _messages, tools: _tools, ...rest } = update;
  return { ...state, ...(rest as Partial<AgentStateType>), turns: turns ? state.turns.concat(turns as AgentStateType["turns"]) : state.turns };
}
