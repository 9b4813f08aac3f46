/**
 * LangGraph's authentication and ownership in front of the thread API: the operator's `Auth` (langgraph.json
 * `auth.path`, loaded by langgraph-api's own loader) authenticates every request, and its resource handlers see each
 * thread and run event LangGraph's server raises, with the same values: they may refuse it, change its metadata
 * (conventionally `owner`) and return filters that the thread's metadata must match. A thread that does not match is
 * answered as one that does not exist (404), in search and count it is not found at all. Events are raised at the
 * entrance, by route, so the routes passed through to the embedded server are covered too.
 */
import { authenticate, handleAuthEvent, isAuthMatching, registerAuth, type AuthContext, type AuthFilters } from "@langchain/langgraph-api/auth";
import { UserError } from "../errors.js";
import { ThreadNotFound, type PostgresThreads, type ThreadRecord } from "./threads.js";

type Handler = (req: Request) => Promise<Response>;
type Metadata = Record<string, unknown>;

let loaded: string | undefined;

/**
 * Load the operator's `Auth` (`PATH[:EXPORT]`, default export when none) as LangGraph's server does; like it, one per
 * process.
 */
export async function loadAuth(path: string): Promise<void> {
  if (loaded !== undefined && loaded !== path) throw new UserError(`auth.path ${path}: this process already serves with ${loaded} (one Auth per process, as in LangGraph)`);
  try {
    await registerAuth({ path }, { cwd: process.cwd() });
  } catch (e) {
    throw new UserError(`auth.path ${path}: ${(e as Error).message}`, { cause: e });
  }
  loaded = path;
}

/** Each admitted request's authenticated user, for the routes that raise their own events (assistants, store). */
const contexts = new WeakMap<Request, AuthContext>();

/**
 * Raise a LangGraph auth event for a request `withAuth` admitted, as LangGraph's routes do: the handlers' filters and
 * the value as they left it. Without auth: no filters, the value unchanged.
 *
 * @example const [filters, value] = await raiseAuthEvent(req, "assistants:create", { graph_id: "alphaUmi", metadata: {} });
 */
export async function raiseAuthEvent(req: Request, event: string, value: Record<string, unknown>): Promise<[AuthFilters, Record<string, unknown>]> {
  return (await handleAuthEvent(contexts.get(req), event as "threads:read", value as never)) as [AuthFilters, Record<string, unknown>];
}

/** The owner filters of a thread search or count, as metadata the thread must contain; set by `withAuth`. */
const searchFilters = new WeakMap<Request, Metadata>();

/** What the operator's handlers require of the threads `req` may search or count: none without auth. */
export function authFilters(req: Request): Metadata | undefined {
  return searchFilters.get(req);
}

/** LangGraph's filters (a value, `{$eq}`, `{$contains}`) as JSONB containment, the way its Postgres server applies them. */
function containment(filters: AuthFilters): Metadata | undefined {
  if (!filters) return undefined;
  const out: Metadata = {};
  for (const [key, f] of Object.entries(filters)) {
    if (typeof f !== "object" || f === null) out[key] = f;
    else if ("$eq" in f) out[key] = f.$eq;
    else if ("$contains" in f) out[key] = Array.isArray(f.$contains) ? f.$contains : [f.$contains];
    // Fail closed: a filter this server cannot apply must not widen what a user sees.
    else throw new UserError(`auth filter on "${key}": only a value, $eq and $contains are supported, got ${JSON.stringify(f)}`);
  }
  return out;
}

/** A refusal: the status and one line, as LangGraph's handlers raise them (`HTTPException` of the SDK or Hono). */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Headers,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = { 401: "unauthorized", 403: "forbidden", 404: "not found" };

function refusal(e: unknown): Refused | undefined {
  if (e instanceof Refused) return e;
  if (typeof e !== "object" || e === null || typeof (e as { status?: unknown }).status !== "number") return undefined;
  const { status, message } = e as { status: number; message?: string };
  const res = (e as { getResponse?: () => Response }).getResponse?.();
  return new Refused(status, message || STATUS_TEXT[status] || `HTTP ${status}`, res?.headers);
}

const withBody = (req: Request, body: unknown) => {
  const headers = new Headers(req.headers);
  headers.delete("content-length");
  return new Request(req.url, { method: req.method, headers, body: JSON.stringify(body), signal: req.signal });
};

/**
 * Put authentication and the resource handlers in front of `next`.
 *
 * @example
 * await loadAuth("/srv/app/auth.ts:auth");
 * const fetch = withAuth(withThreadApi(app.fetch, threads, graphIds, operator, runRoutes), threads);
 */
export function withAuth(next: Handler, threads: PostgresThreads): Handler {
  const raise = async (context: AuthContext | undefined, event: string, value: Record<string, unknown>) =>
    (await handleAuthEvent(context, event as "threads:read", value as never)) as [AuthFilters, Record<string, unknown>];

  async function find(id: string): Promise<ThreadRecord | undefined> {
    try {
      return await threads.get(id);
    } catch (e) {
      if (e instanceof ThreadNotFound) return undefined;
      throw e;
    }
  }

  /** Raise a thread's event; a thread whose metadata the filters do not match is one that does not exist. */
  async function guard(context: AuthContext | undefined, id: string, event: string, value: Record<string, unknown>) {
    const [filters, changed] = await raise(context, event, { thread_id: id, ...value });
    const thread = await find(id);
    if (thread && !isAuthMatching(thread.metadata, filters)) throw new Refused(404, new ThreadNotFound(id).message);
    return { thread, value: changed };
  }

  /** A run's event (`threads:create_run`) with LangGraph's value; the handler's metadata becomes the run's. */
  function runValue(threadId: string | undefined, body: Metadata): Record<string, unknown> {
    const { assistant_id, metadata, multitask_strategy, if_not_exists, after_seconds, ...kwargs } = body;
    return {
      thread_id: threadId,
      assistant_id,
      status: "pending",
      metadata: metadata ?? {},
      multitask_strategy: multitask_strategy ?? "reject",
      if_not_exists: if_not_exists ?? "reject",
      after_seconds: after_seconds ?? 0,
      kwargs,
    };
  }

  /** The request to pass on (its metadata as the handlers left it), or a Refused. */
  async function admit(req: Request, context: AuthContext | undefined): Promise<Request> {
    const { pathname } = new URL(req.url);
    const parts = pathname.split("/").filter(Boolean);
    const method = req.method;
    const body = async (): Promise<Metadata> => {
      const b: unknown = await req.clone().json().catch(() => null);
      // What the handlers change is the body's metadata: a body that is not an object has none to change.
      if (b !== null && (typeof b !== "object" || Array.isArray(b))) throw new Refused(422, `${method} ${pathname}: the body must be a JSON object`);
      return (b ?? {}) as Metadata;
    };

    if (parts[0] === "runs" && method === "POST" && parts[1] === "batch" && parts.length === 2) {
      // A batch of stateless runs: each one's event, as for a single one.
      const all: unknown = await req.clone().json().catch(() => null);
      if (!Array.isArray(all)) throw new Refused(422, `${method} ${pathname}: the body must be a JSON array of runs`);
      const runs: Metadata[] = [];
      for (const b of all as Metadata[]) runs.push({ ...b, metadata: (await raise(context, "threads:create_run", runValue(undefined, b)))[1].metadata });
      return withBody(req, runs);
    }
    if (parts[0] === "runs" && method === "POST") {
      // A stateless run: its thread is made for it (with the run's metadata, the owner) and deleted after.
      const b = await body();
      const [, value] = await raise(context, "threads:create_run", runValue(undefined, b));
      return withBody(req, { ...b, metadata: value.metadata });
    }
    // A stateless run's stream by its id alone would skip the owner check its thread gets: joined on the thread instead.
    if (parts[0] === "runs") throw new Refused(404, `${method} ${pathname}: with auth, join a run on its thread: /threads/{thread_id}/runs/{run_id}/stream`);
    if (parts[0] !== "threads") return req;
    const [, id, sub, runId, tail] = parts;

    if (!id && method === "POST") {
      const b = await body();
      const [filters, value] = await raise(context, "threads:create", { thread_id: b.thread_id, metadata: b.metadata ?? {}, if_exists: b.if_exists });
      const existing = typeof b.thread_id === "string" ? await find(b.thread_id) : undefined;
      if (existing && !isAuthMatching(existing.metadata, filters)) throw new Refused(409, `thread ${b.thread_id} already exists`);
      return withBody(req, { ...b, metadata: value.metadata });
    }
    if ((id === "search" || id === "count") && parts.length === 2 && method === "POST") {
      const b = await body();
      const [filters] = await raise(context, "threads:search", { metadata: b.metadata, ids: b.ids, status: b.status, values: b.values, limit: b.limit, offset: b.offset });
      const owned = containment(filters);
      if (owned) searchFilters.set(req, owned);
      return req;
    }
    if (!id) return req;

    if (sub === "runs" && method === "POST" && (parts.length === 3 || (parts.length === 4 && (runId === "stream" || runId === "wait")))) {
      const b = await body();
      const { thread, value } = await guard(context, id, "threads:create_run", runValue(id, b));
      // A thread the run creates is created here, with the metadata the handler gave it (its owner).
      if (!thread && b.if_not_exists === "create") await threads.set(id, { kind: "put", metadata: value.metadata as Metadata });
      return withBody(req, { ...b, metadata: value.metadata });
    }
    if (sub === "commands" && method === "POST") {
      const b = await body();
      const params = (b.params ?? {}) as Metadata;
      if (b.method !== "run.start" && b.method !== "input.respond") {
        await guard(context, id, "threads:read", {});
        return req;
      }
      const { value } = await guard(context, id, "threads:create_run", runValue(id, params));
      return withBody(req, { ...b, params: { ...params, metadata: value.metadata } });
    }
    if (parts.length === 2 && method === "PATCH") {
      const b = await body();
      const { value } = await guard(context, id, "threads:update", { metadata: b.metadata ?? {} });
      return withBody(req, { ...b, metadata: value.metadata });
    }
    if (method === "DELETE") {
      await guard(context, id, "threads:delete", sub === "runs" && runId ? { run_id: runId } : {});
      return req;
    }
    // Reading (state, history, joining a run's stream, the event stream) is `read`; anything else changes the thread.
    const reads = method === "GET" || method === "HEAD" || sub === "history" || sub === "copy" || (sub === "state" && runId === "checkpoint") || (sub === "stream" && runId === "events");
    const action = sub === "runs" && tail === "cancel" ? { action: "interrupt" } : {};
    await guard(context, id, reads ? "threads:read" : "threads:update", reads ? {} : action);
    return req;
  }

  return async (req) => {
    // The load balancer's health check, and the server's description (LangGraph's server leaves it open too).
    if (["/ok", "/info"].includes(new URL(req.url).pathname)) return next(req);
    let admitted: Request;
    try {
      const context = await authenticate(req);
      admitted = await admit(req, context);
      if (context) contexts.set(admitted, context);
    } catch (e) {
      const r = refusal(e);
      if (!r) throw e;
      const headers = new Headers(r.headers);
      headers.delete("content-length");
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify({ error: r.message }), { status: r.status, headers });
    }
    return next(admitted);
  };
}
