/**
 * The one thread driver under run, eval (steps, episodes, realtime, math), search, serve and worker: which graph a
 * run uses, the models it builds from specs, and how a thread is started or resumed and driven to its end with an
 * abort signal. Durability ("sync") and the recursion bound are the graph's own (src/graph.ts boundConfig), the crash
 * policy for a call in flight is the tool node's (src/nodes/calls.ts), and the model and tool timeouts are the
 * nodes' (read from the settings): so every driver gets them by building its graph here.
 */
import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { StateSnapshot } from "@langchain/langgraph";
import type { ElisionEvent } from "./codec/index.js";
import { createAlphaUmiGraph, createSingleLlmGraph, type AlphaUmiGraph, type GraphOptions } from "./graph.js";
import type { Role, RoleModel } from "./models/generate.js";
import { roleModels, runRoles } from "./models/spec.js";
import { defaultModel } from "./settings.js";
import type { AgentStateType, Turn } from "./state.js";

export interface ThreadGraphOptions extends GraphOptions {
  /** The paper's single-LLM baseline (backbone) instead of α-UMi. */
  singleLlm?: boolean;
  /** Also write every (prompt, output) to this replay cassette. */
  record?: string;
}

/**
 * The graph a driver runs: α-UMi or the single-LLM baseline, each role's model built once from its spec (with
 * `numCtx`; unset roles: the default model, the demo's replay cassette).
 *
 * @example
 * const graph = threadGraph({ tools: demoTools(), singleLlm: true, checkpointer });
 */
export function threadGraph(o: ThreadGraphOptions): AlphaUmiGraph {
  const create = o.singleLlm ? createSingleLlmGraph : createAlphaUmiGraph;
  const specs: Partial<Record<Role, string | RoleModel>> = {};
  for (const role of runRoles(!!o.singleLlm)) specs[role] = o.models?.[role] ?? defaultModel();
  return create({ ...o, models: roleModels(specs, !!o.singleLlm, { record: o.record, options: o.numCtx ? { numCtx: o.numCtx } : {} }) });
}

/** A thread's run config: its id, and the signal that aborts the model or tool call in flight. */
export function threadConfig(threadId: string, signal?: AbortSignal) {
  return { configurable: { thread_id: threadId }, ...(signal ? { signal } : {}) };
}

/** Whether the thread has a checkpoint with τ (it resumes rather than starts). */
export async function threadStarted(graph: Pick<AlphaUmiGraph, "getState">, threadId: string): Promise<boolean> {
  const values = (await graph.getState(threadConfig(threadId))).values as Partial<AgentStateType>;
  return (values.turns?.length ?? 0) > 0;
}

export interface DriveOptions {
  signal?: AbortSignal;
  callbacks?: Callbacks;
  /** Each turn of τ as a node writes it. */
  onTurn?: (turn: Turn, node: string) => void;
  /** A prompt cut to fit its model's context window. */
  onElision?: (e: ElisionEvent) => void;
}

/**
 * Drive a thread from `input` until it ends or waits on an interrupt, reporting turns and elisions as they come;
 * returns its last checkpoint. Errors escaping the graph (a model or tool source failing, an abort) are thrown.
 *
 * @example
 * const snap = await driveThread(graph, "t1", { instruction: DEMO_INSTRUCTION }, { onTurn: (t) => console.log(t.value) });
 */
export async function driveThread(graph: AlphaUmiGraph, threadId: string, input: Parameters<AlphaUmiGraph["stream"]>[0], o: DriveOptions = {}): Promise<StateSnapshot> {
  const config = threadConfig(threadId, o.signal);
  const stream = await graph.stream(input, { ...config, ...(o.callbacks ? { callbacks: o.callbacks } : {}), streamMode: ["updates", "custom"] });
  for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
    if (mode === "custom") {
      if ((chunk as ElisionEvent).kind === "elision") o.onElision?.(chunk as ElisionEvent);
      continue;
    }
    for (const [node, update] of Object.entries(chunk as Record<string, { turns?: Turn[] } | undefined>)) for (const turn of update?.turns ?? []) o.onTurn?.(turn, node);
  }
  return graph.getState(config);
}
