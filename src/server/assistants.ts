/**
 * Assistants, as LangGraph's server has them (`@langchain/langgraph-api`'s api/assistants and storage/ops): a graph
 * with a configuration, versioned. Each served graph is a system assistant whose id is uuid5 of the graph id (so the
 * ids match LangGraph's server) and which also answers to the graph id. They live in Postgres next to the threads, so
 * every serve process on the database sees the same ones. An assistant's `config.configurable` and `context` are run
 * settings: a client's pass the trust boundary (src/trust.ts) when it creates or updates one, and again, merged under
 * the run's own, when a run names it.
 */
import { v5 as uuid5, v7 as uuid7 } from "@langchain/core/utils/uuid";
import { isAuthMatching, type AuthFilters } from "@langchain/langgraph-api/auth";
import { getRuntimeGraphSchema } from "@langchain/langgraph-api/schema";
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Pool, PoolClient } from "pg";
import { z } from "zod";
import { underAdvisoryLock } from "../checkpoint/checkpointers.js";
import { clientSettings, RefusedSetting, type OperatorSettings } from "../trust.js";
import { raiseAuthEvent } from "./auth.js";
import type { PostgresThreads } from "./threads.js";

type Metadata = Record<string, unknown>;

/** LangGraph's namespace for graph ids' assistant ids (langgraph-api graph/load NAMESPACE_GRAPH). */
const NAMESPACE_GRAPH = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

/** The id of a graph's system assistant, as LangGraph's server derives it. */
export const systemAssistantId = (graphId: string) => uuid5(graphId, NAMESPACE_GRAPH);

export interface Assistant {
  assistant_id: string;
  graph_id: string;
  config: { configurable?: Metadata } & Metadata;
  context: Metadata;
  metadata: Metadata;
  name: string;
  description: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export type AssistantVersion = Omit<Assistant, "updated_at">;

export interface AssistantFields {
  graph_id?: string;
  config?: Assistant["config"];
  context?: Metadata;
  metadata?: Metadata;
  name?: string;
  description?: string;
}

export const SORT_KEYS = ["assistant_id", "graph_id", "name", "created_at", "updated_at"] as const;

export interface AssistantQuery {
  graph_id?: string;
  name?: string;
  metadata?: Metadata;
  /** What the operator's auth requires of the assistants a user sees. */
  filters?: AuthFilters;
}

/** Where assistants are kept; `filters` are the auth handlers' (an assistant they do not match does not exist). */
export interface AssistantStore {
  /** Register the graphs as system assistants (kept as they are when present). */
  setup(graphIds: readonly string[]): Promise<void>;
  get(id: string, filters?: AuthFilters): Promise<Assistant>;
  /** Create, or with `ifExists: "do_nothing"` return the existing one. */
  create(id: string, fields: AssistantFields & { graph_id: string }, ifExists: "raise" | "do_nothing", filters?: AuthFilters): Promise<Assistant>;
  /** A new version with these fields (metadata merged), made the latest. */
  update(id: string, fields: AssistantFields, filters?: AuthFilters): Promise<Assistant>;
  setLatest(id: string, version: number, filters?: AuthFilters): Promise<Assistant>;
  delete(id: string, filters?: AuthFilters): Promise<void>;
  search(q: AssistantQuery & { limit: number; offset: number; sortBy: (typeof SORT_KEYS)[number]; sortOrder: "asc" | "desc" }): Promise<Assistant[]>;
  count(q: AssistantQuery): Promise<number>;
  versions(id: string, o: { metadata?: Metadata; limit: number; offset: number; filters?: AuthFilters }): Promise<AssistantVersion[]>;
}

const notFound = (id: string) => new HTTPException(404, { message: `assistant ${id} not found` });

interface Row extends Omit<Assistant, "created_at" | "updated_at"> {
  created_at: Date;
  updated_at?: Date;
}

const assistantOf = <T extends Row>(r: T) => ({
  ...r,
  created_at: r.created_at.toISOString(),
  ...(r.updated_at ? { updated_at: r.updated_at.toISOString() } : {}),
});

/** LangGraph's filters applied in memory: assistants are few, and the operator's handlers may use any of its forms. */
const matches = (metadata: Metadata, filters: AuthFilters | undefined) => isAuthMatching(metadata, filters);

/** Assistants in the serve schema: the latest of each, and every version. */
export class PostgresAssistants implements AssistantStore {
  private readonly table: string;
  private readonly versionsTable: string;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {
    this.table = `"${schema}".alpha_umi_assistants`;
    this.versionsTable = `"${schema}".alpha_umi_assistant_versions`;
  }

  async setup(graphIds: readonly string[]): Promise<void> {
    await underAdvisoryLock(this.pool, `alpha-umi-assistants:${this.schema}`, async () => {
      await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (assistant_id TEXT PRIMARY KEY, graph_id TEXT NOT NULL, config JSONB NOT NULL DEFAULT '{}',
          context JSONB NOT NULL DEFAULT '{}', metadata JSONB NOT NULL DEFAULT '{}', name TEXT NOT NULL, description TEXT, version INT NOT NULL,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      await this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.versionsTable} (assistant_id TEXT NOT NULL REFERENCES ${this.table} ON DELETE CASCADE, version INT NOT NULL,
          graph_id TEXT NOT NULL, config JSONB NOT NULL, context JSONB NOT NULL, metadata JSONB NOT NULL, name TEXT NOT NULL, description TEXT,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (assistant_id, version))`,
      );
    });
    for (const graphId of graphIds)
      await this.create(systemAssistantId(graphId), { graph_id: graphId, name: graphId, metadata: { created_by: "system" } }, "do_nothing");
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** The assistant locked for a change, or 404 when absent or not the user's. */
  private async locked(c: PoolClient, id: string, filters: AuthFilters | undefined): Promise<Row> {
    const { rows } = await c.query<Row>(`SELECT * FROM ${this.table} WHERE assistant_id = $1 FOR UPDATE`, [id]);
    if (!rows[0] || !matches(rows[0].metadata, filters)) throw notFound(id);
    return rows[0];
  }

  private async writeVersion(c: PoolClient, a: Omit<Row, "created_at" | "updated_at">): Promise<void> {
    await c.query(
      `INSERT INTO ${this.versionsTable} (assistant_id, version, graph_id, config, context, metadata, name, description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [a.assistant_id, a.version, a.graph_id, a.config, a.context, a.metadata, a.name, a.description],
    );
  }

  async get(id: string, filters?: AuthFilters): Promise<Assistant> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.table} WHERE assistant_id = $1`, [id]);
    if (!rows[0] || !matches(rows[0].metadata, filters)) throw notFound(id);
    return assistantOf(rows[0]) as Assistant;
  }

  create(id: string, f: AssistantFields & { graph_id: string }, ifExists: "raise" | "do_nothing", filters?: AuthFilters): Promise<Assistant> {
    return this.tx(async (c) => {
      const a = { assistant_id: id, graph_id: f.graph_id, config: f.config ?? {}, context: f.context ?? {}, metadata: f.metadata ?? {}, name: f.name || f.graph_id, description: f.description ?? null, version: 1 };
      const { rows } = await c.query<Row>(
        `INSERT INTO ${this.table} (assistant_id, graph_id, config, context, metadata, name, description, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
         ON CONFLICT (assistant_id) DO NOTHING RETURNING *`,
        [id, a.graph_id, a.config, a.context, a.metadata, a.name, a.description],
      );
      if (rows[0]) {
        await this.writeVersion(c, a);
        return assistantOf(rows[0]) as Assistant;
      }
      const { rows: existing } = await c.query<Row>(`SELECT * FROM ${this.table} WHERE assistant_id = $1`, [id]);
      // Someone else's assistant is not shown, not even as existing.
      if (ifExists === "raise" || !existing[0] || !matches(existing[0].metadata, filters)) throw new HTTPException(409, { message: `assistant ${id} already exists` });
      return assistantOf(existing[0]) as Assistant;
    });
  }

  update(id: string, f: AssistantFields, filters?: AuthFilters): Promise<Assistant> {
    return this.tx(async (c) => {
      const cur = await this.locked(c, id, filters);
      const { rows: v } = await c.query<{ n: number }>(`SELECT max(version) AS n FROM ${this.versionsTable} WHERE assistant_id = $1`, [id]);
      const next = {
        assistant_id: id,
        graph_id: f.graph_id ?? cur.graph_id,
        config: f.config ?? cur.config,
        context: f.context ?? cur.context,
        metadata: f.metadata ? { ...cur.metadata, ...f.metadata } : cur.metadata,
        name: f.name ?? cur.name,
        description: f.description ?? cur.description,
        version: (v[0]?.n ?? 0) + 1,
      };
      await this.writeVersion(c, next);
      return this.setRow(c, next);
    });
  }

  private async setRow(c: PoolClient, a: Omit<Row, "created_at" | "updated_at">): Promise<Assistant> {
    const { rows } = await c.query<Row>(
      `UPDATE ${this.table} SET graph_id = $2, config = $3, context = $4, metadata = $5, name = $6, description = $7, version = $8, updated_at = now()
       WHERE assistant_id = $1 RETURNING *`,
      [a.assistant_id, a.graph_id, a.config, a.context, a.metadata, a.name, a.description, a.version],
    );
    return assistantOf(rows[0]!) as Assistant;
  }

  setLatest(id: string, version: number, filters?: AuthFilters): Promise<Assistant> {
    return this.tx(async (c) => {
      await this.locked(c, id, filters);
      const { rows } = await c.query<Row>(`SELECT * FROM ${this.versionsTable} WHERE assistant_id = $1 AND version = $2`, [id, version]);
      if (!rows[0]) throw new HTTPException(404, { message: `assistant ${id} has no version ${version}` });
      return this.setRow(c, rows[0]);
    });
  }

  async delete(id: string, filters?: AuthFilters): Promise<void> {
    await this.tx(async (c) => {
      await this.locked(c, id, filters);
      await c.query(`DELETE FROM ${this.table} WHERE assistant_id = $1`, [id]);
    });
  }

  private where(q: AssistantQuery, params: unknown[]): string {
    let sql = `WHERE metadata @> $${params.push(JSON.stringify(q.metadata ?? {}))}`;
    if (q.graph_id !== undefined) sql += ` AND graph_id = $${params.push(q.graph_id)}`;
    if (q.name !== undefined) sql += ` AND strpos(lower(name), lower($${params.push(q.name)})) > 0`;
    return sql;
  }

  async search(q: AssistantQuery & { limit: number; offset: number; sortBy: (typeof SORT_KEYS)[number]; sortOrder: "asc" | "desc" }): Promise<Assistant[]> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.table} ${this.where(q, params)} ORDER BY ${q.sortBy} ${q.sortOrder === "asc" ? "ASC" : "DESC"}, assistant_id`, params);
    return rows.filter((r) => matches(r.metadata, q.filters)).slice(q.offset, q.offset + q.limit).map((r) => assistantOf(r) as Assistant);
  }

  async count(q: AssistantQuery): Promise<number> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<Row>(`SELECT metadata FROM ${this.table} ${this.where(q, params)}`, params);
    return rows.filter((r) => matches(r.metadata, q.filters)).length;
  }

  async versions(id: string, o: { metadata?: Metadata; limit: number; offset: number; filters?: AuthFilters }): Promise<AssistantVersion[]> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.versionsTable} WHERE assistant_id = $1 AND metadata @> $2 ORDER BY version DESC`, [id, JSON.stringify(o.metadata ?? {})]);
    return rows.filter((r) => matches(r.metadata, o.filters)).slice(o.offset, o.offset + o.limit).map((r) => assistantOf(r) as AssistantVersion);
  }
}

/** What a run that names an assistant (its id, or a graph id) runs: the graph and the assistant's settings. */
export interface ResolvedAssistant {
  assistant_id: string;
  graph_id: string;
  config: Assistant["config"];
  context: Metadata;
}

/**
 * The assistant a run names: a graph id is its system assistant (or the bare graph when that was deleted); undefined
 * when neither.
 */
export async function resolveAssistant(store: AssistantStore, graphIds: readonly string[], id: string): Promise<ResolvedAssistant | undefined> {
  const isGraph = graphIds.includes(id);
  try {
    const a = await store.get(isGraph ? systemAssistantId(id) : id);
    if (graphIds.includes(a.graph_id)) return a;
  } catch (e) {
    if (!(e instanceof HTTPException && e.status === 404)) throw e;
  }
  return isGraph ? { assistant_id: systemAssistantId(id), graph_id: id, config: {}, context: {} } : undefined;
}

/** A compiled graph as the assistants' routes read it (LangGraph's Pregel). */
interface Drawable {
  getGraphAsync(config: { xray?: boolean | number }): Promise<{ toJSON(): unknown }>;
  getSubgraphsAsync(namespace?: string, recurse?: boolean): AsyncIterable<[string, unknown]>;
  channels?: Record<string, unknown>;
}

const Config = z.object({ configurable: z.record(z.string(), z.unknown()).optional() }).loose();
const Fields = {
  config: Config.optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
};
const CreateBody = z.object({ ...Fields, assistant_id: z.uuid().optional(), graph_id: z.string(), if_exists: z.enum(["raise", "do_nothing"]).optional() });
const PatchBody = z.object({ ...Fields, graph_id: z.string().optional() });
const SearchBody = z.object({
  graph_id: z.string().optional(),
  name: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().min(0).optional(),
  sort_by: z.enum(SORT_KEYS).optional(),
  sort_order: z.enum(["asc", "desc"]).optional(),
  select: z.array(z.string()).optional(),
});
const VersionsBody = z.object({ metadata: z.record(z.string(), z.unknown()).optional(), limit: z.number().int().min(1).max(1000).optional(), offset: z.number().int().min(0).optional() });

/** A request body read with `schema`, or 422 naming what is wrong and where. */
export async function bodyOf<T extends z.ZodType>(req: { json(): Promise<unknown> }, schema: T, where: string): Promise<z.output<T>> {
  const raw: unknown = await req.json().catch(() => ({}));
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new HTTPException(422, { message: `${where}: ${issue.path.join(".") || "body"}: ${issue.message}` });
}

/** `?name=` as LangGraph's coerced booleans read it; xray may also be a depth. */
const flag = (v: string | undefined): boolean | number | undefined => (v === undefined ? undefined : /^\d+$/.test(v) && v !== "1" && v !== "0" ? Number(v) : ["true", "1", "yes"].includes(v.toLowerCase()));

export interface AssistantRoutes {
  store: AssistantStore;
  graphs: Record<string, Drawable>;
  threads: PostgresThreads;
  operator: OperatorSettings;
}

/**
 * The assistants' routes of LangGraph's API, with its auth events (`assistants:create|read|update|delete|search`).
 *
 * @example registerAssistantRoutes(app, { store, graphs, threads, operator });
 */
export function registerAssistantRoutes(app: Hono, o: AssistantRoutes): void {
  const graphIds = Object.keys(o.graphs);
  const idOf = (id: string) => (graphIds.includes(id) ? systemAssistantId(id) : id);
  const checkGraph = (graphId: string | undefined) => {
    if (graphId !== undefined && !graphIds.includes(graphId)) throw new HTTPException(404, { message: `graph ${JSON.stringify(graphId)} not found (graphs: ${graphIds.join(", ")})` });
  };
  /** A client's run settings, as the boundary lets them through (the operator's floor is added when the run starts). */
  const settings = <F extends z.infer<typeof PatchBody>>(f: F): F => {
    try {
      const config = f.config && { ...f.config, configurable: clientSettings(f.config.configurable, "config.configurable", { ...o.operator, approve: undefined }) };
      const context = f.context && clientSettings(f.context, "context", { ...o.operator, approve: undefined });
      return { ...f, config, context };
    } catch (e) {
      if (e instanceof RefusedSetting) throw new HTTPException(e.status, { message: e.message });
      throw e;
    }
  };
  const read = async (req: Request, id: string) => {
    const [filters] = await raiseAuthEvent(req, "assistants:read", { assistant_id: id });
    return o.store.get(id, filters);
  };
  const graphOf = (a: Assistant) => {
    const g = o.graphs[a.graph_id];
    if (!g) throw new HTTPException(404, { message: `assistant ${a.assistant_id}: graph ${a.graph_id} is not served here` });
    return g;
  };
  /** LangGraph's schema extraction; a state it cannot describe (an Annotation) is described by its channels. */
  const schemaOf = async (g: Drawable) => {
    const s = await getRuntimeGraphSchema(g as never);
    const channels = { type: "object" as const, properties: Object.fromEntries(Object.keys(g.channels ?? {}).filter((k) => !k.startsWith("__")).map((k) => [k, {}])) };
    return { input: s?.input ?? channels, output: s?.output ?? channels, state: s?.state ?? channels, config: s?.config };
  };

  app.post("/assistants", async (c) => {
    const b = settings(await bodyOf(c.req, CreateBody, "POST /assistants"));
    checkGraph(b.graph_id);
    const id = b.assistant_id ?? uuid7();
    const [filters, value] = await raiseAuthEvent(c.req.raw, "assistants:create", { ...b, assistant_id: id, metadata: b.metadata ?? {}, if_exists: b.if_exists ?? "raise" });
    return c.json(await o.store.create(id, { ...b, metadata: (value.metadata as Metadata | undefined) ?? {} }, b.if_exists ?? "raise", filters));
  });
  app.post("/assistants/search", async (c) => {
    const b = await bodyOf(c.req, SearchBody, "POST /assistants/search");
    const [filters] = await raiseAuthEvent(c.req.raw, "assistants:search", { graph_id: b.graph_id, metadata: b.metadata, limit: b.limit, offset: b.offset });
    const q = { graph_id: b.graph_id, name: b.name, metadata: b.metadata, filters };
    const [found, total] = await Promise.all([
      o.store.search({ ...q, limit: b.limit ?? 10, offset: b.offset ?? 0, sortBy: b.sort_by ?? "created_at", sortOrder: b.sort_order ?? "desc" }),
      o.store.count(q),
    ]);
    const offset = b.offset ?? 0;
    if (offset + found.length < total) c.header("X-Pagination-Next", String(offset + found.length));
    c.header("X-Pagination-Total", String(total));
    return c.json(b.select ? found.map((a) => Object.fromEntries(Object.entries(a).filter(([k]) => b.select!.includes(k)))) : found);
  });
  app.post("/assistants/count", async (c) => {
    const b = await bodyOf(c.req, SearchBody.pick({ graph_id: true, name: true, metadata: true }), "POST /assistants/count");
    const [filters] = await raiseAuthEvent(c.req.raw, "assistants:search", { graph_id: b.graph_id, metadata: b.metadata, limit: 0, offset: 0 });
    return c.json(await o.store.count({ ...b, filters }));
  });
  app.get("/assistants/:id", async (c) => c.json(await read(c.req.raw, idOf(c.req.param("id")))));
  app.patch("/assistants/:id", async (c) => {
    const id = idOf(c.req.param("id"));
    const b = settings(await bodyOf(c.req, PatchBody, `PATCH /assistants/${id}`));
    checkGraph(b.graph_id);
    const [filters, value] = await raiseAuthEvent(c.req.raw, "assistants:update", { ...b, assistant_id: id });
    return c.json(await o.store.update(id, { ...b, metadata: value.metadata as Metadata | undefined }, filters));
  });
  app.delete("/assistants/:id", async (c) => {
    const id = idOf(c.req.param("id"));
    const [filters] = await raiseAuthEvent(c.req.raw, "assistants:delete", { assistant_id: id });
    await o.store.delete(id, filters);
    if (flag(c.req.query("delete_threads")) === true)
      for await (const { thread } of o.threads.search({ metadata: { assistant_id: id }, limit: 10_000, offset: 0, sortBy: "created_at", sortOrder: "asc" }))
        await o.threads.delete(thread.thread_id);
    return c.json([id]);
  });
  app.post("/assistants/:id/latest", async (c) => {
    const id = idOf(c.req.param("id"));
    const { version } = await bodyOf(c.req, z.object({ version: z.number().int() }), `POST /assistants/${id}/latest`);
    const [filters] = await raiseAuthEvent(c.req.raw, "assistants:update", { assistant_id: id, version });
    return c.json(await o.store.setLatest(id, version, filters));
  });
  app.post("/assistants/:id/versions", async (c) => {
    const id = idOf(c.req.param("id"));
    const b = await bodyOf(c.req, VersionsBody, `POST /assistants/${id}/versions`);
    const [filters] = await raiseAuthEvent(c.req.raw, "assistants:read", { assistant_id: id });
    const versions = await o.store.versions(id, { metadata: b.metadata, limit: b.limit ?? 10, offset: b.offset ?? 0, filters });
    if (!versions.length) throw notFound(id);
    return c.json(versions);
  });
  app.get("/assistants/:id/graph", async (c) => {
    const g = graphOf(await read(c.req.raw, idOf(c.req.param("id"))));
    return c.json((await g.getGraphAsync({ xray: flag(c.req.query("xray")) })).toJSON());
  });
  app.get("/assistants/:id/schemas", async (c) => {
    const a = await read(c.req.raw, idOf(c.req.param("id")));
    const s = await schemaOf(graphOf(a));
    // As in LangGraph's JS server: a graph's configuration and context have one schema.
    return c.json({ graph_id: a.graph_id, input_schema: s.input, output_schema: s.output, state_schema: s.state, config_schema: s.config, context_schema: s.config });
  });
  const subgraphs = async (req: Request, id: string, namespace: string | undefined, recurse: boolean) => {
    const g = graphOf(await read(req, idOf(id)));
    const out: Record<string, unknown> = {};
    for await (const [ns, sub] of g.getSubgraphsAsync(namespace, recurse)) out[ns] = await schemaOf(sub as Drawable);
    return out;
  };
  app.get("/assistants/:id/subgraphs", async (c) => c.json(await subgraphs(c.req.raw, c.req.param("id"), undefined, flag(c.req.query("recurse")) === true)));
  app.get("/assistants/:id/subgraphs/:namespace", async (c) => c.json(await subgraphs(c.req.raw, c.req.param("id"), c.req.param("namespace"), flag(c.req.query("recurse")) === true)));
}
