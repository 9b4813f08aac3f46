import { randomInt } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { BaseCheckpointSaver, MemorySaver, START, StateGraph, type CheckpointTuple } from "@langchain/langgraph";
import { TASKS, type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type ChannelVersions, type DeltaChannelHistory, type PendingWrite } from "@langchain/langgraph-checkpoint";
import type { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Pool } from "pg";
import { AlphaUmiSqliteSaver } from "./sqliteSaver.js";
import { UserError } from "../errors.js";
import { maskLocation } from "../secrets.js";
import { AgentState, type AgentStateType } from "../state.js";

// node-postgres loads with the first Postgres location, not with alpha-umi (it is CommonJS: require returns what import would).
const pg = {
  get Pool(): typeof Pool {
    return (createRequire(import.meta.url)("pg") as { Pool: typeof Pool }).Pool;
  },
};

export const DEFAULT_CHECKPOINTS = ".alpha-umi/checkpoints.sqlite";

const POSTGRES = /^postgres(ql)?:\/\//i;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Where a Postgres checkpoint location points: pg connection settings and the schema its tables live in. */
export interface PostgresLocation {
  /** The connection string without alpha-umi's own `schema` parameter, with the OS user when it names none. */
  connectionString: string;
  schema: string;
}

/**
 * Parse `postgres://[user@]host[:port]/db[?schema=NAME]` (schema defaults to `public`).
 *
 * @example parsePostgresLocation("postgres://127.0.0.1/test?schema=runs").schema // "runs"
 */
export function parsePostgresLocation(location: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UserError(`--checkpoints ${maskLocation(location)}: not a valid postgres:// URL`);
  }
  const schema = url.searchParams.get("schema") ?? "public";
  if (!SCHEMA_NAME.test(schema)) throw new UserError(`--checkpoints ${maskLocation(location)}: schema "${schema}" must be a plain SQL identifier (letters, digits, _)`);
  url.searchParams.delete("schema");
  // libpq's default user is the OS user; pg's would be $USER, unset in many service environments.
  if (!url.username) url.username = userInfo().username;
  return { connectionString: url.toString(), schema };
}

/** Run `fn` while holding a session-level Postgres advisory lock: one process at a time across the database. */
export async function underAdvisoryLock<T>(pool: Pool, key: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
    try {
      return await fn();
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]);
    }
  } finally {
    client.release();
  }
}

// Loaded with the first Postgres use; the promise is kept because every step writes (a dynamic import() is not free
// even when cached: under a loader such as tsx, each one is a round trip to the hooks thread).
let writesModule: Promise<typeof import("./postgresWrites.js")> | undefined;
let historyModule: Promise<typeof import("./postgresHistory.js")> | undefined;
const postgresWrites = () => (writesModule ??= import("./postgresWrites.js"));
const postgresHistory = () => (historyModule ??= import("./postgresHistory.js"));

/**
 * A Postgres checkpointer that creates its schema and tables on first use, once per process, under a Postgres advisory
 * lock so that several processes starting at once (servers, workers) do not race on `CREATE SCHEMA` or the migrations
 * table. It reads through LangGraph's PostgresSaver and writes its rows (one statement each, src/checkpoint/), all
 * loaded then too: an app that never names a Postgres location never loads them.
 */
export class AutoSetupPostgresSaver extends BaseCheckpointSaver {
  readonly schema: string;
  private saver?: Promise<PostgresSaver>;

  constructor(
    readonly pgPool: Pool,
    schema: string,
  ) {
    super();
    this.schema = schema;
  }

  /**
   * Channel versions unique per write: the next integer plus a random fraction (as LangGraph's Python savers make
   * string versions `<counter>.<random>`, in the number type LangGraph JS's savers declare). PostgresSaver stores a
   * channel's value once per (channel, version) and keeps the first on conflict: with plain integers, a fork from an
   * older checkpoint (DFSDT, a state edit) reaches versions the main line already stored and reads the main line's
   * values — its route and τ. Each version is above every earlier one: above the integers of a thread stored by plain
   * PostgresSaver, and above the zero-padded strings earlier alpha-umi versions wrote (LangGraph compares a number and
   * a string as text, and a number's text never starts with 0).
   */
  override getNextVersion(current: number | undefined): number {
    const n = current === undefined ? 0 : Math.floor(Number.parseFloat(String(current)));
    return n + 1 + randomInt(1, 2 ** 32) / 2 ** 32;
  }

  /** Idempotent and concurrency-safe; every read and write waits for it. */
  async setup(): Promise<void> {
    await this.ready();
  }

  private ready(): Promise<PostgresSaver> {
    this.saver ??= (async () => {
      const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres");
      const saver = new PostgresSaver(this.pgPool, undefined, { schema: this.schema });
      await underAdvisoryLock(this.pgPool, `alpha-umi-setup:${this.schema}`, () => saver.setup());
      return saver;
    })().catch((err: unknown) => {
      this.saver = undefined; // a later call may succeed (the server came up)
      throw err;
    });
    return this.saver;
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return (await this.ready()).getTuple(config);
  }

  override async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    yield* (await this.ready()).list(config, options);
  }

  /** One statement per checkpoint instead of PostgresSaver's transaction of one INSERT per channel (postgresWrites.ts). */
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const { putCheckpoint } = await postgresWrites();
    return putCheckpoint(this.pgPool, this.schema, (await this.ready()).serde, config, checkpoint, metadata, newVersions);
  }

  /** One statement per task's writes. PostgresSaver 1.0.5's tables have no task path column: `taskPath` is not stored. */
  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
    const { putTaskWrites } = await postgresWrites();
    return putTaskWrites(this.pgPool, this.schema, (await this.ready()).serde, config, writes, taskId);
  }

  /** LangGraph's ancestor walk (one getTuple per ancestor) in two queries: every load of a thread runs it (src/state.ts). */
  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }): Promise<Record<string, DeltaChannelHistory>> {
    if (options.channels.length === 0) return {};
    const saver = await this.ready();
    // TASKS can be rebuilt from older checkpoints by getTuple (_migratePendingSends); only LangGraph's walk does that.
    const { postgresDeltaChannelHistory } = await postgresHistory();
    const fast = options.channels.includes(TASKS) ? undefined : await postgresDeltaChannelHistory(this.pgPool, this.schema, saver.serde, options);
    return fast ?? super.getDeltaChannelHistory(options);
  }

  override async deleteThread(threadId: string): Promise<void> {
    return (await this.ready()).deleteThread(threadId);
  }

  /** Whether the checkpoint tables exist (without creating them: readers must not invent an empty store). */
  async hasTables(): Promise<boolean> {
    const { rows } = await this.pgPool.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`"${this.schema}".checkpoints`]);
    return rows[0]?.t != null;
  }

  /** Ids of the threads with a root checkpoint, sorted. */
  async threadIds(): Promise<string[]> {
    await this.setup();
    const { rows } = await this.pgPool.query<{ thread_id: string }>(
      `SELECT DISTINCT thread_id FROM "${this.schema}".checkpoints WHERE checkpoint_ns = '' ORDER BY thread_id`,
    );
    return rows.map((r) => r.thread_id);
  }

  async end(): Promise<void> {
    await this.pgPool.end();
  }
}

/** How long a connection attempt may take: an unreachable host is an error within seconds (pg's default waits forever). */
export const CONNECT_TIMEOUT_MS = 5000;

/** A pg pool for a location; idle connections do not keep a CLI process alive. */
export function postgresPool(location: string | PostgresLocation, max = 10): Pool {
  const loc = typeof location === "string" ? parsePostgresLocation(location) : location;
  return new pg.Pool({ connectionString: loc.connectionString, max, allowExitOnIdle: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
}

/**
 * One round trip to the database of a location, or a UserError naming it: serve and worker check before they start,
 * so an unreachable or refusing server is one line at once rather than a failure at the first job.
 *
 * @example await reachPostgres(saver.pgPool, "postgres://127.0.0.1:5432/test");
 */
export async function reachPostgres(pool: Pool, location: string): Promise<void> {
  try {
    await pool.query("SELECT 1");
  } catch (e) {
    const err = e as Error & { code?: string; errors?: Error[] };
    // A refused dual-stack connect is an AggregateError with an empty message; its parts say what happened.
    const why = err.message || err.errors?.map((x) => x.message).join("; ") || err.code || String(e);
    throw new UserError(`--checkpoints ${maskLocation(location)}: cannot reach Postgres (${why})`);
  }
}

export function isPostgresLocation(location: string): boolean {
  return POSTGRES.test(location);
}

/**
 * A checkpointer from a location: `memory`, a SQLite file path (created with its folder; `sqlite:` prefix optional), or
 * `postgres://…[?schema=NAME]` (schema and tables created on first use). Any other `scheme://` is an error, never a file.
 *
 * @example const saver = checkpointerFrom("postgres://postgres@127.0.0.1:5432/test?schema=alpha_umi");
 */
export function checkpointerFrom(location: string = DEFAULT_CHECKPOINTS): BaseCheckpointSaver {
  if (location === "memory") return new MemorySaver();
  if (isPostgresLocation(location)) {
    const loc = parsePostgresLocation(location);
    return new AutoSetupPostgresSaver(postgresPool(loc), loc.schema);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location);
  if (scheme) throw new UserError(`--checkpoints ${maskLocation(location)}: unsupported scheme "${scheme[1]}:" (a SQLite file path, postgres://… or memory)`);
  const path = resolve(location.replace(/^sqlite:/, ""));
  mkdirSync(dirname(path), { recursive: true });
  return AlphaUmiSqliteSaver.fromConnString(path);
}

/** Like checkpointerFrom, for readers: a SQLite file must already exist (opening would create an empty one). */
export function existingCheckpointerFrom(location: string): BaseCheckpointSaver {
  if (location !== "memory" && !isPostgresLocation(location) && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(location)) {
    const path = location.replace(/^sqlite:/, "");
    if (!existsSync(path)) throw new UserError(`${path}: no such checkpoint file`);
  }
  return checkpointerFrom(location);
}

/**
 * Let go of a checkpointer's connections (Postgres pool, SQLite handle); memory has none.
 *
 * @example
 * const saver = checkpointerFrom("postgres://127.0.0.1/test?schema=runs");
 * try { await createAlphaUmiGraph({ tools, checkpointer: saver }).invoke(input, config); } finally { await closeCheckpointer(saver); }
 */
export async function closeCheckpointer(saver: BaseCheckpointSaver): Promise<void> {
  if (saver instanceof AutoSetupPostgresSaver) await saver.end();
  else if (saver instanceof SqliteSaver) saver.db.close();
}

const readers = new WeakMap<BaseCheckpointSaver, { getState(config: RunnableConfig): Promise<{ values: unknown }> }>();

/**
 * The agent state a checkpoint holds, without the graph that wrote it. τ and the messages mirror are delta channels
 * (src/state.ts): a checkpoint stores a step's writes, not τ, so the state is rebuilt as LangGraph loads a thread.
 * `config` names a thread (its latest checkpoint) or one checkpoint (`checkpoint_id`).
 *
 * @example (await storedState(checkpointerFrom("runs.sqlite"), { configurable: { thread_id: "t1" } })).turns
 */
export async function storedState(saver: BaseCheckpointSaver, config: RunnableConfig): Promise<Partial<AgentStateType>> {
  let reader = readers.get(saver);
  if (!reader) {
    reader = new StateGraph(AgentState).addNode("read", () => ({})).addEdge(START, "read").compile({ checkpointer: saver });
    readers.set(saver, reader);
  }
  return (await reader.getState(config)).values as Partial<AgentStateType>;
}
