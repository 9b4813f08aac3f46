/**
 * Where runs live, shared by every serve process: their rows in Postgres (next to the threads and checkpoints), their
 * event streams and cancellations in Redis (a stream per run whose entry ids are the SSE event ids, so a client can
 * rejoin on any process from the last event it saw), and the queue their executions are claimed from (BullMQ).
 */
import { createHash } from "node:crypto";
import { Queue } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { Pool } from "pg";
import { underAdvisoryLock } from "../checkpoint/checkpointers.js";
import { parseQueueLocation, type QueueLocation } from "../queue.js";
import { LOST_RUN, lockHeld, ThreadBusy, type ThreadRecord } from "./threads.js";

/** LangGraph's run status: `interrupted` is a cancelled run. */
export type RunStatus = "pending" | "running" | "success" | "error" | "timeout" | "interrupted";
export type MultitaskStrategy = "reject" | "interrupt" | "rollback" | "enqueue";
export type CancelAction = "interrupt" | "rollback";

/** A run as the SDK's `Run`, and what its execution needs (`kwargs`: the run's body once through src/trust.ts). */
export interface RunRecord {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: string;
  updated_at: string;
  status: RunStatus;
  metadata: Record<string, unknown>;
  multitask_strategy: MultitaskStrategy;
  kwargs: Record<string, unknown>;
}

/** One event of a run's stream: `id` is its Redis stream id, sent as the SSE `id:`. */
export interface RunEvent {
  id: string;
  event: string;
  data: string;
}

interface Row extends Omit<RunRecord, "created_at" | "updated_at"> {
  created_at: Date;
  updated_at: Date;
  started_from: string | null;
  attempts: number;
}

/** A run an executor has started (or taken over): the thread's checkpoint it started from, and how many times it started. */
export interface StartedRun {
  run: RunRecord;
  startedFrom: string | null;
  attempts: number;
}

const record = (r: Row): RunRecord => ({
  run_id: r.run_id,
  thread_id: r.thread_id,
  assistant_id: r.assistant_id,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
  status: r.status,
  metadata: r.metadata,
  multitask_strategy: r.multitask_strategy,
  kwargs: r.kwargs,
});

export const FINAL: readonly RunStatus[] = ["success", "error", "timeout", "interrupted"];

/** How long a finished run's events stay to be replayed. */
const STREAM_TTL_S = 3600;
/** How long a blocking read waits before it looks at the run's row (a run over without its stream's end ends its readers). */
const READ_BLOCK_MS = 1000;

export class RunStore {
  private ready?: Promise<void>;
  private readonly table: string;
  private readonly location: QueueLocation;
  readonly redis: Redis;
  /** The queue of this database schema's runs: serve processes on another schema never claim them. */
  readonly queue: Queue<{ runId: string }>;
  readonly queueName: string;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    redisUrl: string,
    database: string,
  ) {
    this.table = `"${schema}".alpha_umi_runs`;
    this.location = parseQueueLocation(redisUrl);
    this.redis = new Redis(this.location.connection as RedisOptions);
    // BullMQ queue names may not contain ':'; the schema's database and name, hashed, keep schemas apart.
    this.queueName = `alpha-umi-runs-${createHash("sha256").update(`${database}/${schema}`).digest("hex").slice(0, 16)}`;
    this.queue = new Queue(this.queueName, { connection: this.location.connection, prefix: this.location.prefix });
  }

  get connection() {
    return this.location;
  }

  private key(runId: string): string {
    return `${this.location.prefix}:${this.queueName}:stream:${runId}`;
  }

  private cancelKey(runId: string): string {
    return `${this.location.prefix}:${this.queueName}:cancel:${runId}`;
  }

  /** The channel cancellations are published on, for every process of this schema. */
  get cancelChannel(): string {
    return `${this.location.prefix}:${this.queueName}:cancel`;
  }

  setup(): Promise<void> {
    this.ready ??= underAdvisoryLock(this.pool, `alpha-umi-runs:${this.schema}`, async () => {
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, assistant_id TEXT NOT NULL, status TEXT NOT NULL,
          metadata JSONB NOT NULL DEFAULT '{}', kwargs JSONB NOT NULL DEFAULT '{}', multitask_strategy TEXT NOT NULL DEFAULT 'reject',
          created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`,
      );
      await this.pool.query(`CREATE INDEX IF NOT EXISTS alpha_umi_runs_thread ON ${this.table} (thread_id, created_at)`);
      // Where a run started (a takeover continues from there, a rollback goes back there) and how often it was taken.
      await this.pool.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS started_from TEXT, ADD COLUMN IF NOT EXISTS attempts INT NOT NULL DEFAULT 0`);
    });
    return this.ready;
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }

  /**
   * Insert a pending run, unless its strategy is `reject` and the thread has a run in flight (ThreadBusy). Returns the
   * runs in flight before it (a pending one, or the running one while `thread` says it is held or lost its process).
   */
  async create(run: Omit<RunRecord, "created_at" | "updated_at" | "status">, thread: () => Promise<ThreadRecord>): Promise<{ run: RunRecord; inflight: RunRecord[] }> {
    await this.setup();
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      // Two creates on one thread at once: the second sees the first's row.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", [`alpha-umi-runs:${this.schema}`, run.thread_id]);
      const { rows } = await client.query<Row>(`SELECT * FROM ${this.table} WHERE thread_id = $1 AND status IN ('pending', 'running') ORDER BY created_at`, [run.thread_id]);
      const now = await thread();
      const busy = now.status === "busy";
      // A `running` row is in flight while its thread is held, or lost with its process (another takes it over);
      // otherwise it is ending (its thread released, its outcome not yet recorded).
      const running = busy || (now.status === "error" && now.error === LOST_RUN);
      const inflight = rows.filter((r) => r.status === "pending" || running).map(record);
      if (run.multitask_strategy === "reject" && (inflight.length || busy)) throw new ThreadBusy(run.thread_id);
      const { rows: created } = await client.query<Row>(
        `INSERT INTO ${this.table} (run_id, thread_id, assistant_id, status, metadata, kwargs, multitask_strategy) VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING *`,
        [run.run_id, run.thread_id, run.assistant_id, JSON.stringify(run.metadata), JSON.stringify(run.kwargs), run.multitask_strategy],
      );
      await client.query("COMMIT");
      return { run: record(created[0]!), inflight };
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async get(runId: string, threadId?: string): Promise<RunRecord | undefined> {
    await this.setup();
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.table} WHERE run_id = $1 AND ($2::text IS NULL OR thread_id = $2)`, [runId, threadId ?? null]);
    return rows[0] && record(rows[0]);
  }

  /** A thread's runs, newest first. */
  async list(threadId: string, o: { limit: number; offset: number; status?: string }): Promise<RunRecord[]> {
    await this.setup();
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.table} WHERE thread_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, run_id DESC LIMIT $3 OFFSET $4`,
      [threadId, o.status ?? null, o.limit, o.offset],
    );
    return rows.map(record);
  }

  async delete(runId: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.table} WHERE run_id = $1`, [runId]);
  }

  /** Move a run from one status to another; false when it was not in `from` (claimed or cancelled meanwhile). */
  async move(runId: string, from: RunStatus, to: RunStatus): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE ${this.table} SET status = $3, updated_at = clock_timestamp() WHERE run_id = $1 AND status = $2`, [runId, from, to]);
    return rowCount === 1;
  }

  async finish(runId: string, status: RunStatus): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET status = $2, updated_at = clock_timestamp() WHERE run_id = $1`, [runId, status]);
  }

  /** Whether a pending run created before `run` waits on its thread (it goes first: enqueue). */
  async waitsBehind(run: RunRecord): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM ${this.table} WHERE thread_id = $1 AND status = 'pending' AND (created_at, run_id) < ($2::timestamptz, $3) LIMIT 1`,
      [run.thread_id, run.created_at, run.run_id],
    );
    return rows.length > 0;
  }

  /**
   * Start a run: a pending one (from the thread's checkpoint `since`), or take over a running one whose process died.
   * None when it was not in `from` (cancelled, or started by another process meanwhile).
   */
  async start(runId: string, from: "pending" | "running", since: string | null): Promise<StartedRun | undefined> {
    const { rows } = await this.pool.query<Row>(
      `UPDATE ${this.table} SET status = 'running', attempts = attempts + 1, started_from = CASE WHEN $2 = 'pending' THEN $3 ELSE started_from END,
        updated_at = clock_timestamp() WHERE run_id = $1 AND status = $2 RETURNING *`,
      [runId, from, since],
    );
    return rows[0] && { run: record(rows[0]), startedFrom: rows[0].started_from, attempts: rows[0].attempts };
  }

  /** Runs `running` whose execution lock (threads.ts ExecutionLease, in `space`) nobody holds: their process died. */
  async orphans(space: string): Promise<string[]> {
    await this.setup();
    const { rows } = await this.pool.query<{ run_id: string }>(`SELECT run_id FROM ${this.table} WHERE status = 'running' AND NOT ${lockHeld(space, "run_id")}`);
    return rows.map((r) => r.run_id);
  }

  /** A run that lost its process too many times: `error`, with RunLost as its stream's last event. */
  async lost(runId: string, message: string): Promise<void> {
    if (!(await this.move(runId, "running", "error"))) return;
    await this.append(runId, "error", JSON.stringify({ error: "RunLost", message }));
    await this.end(runId);
  }

  /** Add an event to the run's stream; its id is the SSE id. */
  async append(runId: string, event: string, data: string): Promise<string> {
    return (await this.redis.xadd(this.key(runId), "*", "event", event, "data", data))!;
  }

  /** Mark the run's stream ended (readers stop there) and let it expire. */
  async end(runId: string): Promise<void> {
    await this.redis.multi().xadd(this.key(runId), "*", "control", "done").expire(this.key(runId), STREAM_TTL_S).exec();
  }

  /**
   * The run's events after `after` (a stream id; "0": all of them; undefined: only those to come), until its stream
   * ends, the run's row says it is over without one (expired), or `signal` aborts. A run whose process died goes on
   * where another process takes it over, appending to the same stream.
   */
  async *read(runId: string, after: string | undefined, signal: AbortSignal): AsyncGenerator<RunEvent> {
    const key = this.key(runId);
    let from: string;
    if (after === undefined) {
      const last = (await this.redis.xrevrange(key, "+", "-", "COUNT", 1))[0];
      if (last && last[1][0] === "control") return;
      from = last?.[0] ?? "0";
    } else from = after;
    const reader = this.redis.duplicate();
    const stop = () => reader.disconnect();
    signal.addEventListener("abort", stop, { once: true });
    try {
      while (!signal.aborted) {
        const got: [string, [string, string[]][]][] | null = await reader.xread("COUNT", 100, "BLOCK", READ_BLOCK_MS, "STREAMS", key, from).catch((e: unknown) => {
          if (signal.aborted) return null;
          throw e;
        });
        if (signal.aborted) return;
        if (!got) {
          const run = await this.get(runId);
          if (!run || FINAL.includes(run.status)) {
            // Its end may have come between the read and the row.
            const tail = await this.redis.xrange(key, from === "0" ? "-" : `(${from}`, "+");
            for (const [id, fields] of tail) {
              if (fields[0] === "control") return;
              yield { id, event: fields[1]!, data: fields[3]! };
            }
            return;
          }
          continue;
        }
        for (const [id, fields] of got[0]![1]) {
          from = id;
          if (fields[0] === "control") return;
          yield { id, event: fields[1]!, data: fields[3]! };
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      reader.disconnect();
    }
  }

  /** Ask the process running the run to cancel it (a key it reads when it starts, and a message while it runs). */
  async cancel(runId: string, action: CancelAction): Promise<void> {
    await this.redis.multi().set(this.cancelKey(runId), action, "EX", STREAM_TTL_S).publish(this.cancelChannel, JSON.stringify({ runId, action })).exec();
  }

  async cancelled(runId: string): Promise<CancelAction | null> {
    return (await this.redis.get(this.cancelKey(runId))) as CancelAction | null;
  }

  /** Rollback: delete the thread's checkpoints after `since` (none: all of them), the run's writes gone with them. */
  async deleteCheckpointsAfter(threadId: string, since: string | undefined): Promise<void> {
    for (const table of ["checkpoint_writes", "checkpoints"])
      await this.pool.query(`DELETE FROM "${this.schema}".${table} WHERE thread_id = $1 AND ($2::text IS NULL OR checkpoint_id > $2)`, [threadId, since ?? null]);
  }
}
