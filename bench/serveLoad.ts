/**
 * `npm run load`: the Agent Server as the scale-out path runs it (a script, not a CI test). Two `alpha-umi serve`
 * processes that clients talk to and `--executors` more serve processes that only execute runs (2: the scale-out
 * executors; `alpha-umi worker` runs eval/run jobs, not Agent Server runs — docs/production.md), on one Postgres schema
 * and one Redis prefix. 256 runs of the demo graph streamed by SDK clients (`runs.stream`, streamResumable,
 * onDisconnect "continue") through a local server speaking Ollama's API (the demo's turns, `--model-ms` each);
 * half-way, one of the two serve processes clients talk to is SIGKILLed: its clients rejoin their runs' streams through
 * the other (`joinStream` from the last event id they saw) and its runs are taken over by the surviving processes.
 * Checks: every run ends `success` once, with the demo's answer; no tool call ran twice in a thread (a logging tool
 * module, this file's `tools`); every client's stream is complete (what it read before and after the rejoin is the
 * run's whole stream, no event id missing or twice). Prints runs/s, time to first event (p50/p95) and rejoin time.
 *
 * Options: --runs N (256) --clients N (16 at once) --executors N (2) --model-ms N (20) --json
 * `npm run load:workers`: bench/load.ts, the same for `alpha-umi worker` on run-jobs.
 */
import type { ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { getConfig } from "@langchain/langgraph";
import { Client } from "@langchain/langgraph-sdk";
import { Redis } from "ioredis";
import { postgresPool } from "../src/checkpoint/checkpointers.js";
import { DEMO_INSTRUCTION, demoTools } from "../tools/demo/index.js";
import { startFakeOllama, type FakeOllama } from "../tests/helpers/fakeOllama.js";
import { startServe, stopProcess } from "../tests/helpers/serve.js";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
/** Where the load and the serve bench put their threads and queues (a schema and a key prefix of their own). */
export const PG = process.env.ALPHA_UMI_BENCH_PG ?? "postgres://127.0.0.1:5432/test";
export const REDIS = process.env.ALPHA_UMI_BENCH_REDIS ?? "redis://127.0.0.1:6379";
export const DEMO_ANSWER = "The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.";

/** Where this module, loaded by serve as the tool source, logs each call: `THREAD NAME ARGS` (set by the driver). */
const CALLS_ENV = "ALPHA_UMI_LOAD_CALLS";

/** The demo tools, each call logged with its thread (read from LangGraph's run context) to count calls across processes. */
export const tools = demoTools().map((t) => ({
  ...t,
  run: (args: Record<string, unknown>, ctx: { signal: AbortSignal; input?: string }) => {
    const log = process.env[CALLS_ENV];
    if (log) appendFileSync(log, `${String(getConfig()?.configurable?.thread_id)} ${t.doc.Name} ${JSON.stringify(args)}\n`);
    return t.run(args, ctx);
  },
}));

/** The demo's turns by role: the k-th planner and caller turn answers a prompt that shows k tool calls. */
function demoTurns(): Record<string, string[]> {
  const turns: Record<string, string[]> = {};
  for (const line of readFileSync(resolve("tools/demo/cassette.jsonl"), "utf8").trim().split("\n")) {
    const e = JSON.parse(line) as { role: string; output: string };
    (turns[e.role] ??= []).push(e.output);
  }
  return turns;
}

/**
 * A local Ollama serving the demo's planner, caller and summarizer with `modelMs` per call. Unlike the replay cassette,
 * it answers a prompt it has not seen (an in-flight call's observation after a takeover) with the next demo turn.
 */
export async function demoOllama(modelMs: number): Promise<{ ollama: FakeOllama; configurable: Record<string, string> }> {
  const turns = demoTurns();
  const ollama = await startFakeOllama({
    models: { planner: {}, caller: {}, summarizer: {} },
    respond: async ({ model, prompt }) => {
      await new Promise((r) => setTimeout(r, modelMs));
      const role = model.replace(/:.*/, "");
      // The tool calls so far, each shown once (the caller's prompt also shows the format: one more).
      const k = (prompt.match(/Action Input/g) ?? []).length - (role === "caller" ? 1 : 0);
      return role === "summarizer" ? turns.summarizer![0]! : turns[role]![k]!;
    },
  });
  // Requests are recorded by the fake: not needed here, and 256 runs' worth would only fill memory.
  ollama.requests.push = () => 0;
  const spec = (role: string) => `ollama:${role}@${ollama.url}`;
  return { ollama, configurable: { plannerModel: spec("planner"), callerModel: spec("caller"), summarizerModel: spec("summarizer") } };
}

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

type Chunk = { id?: string; event: string; data: unknown };

interface Outcome {
  threadId: string;
  runId?: string;
  front: number;
  /** ms from the request to the first event. */
  firstEventMs?: number;
  /** ms from the dropped connection to the first event through the other process. */
  rejoinMs?: number;
  ids: string[];
  answer?: string;
  error?: string;
}

/**
 * A client of one serve process: an SDK Client whose fetch notices its server's connection dropping mid-stream and
 * stops the stream (the SDK would otherwise retry the dead process for seconds) so the caller rejoins elsewhere.
 */
function clientOf(url: string, dropped: () => void): Client {
  const watched: typeof fetch = async (input, init) => {
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (e) {
      dropped();
      throw e;
    }
    if (!res.body) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        try {
          const { done, value } = await reader.read();
          if (done) ctl.close();
          else ctl.enqueue(value);
        } catch (e) {
          if (!init?.signal?.aborted) dropped();
          ctl.error(e);
        }
      },
      cancel: (r) => reader.cancel(r),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return new Client({ apiUrl: url, callerOptions: { fetch: watched, maxRetries: 0 } });
}

async function driver(): Promise<void> {
  const RUNS = arg("runs", 256);
  const CLIENTS = arg("clients", 16);
  const EXECUTORS = arg("executors", 2);
  const MODEL_MS = arg("model-ms", 20);
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const schema = `load_serve_${id}`;
  const prefix = `load-serve-${id}`;
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-load-"));
  const calls = join(dir, "calls.log");
  process.env[CALLS_ENV] = calls;
  const { ollama, configurable } = await demoOllama(MODEL_MS);
  const args = [
    "--checkpoints", `${PG}?schema=${schema}`,
    "--queue", `${REDIS}?prefix=${prefix}`,
    "--tools", `module:${fileURLToPath(import.meta.url)}`,
    "--client-settable", "plannerModel", "callerModel", "summarizerModel",
  ];
  const processes: ChildProcess[] = [];
  try {
    // One first: the schema's tables are made once, and the others start on them.
    const first = await startServe(args, 120_000);
    const rest = await Promise.all(Array.from({ length: 1 + EXECUTORS }, () => startServe(args, 120_000)));
    const fronts = [first, rest[0]!];
    processes.push(first.child, ...rest.map((s) => s.child));
    const alive = [true, true];
    const outcomes: Outcome[] = [];
    let killedAt: number | undefined;
    let next = 0;
    const t0 = performance.now();

    async function one(i: number): Promise<void> {
      // Clients alternate between the two processes; once one is gone, all go to the other.
      const front = alive[i % 2] ? i % 2 : 1 - (i % 2);
      const o: Outcome = { threadId: "", front, ids: [] };
      outcomes.push(o);
      const stop = new AbortController();
      let droppedAt: number | undefined;
      const client = clientOf(fronts[front]!.url, () => {
        droppedAt ??= performance.now();
        stop.abort();
      });
      const seen = (c: Chunk) => {
        if (c.id) o.ids.push(c.id);
        const v = c.event === "values" ? (c.data as { answer?: string }) : undefined;
        if (v?.answer) o.answer = v.answer;
        if (c.event === "error") o.error = JSON.stringify(c.data);
      };
      try {
        const thread = await client.threads.create();
        o.threadId = thread.thread_id;
        const asked = performance.now();
        try {
          for await (const c of client.runs.stream(thread.thread_id, "alphaUmi", {
            input: { instruction: DEMO_INSTRUCTION },
            config: { configurable },
            streamMode: ["values", "updates"],
            streamResumable: true,
            onDisconnect: "continue",
            signal: stop.signal,
            onRunCreated: (m) => (o.runId = m.run_id),
          }) as AsyncIterable<Chunk>) {
            o.firstEventMs ??= performance.now() - asked;
            seen(c);
          }
        } catch (e) {
          if (droppedAt === undefined) throw e;
        }
        if (droppedAt !== undefined || stop.signal.aborted) {
          // The process went away under the stream: rejoin through the other from the last event seen.
          const other = new Client({ apiUrl: fronts[1 - front]!.url });
          // Dropped before the answer named the run: the thread's runs say whether it was created; if not, ask again.
          o.runId ??= (await other.runs.list(thread.thread_id))[0]?.run_id;
          const rest = o.runId
            ? other.runs.joinStream(thread.thread_id, o.runId, { lastEventId: o.ids.at(-1) ?? "-1" })
            : other.runs.stream(thread.thread_id, "alphaUmi", {
                input: { instruction: DEMO_INSTRUCTION },
                config: { configurable },
                streamMode: ["values", "updates"],
                streamResumable: true,
                onDisconnect: "continue",
                onRunCreated: (m) => (o.runId = m.run_id),
              });
          let firstBack = true;
          for await (const c of rest as AsyncIterable<Chunk>) {
            if (firstBack) o.rejoinMs = performance.now() - (droppedAt ?? performance.now());
            firstBack = false;
            seen(c);
          }
          o.rejoinMs ??= performance.now() - (droppedAt ?? performance.now());
        }
      } catch (e) {
        o.error = (e as Error).message;
      }
    }

    const worker = async () => {
      while (next < RUNS) {
        const i = next++;
        // Half-way: SIGKILL one of the two processes clients talk to, with its runs in flight.
        if (i === Math.floor(RUNS / 2) && killedAt === undefined) {
          killedAt = performance.now() - t0;
          alive[0] = false;
          fronts[0]!.child.kill("SIGKILL");
        }
        await one(i);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, worker));
    const seconds = (performance.now() - t0) / 1000;

    // Every run, read back through the surviving process: its row, its thread's runs, its whole stream.
    const check = new Client({ apiUrl: fronts[1]!.url });
    const problems: string[] = [];
    const byThread = new Map<string, string[]>();
    for (const line of readFileSync(calls, "utf8").trim().split("\n")) {
      const [thread, ...call] = line.split(" ");
      (byThread.get(thread!) ?? byThread.set(thread!, []).get(thread!)!).push(call.join(" "));
    }
    let repeated = 0;
    let skippedInFlight = 0;
    for (const o of outcomes) {
      const where = `run ${o.runId ?? "?"} (thread ${o.threadId || "?"})`;
      if (o.error) problems.push(`${where}: ${o.error}`);
      if (!o.runId) continue;
      const runs = await check.runs.list(o.threadId);
      if (runs.length !== 1 || runs[0]!.status !== "success") problems.push(`${where}: runs ${JSON.stringify(runs.map((r) => r.status))}`);
      if (o.answer !== DEMO_ANSWER) problems.push(`${where}: answer ${JSON.stringify(o.answer)}`);
      const all: string[] = [];
      for await (const c of check.runs.joinStream(o.threadId, o.runId, { lastEventId: "-1" }) as AsyncIterable<Chunk>) if (c.id) all.push(c.id);
      if (new Set(o.ids).size !== o.ids.length || JSON.stringify(o.ids) !== JSON.stringify(all))
        problems.push(`${where}: the client read ${o.ids.length} events, the stream has ${all.length}`);
      const made = byThread.get(o.threadId) ?? [];
      if (new Set(made).size !== made.length) repeated++;
      // An in-flight call of a taken-over run is not run again (the demo tools are not marked idempotent).
      skippedInFlight += 3 - new Set(made).size;
    }
    if (repeated) problems.push(`${repeated} threads ran a tool call twice`);
    const rejoined = outcomes.filter((o) => o.rejoinMs !== undefined);
    const ttfe = outcomes.flatMap((o) => (o.firstEventMs === undefined ? [] : [o.firstEventMs]));
    const round = (n: number) => Math.round(n);
    const report = {
      runs: RUNS,
      clientsAtOnce: CLIENTS,
      processes: { serve: 2, executors: EXECUTORS },
      modelMs: MODEL_MS,
      killedAtS: Math.round((killedAt ?? 0) / 100) / 10,
      seconds: Math.round(seconds * 10) / 10,
      runsPerSecond: Math.round((RUNS / seconds) * 10) / 10,
      firstEventMs: { p50: round(quantile(ttfe, 0.5)), p95: round(quantile(ttfe, 0.95)) },
      rejoined: rejoined.length,
      rejoinMs: { p50: round(quantile(rejoined.map((o) => o.rejoinMs!), 0.5)), max: round(Math.max(...rejoined.map((o) => o.rejoinMs!))) },
      inFlightCallsNotRepeated: skippedInFlight,
      problems: problems.slice(0, 20),
      problemCount: problems.length,
      ok: problems.length === 0 && rejoined.length > 0,
    };
    if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else
      process.stdout.write(
        `load (serve): ${RUNS} runs streamed by SDK clients (${CLIENTS} at once), 2 serve processes + ${EXECUTORS} executors, one Postgres schema, one Redis prefix; ${MODEL_MS} ms model calls\n` +
          `one serve process SIGKILLed at ${report.killedAtS} s; ${rejoined.length} clients rejoined through the other\n` +
          `${report.seconds} s: ${report.runsPerSecond} runs/s; time to first event p50 ${report.firstEventMs.p50} ms, p95 ${report.firstEventMs.p95} ms; rejoin p50 ${report.rejoinMs.p50} ms, max ${report.rejoinMs.max} ms\n` +
          `in-flight tool calls not run again (crash policy): ${skippedInFlight}\n` +
          (problems.length ? problems.slice(0, 20).map((p) => `problem: ${p}\n`).join("") : "") +
          `${report.ok ? "OK" : "FAILED"}: every run ended success once, no tool call repeated, every client's stream complete (no event id missing or twice)\n`,
      );
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await ollama.close();
    await dropServeData(prefix, schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Loaded by serve as the tool module too: only the script run by node is the driver.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await driver();

/** Remove what a load or bench run of serve left: its Redis keys (`prefix`) and its Postgres schema. */
export async function dropServeData(prefix: string, schema: string): Promise<void> {
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const admin = postgresPool(PG, 1);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
}
