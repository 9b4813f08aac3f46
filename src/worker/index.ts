/**
 * `alpha-umi worker`: takes run-jobs and episode-jobs from the queue and runs them against Postgres checkpoints, so any
 * worker can continue any thread. Delivery is at least once: a worker that dies mid-job (SIGKILL, OOM, a lost node)
 * stops renewing its lock, BullMQ's stalled-job check puts the job back, and another worker resumes the thread from its
 * last checkpoint; a tool call in flight at that moment runs again only if its tool is idempotent (nodes/calls.ts,
 * docs/production.md).
 */
import { resolve } from "node:path";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { checkpointerFrom, closeCheckpointer, isPostgresLocation, reachPostgres, type AutoSetupPostgresSaver } from "../checkpoint/checkpointers.js";
import { maskLocation } from "../secrets.js";
import { runEpisode } from "../eval/episodes.js";
import type { EpisodeRow } from "../eval/episodeMetrics.js";
import { driveThread, threadGraph, threadStarted } from "../threadDriver.js";
import type { Role, RoleModel } from "../models/generate.js";
import { roleModels } from "../models/spec.js";
import { tokenCounter } from "../protocol/tokens.js";
import type { AgentStateType } from "../state.js";
import { readToolBenchFile, type ToolBenchDialog } from "../toolbenchDialogs.js";
import { loadToolSources } from "../tools/sources.js";
import type { ToolSet } from "../tools/spec.js";
import { UserError } from "../errors.js";
import { defaultModel } from "../settings.js";
import { clientSettings, RefusedSetting } from "../trust.js";
import { errorMessage } from "../stringify.js";
import { parseQueueLocation, QUEUE_NAME, reachRedis, type AgentJob, type EpisodeJob, type RunJob, type RunJobResult } from "../queue.js";
import { ThreadLocks } from "./locks.js";

export interface WorkerOptions {
  /** `redis://…[?prefix=NAME]` */
  queue: string;
  /** Where threads are checkpointed: `postgres://…` for workers on several machines. */
  checkpoints: string;
  /** Jobs run at once in this process (the models' latency, not the CPU, is what they wait on). */
  concurrency?: number;
  /** How long a job's lock lives without renewal: after it, a dead worker's job is taken over. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs. */
  stalledIntervalMs?: number;
  /** Takeovers after which a job counts as failed (default 5): a job that keeps killing its workers stops somewhere. */
  maxStalledCount?: number;
  /**
   * What jobs may name (the queue is a boundary: anything in Redis may have written a job). Tool sources as `run --tools`
   * takes them (default: `demo`), role model specs (default: the demo's replay), and the data files of episode jobs
   * (default: none). A job naming anything else fails with one line and does not run.
   */
  allow?: { tools?: readonly string[]; models?: readonly string[]; data?: readonly string[] };
  /** Builds a run-job's role models from its specs (default: the specs themselves); e.g. to wrap them for a load test. */
  modelsFor?: (specs: Partial<Record<Role, string>>) => Partial<Record<Role, RoleModel | string>>;
}

export interface RunningWorker {
  close(): Promise<void>;
}

/** The pieces of a job that are loaded once per process: tool sources and test sets. */
class Cache {
  private readonly tools = new Map<string, Promise<ToolSet>>();
  private readonly data = new Map<string, ToolBenchDialog[]>();

  toolSet(sources: string[]): Promise<ToolSet> {
    const key = JSON.stringify(sources);
    let set = this.tools.get(key);
    if (!set) this.tools.set(key, (set = loadToolSources(sources)));
    return set;
  }

  dialogs(path: string): ToolBenchDialog[] {
    let d = this.data.get(path);
    if (!d) this.data.set(path, (d = readToolBenchFile(path)));
    return d;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.tools.values()].map(async (s) => (await s).close()));
  }
}

/** What this worker runs, from its command line: the operator's, against which every job is read. */
interface Allowed {
  tools: ReadonlySet<string>;
  models: ReadonlySet<string>;
  data: ReadonlySet<string>;
}

function allowedOf(o: WorkerOptions): Allowed {
  return {
    tools: new Set(o.allow?.tools ?? ["demo"]),
    models: new Set(o.allow?.models ?? [defaultModel()]),
    data: new Set((o.allow?.data ?? []).map((p) => resolve(p))),
  };
}

/**
 * A job as this worker may run it, or a UserError naming what it is not allowed (the job fails with that line). Its
 * settings cross the same boundary as a run's configuration over HTTP (src/trust.ts).
 */
function checkJob(job: AgentJob, allowed: Allowed): AgentJob {
  const refuse = (what: string, flag: string, list: Iterable<string>) => {
    throw new UserError(`job ${job.threadId}: ${what} is not one this worker runs (allowed by its ${flag}: ${[...list].join(" ") || "none"})`);
  };
  if (job.kind === "run") for (const source of job.tools) if (!allowed.tools.has(source)) refuse(`tool source ${JSON.stringify(source)}`, "--tools", allowed.tools);
  for (const [role, spec] of Object.entries(job.models ?? {})) if (spec !== undefined && !allowed.models.has(spec)) refuse(`the ${role} model ${JSON.stringify(spec)}`, "--models", allowed.models);
  if (job.kind === "episode" && !allowed.data.has(resolve(job.data))) refuse(`data file ${JSON.stringify(job.data)}`, "--data", allowed.data);
  try {
    const settings = clientSettings(job.settings, "settings", {});
    return { ...job, settings } as AgentJob;
  } catch (e) {
    if (e instanceof RefusedSetting) throw new UserError(`job ${job.threadId}: ${e.message}`);
    throw e;
  }
}

async function runJob(data: RunJob, checkpointer: BaseCheckpointSaver, cache: Cache, o: WorkerOptions): Promise<RunJobResult> {
  const { tools } = await cache.toolSet(data.tools);
  const graph = threadGraph({
    ...data.settings,
    ...(data.maxSteps !== undefined ? { maxSteps: data.maxSteps } : {}),
    tools,
    models: o.modelsFor ? o.modelsFor(data.models) : data.models,
    singleLlm: data.singleLlm,
    checkpointer,
  });
  // A thread that has a checkpoint resumes from it; the instruction only starts a new one. A call that was in flight
  // when a previous worker died is found settled in the checkpoint and handled by the crash policy (nodes/calls.ts).
  const started = await threadStarted(graph, data.threadId);
  const snap = await driveThread(graph, data.threadId, started ? {} : { instruction: data.instruction });
  const state = snap.values as AgentStateType;
  return {
    threadId: data.threadId,
    status: state.status.status,
    ...(state.status.reason ? { reason: state.status.reason } : {}),
    steps: state.steps,
    answer: state.answer,
    waiting: snap.tasks.flatMap((t) => (t.interrupts ?? []).map((i) => i.value)),
  };
}

async function episodeJob(data: EpisodeJob, checkpointer: BaseCheckpointSaver, cache: Cache): Promise<EpisodeRow> {
  const dialog = cache.dialogs(data.data)[data.index];
  if (!dialog) throw new UserError(`episode job: ${data.data} has no dialog ${data.index}`);
  return runEpisode(dialog, data.index, {
    models: roleModels(data.models, data.singleLlm, { options: { numCtx: data.settings.numCtx } }),
    singleLlm: data.singleLlm,
    settings: data.settings,
    maxSteps: data.maxSteps,
    tokens: await tokenCounter(),
    source: data.data,
    checkpointer,
    threadId: data.threadId,
  });
}

/**
 * Start taking jobs; resolves once connected.
 *
 * @example const worker = await startWorker({ queue: "redis://127.0.0.1:6379", checkpoints: "postgres://127.0.0.1/test" });
 */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const { connection, prefix } = parseQueueLocation(o.queue);
  if (!isPostgresLocation(o.checkpoints)) throw new UserError(`--checkpoints ${maskLocation(o.checkpoints)}: workers need postgres://… (every worker must see every thread)`);
  await reachRedis(o.queue);
  const checkpointer = checkpointerFrom(o.checkpoints) as AutoSetupPostgresSaver;
  try {
    await reachPostgres(checkpointer.pgPool, o.checkpoints);
  } catch (e) {
    await closeCheckpointer(checkpointer);
    throw e;
  }
  const cache = new Cache();
  const locks = new ThreadLocks(checkpointer.pgPool);
  const allowed = allowedOf(o);
  const worker = new Worker<AgentJob>(
    QUEUE_NAME,
    async (job) => {
      let data: AgentJob;
      try {
        data = checkJob(job.data, allowed);
      } catch (e) {
        // Refused, not failed: no retry would change the answer.
        throw e instanceof UserError ? new UnrecoverableError(e.message) : e;
      }
      return locks.with<RunJobResult | EpisodeRow>(data.threadId, () =>
        data.kind === "run" ? runJob(data, checkpointer, cache, o) : episodeJob(data, checkpointer, cache),
      );
    },
    {
      connection,
      prefix,
      concurrency: o.concurrency ?? 16,
      ...(o.lockDurationMs ? { lockDuration: o.lockDurationMs } : {}),
      ...(o.stalledIntervalMs ? { stalledInterval: o.stalledIntervalMs } : {}),
      // A job may be taken over several times (several workers killed in a row) before it counts as failed.
      maxStalledCount: o.maxStalledCount ?? 5,
    },
  );
  // Without a listener BullMQ prints each error's stack; a Redis that goes away later is one line per distinct error.
  let lastError = "";
  worker.on("error", (e) => {
    const line = `alpha-umi worker: ${errorMessage(e)}`;
    if (line !== lastError) process.stderr.write(line + "\n");
    lastError = line;
  });
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      await locks.close();
      await cache.close();
      await closeCheckpointer(checkpointer);
    },
  };
}
