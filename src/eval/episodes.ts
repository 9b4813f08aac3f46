/**
 * `eval episodes` as a library call: a full agent run from each test dialog's instruction, against the ToolBench replay
 * tools of THAT dialog (a call is answered with the observation the dialog recorded for it), resumable like
 * `eval steps`. Each episode's row (status, steps, per-role usage, answer, τ) is stored as it finishes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { UserError } from "../errors.js";
import { runOnQueue, type EpisodeJob } from "../queue.js";
import { driveThread, threadConfig, threadGraph } from "../threadDriver.js";
import { DEFAULTS } from "../configurable.js";
import type { Role, RoleModel } from "../models/index.js";
import { tokenCounter, type TokenCounter } from "../protocol/tokens.js";
import type { CodecSettings } from "../codec/index.js";
import type { AgentStateType, RunStatus, Turn } from "../state.js";
import { toolbenchReplayTools } from "../tools/toolbenchReplay.js";
import { episodeMetrics, type EpisodeMetrics, type EpisodeRow, type EpisodeStatus } from "./episodeMetrics.js";
import { roleModels, runRoles } from "../models/spec.js";
import { progress } from "./progress.js";
import { runPool } from "./runner.js";
import { readToolBenchFile, type ToolBenchDialog } from "../toolbenchDialogs.js";
import { JsonRowStore } from "./store.js";
import { UsageCounter, type Usage } from "./usage.js";

export interface EpisodeRunOptions {
  models: Partial<Record<Role, RoleModel>>;
  singleLlm: boolean;
  settings: CodecSettings;
  maxSteps: number;
  tokens: TokenCounter;
  /** Names the data in replay-tool errors. */
  source: string;
  /** Where the episode's thread is checkpointed (default: in memory); a queue worker resumes it from there. */
  checkpointer?: BaseCheckpointSaver;
  threadId?: string;
}

function outcome(s: RunStatus | undefined): { status: EpisodeStatus; reason: string | null } {
  if (s?.status === "finished") return { status: "finished", reason: null };
  if (s?.status === "gave_up" || s?.status === "failed") return { status: s.status, reason: s.reason ?? s.status };
  // The graph only ends on a decided status: anything else is an engine bug, reported rather than hidden.
  return { status: "failed", reason: `the graph ended with status ${s?.status ?? "unset"}` };
}

/** One episode. Never throws: an error escaping the graph makes the episode `failed` with that error as its reason. */
export async function runEpisode(dialog: ToolBenchDialog, index: number, o: EpisodeRunOptions): Promise<EpisodeRow> {
  const tools = toolbenchReplayTools([dialog], `${o.source} record ${index}`, { inOrder: true });
  const graph = threadGraph({ ...o.settings, tools, models: o.models, singleLlm: o.singleLlm, maxSteps: o.maxSteps, checkpointer: o.checkpointer });
  const usage = new UsageCounter(o.tokens);
  const threadId = o.threadId ?? `episode-${index}`;
  const t0 = performance.now();
  let error: string | null = null;
  let elided = 0;
  try {
    await driveThread(graph, threadId, { instruction: dialog.instruction }, { callbacks: [usage], onElision: () => elided++ });
  } catch (err) {
    error = `run error: ${err instanceof Error ? err.message : String(err)}`;
  }
  const ms = performance.now() - t0;
  const state = (await graph.getState(threadConfig(threadId))).values as Partial<AgentStateType>;
  return {
    index,
    ...(error ? { status: "failed" as const, reason: error } : outcome(state.status)),
    steps: state.steps ?? 0,
    roles: usage.usage,
    ms,
    elided,
    answer: state.answer ?? null,
    turns: state.turns ?? [],
  };
}

export interface EvalEpisodesOptions {
  data: string;
  /** A spec string (`ollama:…`, `replay:…`) or a LangChain model per role. */
  models: Partial<Record<Role, string | RoleModel>>;
  singleLlm: boolean;
  /** Templates, context policy and window, model timeout: as in a run. */
  settings: CodecSettings;
  limit?: number;
  concurrency: number;
  maxSteps?: number;
  out: string;
  /** `redis://…`: enqueue the episodes for `alpha-umi worker` processes and collect their rows (models as spec strings). */
  queue?: string;
  /** Progress output (default: stderr). */
  progressStream?: NodeJS.WriteStream;
}

export interface EvalEpisodesResult {
  rows: EpisodeRow[];
  metrics: EpisodeMetrics;
  /** Episodes taken from an earlier (killed) run of the same command. */
  resumed: number;
  /** Prompts cut to fit the context window, over all episodes. */
  elidedPrompts: number;
}

/** How a model is named in the run's settings (the resume check): its spec, or its class for a model object. */
export function modelLabel(m: string | RoleModel | undefined): string | null {
  return m === undefined ? null : typeof m === "string" ? m : `object:${m.constructor.name}`;
}

/** The queue's jobs for the pending episodes; thread ids follow the run's settings, so a re-run finds its threads. */
function episodeJobs(o: EvalEpisodesOptions, pending: number[], run: { data: string; maxSteps: number; settings: object }): EpisodeJob[] {
  const models: Partial<Record<Role, string>> = {};
  for (const role of runRoles(o.singleLlm)) {
    const m = o.models[role];
    if (typeof m !== "string") throw new UserError(`--queue: the ${role} model must be a spec string (ollama:…, replay:…): workers build their own`);
    models[role] = m;
  }
  const key = createHash("sha256").update(JSON.stringify(run.settings)).digest("hex").slice(0, 12);
  return pending.map((index) => ({ kind: "episode", data: run.data, index, threadId: `episodes-${key}-${index}`, models, singleLlm: o.singleLlm, settings: o.settings, maxSteps: run.maxSteps }));
}

/**
 * @example
 * const { metrics } = await evalEpisodes({ data: "test.json", models: { planner: "replay:p.jsonl", caller: "replay:c.jsonl", summarizer: "replay:s.jsonl" },
 *   singleLlm: false, settings: {}, concurrency: 2, out: "out/episodes" });
 */
export async function evalEpisodes(o: EvalEpisodesOptions): Promise<EvalEpisodesResult> {
  const data = resolve(o.data);
  const dialogs = readToolBenchFile(data).slice(0, o.limit);
  const roles = runRoles(o.singleLlm);
  const models = roleModels(o.models, o.singleLlm, { options: { numCtx: o.settings.numCtx, concurrency: o.concurrency } });
  const maxSteps = o.maxSteps ?? DEFAULTS.maxSteps;
  const settings = {
    data,
    singleLlm: o.singleLlm,
    ...o.settings,
    limit: o.limit ?? null,
    maxSteps,
    models: Object.fromEntries(roles.map((r) => [r, modelLabel(o.models[r])])),
  };
  const store = new JsonRowStore<EpisodeRow>(o.out, "episodes.sqlite", settings);
  try {
    const done = store.done();
    const resumed = done.size;
    const run: EpisodeRunOptions = { models, singleLlm: o.singleLlm, settings: o.settings, maxSteps, tokens: await tokenCounter(), source: data };
    const bar = progress("eval episodes", dialogs.length, resumed, o.progressStream);
    const pending = dialogs.map((_, i) => i).filter((i) => !done.has(i));
    const keep = (i: number, row: EpisodeRow) => {
      store.save(i, row);
      done.set(i, row);
      bar.tick();
    };
    if (o.queue) await runOnQueue<EpisodeRow>(o.queue, episodeJobs(o, pending, { data, maxSteps, settings }), (job, row) => keep((job as EpisodeJob).index, row));
    else await runPool(pending, o.concurrency, async (i) => keep(i, await runEpisode(dialogs[i]!, i, run)));
    bar.done();
    const rows = dialogs.map((_, i) => done.get(i)!);
    const metrics = episodeMetrics(rows, roles);
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "episodes.json"), JSON.stringify(rows, null, 1));
    writeFileSync(join(o.out, "episodes-metrics.json"), JSON.stringify({ ...metrics, settings }, null, 2));
    return { rows, metrics, resumed, elidedPrompts: rows.reduce((a, r) => a + r.elided, 0) };
  } finally {
    store.close();
  }
}
