import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { writeReferenceCassette } from "../../src/eval/cassette.js";
import { evalSteps } from "../../src/eval/evaluate.js";
import { extractSteps, type EvalStep } from "../../src/eval/steps.js";
import { readToolBenchFile } from "../../src/toolbenchDialogs.js";
import { DEMO_TEST_SET, describeShared, OUT_OF_DOMAIN } from "../helpers/shared.js";

const dir = mkdtempSync(join(tmpdir(), "eval-steps-it-"));
const cassette = join(dir, "reference.jsonl");
let steps: EvalStep[];
const replay = { planner: `replay:${cassette}`, caller: `replay:${cassette}`, summarizer: `replay:${cassette}` };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("replaying the reference prompts of the project's demo test set scores 1.0, hallucination 0, and records what it sent", async () => {
  const demoCassette = join(dir, "demo.jsonl");
  const demoSteps = extractSteps(readToolBenchFile(DEMO_TEST_SET));
  const summary = await writeReferenceCassette(demoSteps, demoCassette, { templates: "toolbench" });
  expect(summary).toMatchObject({ lines: 17 + 16, elided: 0 });
  const models = { planner: `replay:${demoCassette}`, caller: `replay:${demoCassette}`, summarizer: `replay:${demoCassette}` };
  const out = join(dir, "demo");
  const r = await evalSteps({ data: DEMO_TEST_SET, models, singleLlm: false, settings: { templates: "toolbench" }, concurrency: 2, out });
  expect(r.steps).toBe(17);
  expect(r.failures).toEqual([]);
  for (const k of ["plan_em", "action_em", "f1", "hard_f1"] as const) expect(r.score.metrics[k]).toBe(1);
  expect(r.score.metrics.rouge).toBeCloseTo(1, 7);
  expect(r.score.metrics.hallu_rate).toBe(0);
  const sent = new Set(readFileSync(demoCassette, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { prompt: string }).prompt));
  const records = JSON.parse(readFileSync(join(out, "predictions.json"), "utf8")) as Array<{ model_input: string }>;
  expect(records).toHaveLength(17);
  expect(records.filter((rec) => !sent.has(rec.model_input))).toEqual([]);
});

describeShared(OUT_OF_DOMAIN, "eval steps on the out-of-domain set", () => {
  beforeAll(async () => {
    steps = extractSteps(readToolBenchFile(OUT_OF_DOMAIN));
    const summary = await writeReferenceCassette(steps, cassette, { templates: "toolbench" });
    expect(summary.lines).toBe(steps.length + steps.filter((s) => s.next).length);
    // Unbounded (a replay model states no context window): every prompt is the full reference prompt.
    expect(summary.elided).toBe(0);
  });

  test("replaying the full reference prompts of the out-of-domain set scores 1.0 on every metric, hallucination 0 (concurrency 1)", async () => {
    const r = await evalSteps({ data: OUT_OF_DOMAIN, models: replay, singleLlm: false, settings: { templates: "toolbench" }, concurrency: 1, out: join(dir, "full") });
    expect(r.steps).toBe(1547);
    expect(r.failures).toEqual([]);
    expect(r.elidedPrompts).toBe(0);
    for (const k of ["plan_em", "action_em", "f1", "easy_f1", "hard_f1"] as const) expect(r.score.metrics[k]).toBe(1);
    // The rouge package's own float noise (1e-8), as in the reference scorer.
    expect(r.score.metrics.rouge).toBeCloseTo(1, 7);
    expect(r.score.metrics.hallu_rate).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "full", "metrics.json"), "utf8")).plan_em).toBe(1);
    // model_input is the prompt that was sent: each one is in the cassette the replay answered from.
    const sent = new Set(readFileSync(cassette, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { prompt: string }).prompt));
    const records = JSON.parse(readFileSync(join(dir, "full", "predictions.json"), "utf8")) as Array<{ model_input: string }>;
    expect(records.filter((rec) => !sent.has(rec.model_input))).toEqual([]);
  });

  test("with --context-policy elide --num-ctx 4096 the 66 long prompts are elided, and what is recorded is what was sent", async () => {
    const settings = { templates: "toolbench" as const, contextPolicy: "elide" as const, numCtx: 4096 };
    const fitted = join(dir, "fitted.jsonl");
    const summary = await writeReferenceCassette(steps, fitted, settings);
    expect(summary.elided).toBe(66);
    const replayFitted = { planner: `replay:${fitted}`, caller: `replay:${fitted}`, summarizer: `replay:${fitted}` };
    const record = join(dir, "fitted-record.jsonl");
    const out = join(dir, "fitted");
    const r = await evalSteps({ data: OUT_OF_DOMAIN, models: replayFitted, singleLlm: false, settings, concurrency: 1, out, record });
    expect(r.failures).toEqual([]);
    expect(r.elidedPrompts).toBe(66);
    expect(r.score.metrics.plan_em).toBe(1);
    expect(r.score.metrics.action_em).toBe(1);
    const marker = /\[\d+ earlier turns? omitted to fit the context window\]/;
    const records = JSON.parse(readFileSync(join(out, "predictions.json"), "utf8")) as Array<{ model_input: string }>;
    const recorded = readFileSync(record, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { role: string; prompt: string });
    const recordedPlanner = new Set(recorded.filter((l) => l.role === "planner").map((l) => l.prompt));
    const elidedInputs = records.filter((rec) => marker.test(rec.model_input));
    expect(elidedInputs.length).toBeGreaterThan(0);
    // Byte for byte: the elided model_input is the prompt the model got (the --record wrapper saw it at the model).
    for (const rec of elidedInputs) expect(recordedPlanner.has(rec.model_input)).toBe(true);
    expect(recorded.filter((l) => marker.test(l.prompt)).length).toBe(66);
  });

  test("a SIGKILLed eval steps resumes without redoing a finished step", async () => {
    const out = join(dir, "killed");
    const record = join(dir, "calls.jsonl");
    const args = ["eval", "steps", "--data", OUT_OF_DOMAIN, "--planner", replay.planner, "--caller", replay.caller, "--summarizer", replay.summarizer, "--out", out, "--record", record];
    // node --import tsx (not the tsx wrapper): SIGKILL must hit the process doing the work.
    const start = () => spawn(process.execPath, ["--import", "tsx", resolve("src/cli/bin.ts"), ...args], { stdio: ["ignore", "ignore", "pipe"] });
    const finished = () => {
      if (!existsSync(join(out, "steps.sqlite"))) return 0;
      const db = new Database(join(out, "steps.sqlite"), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
      } catch {
        return 0; // the table is not created yet
      } finally {
        db.close();
      }
    };
    const first = start();
    const exited = new Promise((res) => first.on("exit", res));
    const deadline = Date.now() + 60_000;
    while (finished() < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.kill("SIGKILL");
    await exited;
    const doneAtKill = new Database(join(out, "steps.sqlite"), { readonly: true });
    const killedIds = (doneAtKill.prepare("SELECT id FROM steps").all() as Array<{ id: number }>).map((r) => r.id);
    doneAtKill.close();
    expect(killedIds.length).toBeGreaterThanOrEqual(100);
    expect(killedIds.length).toBeLessThan(1547); // killed mid-run
    const recordedAtKill = statSync(record).size;

    const second = start();
    const code = await new Promise((res) => second.on("exit", res));
    expect(code).toBe(0);
    expect(finished()).toBe(1547);

    // The planner prompts sent after the kill: none may belong to a step finished before it.
    const cassetteHashes = readFileSync(cassette, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prompt_sha256: string; role: string });
    const plannerHash: string[] = cassetteHashes.filter((l) => l.role === "planner").map((l) => l.prompt_sha256);
    const occurrences = new Map<string, number>();
    for (const h of plannerHash) occurrences.set(h, (occurrences.get(h) ?? 0) + 1);
    const after = readFileSync(record).subarray(recordedAtKill).toString("utf8").trim().split("\n");
    const redone = new Set(after.map((l) => JSON.parse(l) as { prompt_sha256: string; role: string }).filter((l) => l.role === "planner").map((l) => l.prompt_sha256));
    const uniqueKilled = killedIds.filter((id) => occurrences.get(plannerHash[id]!) === 1);
    expect(uniqueKilled.length).toBeGreaterThan(90);
    expect(uniqueKilled.filter((id) => redone.has(plannerHash[id]!))).toEqual([]);
    expect(redone.size).toBeGreaterThanOrEqual(1547 - killedIds.length - 2);
  });
});
