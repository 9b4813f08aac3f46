/**
 * The one executor of every run, streamed or in the background: each serve process takes runs of its schema from the
 * queue (BullMQ), holds the run's thread (threads.ts, the owner of `busy`), streams the graph through the embedded
 * server and appends each event to the run's Redis stream, which every client reads (runStore.ts). A run waits for the
 * runs before it on its thread (enqueue); a cancellation reaches it wherever it runs (Redis pub/sub) and aborts it,
 * keeping its checkpoints (interrupt) or deleting them back to the run's start (rollback).
 *
 * No run is lost with its process: a run being executed holds an execution lock in Postgres (threads.ts
 * ExecutionLease), gone with the process's connection when it dies. Every serve process looks for `running` runs
 * whose lock nobody holds and takes one over: its graph resumes from the thread's last checkpoint (the crash policy of
 * src/nodes/inFlight.ts: a completed tool call never runs again, one in flight runs again only if idempotent), appending
 * to the same Redis stream, so a client rejoins it on any process from the last event id it saw.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { ThreadRunner } from "./api.js";
import type { CancelAction, RunRecord, RunStore, StartedRun } from "./runStore.js";
import { RunHeld, ThreadBusy, ThreadNotFound, type ExecutionLease, type PostgresThreads, type RunLease } from "./threads.js";

/** How often a run waiting for its thread (a run before it) looks again. */
const POLL_MS = 200;

/** How often each process looks for runs whose process died. */
const SWEEP_MS = 1000;

/** Starts of one run (its first and takeovers) after which it is given up: a run that kills every process it runs on. */
const MAX_STARTS = 5;


export interface ExecutorOptions {
  /** Runs this process executes at once (each holds a lease connection while it runs). */
  concurrency: number;
  /** POSTs a finished run to its webhook (the URL was checked against the operator's hosts when the run was created). */
  webhook?: (url: string, payload: unknown) => Promise<void>;
}

/** One SSE event of the embedded server's stream. */
function parseEvent(text: string): { event: string; data: string } | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  return data.length ? { event, data: data.join("\n") } : undefined;
}

/** A run this process executes: its row, its execution lease, where it started, and whether it is a takeover. */
interface Claimed extends StartedRun {
  lease: ExecutionLease;
  takeover: boolean;
}

export class RunExecutor {
  /** Runs executing here, by id: what cancels each. */
  private readonly running = new Map<string, (action: CancelAction) => void>();
  private worker?: Worker;
  private subscriber?: Redis;
  private runner?: ThreadRunner;
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly store: RunStore,
    private readonly threads: PostgresThreads,
    private readonly checkpointer: BaseCheckpointSaver,
    private readonly o: ExecutorOptions,
  ) {}

  /** Start taking runs from the queue, streaming them through `runner`. */
  async start(runner: ThreadRunner): Promise<void> {
    this.runner = runner;
    this.subscriber = this.store.redis.duplicate();
    this.subscriber.on("message", (_channel: string, message: string) => {
      const { runId, action } = JSON.parse(message) as { runId: string; action: CancelAction };
      this.running.get(runId)?.(action);
    });
    await this.subscriber.subscribe(this.store.cancelChannel);
    const { connection, prefix } = this.store.connection;
    this.worker = new Worker<{ runId: string }>(this.store.queueName, (job) => this.execute(job.data.runId), { connection, prefix, concurrency: this.o.concurrency });
    this.worker.on("error", (e) => process.stderr.write(`alpha-umi serve: run queue: ${e.message}\n`));
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Take over the runs whose process died (any process may: the execution lock lets one have each). */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const runId of await this.store.orphans(this.threads.executionSpace))
        if (!this.running.has(runId)) void this.execute(runId).catch((e: unknown) => process.stderr.write(`alpha-umi serve: run ${runId}: ${(e as Error).message}\n`));
    } catch (e) {
      process.stderr.write(`alpha-umi serve: looking for runs to take over: ${(e as Error).message}\n`);
    } finally {
      this.sweeping = false;
    }
  }

  /** Queue a run (after `delayMs`: afterSeconds); any serve process of the schema takes it. */
  async enqueue(run: RunRecord, delayMs = 0): Promise<void> {
    await this.store.queue.add("run", { runId: run.run_id }, { jobId: run.run_id, delay: delayMs, removeOnComplete: true, removeOnFail: true });
  }

  async close(): Promise<void> {
    // Runs here end with the process: their execution locks go with it and another process takes them over.
    clearInterval(this.sweeper);
    await this.worker?.close(true);
    this.subscriber?.disconnect();
  }

  /** Execute a run in this process (pending), or take it over (running, its process dead); nothing when another has it. */
  async execute(runId: string): Promise<void> {
    // Already here (a run started here whose queued copy came back to this process).
    if (this.running.has(runId)) return;
    let cancel: CancelAction | null = null;
    let onCancel: (() => void) | undefined;
    this.running.set(runId, (action) => {
      cancel ??= action;
      onCancel?.();
    });
    try {
      const claimed = await this.claim(runId, () => cancel);
      if (claimed)
        try {
          await this.stream(claimed, () => cancel, (f) => (onCancel = f));
        } finally {
          await claimed.lease.release();
        }
    } finally {
      this.running.delete(runId);
    }
  }

  /**
   * Wait for the thread and claim the run (pending → running), or take over a running one whose process died; none
   * when it will not run here (cancelled, gone, or executed by another process).
   */
  private async claim(runId: string, cancelled: () => CancelAction | null): Promise<Claimed | undefined> {
    for (;;) {
      const run = await this.store.get(runId);
      if (!run || (run.status !== "pending" && run.status !== "running")) return undefined;
      const takeover = run.status === "running";
      if (!takeover && (cancelled() ?? (await this.store.cancelled(runId)))) {
        if (await this.store.move(runId, "pending", "interrupted")) await this.store.end(runId);
        return undefined;
      }
      if (!takeover && (await this.store.waitsBehind(run))) {
        await sleep(POLL_MS);
        continue;
      }
      let before;
      let lease: ExecutionLease;
      try {
        before = await this.threads.get(run.thread_id);
        lease = await this.threads.lease(run.thread_id, runId);
      } catch (e) {
        // Its process lives, or another took it over; a thread held by another run: the next sweep tries again.
        if (e instanceof RunHeld || (takeover && e instanceof ThreadBusy)) return undefined;
        if (e instanceof ThreadBusy) {
          await sleep(POLL_MS);
          continue;
        }
        if (!(e instanceof ThreadNotFound)) throw e;
        await this.store.finish(runId, "error");
        await this.store.append(runId, "error", JSON.stringify({ error: "ThreadNotFound", message: e.message }));
        await this.store.end(runId);
        return undefined;
      }
      const tuple = takeover ? undefined : await this.checkpointer.getTuple({ configurable: { thread_id: run.thread_id, checkpoint_ns: "" } });
      const started = await this.store.start(runId, run.status, (tuple?.config.configurable?.checkpoint_id as string | undefined) ?? null);
      if (started && started.attempts > MAX_STARTS) {
        const why = `run ${runId} was started ${MAX_STARTS} times and its process died each time; it is not started again (a new run resumes its thread from the last checkpoint)`;
        await lease.end("error", why);
        await this.store.lost(runId, why);
        await lease.release();
        return undefined;
      }
      if (started) return { ...started, lease, takeover };
      // Cancelled while the thread was taken: it is left as it was.
      await lease.end(before.status === "busy" ? "idle" : before.status, before.error);
      await lease.release();
      if (takeover) return undefined;
    }
  }

  private async stream({ run, lease, startedFrom, takeover }: Claimed, cancelled: () => CancelAction | null, onCancel: (f: () => void) => void): Promise<void> {
    const threadId = run.thread_id;
    const since = startedFrom ?? undefined;
    let kwargs: Record<string, unknown> = { ...run.kwargs, assistant_id: run.assistant_id };
    if (takeover) {
      const tuple = await this.checkpointer.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
      // Checkpoints written since the run started: the graph goes on from the last one with no new input (its input
      // or command was applied there); none: the run starts again as it was asked.
      if ((tuple?.config.configurable?.checkpoint_id ?? null) !== startedFrom) {
        const { command: _c, checkpoint: _p, checkpoint_id: _i, ...rest } = kwargs;
        kwargs = { ...rest, input: null };
      }
    }
    const abort = new AbortController();
    let error: string | null = null;
    let values: string | undefined;
    let cancelling: Promise<void> | undefined;
    // The run's outcome is recorded once its thread is released: a client that waited for it finds the thread free.
    let released!: () => void;
    const ended = new Promise<void>((r) => (released = r));
    const held: RunLease = {
      end: async (status, e) => {
        try {
          await lease.end(status, e);
        } finally {
          released();
        }
      },
    };
    try {
      const res = await this.runner!.stream(threadId, held, kwargs, {
        signal: abort.signal,
        cancelled: () => cancelled() !== null,
        beforeRelease: async () => {
          if (cancelled() === "rollback") await this.store.deleteCheckpointsAfter(threadId, since);
        },
      });
      const reader = res.body!.getReader();
      const stop = () => {
        abort.abort();
        cancelling ??= reader.cancel().catch(() => undefined);
      };
      onCancel(stop);
      if (cancelled() ?? (await this.store.cancelled(run.run_id))) stop();
      const decoder = new TextDecoder();
      let carry = "";
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (done) break;
        carry += decoder.decode(value, { stream: true });
        const parts = carry.split("\n\n");
        carry = parts.pop()!;
        for (const part of parts) {
          const ev = parseEvent(part);
          if (!ev) continue;
          // The embedded server names a run id of its own: the client knows this one.
          if (ev.event === "metadata") ev.data = JSON.stringify({ ...(JSON.parse(ev.data) as object), run_id: run.run_id });
          if (cancelled()) continue;
          if (ev.event === "values") values = ev.data;
          if (ev.event === "error") error = ev.data;
          await this.store.append(run.run_id, ev.event, ev.data);
        }
      }
      await cancelling;
    } catch (e) {
      error = JSON.stringify({ error: "Error", message: (e as Error).message ?? String(e) });
      await this.store.append(run.run_id, "error", error);
    }
    await ended;
    const action = cancelled();
    const thread = await this.threads.get(threadId).catch(() => undefined);
    const status = action ? "interrupted" : error || thread?.status === "error" ? "error" : "success";
    if (action === "rollback") await this.store.delete(run.run_id);
    else await this.store.finish(run.run_id, status);
    await this.store.end(run.run_id);
    const webhook = run.kwargs.webhook;
    if (typeof webhook === "string" && this.o.webhook)
      await this.o
        .webhook(webhook, { ...run, status, values: values === undefined ? null : JSON.parse(values), error: thread?.error ?? null })
        .catch((e: unknown) => process.stderr.write(`alpha-umi serve: run ${run.run_id}: webhook: ${(e as Error).message}\n`));
    // A stateless run's thread goes with it unless the client asked to keep it.
    if (run.kwargs.alpha_umi_stateless === true && run.kwargs.on_completion !== "keep") await this.threads.delete(threadId).catch(() => undefined);
  }
}
