/**
 * The LangGraph API's runs resource, as LangChain's server serves it (langgraph-api's api/runs.mjs): runs on a thread
 * or stateless, created in the background, streamed or waited for, with get, list, join, joinStream (SSE event ids:
 * `Last-Event-ID` replays from there, on any serve process), cancel (interrupt or rollback) and delete; multitask
 * strategies, `on_disconnect`, `after_seconds`, webhooks and batches. Every run is executed by executor.ts; a client's
 * stream is a reader of the run's events (runStore.ts), so a client that goes away stops the run only when it asked to.
 * Bodies arrive here through the trust boundary (api.ts, src/trust.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { v7 as uuidv7 } from "@langchain/core/utils/uuid";
import { ApiError, type RunBody, type RunRoutes, type ThreadRunner } from "./api.js";
import type { RunExecutor } from "./executor.js";
import { FINAL, type CancelAction, type MultitaskStrategy, type RunEvent, type RunRecord, type RunStore } from "./runStore.js";
import type { PostgresThreads } from "./threads.js";

const STRATEGIES: readonly MultitaskStrategy[] = ["reject", "interrupt", "rollback", "enqueue"];
const ACTIONS: readonly CancelAction[] = ["interrupt", "rollback"];

/** When the queue's copy of a run started here is taken, in case this process died before starting it. */
const STARTED_HERE_BACKSTOP_MS = 5_000;

/** How long a run's stream stays silent before it sends an SSE comment. */
const HEARTBEAT_MS = 10_000;

/** How often a wait or join writes whitespace while the run goes on (as LangChain's server: proxies keep the request). */
const KEEPALIVE_MS = 1000;

export interface RunsOptions {
  runner: ThreadRunner;
  store: RunStore;
  executor: RunExecutor;
  threads: PostgresThreads;
  /** Hosts a run's webhook may name (serve --webhook-hosts, langgraph.json alpha_umi.webhook_hosts). */
  webhookHosts: readonly string[];
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

type CreateBody = RunBody & Record<string, unknown>;

/**
 * @example
 * withThreadApi(app.fetch, threads, graphIds, operator, (runner) => runsApi({ runner, store, executor, threads, webhookHosts: [] }));
 */
export function runsApi(o: RunsOptions): RunRoutes {
  const { store, threads, runner } = o;

  /** The webhook's URL, when its host is one the operator allows: the server calls it, so the client may not choose any host. */
  function checkWebhook(webhook: unknown): void {
    if (webhook === undefined || webhook === null) return;
    let url: URL;
    try {
      url = new URL(String(webhook));
    } catch {
      throw new ApiError(422, `webhook: ${JSON.stringify(webhook)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ApiError(422, `webhook: ${url.protocol} is not http: or https:`);
    if (!o.webhookHosts.includes(url.host) && !o.webhookHosts.includes(url.hostname))
      throw new ApiError(
        403,
        `webhook: host ${url.host} is not one the operator allows (serve --webhook-hosts, langgraph.json alpha_umi.webhook_hosts: ${o.webhookHosts.join(", ") || "none"})`,
      );
  }

  /**
   * Create a run (pending); `threadId` none: a stateless run on a thread made for it. One a client streams or waits for
   * here runs in this process (`here`), unless it starts later; any other is queued for whichever process takes it.
   */
  async function create(threadId: string | undefined, body: CreateBody, here = false): Promise<RunRecord> {
    runner.checkRun(body);
    const strategy = (body.multitask_strategy ?? "reject") as MultitaskStrategy;
    if (!STRATEGIES.includes(strategy)) throw new ApiError(422, `multitask_strategy: ${JSON.stringify(body.multitask_strategy)} is not one of ${STRATEGIES.join(", ")}`);
    const after = body.after_seconds ?? 0;
    if (typeof after !== "number" || !(after >= 0)) throw new ApiError(422, `after_seconds: expected a number ≥ 0, got ${JSON.stringify(body.after_seconds)}`);
    if (body.on_disconnect !== undefined && body.on_disconnect !== "cancel" && body.on_disconnect !== "continue")
      throw new ApiError(422, `on_disconnect: ${JSON.stringify(body.on_disconnect)} is not "cancel" or "continue"`);
    checkWebhook(body.webhook);
    const assistant = body.assistant_id as string;
    const own = threadId === undefined;
    if (threadId === undefined) {
      threadId = uuidv7();
      // The run's metadata (under auth, its owner's) is its thread's, as in LangGraph's server.
      await threads.set(threadId, { kind: "put", metadata: { ...((body.metadata ?? {}) as Record<string, unknown>), graph_id: assistant, assistant_id: assistant } });
    } else await threads.get(threadId);
    const { run, inflight } = await store.create(
      {
        run_id: uuidv7(),
        thread_id: threadId,
        assistant_id: assistant,
        metadata: (body.metadata ?? {}) as Record<string, unknown>,
        multitask_strategy: strategy,
        // Set here, never by the client: whether the run's thread is its own, deleted with it.
        kwargs: { ...body, alpha_umi_stateless: own },
      },
      () => threads.get(threadId!),
    );
    if (strategy === "interrupt" || strategy === "rollback") for (const r of inflight) await cancel(r, strategy);
    if (here && !after) {
      void o.executor.execute(run.run_id).catch((e: unknown) => process.stderr.write(`alpha-umi serve: run ${run.run_id}: ${(e as Error).message}\n`));
      // Queued too, later: should this process die before it starts the run, another one does (started, it is no-op).
      await o.executor.enqueue(run, STARTED_HERE_BACKSTOP_MS);
    } else await o.executor.enqueue(run, after * 1000);
    return run;
  }

  const read = (run: RunRecord, after: string | undefined, signal: AbortSignal) => store.read(run.run_id, after, signal);

  /** Cancel a run: a pending one never starts; a running one is stopped wherever it runs. */
  async function cancel(run: RunRecord, action: CancelAction): Promise<void> {
    if (run.status === "pending" && (await store.move(run.run_id, "pending", "interrupted"))) {
      if (action === "rollback") await store.delete(run.run_id);
      await store.end(run.run_id);
      return;
    }
    await store.cancel(run.run_id, action);
  }

  /** The run's events as SSE from `after` (see RunStore.read); a client gone cancels the run when `onDisconnect` says so. */
  function stream(run: RunRecord, after: string | undefined, onDisconnect: "cancel" | "continue", resumable: boolean): Response {
    const stop = new AbortController();
    const events = read(run, after, stop.signal);
    const encoder = new TextEncoder();
    let next: Promise<IteratorResult<RunEvent>> | undefined;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        next ??= events.next();
        const quiet = new AbortController();
        const got = await Promise.race([next, sleep(HEARTBEAT_MS, null, { signal: quiet.signal, ref: false }).catch(() => null)]);
        quiet.abort();
        // A quiet run (a long model call) still shows its stream alive to proxies and to the SDK's idle check.
        if (got === null) return ctl.enqueue(encoder.encode(": heartbeat\n\n"));
        next = undefined;
        const { done, value } = got;
        if (done) return ctl.close();
        const data = value.data
          .split("\n")
          .map((l) => `data: ${l}`)
          .join("\n");
        ctl.enqueue(encoder.encode(`id: ${value.id}\nevent: ${value.event}\n${data}\n\n`));
      },
      async cancel() {
        stop.abort();
        if (onDisconnect === "cancel") {
          const now = await store.get(run.run_id);
          if (now && !FINAL.includes(now.status)) await cancel(now, "interrupt");
        }
      },
    });
    const path = `/threads/${run.thread_id}/runs/${run.run_id}`;
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "content-location": path,
        // The SDK reconnects to a resumable stream's Location with the last event id it saw.
        ...(resumable ? { location: `${path}/stream` } : {}),
      },
    });
  }

  /**
   * The run's end, as LangChain answers a wait or join: its last values, `{__error__}` when it failed, else the thread's
   * values; whitespace until then.
   */
  function outcome(run: RunRecord, signal: AbortSignal, onDisconnect: "cancel" | "continue"): Response {
    const stop = new AbortController();
    signal.addEventListener("abort", () => stop.abort(), { once: true });
    const result = (async () => {
      let values: string | undefined;
      let error: string | undefined;
      for await (const ev of read(run, "0", stop.signal)) {
        if (ev.event === "values") values = ev.data;
        if (ev.event === "error") error = ev.data;
      }
      if (error) return `{"__error__":${error}}`;
      if (values) return values;
      return JSON.stringify(await runner.values(run.thread_id).catch(() => null));
    })();
    const encoder = new TextEncoder();
    let timer: NodeJS.Timeout | undefined;
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        timer = setInterval(() => ctl.enqueue(encoder.encode("\n")), KEEPALIVE_MS);
        try {
          const text = await result;
          ctl.enqueue(encoder.encode(text));
          ctl.close();
        } catch (e) {
          ctl.error(e);
        } finally {
          clearInterval(timer);
        }
      },
      async cancel() {
        clearInterval(timer);
        stop.abort();
        if (onDisconnect === "cancel") {
          const now = await store.get(run.run_id);
          if (now && !FINAL.includes(now.status)) await cancel(now, "interrupt");
        }
      },
    });
    return new Response(body, { headers: { "content-type": "application/json", "content-location": `/threads/${run.thread_id}/runs/${run.run_id}` } });
  }

  async function found(runId: string, threadId?: string): Promise<RunRecord> {
    const run = await store.get(runId, threadId);
    if (!run) throw new ApiError(404, `run ${runId} not found${threadId ? ` on thread ${threadId}` : ""}`);
    return run;
  }

  const flag = (v: string | null) => v === "1" || v === "true";
  const disconnect = (body: CreateBody, dflt: "cancel" | "continue") => (body.on_disconnect as "cancel" | "continue" | undefined) ?? dflt;

  return async (req) => {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter(Boolean);
    const m = req.method;
    const body = async () => (await req.json()) as CreateBody;
    // Stateless runs: /runs, /runs/stream, /runs/wait, /runs/batch, /runs/:id/stream.
    if (parts[0] === "runs") {
      const [, what, tail] = parts;
      const make = (b: CreateBody, here = false) => create(undefined, b, here);
      if (m === "POST" && parts.length === 1) {
        const run = await make(await body());
        return json(run, 200, { "content-location": `/runs/${run.run_id}` });
      }
      if (m === "POST" && what === "batch" && parts.length === 2) {
        const all = (await req.json()) as CreateBody[];
        if (!Array.isArray(all) || !all.length) throw new ApiError(422, "runs batch: expected a non-empty array of runs");
        const runs: RunRecord[] = [];
        for (const b of all) runs.push(await make(b));
        return json(runs);
      }
      if (m === "POST" && what === "stream" && parts.length === 2) {
        const b = await body();
        const run = await make(b, true);
        return stream(run, "0", disconnect(b, "cancel"), b.stream_resumable === true);
      }
      if (m === "POST" && what === "wait" && parts.length === 2) {
        const b = await body();
        return outcome(await make(b, true), req.signal, disconnect(b, "cancel"));
      }
      if (m === "GET" && what && tail === "stream" && parts.length === 3) {
        const run = await found(what);
        return stream(run, lastEventId(req), flag(url.searchParams.get("cancel_on_disconnect")) ? "cancel" : "continue", true);
      }
      return undefined;
    }
    const [, threadId, , runId, tail] = parts;
    if (!threadId) return undefined;
    if (parts.length === 3) {
      if (m === "POST") {
        const run = await create(threadId, await body());
        return json(run, 200, { "content-location": `/threads/${threadId}/runs/${run.run_id}` });
      }
      if (m === "GET") {
        await threads.get(threadId);
        const int = (name: string, dflt: number) => {
          const v = url.searchParams.get(name);
          const n = v === null ? dflt : Number(v);
          if (!Number.isInteger(n) || n < 0) throw new ApiError(422, `runs list: ${name} must be an integer ≥ 0, got ${JSON.stringify(v)}`);
          return n;
        };
        return json(await store.list(threadId, { limit: int("limit", 10), offset: int("offset", 0), status: url.searchParams.get("status") ?? undefined }));
      }
      return undefined;
    }
    if (m === "POST" && parts.length === 4 && (runId === "stream" || runId === "wait")) {
      const b = await body();
      const run = await create(threadId, b, true);
      return runId === "stream" ? stream(run, "0", disconnect(b, "cancel"), b.stream_resumable === true) : outcome(run, req.signal, disconnect(b, "cancel"));
    }
    if (!runId) return undefined;
    const run = await found(runId, threadId);
    if (parts.length === 4 && m === "GET") return json(run);
    if (parts.length === 4 && m === "DELETE") {
      if (run.status === "running") throw new ApiError(409, `run ${runId} is running: cancel it first`);
      if (run.status === "pending") await cancel(run, "interrupt");
      await store.delete(runId);
      return new Response(null, { status: 204 });
    }
    if (m === "GET" && tail === "join") return outcome(run, req.signal, flag(url.searchParams.get("cancel_on_disconnect")) ? "cancel" : "continue");
    if (m === "GET" && tail === "stream") return stream(run, lastEventId(req), flag(url.searchParams.get("cancel_on_disconnect")) ? "cancel" : "continue", true);
    if (m === "POST" && tail === "cancel") {
      const action = (url.searchParams.get("action") ?? "interrupt") as CancelAction;
      if (!ACTIONS.includes(action)) throw new ApiError(422, `cancel: action ${JSON.stringify(action)} is not one of ${ACTIONS.join(", ")}`);
      if (!FINAL.includes(run.status)) await cancel(run, action);
      if (!flag(url.searchParams.get("wait"))) return new Response(null, { status: 202 });
      // Waiting: until the run has ended and its thread is released.
      for await (const _ of read(run, "0", req.signal));
      return new Response(null, { status: 204 });
    }
    return undefined;
  };
}

/** `Last-Event-ID`: "-1" (useStream's "from the start") and "0" replay every event; none: only those to come. */
function lastEventId(req: Request): string | undefined {
  const id = req.headers.get("last-event-id");
  if (id === null || id === "") return undefined;
  return id === "-1" ? "0" : id;
}
