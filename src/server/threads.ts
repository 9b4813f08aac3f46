import type { ThreadSaver } from "@langchain/langgraph-api/experimental/embed";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { Pool } from "pg";
import { underAdvisoryLock, type AutoSetupPostgresSaver } from "../checkpoint/checkpointers.js";
import { AlphaUmiError } from "../errors.js";

type Metadata = Record<string, unknown>;

/** The LangGraph API's thread status: `busy` while a run holds the thread, then what the run left. */
export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";
export const THREAD_STATUSES: readonly ThreadStatus[] = ["idle", "busy", "interrupted", "error"];

export interface ThreadRecord {
  thread_id: string;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
  status: ThreadStatus;
  /** Why the last run failed (status `error`), else null. */
  error: string | null;
}

/** A thread the API was asked about that no server has created. */
export class ThreadNotFound extends AlphaUmiError {
  constructor(readonly threadId: string) {
    super("thread_not_found", `thread ${threadId} not found`);
  }
}

/** A run was asked for on a thread another run (on any server) holds. */
export class ThreadBusy extends AlphaUmiError {
  constructor(readonly threadId: string) {
    super("thread_busy", `thread ${threadId} is busy with another run; wait for it to end (or use another thread)`);
  }
}

interface Row {
  thread_id: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  status: ThreadStatus;
  error: string | null;
  held?: boolean;
  total?: string;
}

/** A run asked to be executed (taken over) while another process executes it: its execution lock is held. */
export class RunHeld extends AlphaUmiError {
  constructor(readonly runId: string) {
    super("run_held", `run ${runId} is being executed by another process`);
  }
}

/** What a run that ended with its server reads as: its connection, and so its lock, went with the process. */
export const LOST_RUN = "the server running this thread stopped before its run ended; its run resumes from the last checkpoint on another serve process";

/**
 * SQL: whether any session of this database holds the advisory lock (hashtext(space), hashtext(key)) now — the lock of
 * a process that died is gone with its connection.
 */
export function lockHeld(space: string, keyExpr: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::int8 = (hashtext('${space}')::int8 & 4294967295) AND l.objid::int8 = (hashtext(${keyExpr})::int8 & 4294967295))`;
}

const record = (r: Row): ThreadRecord => {
  const lost = r.status === "busy" && r.held === false;
  return {
    thread_id: r.thread_id,
    metadata: r.metadata,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    status: lost ? "error" : r.status,
    error: lost ? LOST_RUN : r.error,
  };
};

export interface ThreadQuery {
  metadata?: Metadata;
  ids?: string[];
  status?: ThreadStatus;
  /** Metadata the operator's auth requires besides the client's (the owner): both must be contained. */
  owned?: Metadata;
}

/** A run's hold on its thread: a session advisory lock on a connection of its own, released by `end` or by a crash. */
export interface RunLease {
  end(status: Exclude<ThreadStatus, "busy">, error?: string | null): Promise<void>;
}

/**
 * A run's execution: its thread's lease and, on the same connection, the run's own lock, kept after the thread is
 * released until the run's outcome is recorded (`release`). A run `running` whose lock nobody holds lost its process.
 */
export interface ExecutionLease extends RunLease {
  release(): Promise<void>;
}

/**
 * The LangGraph API's thread registry in Postgres, next to the checkpoints (same schema), so that every server process
 * on the database sees every thread: a thread created on one is found, run and resumed on another, and its status
 * (busy on whichever server runs it) is the same everywhere.
 */
export class PostgresThreads implements ThreadSaver {
  private ready?: Promise<void>;
  private readonly table: string;
  /** First key of every run lock of this schema (the second is the thread's). */
  private readonly lockSpace: string;
  /** First key of every execution lock of this schema (the second is the run's id). */
  readonly executionSpace: string;

  /**
   * @param leases connections that runs hold their threads' locks on, one per running run: kept apart from `pool`,
   *   which the runs' checkpoints need (a run waiting for a connection its own lease holds would never end).
   */
  constructor(
    private readonly pool: Pool,
    private readonly checkpointer: AutoSetupPostgresSaver,
    private readonly leases: Pool,
  ) {
    this.table = `"${checkpointer.schema}".alpha_umi_threads`;
    this.lockSpace = `alpha-umi-run:${checkpointer.schema}`;
    this.executionSpace = `alpha-umi-execution:${checkpointer.schema}`;
  }

  /** Create the table once (after the checkpoint tables); every call waits for it. Tables of older versions gain the status columns. */
  setup(): Promise<void> {
    this.ready ??= this.checkpointer.setup().then(() =>
      underAdvisoryLock(this.pool, `alpha-umi-threads:${this.checkpointer.schema}`, async () => {
        await this.pool.query(
          `CREATE TABLE IF NOT EXISTS ${this.table} (thread_id TEXT PRIMARY KEY, metadata JSONB NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
        );
        await this.pool.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS status TEXT NOT NULL DEFAULT 'idle', ADD COLUMN IF NOT EXISTS error TEXT`);
      }),
    );
    return this.ready;
  }

  /** The columns of a thread, and whether a run's lock on it is held now (a `busy` row whose lock is gone lost its server). */
  private get columns(): string {
    return `t.*, ${lockHeld(this.lockSpace, "t.thread_id")} AS held`;
  }

  /** Close the leases' connections (the checkpointer's pool is its owner's to close). */
  close(): Promise<void> {
    return this.leases.end();
  }

  async get(id: string): Promise<ThreadRecord> {
    await this.setup();
    const { rows } = await this.pool.query<Row>(`SELECT ${this.columns} FROM ${this.table} t WHERE thread_id = $1`, [id]);
    if (!rows[0]) throw new ThreadNotFound(id);
    return record(rows[0]);
  }

  /** `put` creates the thread (or replaces its metadata); `patch` merges metadata into it, creating it when absent. */
  async set(id: string, o: { kind: "put" | "patch"; metadata?: Metadata }): Promise<ThreadRecord> {
    await this.setup();
    const merge = o.kind === "patch" ? `${this.table}.metadata || EXCLUDED.metadata` : "EXCLUDED.metadata";
    await this.pool.query(
      `INSERT INTO ${this.table} (thread_id, metadata) VALUES ($1, $2) ON CONFLICT (thread_id) DO UPDATE SET metadata = ${merge}, updated_at = now()`,
      [id, JSON.stringify(o.metadata ?? {})],
    );
    return this.get(id);
  }

  /** Create the thread unless it exists (then undefined): two servers asked for one id at once make it once. */
  async create(id: string, metadata: Metadata): Promise<ThreadRecord | undefined> {
    await this.setup();
    const { rowCount } = await this.pool.query(`INSERT INTO ${this.table} (thread_id, metadata) VALUES ($1, $2) ON CONFLICT (thread_id) DO NOTHING`, [id, JSON.stringify(metadata)]);
    return rowCount ? this.get(id) : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.setup();
    await this.pool.query(`DELETE FROM ${this.table} WHERE thread_id = $1`, [id]);
    await (this.checkpointer as BaseCheckpointSaver).deleteThread(id);
  }

  private where(q: ThreadQuery): { sql: string; params: unknown[] } {
    const params: unknown[] = [JSON.stringify(q.metadata ?? {})];
    let sql = "WHERE t.metadata @> $1";
    if (q.ids) sql += ` AND t.thread_id = ANY($${params.push(q.ids)})`;
    if (q.owned) sql += ` AND t.metadata @> $${params.push(JSON.stringify(q.owned))}`;
    return { sql, params };
  }

  /** Threads by metadata (containment), ids and status, newest first unless asked otherwise; `total` counts every match. */
  async *search(o: ThreadQuery & { limit: number; offset: number; sortBy: "created_at" | "updated_at"; sortOrder: "asc" | "desc" }) {
    await this.setup();
    const order = `${o.sortBy === "updated_at" ? "updated_at" : "created_at"} ${o.sortOrder === "asc" ? "ASC" : "DESC"}`;
    const { sql, params } = this.where(o);
    // Status is filtered after the lock check, so a busy thread whose server died is found as `error`.
    const n = params.length;
    const { rows } = await this.pool.query<Row>(
      `WITH m AS (SELECT ${this.columns} FROM ${this.table} t ${sql}),
            s AS (SELECT *, CASE WHEN status = 'busy' AND NOT held THEN 'error' ELSE status END AS shown FROM m)
       SELECT *, count(*) OVER () AS total FROM s WHERE ($${n + 1}::text IS NULL OR shown = $${n + 1})
       ORDER BY ${order}, thread_id LIMIT $${n + 2} OFFSET $${n + 3}`,
      [...params, o.status ?? null, o.limit, o.offset],
    );
    for (const r of rows) yield { thread: record(r), total: Number(r.total) };
  }

  async count(q: ThreadQuery): Promise<number> {
    let n = 0;
    for await (const { total } of this.search({ ...q, limit: 1, offset: 0, sortBy: "created_at", sortOrder: "desc" })) n = total;
    return n;
  }

  /**
   * Hold the thread for a run: marks it `busy` and returns the lease, or throws ThreadBusy when another run holds it.
   * The lock lives on a leases connection for the run's length; a server that dies takes its connection, and so the
   * lock, with it. With `run`, the run's execution lock is taken first on the same connection (RunHeld when another
   * process has it) and kept until `release`.
   */
  lease(id: string): Promise<RunLease>;
  lease(id: string, run: string): Promise<ExecutionLease>;
  async lease(id: string, run?: string): Promise<ExecutionLease> {
    await this.setup();
    const client = await this.leases.connect();
    const unlock = (space: string, key: string) => client.query("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", [space, key]).catch(() => undefined);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      if (run !== undefined) await unlock(this.executionSpace, run);
      client.release();
    };
    const tryLock = async (space: string, key: string) =>
      (await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok", [space, key])).rows[0]!.ok;
    try {
      if (run !== undefined && !(await tryLock(this.executionSpace, run))) {
        released = true;
        client.release();
        throw new RunHeld(run);
      }
      if (!(await tryLock(this.lockSpace, id))) {
        await release();
        throw new ThreadBusy(id);
      }
      const { rowCount } = await client.query(`UPDATE ${this.table} SET status = 'busy', error = NULL, updated_at = now() WHERE thread_id = $1`, [id]);
      if (!rowCount) {
        await unlock(this.lockSpace, id);
        await release();
        throw new ThreadNotFound(id);
      }
    } catch (e) {
      if (!(e instanceof ThreadBusy || e instanceof ThreadNotFound || e instanceof RunHeld) && !released) {
        released = true;
        client.release(true);
      }
      throw e;
    }
    let ended = false;
    return {
      end: async (status, error = null) => {
        if (ended) return;
        ended = true;
        try {
          await client.query(`UPDATE ${this.table} SET status = $2, error = $3, updated_at = now() WHERE thread_id = $1`, [id, status, error]);
        } finally {
          await unlock(this.lockSpace, id);
          if (run === undefined) await release();
        }
      },
      release,
    };
  }
}

/**
 * The checkpointer as LangGraph's server gives it to runs: each checkpoint's metadata also holds the run's metadata
 * (`config.metadata`: what the client sent, the owner auth gave it, LangGraph's run keys), so a thread's history can
 * be filtered by it (`client.threads.getHistory(id, { metadata })`).
 */
export function withRunMetadata<S extends BaseCheckpointSaver>(saver: S): S {
  return new Proxy(saver, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === "put") {
        const put = target.put.bind(target);
        return (config: Parameters<S["put"]>[0], checkpoint: Parameters<S["put"]>[1], metadata: Parameters<S["put"]>[2], versions: Parameters<S["put"]>[3]) =>
          put(config, checkpoint, { ...config.metadata, ...metadata }, versions);
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
