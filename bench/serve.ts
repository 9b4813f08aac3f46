/**
 * The Agent Server against the library, side by side: runs per second of the demo graph as background runs
 * (`runs.create`, joined) through `alpha-umi serve` with 1, 2 and 4 executor processes on one queue (one Postgres
 * schema, one Redis prefix), against the library driving the same graph on the same Postgres directly in one process;
 * and the time to the first streamed event (`runs.stream` against `graph.stream`). Models: a local Ollama serving the
 * demo's turns with MODEL_MS per call (bench/serveLoad.ts).
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { Client } from "@langchain/langgraph-sdk";
import { checkpointerFrom, closeCheckpointer } from "../src/checkpoint/checkpointers.js";
import { createAlphaUmiGraph } from "../src/graph.js";
import { DEMO_INSTRUCTION, demoTools } from "../tools/demo/index.js";
import { startServe, stopProcess } from "../tests/helpers/serve.js";
import type { BenchRow } from "./index.js";
import { DEMO_ANSWER, demoOllama, dropServeData, PG, quantile, REDIS } from "./serveLoad.js";

const RUNS = 48;
const FIRST_EVENT_RUNS = 12;
const MODEL_MS = 20;
/** Through serve, one executor process at least at half the library's rate (HTTP, queue, Redis stream per event). */
const RATE_TARGET = 0.5;

export async function runServeBench(): Promise<BenchRow[]> {
  const id = randomUUID().replace(/-/g, "").slice(0, 10);
  const schema = `bench_serve_${id}`;
  const prefix = `bench-serve-${id}`;
  const checkpoints = `${PG}?schema=${schema}`;
  const { ollama, configurable } = await demoOllama(MODEL_MS);
  const input = { instruction: DEMO_INSTRUCTION };
  const args = ["--checkpoints", checkpoints, "--queue", `${REDIS}?prefix=${prefix}`, "--client-settable", "plannerModel", "callerModel", "summarizerModel"];
  const processes: ChildProcess[] = [];
  const saver = checkpointerFrom(checkpoints);
  const rows: BenchRow[] = [];
  try {
    // The library: the same graph, models and Postgres, RUNS threads at once in this process.
    const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver });
    const invoke = async () => {
      const out = await graph.invoke(input, { configurable: { thread_id: randomUUID(), ...configurable } });
      if (out.answer !== DEMO_ANSWER) throw new Error(`bench run ended ${JSON.stringify(out.status)}`);
    };
    await invoke();
    let t = performance.now();
    await Promise.all(Array.from({ length: RUNS }, invoke));
    const library = RUNS / ((performance.now() - t) / 1000);
    const libraryFirst: number[] = [];
    for (let i = 0; i < FIRST_EVENT_RUNS; i++) {
      const asked = performance.now();
      const stream = await graph.stream(input, { configurable: { thread_id: randomUUID(), ...configurable }, streamMode: ["values", "updates"] });
      let first: number | undefined;
      for await (const _ of stream) first ??= performance.now() - asked;
      libraryFirst.push(first!);
    }

    const front = await startServe(args, 120_000);
    processes.push(front.child);
    const client = new Client({ apiUrl: front.url });
    const throughServe = async () => {
      const threads = await Promise.all(Array.from({ length: RUNS }, () => client.threads.create()));
      const t0 = performance.now();
      const runs = await Promise.all(threads.map((th) => client.runs.create(th.thread_id, "alphaUmi", { input, config: { configurable } })));
      const values = await Promise.all(runs.map((r) => client.runs.join(r.thread_id, r.run_id)));
      const seconds = (performance.now() - t0) / 1000;
      if (values.some((v) => (v as { answer?: string }).answer !== DEMO_ANSWER)) throw new Error("a bench run through serve did not end with the demo's answer");
      return RUNS / seconds;
    };
    await client.runs.wait(null, "alphaUmi", { input, config: { configurable } });
    const serveFirst: number[] = [];
    for (let i = 0; i < FIRST_EVENT_RUNS; i++) {
      const th = await client.threads.create();
      const asked = performance.now();
      let first: number | undefined;
      for await (const _ of client.runs.stream(th.thread_id, "alphaUmi", { input, config: { configurable }, streamMode: ["values", "updates"] })) first ??= performance.now() - asked;
      serveFirst.push(first!);
    }
    for (const executors of [1, 2, 4]) {
      while (processes.length < executors) processes.push((await startServe(args, 120_000)).child);
      const rate = await throughServe();
      rows.push({
        section: "serve",
        name: `runs/s through serve, ${executors} executor process${executors > 1 ? "es" : ""} on one queue vs the library in one process`,
        ours: rate,
        peer: library,
        unit: "runs/s",
        ratio: rate / library,
        target: `≥ ${RATE_TARGET}`,
        pass: rate / library >= RATE_TARGET,
        note:
          executors === 1
            ? `${RUNS} demo runs at once (runs.create, then runs.join) on one Postgres schema and one Redis prefix; ${MODEL_MS} ms per model call (a local Ollama); every process on this machine's ${cpus().length} cores`
            : undefined,
      });
    }
    const ours = quantile(serveFirst, 0.5);
    const peer = quantile(libraryFirst, 0.5);
    rows.push({
      section: "serve",
      name: "time to first streamed event, p50: runs.stream through serve vs graph.stream",
      ours,
      peer,
      unit: "ms",
      ratio: ours / peer,
      target: "report",
      pass: null,
      note: `${FIRST_EVENT_RUNS} runs one after another; serve's includes the HTTP request, creating the run, taking its thread and the Redis stream`,
    });
    return rows;
  } finally {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await ollama.close();
    await closeCheckpointer(saver);
    await dropServeData(prefix, schema);
  }
}
