/**
 * `eval math` as a library call: the paper's appendix D setting. The agent (α-UMi or the single-LLM baseline, math
 * templates by default) solves each question of a GSM8K-format file with the sandboxed `python` tool, and its final
 * answer is compared with the reference number. Resumable like the other evals: one SQLite row per finished question.
 */
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { UserError } from "../errors.js";
import { join, resolve } from "node:path";
import type { CodecSettings } from "../codec/index.js";
import { goldNumber, predictedNumber, sameNumber } from "../protocol/mathAnswers.js";
import { DEFAULTS } from "../configurable.js";
import { driveThread, threadConfig, threadGraph } from "../threadDriver.js";
import type { Role, RoleModel } from "../models/index.js";
import { roleModels, runRoles } from "../models/spec.js";
import type { AgentStateType, Turn } from "../state.js";
import { PythonSandbox, pythonTool, type PythonSandboxOptions } from "../tools/python.js";
import { modelLabel } from "./episodes.js";
import { progress } from "./progress.js";
import { runPool } from "./runner.js";
import { JsonRowStore } from "./store.js";

export interface MathItem {
  question: string;
  /** GSM8K's answer: the worked solution, then `#### NUMBER`. */
  answer: string;
}

/** Read `{"question", "answer"}` lines; a bad line is an error naming the file and line. */
export function readMathFile(path: string): MathItem[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const items: MathItem[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let v: Partial<MathItem>;
    try {
      v = JSON.parse(line) as Partial<MathItem>;
    } catch {
      throw new UserError(`${path}:${i + 1}: not a JSON line`);
    }
    if (typeof v.question !== "string" || typeof v.answer !== "string") throw new UserError(`${path}:${i + 1}: expected {"question": string, "answer": string}`);
    if (goldNumber(v.answer) === null) throw new UserError(`${path}:${i + 1}: the answer has no number after "####" (GSM8K format)`);
    items.push({ question: v.question, answer: v.answer });
  });
  if (items.length === 0) throw new UserError(`${path}: no questions`);
  return items;
}

export interface MathRow {
  index: number;
  status: "finished" | "gave_up" | "failed";
  reason: string | null;
  gold: number;
  predicted: number | null;
  correct: boolean;
  steps: number;
  ms: number;
  answer: string | null;
  turns: Turn[];
}

export interface EvalMathOptions {
  data: string;
  /** A spec string (`ollama:…`, `replay:…`) or a LangChain model per role. */
  models: Partial<Record<Role, string | RoleModel>>;
  singleLlm?: boolean;
  /** Templates and the other codec settings (default: the math templates). */
  settings?: CodecSettings;
  limit?: number;
  concurrency?: number;
  maxSteps?: number;
  out: string;
  python?: PythonSandboxOptions;
  progressStream?: NodeJS.WriteStream;
}

export interface EvalMathResult {
  rows: MathRow[];
  accuracy: number;
  correct: number;
  /** Questions taken from an earlier (killed) run of the same command. */
  resumed: number;
}


/**
 * Run the agent on every question (with one Python sandbox per worker) and report accuracy.
 *
 * @example
 * const r = await evalMath({ data: "gsm8k-test.jsonl", models: { planner: "ollama:p", caller: "ollama:c", summarizer: "ollama:s" }, out: "runs/math" });
 * console.log(`${r.correct}/${r.rows.length} = ${r.accuracy}`);
 */
export async function evalMath(o: EvalMathOptions): Promise<EvalMathResult> {
  const data = resolve(o.data);
  const items = readMathFile(data).slice(0, o.limit);
  const singleLlm = !!o.singleLlm;
  const codec: CodecSettings = { templates: "math", ...o.settings };
  const maxSteps = o.maxSteps ?? DEFAULTS.maxSteps;
  const models = roleModels(o.models, singleLlm, { options: { numCtx: codec.numCtx } });
  const settings = { data, singleLlm, ...codec, limit: o.limit ?? null, maxSteps, models: Object.fromEntries(runRoles(singleLlm).map((r) => [r, modelLabel(o.models[r])])) };
  const store = new JsonRowStore<MathRow>(o.out, "math.sqlite", settings);
  const sandboxes: PythonSandbox[] = [];
  try {
    const done = store.done();
    const resumed = done.size;
    const bar = progress("eval math", items.length, resumed, o.progressStream);
    const pending = items.map((_, i) => i).filter((i) => !done.has(i));
    const free: PythonSandbox[] = [];
    await runPool(pending, o.concurrency ?? 1, async (i) => {
      const sandbox = free.pop() ?? (sandboxes.push(new PythonSandbox(o.python)), sandboxes.at(-1)!);
      try {
        const row = await solve(items[i]!, i, { models, singleLlm, codec, maxSteps, sandbox });
        store.save(i, row);
        done.set(i, row);
        bar.tick();
      } finally {
        free.push(sandbox);
      }
    });
    bar.done();
    const rows = items.map((_, i) => done.get(i)!);
    const correct = rows.filter((r) => r.correct).length;
    const accuracy = correct / rows.length;
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, "math.json"), JSON.stringify(rows, null, 1));
    writeFileSync(join(o.out, "math-metrics.json"), JSON.stringify({ accuracy, correct, total: rows.length, settings }, null, 2));
    return { rows, accuracy, correct, resumed };
  } finally {
    store.close();
    await Promise.all(sandboxes.map((s) => s.close()));
  }
}

/** One question. Never throws: an error escaping the graph makes the row `failed` (and wrong). */
async function solve(item: MathItem, index: number, o: { models: Partial<Record<Role, RoleModel>>; singleLlm: boolean; codec: CodecSettings; maxSteps: number; sandbox: PythonSandbox }): Promise<MathRow> {
  const graph = threadGraph({ ...o.codec, tools: [pythonTool(o.sandbox)], models: o.models, singleLlm: o.singleLlm, maxSteps: o.maxSteps });
  const threadId = `math-${index}`;
  const t0 = performance.now();
  let error: string | null = null;
  try {
    await driveThread(graph, threadId, { instruction: item.question });
  } catch (e) {
    error = `run error: ${e instanceof Error ? e.message : String(e)}`;
  }
  const state = (await graph.getState(threadConfig(threadId))).values as Partial<AgentStateType>;
  const s = state.status;
  const status = error ? "failed" : s?.status === "finished" || s?.status === "gave_up" ? s.status : "failed";
  const gold = goldNumber(item.answer)!;
  const predicted = status === "finished" ? predictedNumber(state.answer) : null;
  return {
    index,
    status,
    reason: error ?? (status === "finished" ? null : (s?.reason ?? s?.status ?? "unset")),
    gold,
    predicted,
    correct: sameNumber(predicted, gold),
    steps: state.steps ?? 0,
    ms: performance.now() - t0,
    answer: state.answer ?? null,
    turns: state.turns ?? [],
  };
}
