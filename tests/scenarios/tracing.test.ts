/**
 * The engine's speed-ups (nodes that route themselves, delta-channel τ) keep what a user's tracing sees: a callback
 * handler passed with the run gets every node as a chain run and every role model call as an LLM run, prompts
 * included, as LangSmith's tracer would.
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { demoTools } from "../../tools/demo/index.js";
import { call, plan } from "../helpers/scenario.js";

class Recorder extends BaseCallbackHandler {
  name = "recorder";
  chains: string[] = [];
  prompts: string[] = [];
  override handleChainStart(_chain: Serialized, _inputs: unknown, _runId: string, _parent?: string, _tags?: string[], _meta?: unknown, _type?: string, runName?: string): void {
    if (runName) this.chains.push(runName);
  }
  override handleLLMStart(_llm: Serialized, prompts: string[]): void {
    this.prompts.push(...prompts);
  }
}

it("a callback handler sees each node and each model call", async () => {
  const models = scriptedRoles({
    planner: [plan("Look up Japan.", "caller"), plan("Done.", "conclusion")],
    caller: [call("country_facts_for_atlas", { country: "Japan" })],
    summarizer: ["Tokyo."],
  });
  const recorder = new Recorder();
  const graph = createAlphaUmiGraph({ tools: demoTools(), models });
  const state = await graph.invoke({ instruction: "What is the capital of Japan?" }, { configurable: { thread_id: "traced" }, callbacks: [recorder] });
  expect(state.status.status).toBe("finished");
  const nodes = recorder.chains.filter((n) => ["intake", "planner", "caller", "tool", "summarizer"].includes(n));
  expect(nodes).toEqual(["intake", "planner", "caller", "tool", "planner", "summarizer"]);
  expect(recorder.prompts).toEqual([...models.planner.prompts.slice(0, 1), ...models.caller.prompts, models.planner.prompts[1], ...models.summarizer.prompts]);
});
