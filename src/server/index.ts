/**
 * `alpha-umi serve`: the graphs over the LangGraph API (threads, streamed runs, state and history, interrupts and
 * resume), on `@langchain/langgraph-api`'s embeddable server with Postgres for checkpoints and threads. The process keeps
 * no state of its own, so any number of them can serve one database behind a load balancer.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createEmbedServer } from "@langchain/langgraph-api/experimental/embed";
import type { ApprovePolicy } from "../approval.js";
import { AutoSetupPostgresSaver, checkpointerFrom, closeCheckpointer, isPostgresLocation, postgresPool, reachPostgres, redact } from "../checkpoint.js";
import { UserError } from "../errors.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../graph.js";
import { createSearchGraph } from "../search/graph.js";
import type { ToolSpec } from "../tools/spec.js";
import type { Settings } from "../settings.js";
import { withThreadApi } from "./api.js";
import { withSubgraphMessages } from "./stream.js";
import { PostgresThreads, ThreadNotFound } from "./threads.js";

/** Any setting of src/settings.ts is the served graphs' default; a run's `config.configurable` overrides it. */
export interface ServeOptions extends Settings {
  /** `postgres://…[?schema=NAME]`: checkpoints and the thread registry, shared by every server on it. */
  checkpoints: string;
  tools: ToolSpec[];
  /** Tool calls that wait for approval unless a run's configuration says otherwise. */
  approve?: ApprovePolicy;
  port: number;
  host?: string;
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
  if (!isPostgresLocation(o.checkpoints))
    throw new UserError(`--checkpoints ${redact(o.checkpoints)}: serve needs postgres://… (threads must outlive the process and be shared by every server)`);
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
  const graphOptions = { ...o, tools: o.tools, checkpointer: false as const };
  // langgraph-api (>= 1.5) passes the request's `config.configurable` (models, templates, approve…) to the run itself.
  const graphs = {
    alphaUmi: withSubgraphMessages(createAlphaUmiGraph(graphOptions)),
    singleLlm: withSubgraphMessages(createSingleLlmGraph(graphOptions)),
    // DFSDT: the search graph (src/search/graph.ts); its search thread lives in the same checkpointer.
    dfsdt: withSubgraphMessages(createSearchGraph({ tools: o.tools, approve: o.approve, checkpointer: false })),
  };
  const app = createEmbedServer({ graph: graphs, threads, checkpointer });
  app.get("/ok", (c) => c.json({ ok: true }));
  app.onError((err, c) => (err instanceof ThreadNotFound ? c.json({ error: err.message }, 404) : c.json({ error: String((err as Error).message ?? err) }, 500)));
  const fetch = withThreadApi((req) => Promise.resolve(app.fetch(req)), threads, Object.keys(graphs));
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
      await threads.close();
      await checkpointer.end();
    },
  };
}
