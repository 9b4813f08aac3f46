/**
 * `alpha-umi serve`: the graphs over the LangGraph API (threads, streamed runs, state and history, interrupts and
 * resume), on `@langchain/langgraph-api`'s embeddable server with Postgres for checkpoints and threads. The process keeps
 * no state of its own, so any number of them can serve one database behind a load balancer.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createEmbedServer } from "@langchain/langgraph-api/experimental/embed";
import type { ApprovePolicy } from "../approval.js";
import { AutoSetupPostgresSaver, checkpointerFrom, isPostgresLocation, redact } from "../checkpoint.js";
import { UserError } from "../errors.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../graph.js";
import type { ToolSpec } from "../tools/spec.js";
import { PostgresThreads, ThreadNotFound } from "./threads.js";

export interface ServeOptions {
  /** `postgres://…[?schema=NAME]`: checkpoints and the thread registry, shared by every server on it. */
  checkpoints: string;
  tools: ToolSpec[];
  /** Tool calls that wait for approval unless a run's configuration says otherwise. */
  approve?: ApprovePolicy;
  port: number;
  host?: string;
}

/** The `config.configurable` of the run request being served (see withRunConfigurable). */
const runConfigurable = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * The embeddable server builds a run's config with its own `configurable` (run, thread and graph ids) in place of the
 * request's, dropping what the client set (models, templates, approve…). This puts the request's keys back, under the
 * server's own ones.
 */
function withRunConfigurable<G extends object>(graph: G): G {
  return new Proxy(graph, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (prop !== "streamEvents") return value.bind(target);
      return (input: unknown, options: { configurable?: Record<string, unknown> }, ...rest: unknown[]) =>
        value.call(target, input, { ...options, configurable: { ...runConfigurable.getStore(), ...options.configurable } }, ...rest);
    },
  });
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Start serving; graph ids are `alphaUmi` and `singleLlm`, as in langgraph.json.
 *
 * @example
 * const server = await startServer({ checkpoints: "postgres://127.0.0.1/test", tools: demoTools(), port: 2024 });
 * const client = new Client({ apiUrl: server.url }); // @langchain/langgraph-sdk
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  if (!isPostgresLocation(o.checkpoints))
    throw new UserError(`--checkpoints ${redact(o.checkpoints)}: serve needs postgres://… (threads must outlive the process and be shared by every server)`);
  const checkpointer = checkpointerFrom(o.checkpoints) as AutoSetupPostgresSaver;
  const threads = new PostgresThreads(checkpointer.pgPool, checkpointer);
  await threads.setup(); // the database must be reachable before we listen
  const graphOptions = { tools: o.tools, approve: o.approve, checkpointer: false as const };
  const app = createEmbedServer({
    graph: { alphaUmi: withRunConfigurable(createAlphaUmiGraph(graphOptions)), singleLlm: withRunConfigurable(createSingleLlmGraph(graphOptions)) },
    threads,
    checkpointer,
  });
  const api = app.fetch;
  app.get("/ok", (c) => c.json({ ok: true }));
  app.onError((err, c) => (err instanceof ThreadNotFound ? c.json({ error: err.message }, 404) : c.json({ error: String((err as Error).message ?? err) }, 500)));
  // Runs are the only requests with a client configuration; reading the body here leaves it to the route as well.
  const fetch = async (req: Request): Promise<Response> => {
    if (req.method !== "POST" || !/\/runs\/stream$/.test(new URL(req.url).pathname)) return api(req);
    const body = (await req.clone().json().catch(() => ({}))) as { config?: { configurable?: Record<string, unknown> } };
    return runConfigurable.run(body.config?.configurable ?? {}, () => api(req));
  };
  const server = serve({ fetch, port: o.port, hostname: o.host ?? "127.0.0.1" });
  await new Promise<void>((res, rej) => {
    server.once("listening", res);
    server.once("error", rej);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}`,
    close: async () => {
      await new Promise<void>((res) => server.close(() => res()));
      await checkpointer.end();
    },
  };
}
