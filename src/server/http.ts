/**
 * What every request to `alpha-umi serve` passes before the API sees it: a `Host` that names this server when it
 * listens on loopback (DNS rebinding), CORS as `http.cors` in langgraph.json says (preflights answered; no origin but
 * the server's own otherwise), a body of at most `bodyLimit` bytes (413), `application/json` for a body (415: a page
 * cannot send it without a preflight) and JSON that parses (400). Each refusal is one line: `{"error": "…"}`.
 */
import { isIP } from "node:net";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { CorsConfig } from "./config.js";

type Handler = (req: Request) => Promise<Response>;

/** Request bodies above this are refused (413) unless `--body-limit` says otherwise: runs' input is text, not files. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** Whether `host` (an interface to listen on) is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** The name in a Host header, without port or IPv6 brackets; "" when it is none. */
function hostnameOf(header: string): string {
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return "";
  }
}

export interface HttpOptions {
  cors?: CorsConfig;
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** The interface serve listens on: on loopback, a request's `Host` must name loopback too. */
  host: string;
}

const refuse = (c: Context, status: 400 | 403 | 413 | 415, error: string) => c.json({ error }, status);

/** The headers LangGraph's server always exposes (the SDK reads them). */
const EXPOSED = ["content-location", "x-pagination-total"];

/**
 * Put the checks in front of `next`.
 *
 * @example
 * serve({ fetch: withHttpChecks(api, { host: "127.0.0.1", bodyLimit: DEFAULT_BODY_LIMIT, cors: config.cors }) });
 */
export function withHttpChecks(next: Handler, o: HttpOptions): Handler {
  const app = new Hono();
  const loopback = isLoopback(o.host);
  const bound = o.host.replace(/^\[|\]$/g, "").toLowerCase();
  // The whole origin must match the regex (as in LangGraph's Python server), not a part of it.
  const regex = o.cors?.allow_origin_regex ? new RegExp(`^(?:${o.cors.allow_origin_regex})$`) : undefined;
  const origins = o.cors?.allow_origins ?? [];
  const allowed = (origin: string) => origins.includes(origin) || origins.includes("*") || (regex?.test(origin) ?? false);

  app.use(async (c, nxt) => {
    if (loopback) {
      // A page of another site whose name was rebound to 127.0.0.1 still sends its own name as Host.
      const host = hostnameOf(c.req.header("host") ?? "");
      if (!isLoopback(host) && host !== bound)
        return refuse(c, 403, `Host "${c.req.header("host") ?? ""}" is not this server: serve listens on ${o.host}, and answers requests addressed to it only`);
    }
    const origin = c.req.header("origin");
    // A browser names the page's origin; one that is neither this server nor allowed by http.cors is refused outright,
    // preflight or not, so no request of another site reaches the API.
    if (origin !== undefined && origin !== new URL(c.req.url).origin && !allowed(origin))
      return refuse(c, 403, `origin ${origin} is not allowed: list it in langgraph.json's http.cors.allow_origins`);
    return nxt();
  });
  if (o.cors) {
    const exposed = o.cors.expose_headers ? [...new Set([...o.cors.expose_headers, ...EXPOSED].map((h) => h.toLowerCase()))] : EXPOSED;
    app.use(
      cors({
        origin: (origin) => (allowed(origin) ? origin : null),
        exposeHeaders: exposed,
        ...(o.cors.allow_methods && { allowMethods: o.cors.allow_methods }),
        ...(o.cors.allow_headers && { allowHeaders: o.cors.allow_headers }),
        ...(o.cors.allow_credentials !== undefined && { credentials: o.cors.allow_credentials }),
        ...(o.cors.max_age !== undefined && { maxAge: o.cors.max_age }),
      }),
    );
  }
  app.use(bodyLimit({ maxSize: o.bodyLimit, onError: (c) => refuse(c, 413, `request body over ${o.bodyLimit} bytes (serve --body-limit)`) }));
  app.all("*", async (c) => {
    const req = c.req.raw;
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next(req);
    const type = req.headers.get("content-type");
    const text = req.body ? await req.text() : "";
    const where = `${req.method} ${new URL(req.url).pathname}`;
    // A body-less POST (cancel) needs no type; a typed one must be JSON even when empty.
    if (type !== null || text !== "") {
      if (type?.split(";")[0]!.trim().toLowerCase() !== "application/json")
        return refuse(c, 415, `${where}: the body must be application/json, got ${type ?? "no content-type"}`);
      try {
        if (text !== "") JSON.parse(text);
      } catch (e) {
        return refuse(c, 400, `${where}: the body is not JSON: ${(e as Error).message}`);
      }
    }
    // The body was read to be checked: the API gets it as text, with the client's signal (a client gone ends its run).
    return next(new Request(req.url, { method: req.method, headers: req.headers, body: text === "" ? undefined : text, signal: req.signal }));
  });
  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) return c.json({ error: err.message || `HTTP ${err.status}` }, err.status);
    process.stderr.write(`alpha-umi serve: ${c.req.method} ${c.req.path}: ${(err as Error).message ?? String(err)}\n`);
    return c.json({ error: (err as Error).message ?? String(err) }, 500);
  });
  return async (req) => app.fetch(req);
}
