import type { ThreadSaver } from "@langchain/langgraph-api/experimental/embed";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { Pool } from "pg";
import { underAdvisoryLock, type AutoSetupPostgresSaver } from "../checkpoint.js";

type Metadata = Record<string, unknown>;

export interface ThreadRecord {
  thread_id: string;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
}

/** A thread the API was asked about that no server has created. */
export class ThreadNotFound extends Error {
  constructor(readonly threadId: string) {
    super(`thread ${threadId} not found`);
  }
}

interface Row {
  thread_id: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  total?: string;
}

const record = (r: Row): ThreadRecord => ({
  thread_id: r.thread_id,
  metadata: r.metadata,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/**
 * The LangGraph API's thread registry in Postgres, next to the checkpoints (same schema), so that every server process
 * on the database sees every thread: a thread created on one is found, run and resumed on another.
 */
export class PostgresThreads implements ThreadSaver {
  private ready?: Promise<void>;
  private readonly table: string;

  constructor(
    private readonly pool: Pool,
    private readonly checkpointer: AutoSetupPostgresSaver,
  ) {
    this.table = `"${checkpointer.schema}".alpha_umi_threads`;
  }

  /** Create the table once (after the checkpoint tables); every call waits for it. */
  setup(): Promise<void> {
    this.ready ??= this.checkpointer.setup().then(() =>
      underAdvisoryLock(this.pool, `alpha-umi-threads:${this.checkpointer.schema}`, async () => {
        await this.pool.query(
          `CREATE TABLE IF NOT EXISTS ${this.table} (thread_id TEXT PRIMARY KEY, metadata JSONB NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
        );
      }),
    );
    return this.ready;
  }

  async get(id: string): Promise<ThreadRecord> {
    await this.setup();
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.table} WHERE thread_id = $1`, [id]);
    if (!rows[0]) throw new ThreadNotFound(id);
    return record(rows[0]);
  }

  /** `put` creates the thread (or replaces its metadata); `patch` merges metadata into it, creating it when absent. */
  async set(id: string, o: { kind: "put" | "patch"; metadata?: Metadata }): Promise<ThreadRecord> {
    await this.setup();
    const merge = o.kind === "patch" ? `${this.table}.metadata || EXCLUDED.metadata` : "EXCLUDED.metadata";
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO ${this.table} (thread_id, metadata) VALUES ($1, $2) ON CONFLICT (thread_id) DO UPDATE SET metadata = ${merge}, updated_at = now() RETURNING *`,
      [id, JSON.stringify(o.metadata ?? {})],
    );
    return record(rows[0]!);
  }

  async delete(id: string): Promise<void> {
    await this.setup();
    await this.pool.query(`DELETE FROM ${this.table} WHERE thread_id = $1`, [id]);
    await (this.checkpointer as BaseCheckpointSaver).deleteThread(id);
  }

  async *search(o: { metadata?: Metadata; limit: number; offset: number; sortBy: "created_at" | "updated_at"; sortOrder: "asc" | "desc" }) {
    await this.setup();
    const order = `${o.sortBy === "updated_at" ? "updated_at" : "created_at"} ${o.sortOrder === "asc" ? "ASC" : "DESC"}`;
    const { rows } = await this.pool.query<Row>(
      `SELECT *, count(*) OVER () AS total FROM ${this.table} WHERE metadata @> $1 ORDER BY ${order}, thread_id LIMIT $2 OFFSET $3`,
      [JSON.stringify(o.metadata ?? {}), o.limit, o.offset],
    );
    for (const r of rows) yield { thread: record(r), total: Number(r.total) };
  }
}
