/**
 * The work queue (BullMQ on Redis) shared by `alpha-umi worker` processes and the commands that enqueue: job shapes,
 * the connection from a `redis://` URL, and the enqueue-and-collect client.
 */
import type { JobSettings } from "./settings.js";
import { Queue, QueueEvents, type ConnectionOptions, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { CodecSettings } from "./codec/index.js";
import { maskLocation } from "./secrets.js";
import { UserError } from "./errors.js";
import type { Role } from "./models/generate.js";

export const QUEUE_NAME = "alpha-umi";

/** Run (or resume) one thread on the tools named by sources (as `run --tools` takes them). */
export interface RunJob {
  kind: "run";
  threadId: string;
  instruction?: string;
  tools: string[];
  /** Spec strings only: a job crosses processes. */
  models: Partial<Record<Role, string>>;
  singleLlm?: boolean;
  /** Any setting of src/settings.ts (templates, numCtx, contextPolicy, timeouts, approve…), as JSON. */
  settings?: JobSettings;
  maxSteps?: number;
  /** Run the thread again (e.g. to resume a failed run): a new job for the same thread. */
  retry?: number;
}

/** One `eval episodes` episode: dialog `index` of the ToolBench-format file `data` (a path every worker can read). */
export interface EpisodeJob {
  kind: "episode";
  data: string;
  index: number;
  threadId: string;
  models: Partial<Record<Role, string>>;
  singleLlm: boolean;
  settings: CodecSettings;
  maxSteps: number;
}

export type AgentJob = RunJob | EpisodeJob;

export interface RunJobResult {
  threadId: string;
  status: string;
  reason?: string;
  steps: number;
  answer: string | null;
  /** The interrupt values the thread waits on (e.g. an approval request): it is parked, not lost. */
  waiting: unknown[];
}

export interface QueueLocation {
  connection: ConnectionOptions;
  /** Redis key prefix (`?prefix=NAME`, default `bull`): queues of different prefixes never meet. */
  prefix: string;
}

/**
 * `redis://[user:password@]host[:port][/db][?prefix=NAME]`.
 *
 * @example parseQueueLocation("redis://127.0.0.1:6379?prefix=ci").prefix // "ci"
 */
export function parseQueueLocation(location: string): QueueLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UserError(`--queue ${location}: not a valid redis:// URL`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new UserError(`--queue ${location}: unsupported scheme "${url.protocol}" (redis://…)`);
  const db = url.pathname.replace(/^\//, "");
  if (db && !/^\d+$/.test(db)) throw new UserError(`--queue ${location}: the path must be a database number, got "${db}"`);
  return {
    connection: {
      host: url.hostname || "127.0.0.1",
      port: url.port ? Number(url.port) : 6379,
      ...(db ? { db: Number(db) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
      // Workers block on Redis; BullMQ requires unlimited retries per request for them.
      maxRetriesPerRequest: null,
    },
    prefix: url.searchParams.get("prefix") || "bull",
  };
}

/** How long the first connection to Redis may take before the queue counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Connect once, without retries, or a UserError naming the location: BullMQ's own clients retry forever (what a
 * running worker wants through a Redis restart), so a wrong URL would otherwise never end and print a stack per retry.
 *
 * @example await reachRedis("redis://127.0.0.1:6379");
 */
export async function reachRedis(location: string): Promise<void> {
  const { connection } = parseQueueLocation(location);
  const probe = new Redis({ ...(connection as RedisOptions), lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's error says why (ECONNREFUSED…); connect() itself only rejects with "Connection is closed."
  let cause: Error | undefined;
  probe.on("error", (e: Error) => (cause ??= e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const err = (cause ?? e) as Error & { code?: string; errors?: Error[] };
    const why = err.message || err.errors?.map((x) => x.message).join("; ") || err.code || String(err);
    throw new UserError(`--queue ${maskLocation(location)}: cannot reach Redis (${why})`);
  } finally {
    probe.disconnect();
  }
}

/**
 * Enqueue jobs (the job id is derived from the thread, so enqueueing the same work twice adds it once) and collect each
 * result as it completes, in completion order.
 *
 * @example
 * const results = await runOnQueue("redis://127.0.0.1:6379", [{ kind: "run", threadId: "t1", instruction: "…", tools: ["demo"], models }]);
 */
export async function runOnQueue<R>(
  location: string,
  jobs: readonly AgentJob[],
  onResult: (job: AgentJob, result: R) => void = () => undefined,
  o: { attempts?: number } = {},
): Promise<R[]> {
  const { connection, prefix } = parseQueueLocation(location);
  await reachRedis(location);
  const queue = new Queue<AgentJob>(QUEUE_NAME, { connection, prefix });
  const events = new QueueEvents(QUEUE_NAME, { connection, prefix });
  // One completion listener per job in flight.
  events.setMaxListeners(jobs.length + 10);
  queue.setMaxListeners(jobs.length + 10);
  try {
    await events.waitUntilReady();
    const added: Job<AgentJob>[] = await queue.addBulk(
      jobs.map((data) => ({
        name: data.kind,
        data,
        // A job that throws (not a failed run: that is a result) is retried with backoff; a stalled one is requeued by BullMQ.
        opts: { jobId: jobIdOf(data), attempts: o.attempts ?? 3, backoff: { type: "exponential", delay: 1000 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    return await Promise.all(
      added.map(async (job, i) => {
        const result = (await job.waitUntilFinished(events)) as R;
        onResult(jobs[i]!, result);
        return result;
      }),
    );
  } finally {
    await events.close();
    await queue.close();
  }
}

/** BullMQ job ids may not contain ':'. */
export function jobIdOf(job: AgentJob): string {
  const retry = job.kind === "run" && job.retry ? `-r${job.retry}` : "";
  return `${job.kind}-${job.threadId}${retry}`.replace(/:/g, "_");
}
