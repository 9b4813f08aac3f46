/**
 * Engine overhead per step with zero-latency models: α-UMi (a step = planner → caller → tool → observation) against
 * LangGraph's prebuilt ReAct agents (`createReactAgent` and its successor, langchain's `createAgent`) doing the same number of tool calls over the same trivial LangChain tool, both
 * checkpointed in memory. What is measured is the graph machinery, prompt rendering, parsing and state handling.
 */
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { MemorySaver, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { createAlphaUmiGraph } from "../src/graph.js";
import { scriptedRoles, type ScriptStep } from "../src/models/scripted.js";
import { call, plan } from "../src/testing.js";
import type { BenchRow } from "./index.js";

const STEPS = 8; // tool calls per run
const WARMUP_RUNS = 20;
const RUNS = 60;
// Issue 18's target: an α-UMi tool step (three nodes) costs no more than a ReAct step (two nodes).
const TARGET = 1.0;
// τ growth: a 64-step run's per-step cost within 1.2× of an 8-step run's (what each checkpoint copies must not grow with τ).
const GROWTH_STEPS = [8, 32, 64] as const;
const GROWTH_RUNS = 12;
const GROWTH_TARGET = 1.2;
const DURABILITY_TARGET = 1.5;

export const echo = tool(({ n }: { n: number }) => JSON.stringify({ n, ok: true }), {
  name: "echo_for_bench",
  description: "Returns its input.",
  schema: z.object({ n: z.number() }),
});

/** The peer's model: a tool call until `steps` observations are in the conversation, then an answer; `delayMs` per call. */
export class StepChatModel extends BaseChatModel {
  constructor(
    private readonly steps = STEPS,
    private readonly delayMs = 0,
  ) {
    super({});
  }
  _llmType(): string {
    return "bench-step";
  }
  override bindTools(): this {
    return this;
  }
  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const done = messages.filter((m) => ToolMessage.isInstance(m)).length;
    const message =
      done < this.steps
        ? new AIMessage({ content: "", tool_calls: [{ id: `call_${done}`, name: echo.name, args: { n: done }, type: "tool_call" }] })
        : new AIMessage("done");
    return { generations: [{ text: typeof message.content === "string" ? message.content : "", message }] };
  }
}

/**
 * Fresh scripted role models for one α-UMi run of `steps` echo calls, then a conclusion (replies written by the
 * protocol module); every reply takes `delayMs` when given.
 */
export function echoRoles(steps: number, delayMs = 0) {
  const at = (output: string): ScriptStep => (delayMs ? { output, delayMs } : output);
  const m = scriptedRoles({
    planner: [...Array.from({ length: steps }, (_, i) => at(plan(`Step ${i}.`, "caller"))), at(plan("Enough.", "conclusion"))],
    caller: Array.from({ length: steps }, (_, i) => at(call(echo.name, `{"n": ${i}}`))),
    summarizer: [at("done")],
  });
  return { plannerModel: m.planner, callerModel: m.caller, summarizerModel: m.summarizer };
}

/** α-UMi runs of `steps` tool calls; `durability` overrides the graph's own ("sync") per call. */
function alphaUmiRunner(checkpointer: BaseCheckpointSaver = new MemorySaver(), durability?: "async", steps = STEPS) {
  const graph = createAlphaUmiGraph({ tools: [echo], checkpointer });
  let thread = 0;
  return async () => {
    const configurable = {
      thread_id: `a-${durability ?? "sync"}-${steps}-${thread++}`,
      ...echoRoles(steps),
      maxSteps: steps + 1,
    };
    const t0 = performance.now();
    const out = await graph.invoke({ instruction: "Echo." }, { configurable, ...(durability ? { durability } : {}) });
    const ms = performance.now() - t0;
    if (out.status.status !== "finished" || out.turns.length !== 3 * steps + 3) throw new Error(`bench alphaUmi run ended ${JSON.stringify(out.status)} with ${out.turns.length} turns`);
    return ms;
  };
}

/** A prebuilt agent over the same tool and a zero-latency StepChatModel; both prebuilts take `{ messages }`. */
type MessagesAgent = { invoke(input: { messages: Array<{ role: string; content: string }> }, config: object): Promise<{ messages: unknown[] }> };

function peerRunner(name: string, agent: MessagesAgent) {
  let thread = 0;
  return async () => {
    const t0 = performance.now();
    const out = await agent.invoke({ messages: [{ role: "user", content: "Echo." }] }, { configurable: { thread_id: `p${thread++}` }, recursionLimit: 10 * STEPS });
    const ms = performance.now() - t0;
    if (out.messages.length !== 2 * STEPS + 2) throw new Error(`bench ${name} run has ${out.messages.length} messages`);
    return ms;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Warm all up, then interleave their runs so drift (GC, JIT, other load) hits each alike. */
async function interleaved<K extends string>(runners: Record<K, () => Promise<number>>, warmup = WARMUP_RUNS, runs = RUNS): Promise<Record<K, number[]>> {
  const times = Object.fromEntries(Object.keys(runners).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let i = 0; i < warmup + runs; i++)
    for (const [name, run] of Object.entries(runners) as Array<[K, () => Promise<number>]>) {
      const ms = await run();
      if (i >= warmup) times[name].push(ms);
    }
  return times;
}

/** A ms-per-step row of this section: ours against its peer, passing at `ratio ≤ target`. */
function stepRow(name: string, ours: number, peer: number, target: number, note?: string): BenchRow {
  return { section: "engine", name, ours, peer, unit: "ms/step", ratio: ours / peer, target: `≤ ${target}`, pass: ours / peer <= target, note };
}

/**
 * The crash policy's price: the graph's own durability ("sync": each step's checkpoint is on disk before the next step
 * starts) against LangGraph's default ("async": written while the next step runs), on a SQLite file as `run` uses.
 */
async function durabilityRow(): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-bench-durability-"));
  const saver = SqliteSaver.fromConnString(join(dir, "bench.sqlite"));
  try {
    const times = await interleaved({ sync: alphaUmiRunner(saver), async: alphaUmiRunner(saver, "async") });
    return stepRow(
      "ms per tool step on SQLite, durability sync (default) vs async",
      median(times.sync) / STEPS,
      median(times.async) / STEPS,
      DURABILITY_TARGET,
      `median of ${RUNS} runs of ${STEPS} steps after ${WARMUP_RUNS} warm-up runs, interleaved, one SQLite file; sync is what keeps a completed call from running again after a crash`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-step cost as τ grows: runs of 8, 32 and 64 steps interleaved, each step's cost against the 8-step run's. */
async function growthRows(): Promise<BenchRow[]> {
  const runners = Object.fromEntries(GROWTH_STEPS.map((n) => [`s${n}`, alphaUmiRunner(new MemorySaver(), undefined, n)]));
  const times = await interleaved(runners, 3, GROWTH_RUNS);
  const perStep = (n: number) => median(times[`s${n}`]!) / n;
  const base = perStep(GROWTH_STEPS[0]);
  return GROWTH_STEPS.slice(1).map((n) =>
    stepRow(
      `ms per tool step as τ grows, ${n}-step runs vs ${GROWTH_STEPS[0]}-step runs`,
      perStep(n),
      base,
      GROWTH_TARGET,
      `median of ${GROWTH_RUNS} runs each after 3 warm-up runs, interleaved; MemorySaver, durability sync`,
    ),
  );
}

export async function runEngineBench(): Promise<BenchRow[]> {
  const times = await interleaved({
    alphaUmi: alphaUmiRunner(),
    createReactAgent: peerRunner("createReactAgent", createReactAgent({ llm: new StepChatModel(), tools: [echo], checkpointSaver: new MemorySaver() })),
    createAgent: peerRunner("createAgent", createAgent({ model: new StepChatModel(), tools: [echo], checkpointer: new MemorySaver() })),
    // The same ReAct agent with a no-op node before the model: three nodes a step, as an α-UMi step has.
    createReactAgentWithHook: peerRunner(
      "createReactAgent + preModelHook",
      createReactAgent({ llm: new StepChatModel(), tools: [echo], checkpointSaver: new MemorySaver(), preModelHook: () => ({}) }),
    ),
  });
  const ours = median(times.alphaUmi) / STEPS;
  const label = { createReactAgent: "createReactAgent", createAgent: "createAgent", createReactAgentWithHook: "createReactAgent with a pre-model hook node (3 nodes a step)" };
  const peers = (["createReactAgent", "createAgent", "createReactAgentWithHook"] as const).map((peerName, i) =>
    stepRow(
      `ms per tool step, alphaUmi vs ${label[peerName]}`,
      ours,
      median(times[peerName]) / STEPS,
      TARGET,
      i > 0 ? undefined : `median of ${RUNS} runs of ${STEPS} steps after ${WARMUP_RUNS} warm-up runs; zero-latency models, MemorySaver; an alphaUmi step is 3 graph nodes and 2 model calls (planner, caller) with durability sync, a prebuilt agent's step 2 nodes and 1 model call with LangGraph's default async`,
    ),
  );
  return [...peers, await durabilityRow(), ...(await growthRows())];
}
