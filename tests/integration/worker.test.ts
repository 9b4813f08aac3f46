/**
 * `alpha-umi worker` on the real Redis (BullMQ, a key prefix of this test run) and Postgres (a schema of this run):
 * a worker killed with SIGKILL mid-run has its job taken over by another worker, which resumes the thread from its
 * checkpoint; the tools count their executions in a file, so a repeated call cannot hide.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { checkpointerFrom, closeCheckpointer } from "../../src/checkpoint/checkpointers.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import type { AgentStateType } from "../../src/state.js";
import { writeReferenceCassette } from "../../src/eval/cassette.js";
import { evalEpisodes } from "../../src/eval/episodes.js";
import { extractSteps } from "../../src/eval/steps.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { readToolBenchFile } from "../../src/toolbenchDialogs.js";
import { startWorker } from "../../src/worker/index.js";
import { parseQueueLocation, runOnQueue, type RunJob, type RunJobResult } from "../../src/queue.js";
import { DEMO_TEST_SET } from "../helpers/shared.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";
import { testSchema } from "../helpers/postgres.js";

const ID = randomUUID().replace(/-/g, "").slice(0, 12);
const PREFIX = `t_worker_${ID}`;
const QUEUE = `redis://127.0.0.1:6379?prefix=${PREFIX}`;
const pg = testSchema("worker", ID);
const PG = pg.url;
const CASSETTE = resolve("tools/demo/cassette.jsonl");
const MODELS = { planner: `replay:${CASSETTE}`, caller: `replay:${CASSETTE}`, summarizer: `replay:${CASSETTE}` };
const TOOL_MS = 1500;

let dir: string;
let redis: Redis;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-worker-"));
  await pg.reach();
  redis = new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1, retryStrategy: () => null });
  await redis.ping(); // no Redis: likewise
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  if (redis) {
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The demo tools, each logging `start NAME PID` and `done NAME PID` around a slow run. */
function countingTools(name: string, idempotent: boolean): { source: string; log: string } {
  const log = join(dir, `${name}.log`);
  const path = join(dir, `${name}.ts`);
  writeFileSync(
    path,
    `import { appendFileSync } from "node:fs";
import { demoTools } from ${JSON.stringify(resolve("tools/demo/index.ts"))};
export const tools = demoTools().map((t) => ({
  ...t,
  idempotent: ${idempotent},
  run: async (args: Record<string, unknown>, ctx: { signal: AbortSignal }) => {
    appendFileSync(${JSON.stringify(log)}, "start " + t.doc.Name + " " + process.pid + "\\n");
    await new Promise((r) => setTimeout(r, ${TOOL_MS}));
    const out = await t.run(args, ctx);
    appendFileSync(${JSON.stringify(log)}, "done " + t.doc.Name + " " + process.pid + "\\n");
    return out;
  },
}));
`,
  );
  return { source: `module:${path}`, log };
}

const lines = (log: string) => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

/**
 * One `alpha-umi worker` process; resolves once it takes jobs. Short lock: a killed worker's job is taken over in ~2 s.
 * `allow`: what its command line lets jobs name (--tools, --models, --data).
 */
function worker(allow: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", resolve("src/cli/bin.ts"), "worker", "--queue", QUEUE, "--checkpoints", PG, "--lock-duration-ms", "2000", "--stalled-interval-ms", "500", ...allow],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  workers.push(child);
  let log = "";
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`worker not ready within 30 s:\n${log}`)), 30_000);
    const read = (d: Buffer) => {
      log += d;
      if (log.includes("alpha-umi worker: ready")) (clearTimeout(timer), res(child));
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => (clearTimeout(timer), rej(new Error(`worker exited with ${code}:\n${log}`))));
  });
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function storedState(threadId: string): Promise<AgentStateType> {
  const saver = checkpointerFrom(PG);
  try {
    return (await createAlphaUmiGraph({ tools: demoTools(), checkpointer: saver }).getState({ configurable: { thread_id: threadId } })).values as AgentStateType;
  } finally {
    await closeCheckpointer(saver);
  }
}

/** Start a run job on worker A, SIGKILL A while the second call runs, start worker B; the job's result and the tool log. */
async function killedMidCall(name: string, idempotent: boolean) {
  const tools = countingTools(name, idempotent);
  const a = await worker(["--tools", tools.source]);
  const job: RunJob = { kind: "run", threadId: `${name}-${ID}`, instruction: DEMO_INSTRUCTION, tools: [tools.source], models: MODELS };
  const result = runOnQueue<RunJobResult>(QUEUE, [job]);
  await until(() => lines(tools.log).some((l) => l.startsWith("start exchange_rate_for_fx")), "the second call to start");
  a.kill("SIGKILL");
  await new Promise((r) => a.once("exit", r));
  const b = await worker(["--tools", tools.source]);
  const [out] = await result;
  // The next scenario starts from no worker: a live B would take its job before its own A.
  b.kill("SIGTERM");
  await new Promise((r) => b.once("exit", r));
  return { out: out!, log: lines(tools.log), a: a.pid!, b: b.pid!, threadId: job.threadId };
}

describe("workers on BullMQ: a worker killed mid-run loses nothing", () => {
  it("the job is taken over by another worker and resumes from the checkpoint; no completed call runs again, the in-flight idempotent one does", async () => {
    const { out, log, a, b, threadId } = await killedMidCall("idempotent", true);
    expect(out).toMatchObject({ threadId, status: "finished", steps: 4, waiting: [] });
    expect(log).toEqual([
      `start country_facts_for_atlas ${a}`,
      `done country_facts_for_atlas ${a}`,
      `start exchange_rate_for_fx ${a}`, // killed here
      `start exchange_rate_for_fx ${b}`,
      `done exchange_rate_for_fx ${b}`,
      `start calculate_for_calculator ${b}`,
      `done calculate_for_calculator ${b}`,
    ]);
    const state = await storedState(threadId);
    expect(state.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    const local = await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "local" } });
    expect(state.turns).toEqual(local.turns);
  }, 90_000);

  it("a thread waiting for approval (the policy of the run that proposed the call) stays waiting under a worker's job, which carries no policy", async () => {
    const tools = countingTools("approval", false);
    const threadId = `approval-${ID}`;
    const saver = checkpointerFrom(PG);
    try {
      const graph = createAlphaUmiGraph({ tools: demoTools(), models: MODELS, checkpointer: saver });
      await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: threadId, approve: ["country_facts_for_atlas"] } });
    } finally {
      await closeCheckpointer(saver);
    }
    const w = await worker(["--tools", tools.source]);
    const [out] = await runOnQueue<RunJobResult>(QUEUE, [{ kind: "run", threadId, instruction: DEMO_INSTRUCTION, tools: [tools.source], models: MODELS }]);
    w.kill("SIGTERM");
    await new Promise((r) => w.once("exit", r));
    expect(out!.waiting).toMatchObject([{ action_requests: [{ name: "country_facts_for_atlas", args: { country: "Japan" } }] }]);
    expect(lines(tools.log)).toEqual([]);
  }, 60_000);

  it("a run job carries the settings of the schema (here approve, which RunJob lacked): the call waits for approval, unrun", async () => {
    const tools = countingTools("job-settings", false);
    const threadId = `job-settings-${ID}`;
    const w = await worker(["--tools", tools.source]);
    const [out] = await runOnQueue<RunJobResult>(QUEUE, [
      { kind: "run", threadId, instruction: DEMO_INSTRUCTION, tools: [tools.source], models: MODELS, settings: { approve: "all" } },
    ]);
    w.kill("SIGTERM");
    await new Promise((r) => w.once("exit", r));
    expect(out!.status).toBe("running");
    expect(out!.waiting).toMatchObject([{ action_requests: [{ name: "country_facts_for_atlas", args: { country: "Japan" } }] }]);
    expect(lines(tools.log)).toEqual([]);
  }, 60_000);

  it("a call in flight whose tool is not idempotent is not run again: the planner reads that it may or may not have run", async () => {
    const { out, log, a, threadId } = await killedMidCall("plain", false);
    expect(log).toEqual([`start country_facts_for_atlas ${a}`, `done country_facts_for_atlas ${a}`, `start exchange_rate_for_fx ${a}`]);
    const state = await storedState(threadId);
    const observations = state.turns.filter((t) => t.from === "observation").map((t) => JSON.parse(t.value) as { error?: string });
    expect(observations[1]!.error).toBe(
      "exchange_rate_for_fx was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect",
    );
    // The demo cassette has no planner output for that observation: the run fails, resumable, rather than guessing.
    expect(out.status).toBe("failed");
  }, 90_000);
});

describe("the queue is a boundary: a worker runs only what its command line allows", () => {
  it("jobs naming code, another model host, a file or an operator setting fail unrun, each with one line", async () => {
    const marker = join(dir, "pwned");
    const code = `langchain:data:text/javascript,${encodeURIComponent(`import{writeFileSync}from"node:fs";writeFileSync(${JSON.stringify(marker)},"x");export const t=[];`)}#t`;
    const w = await worker();
    const hostile: Array<[RunJob | Parameters<typeof runOnQueue>[1][number], RegExp]> = [
      [{ kind: "run", threadId: `code-${ID}`, instruction: DEMO_INSTRUCTION, tools: [code], models: MODELS }, /tool source "langchain:data:text\/javascript,.*" is not one this worker runs \(allowed by its --tools: demo\)/],
      [{ kind: "run", threadId: `host-${ID}`, instruction: DEMO_INSTRUCTION, tools: ["demo"], models: { ...MODELS, caller: "openai:x@http://127.0.0.1:9/v1#key_env=PGPASSWORD" } }, /the caller model "openai:x@http:\/\/127\.0\.0\.1:9\/v1#key_env=PGPASSWORD" is not one this worker runs \(allowed by its --models: replay:/],
      [{ kind: "episode", threadId: `file-${ID}`, data: "/etc/passwd", index: 0, models: {}, singleLlm: false, settings: {}, maxSteps: 4 }, /data file "\/etc\/passwd" is not one this worker runs \(allowed by its --data: none\)/],
      [{ kind: "run", threadId: `setting-${ID}`, instruction: DEMO_INSTRUCTION, tools: ["demo"], models: MODELS, settings: { toolSources: code } as never }, /settings\.toolSources: set by the operator only/],
    ];
    for (const [job, line] of hostile) {
      const failed = await runOnQueue(QUEUE, [job as RunJob], undefined, { attempts: 1 }).then(
        () => "",
        (e: Error) => e.message,
      );
      expect(failed).toMatch(line);
      expect(failed).not.toMatch(/\n|root:/); // one line, no byte of a probed file
    }
    w.kill("SIGTERM");
    await new Promise((r) => w.once("exit", r));
    expect(existsSync(marker)).toBe(false);
  }, 60_000);
});

describe("eval episodes --queue: workers run the episodes, the command collects them", () => {
  it("two workers give the rows of a local run; a re-run finds the finished jobs", async () => {
    const cassette = join(dir, "reference.jsonl");
    await writeReferenceCassette(extractSteps(readToolBenchFile(DEMO_TEST_SET)), cassette, { templates: "toolbench" });
    const replay = { planner: `replay:${cassette}`, caller: `replay:${cassette}`, summarizer: `replay:${cassette}` };
    const base = { data: DEMO_TEST_SET, singleLlm: false, settings: { templates: "toolbench" as const }, concurrency: 1, limit: 6, models: replay };
    const local = await evalEpisodes({ ...base, out: join(dir, "local") });
    const allow = ["--models", `replay:${cassette}`, "--data", DEMO_TEST_SET];
    const pair = await Promise.all([worker(allow), worker(allow)]);
    const queued = await evalEpisodes({ ...base, out: join(dir, "queued"), queue: QUEUE });
    const strip = (rows: typeof local.rows) => rows.map((r) => ({ index: r.index, status: r.status, reason: r.reason, steps: r.steps, answer: r.answer, turns: r.turns }));
    expect(strip(queued.rows)).toEqual(strip(local.rows));
    expect(queued.rows.filter((r) => r.status === "finished").length).toBeGreaterThanOrEqual(3);
    // Same settings, new output dir: the jobs (and threads) exist already, their rows come back without a new run.
    const again = await evalEpisodes({ ...base, out: join(dir, "again"), queue: QUEUE });
    expect(strip(again.rows)).toEqual(strip(local.rows));
    await expect(evalEpisodes({ ...base, models: { ...replay, planner: new ScriptedModel([]) }, out: join(dir, "bad"), queue: QUEUE })).rejects.toThrow(
      "--queue: the planner model must be a spec string (ollama:…, replay:…): workers build their own",
    );
    for (const w of pair) w.kill("SIGTERM");
  }, 120_000);
});

describe("worker and queue locations", () => {
  it("a queue URL that is not redis:// and a worker without Postgres are one clear line each", async () => {
    expect(() => parseQueueLocation("amqp://127.0.0.1")).toThrow('--queue amqp://127.0.0.1: unsupported scheme "amqp:" (redis://…)');
    expect(() => parseQueueLocation("redis://127.0.0.1/x")).toThrow('--queue redis://127.0.0.1/x: the path must be a database number, got "x"');
    expect(parseQueueLocation("redis://u:p@10.0.0.1:6380/2?prefix=p1")).toMatchObject({ prefix: "p1", connection: { host: "10.0.0.1", port: 6380, db: 2, username: "u", password: "p" } });
    await expect(startWorker({ queue: QUEUE, checkpoints: join(dir, "x.sqlite") })).rejects.toThrow(/workers need postgres:\/\/…/);
  });
});
