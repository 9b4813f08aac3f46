/**
 * The one executor of every run, streamed or in the background: each serve process takes runs of its schema from the
 * queue (BullMQ), holds the run's thread (threads.ts, the owner of `busy`), streams the graph through the embedded
 * server and appends each event to the run's Redis stream, which every client reads (runStore.ts). A run waits for the
 * runs before it on its thread (enqueue); a cancellation reaches it wherever it runs (Redis pub/sub) and aborts it,
 * keeping its checkpoints (interrupt) or deleting them back to the run's start (rollback).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { ThreadRunner } from "./api.js";
import type { CancelAction, RunRecord, RunStore } from "./runStore.js";
import { ThreadBusy, ThreadNotFound, type PostgresThreads, type RunLease } from "./threads.js";

/** How often a run waiting for its thread (a run before it) looks again. */
const POLL_MS = 200;


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

export class RunExecutor {
  /** Runs executing here, by id: what cancels each. */
  private readonly running = new Map<string, (action: CancelAction) => void>();
  private worker?: Worker;
  private subscriber?: Redis;
  private runner?: ThreadRunner;

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
  }

  /** Queue a run (after `delayMs`: afterSeconds); any serve process of the schema takes it. */
  async enqueue(run: RunRecord, delayMs = 0): Promise<void> {
    await this.store.queue.add("run", { runId: run.run_id }, { jobId: run.run_id, delay: delayMs, removeOnComplete: true, removeOnFail: true });
  }

  async close(): Promise<void> {
    // Runs here end with the process: their jobs come back to another process, which marks them lost.
    await this.worker?.close(true);
    this.subscriber?.disconnect();
  }

  /** Execute a run in this process (a client streams or waits for it here: it ends with this process). */
  async execute(runId: string): Promise<void> {
    let cancel: CancelAction | null = null;
    let onCancel: (() => void) | undefined;
    this.running.set(runId, (action) => {
      cancel ??= action;
      onCancel?.();
    });
    try {
      const run = await this.claim(runId, () => cancel);
      if (run) await this.stream(run, () => cancel, (f) => (onCancel = f));
    } finally {
      this.running.delete(runId);
    }
  }

  /** Wait for the thread and claim the run (pending → running), or none when it will not run (cancelled, gone, lost). */
  private async claim(runId: string, cancelled: () => CancelAction | null) {
    for (;;) {
      const run = await this.store.get(runId);
      if (!run) return undefined;
      // Claimed again: its process died mid-run and BullMQ gave the job back.
      if (run.status === "running") {
        await this.store.lost(runId);
        return undefined;
      }
      if (run.status !== "pending") return undefined;
      if (cancelled() ?? (await this.store.cancelled(runId))) {
        if (await this.store.move(runId, "pending", "interrupted")) await this.store.end(runId);
        return undefined;
      }
      if (await this.store.waitsBehind(run)) {
        await sleep(POLL_MS);
        continue;
      }
      let before;
      let lease;
      try {
        before = await this.threads.get(run.thread_id);
        lease = await this.threads.lease(run.thread_id);
      } catch (e) {
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
      if (await this.store.move(runId, "pending", "running")) return { run, lease };
      // Cancelled while the thread was taken: it is left as it was.
      await lease.end(before.status === "busy" ? "idle" : before.status, before.error);
    }
  }

  private async stream(
    { run, lease }: NonNullable<Awaited<ReturnType<RunExecutor["claim"]>>>,
    cancelled: () => CancelAction | null,
    onCancel: (f: () => void) => void,
  ): Promise<void> {
    const threadId = run.thread_id;
    const tuple = await this.checkpointer.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
    const since = tuple?.config.configurable?.checkpoint_id as string | undefined;
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
      const res = await this.runner!.stream(threadId, held, { ...run.kwargs, assistant_id: run.assistant_id }, {
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
