import { createAlphaUmiGraph, type GraphOptions } from "../../src/graph.js";
import { scriptedRoles, type ScriptStep } from "../../src/models/scripted.js";
import type { AgentStateType } from "../../src/state.js";
import { demoTools } from "../../tools/demo/index.js";

export interface Script {
  planner?: ScriptStep[];
  caller?: ScriptStep[];
  summarizer?: ScriptStep[];
}

/** Run the real α-UMi graph on the demo tools with scripted role models; returns the final state and the models. */
export async function runScenario(script: Script, opts: GraphOptions & { instruction?: string; threadId?: string } = {}) {
  const models = scriptedRoles(script);
  const graph = createAlphaUmiGraph({ tools: demoTools(), models, ...opts });
  const config = { configurable: { thread_id: opts.threadId ?? "t1" } };
  const state = (await graph.invoke({ instruction: opts.instruction ?? "What is the capital of Japan?" }, config)) as AgentStateType;
  return { state, models, graph, config };
}

export { plan, call, turnRoles as roles } from "../../src/testing.js";

/** The turn roles of the demo task's τ: three tool calls, then the conclusion. */
export const DEMO_TURN_ROLES = ["user", ...Array.from({ length: 3 }, () => ["assistant", "caller", "observation"]).flat(), "assistant", "conclusion"];
