/**
 * `eval toolalpaca`: the paper's Table 1 ToolAlpaca column. Every instruction of a ToolAlpaca file (`eval_simulated.json`:
 * 10 APIs, 100 instructions) runs as a thread of α-UMi (or the single-LLM baseline) on its API's simulated functions
 * (src/tools/toolalpaca.ts), and is written in ToolAlpaca's instance format; then ToolAlpaca's `evaluation.py` is
 * reproduced: one judge prompt per instance, byte for byte as it builds them, its verdicts read with its patterns, and
 * its output file with process / final-response counts. Both halves resume: finished instructions are rows of
 * `toolalpaca.sqlite` (a killed one resumes from its thread in `checkpoints.sqlite`), judged ones are in
 * `evaluation.json` (as `--continue_run`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkpointerFrom } from "../checkpoint/checkpointers.js";
import type { CodecSettings } from "../codec/index.js";
import { UserError } from "../errors.js";
import { contentText, type Role, type RoleModel } from "../models/generate.js";
import { modelFromSpec, runRoles } from "../models/spec.js";
import { parseCaller } from "../protocol/index.js";
import { parseToolAlpacaVerdicts, toolalpacaJudgePrompt, TOOLALPACA_VERDICTS, type GoldenStep, type InstanceStep } from "../protocol/toolalpaca.js";
import { threadGraph, threadStarted } from "../threadDriver.js";
import { runAgent } from "../runAgent.js";
import type { Turn } from "../state.js";
import { readToolAlpacaFile, toolalpacaInstruction, toolalpacaTools, type ToolAlpacaApi } from "../tools/toolalpaca.js";
import { modelLabel } from "./episodes.js";
import { progress } from "./progress.js";
import { runPool } from "./runner.js";
import { JsonRowStore } from "./store.js";

/** One instance, as ToolAlpaca's generation writes `agent(instruction)`'s result. */
export interface ToolAlpacaInstance {
  input: string;
  output: string;
  intermediate_steps: InstanceStep[];
}

/** What LangChain's agent answers when it stops at its step limit (`early_stopping_method="force"`). */
export const STOPPED_OUTPUT = "Agent stopped due to iteration limit or time limit.";

export const INSTANCES_FILE = "instances.json";
export const EVALUATION_FILE = "evaluation.json";
export const SUMMARY_FILE = "toolalpaca.json";

export interface EvalToolAlpacaOptions {
  data: string;
  /** Only these APIs (by Name); default all. */
  apis?: string[];
  /** The API simulator (ToolAlpaca's simulator template, one user message). */
  simulator: RoleModel | string;
  /** Where simulated answers are cached (default OUT/simulator-cache). */
  cacheDir?: string;
  models: Partial<Record<Role, string | RoleModel>>;
  singleLlm?: boolean;
  /** Templates (default toolalpaca) and the other codec settings. */
  settings?: CodecSettings;
  maxSteps?: number;
  limit?: number;
  concurrency?: number;
  out: string;
  progressStream?: NodeJS.WriteStream;
}

export interface EvalToolAlpacaResult {
  /** Instructions run (this run and earlier ones). */
  instances: number;
  resumed: number;
  failures: Array<{ api: string; id: number; error: string }>;
}

interface Task {
  index: number;
  api: ToolAlpacaApi;
  apiIndex: number;
  id: number;
  instruction: string;
}

/** `[[tool, tool_input, log], observation]` for every call of τ; the log is the turns that wrote the call. */
export function intermediateSteps(turns: readonly Turn[]): InstanceStep[] {
  const steps: InstanceStep[] = [];
  turns.forEach((t, i) => {
    const next = turns[i + 1];
    if (t.from !== "caller" || next?.from !== "observation") return;
    const { action, actionInput } = parseCaller(t.value);
    const before = turns[i - 1];
    steps.push([[action, actionInput, before?.from === "assistant" ? `${before.value}\n${t.value}` : t.value], next.value]);
  });
  return steps;
}

function selectApis(path: string, names: readonly string[] | undefined): ToolAlpacaApi[] {
  const apis = readToolAlpacaFile(path);
  if (!names?.length) return apis;
  for (const n of names) if (!apis.some((a) => a.Name === n)) throw new UserError(`--api "${n}": no such API in ${path} (${apis.map((a) => a.Name).join(", ")})`);
  return apis.filter((a) => names.includes(a.Name));
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path + ".tmp", JSON.stringify(value, null, 4));
  renameSync(path + ".tmp", path);
}

/**
 * Run every instruction not yet done, at most `concurrency` at a time, then write `OUT/instances.json` (the API file
 * with each entry's `Instances`, ToolAlpaca's generation output).
 *
 * @example await evalToolAlpaca({ data: "../shared/data/toolalpaca/eval_simulated.json", simulator: "openai:gpt-4o@https://api.openai.com/v1", models: { planner, caller, summarizer }, out: "runs/ta" })
 */
export async function evalToolAlpaca(o: EvalToolAlpacaOptions): Promise<EvalToolAlpacaResult> {
  const data = resolve(o.data);
  const apis = selectApis(o.data, o.apis);
  const singleLlm = !!o.singleLlm;
  const codec: CodecSettings = { templates: "toolalpaca", ...o.settings };
  const simulator = typeof o.simulator === "string" ? modelFromSpec(o.simulator, "summarizer", { temperature: SIMULATOR_TEMPERATURE }) : o.simulator;
  const settings = {
    data,
    apis: o.apis ?? null,
    singleLlm,
    ...codec,
    maxSteps: o.maxSteps ?? null,
    models: Object.fromEntries(runRoles(singleLlm).map((r) => [r, modelLabel(o.models[r])])),
    simulator: modelLabel(o.simulator),
  };
  const tasks: Task[] = apis
    .flatMap((api, apiIndex) => api.Instructions.map((instruction, id) => ({ api, apiIndex, id, instruction })))
    .map((t, index) => ({ ...t, index }))
    .slice(0, o.limit);
  const cacheDir = o.cacheDir ?? join(o.out, "simulator-cache");
  const tools = new Map(apis.map((api) => [api, toolalpacaTools(api, { model: simulator, cacheDir })]));
  const store = new JsonRowStore<ToolAlpacaInstance>(o.out, "toolalpaca.sqlite", settings);
  const checkpointer = checkpointerFrom(join(o.out, "checkpoints.sqlite"));
  const failures: EvalToolAlpacaResult["failures"] = [];
  try {
    const done = store.done();
    const resumed = tasks.filter((t) => done.has(t.index)).length;
    const bar = progress("eval toolalpaca", tasks.length, resumed, o.progressStream);
    await runPool(
      tasks.filter((t) => !done.has(t.index)),
      o.concurrency ?? 1,
      async (t) => {
        const threadId = `toolalpaca-${t.apiIndex}-${t.id}`;
        const input = toolalpacaInstruction(t.api, t.instruction);
        try {
          // A thread with τ resumes as is (its instruction would be read as a follow-up question); one killed before
          // its first turn starts again.
          const started = await threadStarted(threadGraph({ ...codec, tools: tools.get(t.api)!, models: o.models, singleLlm, checkpointer }), threadId);
          const r = await runAgent({
            ...codec,
            ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}),
            instruction: started ? undefined : input,
            tools: tools.get(t.api)!,
            models: o.models,
            singleLlm,
            checkpointer,
            threadId,
          });
          const status = r.state.status.status;
          if (status === "failed") {
            failures.push({ api: t.api.Name, id: t.id, error: r.state.status.reason ?? "failed" });
            return;
          }
          const row: ToolAlpacaInstance = {
            input,
            output: status === "finished" ? (r.state.answer ?? "") : STOPPED_OUTPUT,
            intermediate_steps: intermediateSteps(r.state.turns),
          };
          store.save(t.index, row);
          done.set(t.index, row);
          bar.tick();
        } catch (err) {
          if (err instanceof UserError) throw err;
          failures.push({ api: t.api.Name, id: t.id, error: err instanceof Error ? err.message : String(err) });
        }
      },
    );
    bar.done();
    // ToolAlpaca's generation output: every API entry as read, with the instances of the instructions run.
    const raw = JSON.parse(readFileSync(o.data, "utf8")) as Array<Record<string, unknown>>;
    const out = apis.map((api) => {
      const entry = raw.find((r) => r.Name === api.Name)!;
      const instances: ToolAlpacaInstance[] = [];
      for (const t of tasks.filter((x) => x.api === api)) {
        const row = done.get(t.index);
        if (!row) break; // an instance list has no holes: later ones wait for a rerun
        instances.push(row);
      }
      return { ...entry, Instances: instances };
    });
    mkdirSync(o.out, { recursive: true });
    writeJson(join(o.out, INSTANCES_FILE), out);
    writeJson(join(o.out, SUMMARY_FILE), { system: singleLlm ? "single-LLM" : "α-UMi", settings, instructions: tasks.length, instances: tasks.filter((t) => done.has(t.index)).length });
    return { instances: tasks.filter((t) => done.has(t.index)).length, resumed, failures };
  } finally {
    store.close();
  }
}

/** ToolAlpaca's simulator samples at 0.5; its answers are cached, so a rerun is deterministic anyway. */
export const SIMULATOR_TEMPERATURE = 0.5;
/** `evaluation.py` asks gpt-4-0613 at temperature 0.2. */
export const JUDGE_TEMPERATURE = 0.2;

// ---- The judge (evaluation.py) ------------------------------------------------------------------------------------

type Counts = Record<string, number>;
export interface ToolAlpacaStatistics {
  num: number;
  error_num: number;
  process: Counts;
  response: Counts;
  both: number;
}

export interface JudgedRecord {
  id: number;
  input: string | Array<{ role: "user"; content: string }>;
  output: string;
  process_correctness?: string;
  final_response_correctness?: string;
}

/** `evaluation.py`'s output: `statistics`, then per API its judged records. */
export type EvaluationFile = { statistics: ToolAlpacaStatistics } & Record<string, JudgedRecord[] | ToolAlpacaStatistics>;

export interface JudgeToolAlpacaOptions {
  judge: RoleModel;
  onWarning?: (message: string) => void;
  progressStream?: NodeJS.WriteStream;
}

export interface ToolAlpacaScore {
  statistics: ToolAlpacaStatistics;
  /** Yes over all judged instructions (errors included), as ToolAlpaca's and α-UMi's tables count them. */
  process: number;
  answer: number;
  both: number;
  judgeCalls: number;
}

/** Tries per instance before a verdict outside Yes / No / Uncertain is kept (evaluation.py would stop on it). */
const JUDGE_TRIES = 3;

/** Percentages of an evaluation file's statistics. */
export function scoreOf(s: ToolAlpacaStatistics): Omit<ToolAlpacaScore, "statistics" | "judgeCalls"> {
  const rate = (n: number) => (s.num ? (n ?? 0) / s.num : 0);
  return { process: rate(s.process.Yes!), answer: rate(s.response.Yes!), both: rate(s.both) };
}

function readInstances(dir: string): Array<ToolAlpacaApi & { Instances?: ToolAlpacaInstance[] }> {
  const file = join(dir, INSTANCES_FILE);
  if (!existsSync(file)) throw new UserError(`${dir}: no ${INSTANCES_FILE} (write it with alpha-umi eval toolalpaca --out ${dir})`);
  return JSON.parse(readFileSync(file, "utf8")) as Array<ToolAlpacaApi & { Instances?: ToolAlpacaInstance[] }>;
}

/**
 * Judge `DIR/instances.json` as `evaluation.py` does and write `DIR/evaluation.json`; records already there are kept
 * (its `--continue_run`). An instance without steps is an error, not asked about. The judge gets each prompt as one user
 * message.
 *
 * @example const s = await judgeToolAlpaca("runs/ta", { judge: modelFromSpec("openai:gpt-4-0613@https://api.openai.com/v1", "summarizer", { temperature: 0.2 }) });
 */
export async function judgeToolAlpaca(dir: string, o: JudgeToolAlpacaOptions): Promise<ToolAlpacaScore> {
  const apis = readInstances(dir);
  const file = join(dir, EVALUATION_FILE);
  const fresh: ToolAlpacaStatistics = { num: 0, error_num: 0, process: { Yes: 0, No: 0, Uncertain: 0 }, response: { Yes: 0, No: 0, Uncertain: 0 }, both: 0 };
  const out: EvaluationFile = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as EvaluationFile) : { statistics: fresh };
  const stats = out.statistics;
  const total = apis.reduce((n, a) => n + (a.Instances?.length ?? 0), 0);
  const judged = (name: string) => new Set(((out[name] as JudgedRecord[] | undefined) ?? []).map((r) => r.id));
  const bar = progress("judge toolalpaca", total, apis.reduce((n, a) => n + Math.min(judged(a.Name).size, a.Instances?.length ?? 0), 0), o.progressStream);
  let calls = 0;
  for (const api of apis) {
    const seen = judged(api.Name);
    const records = ((out[api.Name] as JudgedRecord[] | undefined) ??= []);
    const instances = api.Instances ?? [];
    for (let id = 0; id < api.Instructions.length && id < instances.length; id++) {
      if (seen.has(id)) continue;
      stats.num += 1;
      const inst = instances[id]!;
      if (!inst.intermediate_steps?.length) {
        stats.error_num += 1;
        records.push({ id, input: "", output: "" });
      } else {
        const golden: GoldenStep[] = api.Golden_Answers?.[id] ?? [];
        const prompt = toolalpacaJudgePrompt({ documentation: api.NLDocumentation, instruction: api.Instructions[id]!, golden, steps: inst.intermediate_steps, output: inst.output });
        let text = "";
        let v = { process: "", response: "" };
        for (let i = 0; i < JUDGE_TRIES; i++) {
          calls++;
          text = contentText(await o.judge.invoke(prompt, { raw: false } as never));
          v = parseToolAlpacaVerdicts(text);
          if ((TOOLALPACA_VERDICTS as readonly string[]).includes(v.process) && (TOOLALPACA_VERDICTS as readonly string[]).includes(v.response)) break;
          if (i === JUDGE_TRIES - 1) o.onWarning?.(`${api.Name} instance ${id}: ${JUDGE_TRIES} judge replies without Yes / No / Uncertain verdicts (last: process "${v.process}", response "${v.response}"); counted as read`);
        }
        records.push({ id, input: [{ role: "user", content: prompt }], output: text, process_correctness: v.process, final_response_correctness: v.response });
        stats.process[v.process] = (stats.process[v.process] ?? 0) + 1;
        stats.response[v.response] = (stats.response[v.response] ?? 0) + 1;
        if (v.process === "Yes" && v.response === "Yes") stats.both += 1;
      }
      writeJson(file, out);
      bar.tick();
    }
  }
  bar.done();
  writeJson(file, out);
  return { statistics: stats, ...scoreOf(stats), judgeCalls: calls };
}

/** What `eval report` reads of an `eval toolalpaca` directory. */
export interface ToolAlpacaRun {
  name: string;
  dir: string;
  system: string;
  instances: number;
  statistics?: ToolAlpacaStatistics;
}

export function isToolAlpacaDir(dir: string): boolean {
  return existsSync(join(dir, SUMMARY_FILE));
}

export function loadToolAlpacaRun(dir: string, name: string): ToolAlpacaRun {
  const summary = JSON.parse(readFileSync(join(dir, SUMMARY_FILE), "utf8")) as { system: string; instances: number };
  const evaluation = join(dir, EVALUATION_FILE);
  const statistics = existsSync(evaluation) ? (JSON.parse(readFileSync(evaluation, "utf8")) as EvaluationFile).statistics : undefined;
  return { name, dir, system: summary.system, instances: summary.instances, ...(statistics ? { statistics } : {}) };
}
