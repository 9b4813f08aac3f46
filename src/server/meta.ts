/**
 * The server's description and health check, as LangGraph's server answers them (`@langchain/langgraph-api`'s
 * api/meta): `GET /info` is Agent Chat UI's and Studio's connection check, `GET /ok` the load balancer's.
 */
import { createRequire } from "node:module";
import type { Hono } from "hono";

const require = createRequire(import.meta.url);
const versionOf = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;

/** Tracing as LangGraph's server reports it: on with a LangSmith key unless a tracing variable says "false". */
function langsmithTracing(env: NodeJS.ProcessEnv): boolean {
  if (!(env.LANGSMITH_API_KEY || env.LANGCHAIN_API_KEY)) return false;
  return ![env.LANGCHAIN_TRACING_V2, env.LANGCHAIN_TRACING, env.LANGSMITH_TRACING_V2, env.LANGSMITH_TRACING].some((v) => v === "false" || v === "False");
}

/**
 * @example registerMetaRoutes(app); // GET /info → { version, langgraph_js_version, context: "js", flags }
 */
export function registerMetaRoutes(app: Hono): void {
  // The API this server speaks is langgraph-api's, so clients that compare versions read its version.
  const info = { version: versionOf("@langchain/langgraph-api"), langgraph_js_version: versionOf("@langchain/langgraph"), context: "js" };
  app.get("/info", (c) =>
    c.json({ ...info, flags: { assistants: true, crons: false, langsmith: langsmithTracing(process.env), langsmith_tracing_replicas: true } }),
  );
  app.get("/ok", (c) => c.json({ ok: true }));
}
