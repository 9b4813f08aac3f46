/**
 * DFSDT's cost per tree node against a plain run's cost per planner step, side by side with zero-latency models over
 * the same trivial tool, both checkpointed in memory. A tree node is one planner step plus the search's own work:
 * one graph invocation per node of the step (interruptAfter), reading the new checkpoint back, and for every later
 * child a diversity fork (`updateState`) with the rendered candidates.
 */
import { MemorySaver } from "@langchain/langgraph";
import { performance } from "node:perf_hooks";
import { createAlphaUmiGraph } from "../src/graph.js";
import { scriptedRoles } from "../src/models/scripted.js";
import { searchAgent } from "../src/search/index.js";
import { call, plan } from "../src/testing.js";
import type { ToolSpec } from "../src/tools/spec.js";
import type { BenchRow } from "./index.js";

const STEPS = 8; // planner steps of the plain run
const RUNS = 15;
const WARMUP = 3;
const TARGET = 3;

const tool: ToolSpec = { doc: { Name: "echo_for_bench", function: "Returns its input.", input: { n: "number" } }, run: (a) => JSON.stringify(a) };
const calling = (n: number) => ({
  planner: Array.from({ length: n }, () => plan("Call it.", "caller")),
  caller: Array.from({ length: n }, () => call("echo_for_bench", `{"n": 1}`)),
});

/** ms per planner step of a plain run: STEPS calls, then a conclusion. */
async function plainRun(): Promise<number> {
  const script = calling(STEPS);
  const models = scriptedRoles({ planner: [...script.planner, plan("Done.", "conclusion")], caller: script.caller, summarizer: ["ok"] });
  const graph = createAlphaUmiGraph({ tools: [tool], models, checkpointer: new MemorySaver(), maxSteps: STEPS + 1 });
  const t0 = performance.now();
  await graph.invoke({ instruction: "bench" }, { configurable: { thread_id: "p" } });
  return (performance.now() - t0) / (STEPS + 1);
}

/** ms per tree node of a DFSDT search that never answers: beam 2, 3 steps a chain, so 14 expansions until exhausted. */
async function search(): Promise<number> {
  const models = scriptedRoles(calling(64));
  const t0 = performance.now();
  const r = await searchAgent({ instruction: "bench", tools: [tool], models, checkpointer: new MemorySaver(), threadId: "s", beam: 2, chainSteps: 3 });
  return (performance.now() - t0) / r.search.queries;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runSearchBench(): Promise<BenchRow[]> {
  for (let i = 0; i < WARMUP; i++) await Promise.all([plainRun(), search()]);
  const plain: number[] = [];
  const tree: number[] = [];
  // Interleaved, so both see the same machine state.
  for (let i = 0; i < RUNS; i++) {
    plain.push(await plainRun());
    tree.push(await search());
  }
  const ours = median(tree);
  const peer = median(plain);
  return [
    {
      section: "search",
      name: "DFSDT ms per tree node vs plain run ms per planner step",
      ours,
      peer,
      unit: "ms",
      ratio: ours / peer,
      target: `≤ ${TARGET}`,
      pass: ours / peer <= TARGET,
      note: "zero-latency models: the search's own overhead (per-node interrupts, checkpoint reads, diversity forks); with real models the model time dominates both",
    },
  ];
}
