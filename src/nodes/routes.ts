import { END } from "@langchain/langgraph";
import { parsePlanner } from "../protocol/index.js";
import type { AgentStateType } from "../state.js";

/**
 * Where a graph goes after a node, read on the state LangGraph has reduced with the node's update (a conditional
 * edge); `ends` are all the places it can go, which Studio draws. The route's type is its `ends`: written once.
 */
export interface Route<E extends string = string> {
  (state: AgentStateType): E;
  readonly ends: readonly E[];
}

/** @example const afterX = route(["planner", END], (s) => (s.status.status === "running" ? "planner" : END)); */
export function route<const E extends string>(ends: readonly E[], fn: (state: AgentStateType) => E): Route<E> {
  return Object.assign((state: AgentStateType) => fn(state), { ends });
}

/** Where a run stands is read off τ, so an interrupted or failed thread resumes at the right node (the intake's route). */
export const resumePoint = route(["planner", "caller", "tool", "summarizer", END], (state) => {
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
});

/** On the planner's parsed decision. */
export const afterPlanner = route(["caller", "summarizer", END], (state) => {
  if (state.status.status !== "running") return END;
  return state.decision === "caller" ? "caller" : state.decision === "conclusion" ? "summarizer" : END;
});

export function continueIfRunning<const T extends string>(next: T) {
  return route([next, END], (state) => (state.status.status === "running" ? next : END));
}

/** After the tool node: its second step (the settled call runs) while τ still ends with the call, else the next model. */
export function afterTool<const T extends string>(next: T) {
  return route([next, "tool"], (state) => (state.turns[state.turns.length - 1]?.from === "caller" ? "tool" : next));
}

/** The single-LLM graph: after the backbone, run the call it wrote or stop. */
export const afterBackbone = route(["tool", END], (state) => (state.status.status === "running" && state.decision === "caller" ? "tool" : END));

/** The single-LLM graph's resume point: the backbone writes plan and call together. */
export const resumePointSingle = route(["backbone", "tool", END], (state) => {
  if (state.status.status !== "running") return END;
  const last = state.turns[state.turns.length - 1];
  if (last?.from === "caller") return "tool";
  if (last?.from === "assistant" || last?.from === "conclusion") return END;
  return "backbone";
});
