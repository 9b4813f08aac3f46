/**
 * The parts of the LangGraph API that `@langchain/langgraph-api`'s embeddable server leaves out or gets wrong, in front
 * of it: threads with `status`, `values` and `interrupts` (read, created, patched, searched and counted by status and
 * metadata), a run's hold on its thread (busy on every server; a second run is refused), and one-line errors for an
 * unknown graph or a stream mode that cannot be served. Everything else goes to the embedded server unchanged.
 */
import { Command } from "@langchain/langgraph";
import { v7 as uuid7 } from "@langchain/core/utils/uuid";
import { checkStateWrite, clientSettings, RefusedSetting, type OperatorSettings } from "../trust.js";
import { resolveAssistant, type AssistantStore } from "./assistants.js";
import { authFilters } from "./auth.js";
import type { RunLease, ThreadQuery, ThreadRecord, ThreadStatus } from "./threads.js";
import { PostgresThreads, THREAD_STATUSES, ThreadBusy, ThreadNotFound } from "./threads.js";

type Handler = (req: Request) => Promise<Response>;

/** The SDK's stream modes this server streams (langgraph-api's legacy run stream). */
export const STREAM_MODES = ["values", "messages", "messages-tuple", "updates", "events", "tasks", "checkpoints", "debug", "custom"] as const;

/** Stream modes the SDK offers that are refused, with the reason given to the client. */
const REFUSED_MODES: Record<string, string> = {
  tools: "it follows LangChain tool callbacks, which alpha-umi's tool node does not make; follow tool calls with \"updates\" or \"tasks\"",
  lifecycle: "it belongs to the thread event protocol (client.threads.stream), not to run streams",
};

/** A client mistake: answered with its status and one line. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export interface RunBody {
  assistant_id?: unknown;
  stream_mode?: unknown;
  if_not_exists?: unknown;
}

export interface StreamOptions {
  /** Aborts the run (the graph and its model calls). */
  signal: AbortSignal;
  /** Whether the run was cancelled: its stream's error is then no failure of the thread. */
  cancelled: () => boolean;
  /** Called once the run's stream has ended, while the thread is still held (a rollback deletes its checkpoints there). */
  beforeRelease?: () => Promise<void>;
}

/** What the runs resource (src/server/runs.ts) uses of the thread API. */
export interface ThreadRunner {
  /** A run's graph and stream modes, or the ApiError a client gets. */
  checkRun(body: RunBody): void;
  stream(threadId: string, lease: RunLease, body: Record<string, unknown>, o: StreamOptions): Promise<Response>;
  /** The thread's values now; null when no graph has run on it. */
  values(threadId: string): Promise<Record<string, unknown> | null>;
}

/** The runs resource's routes: a response, or none for a request it does not serve. */
export type RunRoutes = (req: Request) => Promise<Response | undefined>;

interface SearchBody {
  metadata?: Record<string, unknown>;
  ids?: string[];
  status?: unknown;
  values?: unknown;
  limit?: unknown;
  offset?: unknown;
  sort_by?: unknown;
  sort_order?: unknown;
}

/** The thread as the SDK's `Thread`: its row plus the current state's values and the pending interrupts by task id. */
export interface ThreadView extends ThreadRecord {
  values: Record<string, unknown>;
  interrupts: Record<string, unknown[]>;
}

interface StateTask {
  id: string;
  interrupts?: unknown[];
}

/** What the thread routes need of the served graphs: LangGraph's bulk state update (a thread created with supersteps). */
interface BulkUpdatable {
  bulkUpdateState(config: { configurable: Record<string, unknown> }, supersteps: Array<{ updates: Array<{ values: unknown; asNode: string }> }>): Promise<unknown>;
}

/** Assistants (src/server/assistants.ts) and the graphs, for runs that name an assistant and threads made with supersteps. */
export interface Served {
  assistants: AssistantStore;
  graphs: Record<string, BulkUpdatable>;
}

interface ThreadCreate {
  thread_id?: unknown;
  metadata?: unknown;
  if_exists?: unknown;
  supersteps?: Array<{ updates?: Array<{ values?: unknown; command?: { update?: unknown; resume?: unknown; goto?: unknown } | null; as_node?: unknown }> }>;
}

/**
 * Put the thread API in front of the embedded server's handler.
 *
 * @example
 * const fetch = withThreadApi(app.fetch, threads, ["alphaUmi", "singleLlm"], operator, (runner) => runsApi({ runner, … }));
 * serve({ fetch, port: 2024 }); // @hono/node-server
 */
export function withThreadApi(
  api: Handler,
  threads: PostgresThreads,
  graphIds: readonly string[],
  operator: OperatorSettings,
  runRoutes: (runner: ThreadRunner) => RunRoutes,
  served?: Served,
): Handler {
  const internal = (path: string, init?: RequestInit) => api(new Request(`http://alpha-umi.internal${path}`, init));

  /** The embedded server's state of a thread, or none for a thread no run has touched. */
  async function stateOf(t: ThreadRecord): Promise<{ values: Record<string, unknown>; tasks: StateTask[]; next: string[] } | null> {
    if (typeof t.metadata.graph_id !== "string" || !graphIds.includes(t.metadata.graph_id)) return null;
    const res = await internal(`/threads/${t.thread_id}/state`);
    if (!res.ok) throw new Error(`state of thread ${t.thread_id}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { values: Record<string, unknown>; tasks: StateTask[]; next: string[] };
  }

  /**
   * `POST /threads`: a new thread, or 409 for an id that exists (`if_exists: "do_nothing"`: the existing thread, its
   * metadata untouched); `supersteps` are applied as LangGraph's bulk state update, each write checked as a state edit.
   */
  async function create(b: ThreadCreate): Promise<ThreadRecord> {
    if (b.thread_id !== undefined && b.thread_id !== null && (typeof b.thread_id !== "string" || !UUID.test(b.thread_id)))
      throw new ApiError(422, `thread_id: expected a UUID, got ${JSON.stringify(b.thread_id)}`);
    if (b.metadata !== undefined && b.metadata !== null && (typeof b.metadata !== "object" || Array.isArray(b.metadata)))
      throw new ApiError(422, `metadata: expected an object, got ${JSON.stringify(b.metadata)}`);
    if (b.if_exists !== undefined && b.if_exists !== null && b.if_exists !== "raise" && b.if_exists !== "do_nothing")
      throw new ApiError(422, `if_exists: expected "raise" or "do_nothing", got ${JSON.stringify(b.if_exists)}`);
    const metadata = (b.metadata ?? {}) as Record<string, unknown>;
    const supersteps = (b.supersteps ?? []).map((step, i) => ({
      updates: (step.updates ?? []).map((u, j) => {
        const where = `supersteps[${i}].updates[${j}]`;
        if (typeof u.as_node !== "string") throw new ApiError(422, `${where}.as_node: expected a node name`);
        checkStateWrite(u.values, `${where}.values`);
        if (u.command) checkStateWrite(u.command.update, `${where}.command.update`);
        return { values: u.command ? new Command({ update: u.command.update as Record<string, unknown> | undefined, resume: u.command.resume, goto: u.command.goto as string }) : u.values, asNode: u.as_node };
      }),
    }));
    const graph = typeof metadata.graph_id === "string" ? served?.graphs[metadata.graph_id] : undefined;
    if (supersteps.length && !graph) throw new ApiError(422, `supersteps: the thread's graph must be named (metadata.graph_id, the SDK's graphId): one of ${graphIds.join(", ")}`);
    const id = typeof b.thread_id === "string" ? b.thread_id : uuid7();
    const made = await threads.create(id, metadata);
    if (!made) {
      if (b.if_exists === "do_nothing") return threads.get(id);
      throw new ApiError(409, `thread ${id} already exists`);
    }
    if (graph && supersteps.length) await graph.bulkUpdateState({ configurable: { thread_id: id, checkpoint_ns: "" } }, supersteps);
    return made;
  }

  async function view(t: ThreadRecord): Promise<ThreadView> {
    const state = await stateOf(t);
    const interrupts: Record<string, unknown[]> = {};
    for (const task of state?.tasks ?? []) if (task.interrupts?.length) interrupts[task.id] = task.interrupts;
    return { ...t, values: state?.values ?? {}, interrupts };
  }

  function checkRun(body: RunBody): void {
    if (typeof body.assistant_id === "string" && UUID.test(body.assistant_id) && !graphIds.includes(body.assistant_id))
      throw new ApiError(404, `assistant ${body.assistant_id} not found`);
    if (typeof body.assistant_id !== "string" || !graphIds.includes(body.assistant_id))
      throw new ApiError(404, `graph ${JSON.stringify(body.assistant_id)} not found (graphs: ${graphIds.join(", ")})`);
    const modes = body.stream_mode === undefined ? [] : Array.isArray(body.stream_mode) ? body.stream_mode : [body.stream_mode];
    for (const mode of modes) {
      if (typeof mode === "string" && REFUSED_MODES[mode]) throw new ApiError(422, `stream mode "${mode}" is not served: ${REFUSED_MODES[mode]}`);
      if (!(STREAM_MODES as readonly unknown[]).includes(mode))
        throw new ApiError(422, `stream mode ${JSON.stringify(mode)} is unknown (stream modes: ${STREAM_MODES.join(", ")})`);
    }
  }

  function query(body: SearchBody): ThreadQuery & { limit: number; offset: number; sortBy: "created_at" | "updated_at"; sortOrder: "asc" | "desc" } {
    if (body.values !== undefined && body.values !== null) throw new ApiError(422, "threads search: filtering by values is not supported; filter by metadata or status");
    if (body.status !== undefined && body.status !== null && !THREAD_STATUSES.includes(body.status as ThreadStatus))
      throw new ApiError(422, `threads search: status ${JSON.stringify(body.status)} is not one of ${THREAD_STATUSES.join(", ")}`);
    const int = (v: unknown, name: string, dflt: number, min: number, max: number) => {
      if (v === undefined || v === null) return dflt;
      if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new ApiError(422, `threads search: ${name} must be an integer ${min}…${max}, got ${JSON.stringify(v)}`);
      return v as number;
    };
    return {
      metadata: body.metadata ?? undefined,
      ids: body.ids ?? undefined,
      status: (body.status ?? undefined) as ThreadStatus | undefined,
      limit: int(body.limit, "limit", 10, 1, 1000),
      offset: int(body.offset, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
      sortBy: body.sort_by === "updated_at" ? "updated_at" : "created_at",
      sortOrder: body.sort_order === "asc" ? "asc" : "desc",
    };
  }

  /**
   * What the thread is once its run has ended: waiting on an interrupt or stopped before or after a node
   * (`interrupt_before`/`after`: steps left to run), failed (the stream's error event, or a run the graph ended
   * `failed`, e.g. on a model error, which streams no error), or idle. A run its client left (`stopped`) has steps
   * left too, but nothing waits on anyone: idle.
   */
  async function settle(threadId: string, lease: RunLease, error: string | null, stopped = false): Promise<void> {
    let status: Exclude<ThreadStatus, "busy"> = error ? "error" : "idle";
    try {
      const state = await stateOf(await threads.get(threadId));
      const run = state?.values.status as { status?: string; reason?: string } | undefined;
      if (!error && (state?.tasks.some((t) => t.interrupts?.length) || (!stopped && state?.next.length))) status = "interrupted";
      else if (!error && run?.status === "failed") [status, error] = ["error", run.reason ?? "the run failed"];
    } finally {
      await lease.end(status, error);
    }
  }

  /**
   * Stream `body` as a run on the thread `lease` holds, through the embedded server; the lease ends when the stream
   * does (finished, failed, or cancelled by its reader), with the status the run left.
   */
  async function stream(threadId: string, lease: RunLease, body: Record<string, unknown>, o: StreamOptions): Promise<Response> {
    const req = new Request(`http://alpha-umi.internal/threads/${threadId}/runs/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: o.signal,
    });
    let res: Response;
    try {
      res = await api(req);
    } catch (e) {
      await lease.end("error", (e as Error).message ?? String(e));
      throw e;
    }
    // The embedded server records the graph as the thread's assistant when the stream starts; this names the assistant.
    const assistantId = typeof body.alpha_umi_assistant_id === "string" ? body.alpha_umi_assistant_id : undefined;
    let error: string | null = null;
    let ended = false;
    const done = async (stopped = false) => {
      if (ended) return;
      ended = true;
      try {
        await o.beforeRelease?.();
        if (assistantId) await threads.set(threadId, { kind: "patch", metadata: { assistant_id: assistantId } });
      } finally {
        // A cancelled run's abort surfaces as an error event: what it left is its checkpoints, not a failure.
        const cancelled = o.cancelled();
        await settle(threadId, lease, cancelled ? null : error, stopped || cancelled).catch((e: unknown) => {
          process.stderr.write(`alpha-umi serve: thread ${threadId}: ${(e as Error).message}\n`);
        });
      }
    };
    if (!res.body) {
      if (!res.ok) error = `HTTP ${res.status}`;
      await done();
      return res;
    }
    let carry = "";
    const decoder = new TextDecoder();
    const scan = (text: string) => {
      carry += text;
      const events = carry.split("\n\n");
      carry = events.pop()!;
      for (const ev of events) {
        if (!/^event: error$/m.test(ev)) continue;
        const data = /^data: (.*)$/m.exec(ev)?.[1] ?? "";
        try {
          const e = JSON.parse(data) as { error?: string; message?: string };
          error = [e.error, e.message].filter(Boolean).join(": ") || data;
        } catch {
          error = data;
        }
      }
    };
    const reader = res.body.getReader();
    const relay = new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        const { done: end, value } = await reader.read();
        if (value) scan(decoder.decode(value, { stream: true }));
        if (end) {
          await done();
          ctl.close();
        } else ctl.enqueue(value);
      },
      // The reader gone (a cancelled run): the thread is released with what the run left.
      cancel: async (reason) => {
        await reader.cancel(reason);
        await done(true);
      },
    });
    return new Response(relay, { status: res.status, headers: res.headers });
  }

  const runner: ThreadRunner = {
    checkRun,
    stream,
    values: async (threadId) => (await stateOf(await threads.get(threadId)))?.values ?? null,
  };
  const runs = runRoutes(runner);

  /**
   * A run as a client asked for it, with only what a client may set (src/trust.ts): its configuration and context
   * through the boundary, no write of the protected state channels in its command. A run naming an assistant runs
   * its graph with the assistant's configuration and context under its own.
   */
  async function clientRun(run: Record<string, unknown>): Promise<{ run: Record<string, unknown>; assistantId?: string }> {
    let assistantId: string | undefined;
    let config = (run.config ?? {}) as Record<string, unknown>;
    if (typeof config !== "object" || Array.isArray(config)) throw new ApiError(422, `config: expected an object, got ${JSON.stringify(run.config)}`);
    if (served && typeof run.assistant_id === "string") {
      const a = await resolveAssistant(served.assistants, graphIds, run.assistant_id);
      if (a) {
        config = { ...a.config, ...config, configurable: { ...a.config.configurable, ...(config.configurable as object | undefined) } };
        const context = { ...a.context, ...(run.context as object | undefined) };
        run = { ...run, assistant_id: a.graph_id, ...(Object.keys(context).length ? { context } : {}) };
        // The embedded server runs `assistant_id` as a graph id; the thread records the assistant (settle).
        assistantId = a.assistant_id;
      }
    }
    const command = run.command as { update?: unknown } | undefined | null;
    if (command && typeof command === "object") checkStateWrite(command.update, "command.update");
    // Keys the server sets on a run for itself (alpha_umi_…) are never a client's.
    for (const key of Object.keys(run)) if (key.startsWith("alpha_umi_")) throw new ApiError(422, `${key}: set by the server, not by a client`);
    const out = { ...run, ...(assistantId ? { alpha_umi_assistant_id: assistantId } : {}), ...clientConfig(config, run.context, "") };
    return { run: out, assistantId };
  }

  /** A run's configuration and context with only what a client may set (`where`: the key path they arrived under). */
  function clientConfig(config: Record<string, unknown>, context: unknown, where: string) {
    return {
      config: { ...config, configurable: clientSettings(config.configurable, `${where}config.configurable`, operator) },
      ...(context !== undefined && context !== null ? { context: clientSettings(context, `${where}context`, { ...operator, approve: undefined }) } : {}),
    };
  }

  /**
   * The thread protocol's commands that start or resume a run (`run.start`, `input.respond`, on
   * `/threads/{id}/commands`) carry a run's configuration, context and state update too: the same boundary.
   */
  function clientCommand(cmd: { method?: unknown; params?: unknown }): { method?: unknown; params?: unknown } {
    if ((cmd.method !== "run.start" && cmd.method !== "input.respond") || typeof cmd.params !== "object" || cmd.params === null) return cmd;
    const params = cmd.params as Record<string, unknown>;
    checkStateWrite(params.update, "params.update");
    const config = params.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) throw new ApiError(422, `params.config: expected an object, got ${JSON.stringify(params.config)}`);
    return { ...cmd, params: { ...params, ...clientConfig(config as Record<string, unknown>, params.context, "params.") } };
  }

  /** The request with its JSON body replaced (the boundary's reading of it). */
  const withBody = (req: Request, body: unknown) => {
    const headers = new Headers(req.headers);
    headers.delete("content-length");
    return new Request(req, { headers, body: JSON.stringify(body) });
  };

  async function route(req: Request): Promise<Response> {
    const { pathname } = new URL(req.url);
    const parts = pathname.split("/").filter(Boolean);
    const body = async <T>() => ((await req.clone().json().catch(() => ({}))) ?? {}) as T;
    // Every run a client starts, on a thread or stateless, crosses the trust boundary first.
    let assistantId: string | undefined;
    if (req.method === "POST" && /\/runs(\/(stream|wait|batch))?$/.test(pathname)) {
      const raw = await body<unknown>();
      const runs = await Promise.all((Array.isArray(raw) ? raw : [raw]).map((r) => clientRun(r as Record<string, unknown>)));
      assistantId = runs[0]?.assistantId;
      req = withBody(req, Array.isArray(raw) ? runs.map((r) => r.run) : runs[0]!.run);
    }
    if (req.method === "POST" && parts[0] === "threads" && parts[2] === "commands" && parts.length === 3) req = withBody(req, clientCommand(await body()));
    if (req.method === "POST" && parts[0] === "threads" && parts[2] === "state" && parts.length === 3) checkStateWrite((await body<{ values?: unknown }>()).values, "values");
    if (parts[0] === "threads") {
      const [, id, sub, runId, tail] = parts;
      if (req.method === "POST" && parts.length === 1) return json(await view(await create(await body<ThreadCreate>())));
      // A state edit takes the thread as a run does: refused while a run holds it, and no run starts during it.
      if (req.method === "POST" && sub === "state" && parts.length === 3) {
        const lease = await threads.lease(id!);
        let res: Response;
        try {
          res = await api(req);
        } finally {
          await settle(id!, lease, null);
        }
        return res;
      }
      if (req.method === "POST" && id === "search" && parts.length === 2) {
        const found: ThreadView[] = [];
        let total = 0;
        for await (const r of threads.search({ ...query(await body<SearchBody>()), owned: authFilters(req) })) {
          found.push(await view(r.thread));
          total = r.total;
        }
        return json(found, 200, { "X-Pagination-Total": String(total) });
      }
      if (req.method === "POST" && id === "count" && parts.length === 2) return json(await threads.count({ ...query(await body<SearchBody>()), owned: authFilters(req) }));
      if (id && parts.length === 2 && (req.method === "GET" || req.method === "PATCH")) {
        const res = req.method === "GET" ? null : await api(req);
        if (res && !res.ok) return res;
        return json(await view(await threads.get(id)));
      }
      if (id && sub === "runs" && req.method === "POST" && (parts.length === 3 || (parts.length === 4 && (runId === "stream" || runId === "wait")))) {
        const run = await body<RunBody>();
        checkRun(run);
        if (run.if_not_exists === "create") await threads.set(id, { kind: "patch", metadata: {} });
        // Runs created to be joined later are read by graph like any other: the thread must know its graph.
        if (parts.length === 3) await threads.set(id, { kind: "patch", metadata: { graph_id: run.assistant_id, assistant_id: assistantId ?? run.assistant_id } });
      }
    }
    // The runs resource (src/server/runs.ts): every run on a thread or stateless, after the checks above.
    if ((parts[0] === "threads" && parts[2] === "runs") || parts[0] === "runs") return (await runs(req)) ?? api(req);
    return api(req);
  }

  return async (req) => {
    try {
      return await route(req);
    } catch (e) {
      if (e instanceof ApiError || e instanceof RefusedSetting) return json({ error: e.message }, e.status);
      if (e instanceof ThreadNotFound) return json({ error: e.message }, 404);
      if (e instanceof ThreadBusy) return json({ error: e.message }, 409);
      throw e;
    }
  };
}
