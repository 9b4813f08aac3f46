/**
 * `alpha-umi serve`: the graphs over the LangGraph API (threads, streamed runs, state and history, interrupts and
 * resume), on `@langchain/langgraph-api`'s embeddable server with Postgres for checkpoints and threads. The process keeps
 * no state of its own, so any number of them can serve one database behind a load balancer.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { HTTPException } from "hono/http-exception";
import { createEmbedServer } from "@langchain/langgraph-api/experimental/embed";
import { PostgresStore } from "@langchain/langgraph-checkpoint-postgres/store";
import type { ApprovePolicy } from "../approval.js";
import { AutoSetupPostgresSaver, checkpointerFrom, closeCheckpointer, isPostgresLocation, parsePostgresLocation, postgresPool, reachPostgres, underAdvisoryLock } from "../checkpoint/checkpointers.js";
import { maskLocation } from "../secrets.js";
import { UserError } from "../errors.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../graph.js";
import { createSearchGraph } from "../search/graph.js";
import type { ToolSpec } from "../tools/spec.js";
import { settingsConfigurable, type Settings } from "../settings.js";
import { checkOpenKeys } from "../trust.js";
import { reachRedis } from "../queue.js";
import { withThreadApi } from "./api.js";
import { PostgresAssistants, registerAssistantRoutes } from "./assistants.js";
import { registerMetaRoutes } from "./meta.js";
import { registerStoreRoutes } from "./store.js";
import { loadAuth, withAuth } from "./auth.js";
import type { ServeConfig } from "./config.js";
import { DEFAULT_BODY_LIMIT, isLoopback, withHttpChecks } from "./http.js";
import { RunExecutor } from "./executor.js";
import { runsApi } from "./runs.js";
import { RunStore } from "./runStore.js";
import { withSubgraphMessages } from "./stream.js";
import { PostgresThreads, ThreadNotFound, withRunMetadata } from "./threads.js";

/** Any setting of src/settings.ts is the served graphs' default; a run's `config.configurable` overrides it. */
export interface ServeOptions extends Settings {
  /** `postgres://…[?schema=NAME]`: checkpoints and the thread registry, shared by every server on it. */
  checkpoints: string;
  /** `redis://…[?prefix=NAME]`: the runs' queue, event streams and cancellations, shared by every server (default: local). */
  queue?: string;
  /** Hosts a run's webhook may name: the server calls them (docs/security.md); none by default. */
  webhookHosts?: readonly string[];
  tools: ToolSpec[];
  /** Tool calls that wait for approval: the floor of every run, which a client's `approve` adds to (docs/security.md). */
  approve?: ApprovePolicy;
  /** Operator settings opened to clients (src/settings.ts SETTING_TRUST): a run may set them in its configuration. */
  clientSettable?: readonly string[];
  port: number;
  host?: string;
  /** The operator's langgraph.json (`readServeConfig`): auth and CORS; none: no auth, no cross-origin access. */
  config?: ServeConfig;
  /** Largest request body in bytes (default DEFAULT_BODY_LIMIT). */
  bodyLimit?: number;
  /** Listen beyond loopback without auth: every thread open to anyone who reaches the port. */
  allowUnauthenticated?: boolean;
}

/** How long requests in progress (streams) get to end when the server closes before they are cut. */
const CLOSE_GRACE_MS = 2_000;

/** Where the runs' queue and streams are when serve is not told: the local Redis. */
export const DEFAULT_QUEUE = "redis://127.0.0.1:6379";

/** A finished run to its webhook; a redirect is not followed (it could name a host the operator did not allow). */
async function postWebhook(url: string, payload: unknown): Promise<void> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), redirect: "manual" });
  if (!res.ok) throw new Error(`POST ${new URL(url).host}: HTTP ${res.status}`);
}

/** Runs one server streams at once; more wait for a lease connection. */
const MAX_RUNNING = 64;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Start serving; graph ids are `alphaUmi`, `singleLlm` and `dfsdt`, as in langgraph.json.
 *
 * @example
 * const server = await startServer({ checkpoints: "postgres://127.0.0.1/test", tools: demoTools(), port: 2024 });
 * const client = new Client({ apiUrl: server.url }); // @langchain/langgraph-sdk
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const host = o.host ?? "127.0.0.1";
  const config = o.config ?? {};
  if (!config.auth && !isLoopback(host) && !o.allowUnauthenticated)
    throw new UserError(
      `--host ${host}: without auth, serve listens on loopback only; name an Auth (@langchain/langgraph-sdk/auth) in langgraph.json's auth.path, e.g. "auth": {"path": "./auth.ts:auth"} (docs/security.md), or pass --allow-unauthenticated`,
    );
  if (config.auth) await loadAuth(config.auth.path);
  if (!isPostgresLocation(o.checkpoints))
    throw new UserError(`--checkpoints ${maskLocation(o.checkpoints)}: serve needs postgres://… (threads must outlive the process and be shared by every server)`);
  const queue = o.queue ?? DEFAULT_QUEUE;
  await reachRedis(queue);
  const checkpointer = checkpointerFrom(o.checkpoints) as AutoSetupPostgresSaver;
  try {
    await reachPostgres(checkpointer.pgPool, o.checkpoints); // one line now, not a failure at the first request
  } catch (e) {
    await closeCheckpointer(checkpointer);
    throw e;
  }
  // Leases: one connection per running run, for the lock that makes its thread busy on every server.
  const threads = new PostgresThreads(checkpointer.pgPool, checkpointer, postgresPool(o.checkpoints, MAX_RUNNING));
  await threads.setup();
  const runStore = new RunStore(checkpointer.pgPool, checkpointer.schema, queue, new URL(o.checkpoints).pathname);
  await runStore.setup();
  const executor = new RunExecutor(runStore, threads, checkpointer, { concurrency: MAX_RUNNING, webhook: postWebhook });
  const graphOptions = { ...o, tools: o.tools, checkpointer: false as const };
  // langgraph-api (>= 1.5) passes the request's `config.configurable` to the run itself, once withThreadApi has let
  // through only what a client may set (src/trust.ts).
  const graphs = {
    alphaUmi: withSubgraphMessages(createAlphaUmiGraph(graphOptions)),
    singleLlm: withSubgraphMessages(createSingleLlmGraph(graphOptions)),
    // DFSDT: the search graph (src/search/graph.ts); its search thread lives in the same checkpointer.
    dfsdt: withSubgraphMessages(createSearchGraph({ tools: o.tools, approve: o.approve, checkpointer: false, searchCheckpointer: checkpointer })),
  };
  // LangGraph's store, in the same schema: the graphs' long-term memory and the store routes'.
  const store = new PostgresStore({ connectionOptions: { connectionString: parsePostgresLocation(o.checkpoints).connectionString, max: 4 }, schema: checkpointer.schema });
  await underAdvisoryLock(checkpointer.pgPool, `alpha-umi-store:${checkpointer.schema}`, () => store.setup());
  const assistants = new PostgresAssistants(checkpointer.pgPool, checkpointer.schema);
  await assistants.setup(Object.keys(graphs));
  const runSaver = withRunMetadata(checkpointer);
  for (const g of Object.values(graphs)) Object.assign(g, { checkpointer: runSaver, store }); // as the embedded server's getGraph sets them
  const app = createEmbedServer({ graph: graphs, threads, checkpointer: runSaver, store });
  const operator = { open: checkOpenKeys([...(o.clientSettable ?? []), ...(config.clientSettable ?? [])], "--client-settable"), values: settingsConfigurable(o), approve: o.approve };
  registerMetaRoutes(app);
  registerAssistantRoutes(app, { store: assistants, graphs, threads, operator });
  registerStoreRoutes(app, store);
  app.onError((err, c) => {
    if (err instanceof ThreadNotFound) return c.json({ error: err.message }, 404);
    if (err instanceof HTTPException && err.status < 500) return c.json({ error: err.message }, err.status);
    return c.json({ error: String((err as Error).message ?? err) }, 500);
  });
  const webhookHosts = [...(o.webhookHosts ?? []), ...(config.webhookHosts ?? [])];
  let started: Promise<void> | undefined;
  const api = withThreadApi((req) => Promise.resolve(app.fetch(req)), threads, Object.keys(graphs), operator, (runner) => {
    started = executor.start(runner);
    return runsApi({ runner, store: runStore, executor, threads, webhookHosts });
  }, { assistants, graphs });
  await started;
  const fetch = withHttpChecks(config.auth ? withAuth(api, threads) : api, { host, bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT, cors: config.cors });
  const server = serve({ fetch, port: o.port, hostname: host }) as Server;
  await new Promise<void>((res, rej) => {
    server.once("listening", res);
    server.once("error", rej);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: async () => {
      const closed = new Promise<void>((res) => server.close(() => res()));
      server.closeIdleConnections();
      // A stream in progress would hold close() until its run ends; cut, its run resumes from the last checkpoint.
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
      await executor.close();
      await runStore.close();
      await threads.close();
      await store.stop();
      await checkpointer.end();
    },
  };
}
