/**
 * Judged real-time metrics: ToolEval's pass rate (with the Unsure coin), StableToolBench's solvable pass rate (mean
 * and standard deviation over judge runs), and the win rate against a reference run. Judges are any model; their
 * replies are read strictly (an unparsable reply is asked again, then counted as Unsure with a warning).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { contentText, type RoleModel } from "../models/generate.js";
import {
  judgeAnswerPrompt,
  judgePreferPrompt,
  judgeProcessPrompt,
  judgeSolvablePrompt,
  JUDGE_SCHEMAS,
  parseAnswerStatus,
  parsePreference,
  parseTaskStatus,
  renderTrajectory,
  type AnswerStatus,
  type Preference,
  type TaskStatus,
} from "../protocol/judgesAndSimulator.js";
import { readAnswerDir, type AnswerFile } from "./realtime.js";

/** Tries per judge question before its reply counts as Unsure. */
const JUDGE_TRIES = 3;

export interface JudgeOptions {
  judge: RoleModel;
  /** Judge samples per query (ToolBench 4; α-UMi used 7). */
  times?: number;
  /** Seed of the coin that decides Unsure samples and of the answer order shown to the preference judge. */
  seed?: number;
  onWarning?: (message: string) => void;
}

/** A deterministic coin per (seed, key): the same decisions whatever the order queries are judged in. */
export function seededCoin(seed: number, key: string): boolean {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  // mulberry32 finaliser
  h = Math.imul(h ^ (h >>> 15), h | 1);
  h ^= h + Math.imul(h ^ (h >>> 7), h | 61);
  return ((h ^ (h >>> 14)) >>> 0) % 2 === 0;
}

class Judge {
  calls = 0;
  constructor(private readonly o: JudgeOptions) {}

  /** Ask until the reply parses (at most 3 times); else `fallback`, with a warning. */
  async ask<T>(what: string, prompt: string, schema: object, parse: (reply: string) => T | null, fallback: T): Promise<T> {
    let last = "";
    for (let i = 0; i < JUDGE_TRIES; i++) {
      this.calls++;
      last = contentText(await this.o.judge.invoke(prompt, { format: schema } as never));
      const v = parse(last);
      if (v !== null) return v;
    }
    this.o.onWarning?.(`${what}: ${JUDGE_TRIES} unparsable judge replies (last: ${JSON.stringify(last.slice(0, 200))}); counted as ${String(fallback)}`);
    return fallback;
  }
}

export interface PassSample {
  answerStatus: AnswerStatus;
  processStatus?: AnswerStatus;
  taskStatus?: TaskStatus;
  /** pass / fail as judged, or decided by the coin (`coin` set). */
  passed: boolean;
  coin?: boolean;
  /** Why no judge was asked (no answer, or a give-up). */
  skipped?: string;
}

export interface QueryPass {
  query_id: string;
  /** The query file the answer came from (`G1_instruction`); the directory's name for answers that name none. */
  group: string;
  passed: boolean;
  passes: number;
  fails: number;
  samples: PassSample[];
}

export interface SolvablePassRate {
  mean: number;
  std: number;
  runs: number[];
}

/** One query file's rates, as StableToolBench's tables report each test set (G1_instruction, G1_category, …). */
export interface GroupPass {
  group: string;
  queries: number;
  passRate: number;
  solvablePassRate: SolvablePassRate;
}

export interface PassResult {
  queries: QueryPass[];
  passRate: number;
  /** StableToolBench's SoPR: per judge run the mean answer score (Solved 1, Unsure 0.5, Unsolved 0), then mean and std. */
  solvablePassRate: SolvablePassRate;
  /** The same per query file, in the order they first appear. */
  groups: GroupPass[];
  judgeCalls: number;
  times: number;
  seed: number;
}

const SCORE: Record<AnswerStatus, number> = { Solved: 1, Unsure: 0.5, Unsolved: 0 };

function noAnswer(a: AnswerFile): string | undefined {
  if (a.answer_generation.finish_type !== "give_answer") return "gave up";
  if (a.answer_generation.final_answer.trim() === "") return "empty answer";
  return undefined;
}

async function judgeSample(j: Judge, a: AnswerFile, sample: number, seed: number): Promise<PassSample> {
  const skipped = noAnswer(a);
  if (skipped) return { answerStatus: "Unsolved", passed: false, skipped };
  const answer = a.answer_generation.final_answer;
  const where = `query ${a.query_id} sample ${sample}`;
  const answerStatus = await j.ask(`${where} answer check`, judgeAnswerPrompt(a.query, answer), JUDGE_SCHEMAS.answer, parseAnswerStatus, "Unsure" as AnswerStatus);
  let status = answerStatus;
  const out: PassSample = { answerStatus, passed: false };
  if (status === "Unsure") {
    status = await j.ask(`${where} trajectory check`, judgeProcessPrompt(a.query, answer, renderTrajectory(a.answer_generation.chain)), JUDGE_SCHEMAS.answer, parseAnswerStatus, "Unsure" as AnswerStatus);
    out.processStatus = status;
  }
  if (status === "Solved") return { ...out, passed: true };
  const task = await j.ask(`${where} solvability check`, judgeSolvablePrompt(a.query, a.available_tools), JUDGE_SCHEMAS.solvable, parseTaskStatus, "Unsure" as TaskStatus);
  out.taskStatus = task;
  if (task === "Unsolvable") return { ...out, passed: true };
  if (status === "Unsolved" && task === "Solvable") return out;
  const coin = seededCoin(seed, `${a.query_id}#${sample}`);
  return { ...out, passed: coin, coin };
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
/** Population standard deviation (numpy's default), as StableToolBench reports it. */
const std = (xs: readonly number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

const passRateOf = (queries: readonly QueryPass[]) => mean(queries.map((q) => (q.passed ? 1 : 0)));

function solvablePassRateOf(queries: readonly QueryPass[], times: number): SolvablePassRate {
  const runs = Array.from({ length: times }, (_, s) => mean(queries.map((q) => SCORE[q.samples[s]!.answerStatus])));
  return { mean: mean(runs), std: std(runs), runs };
}

/**
 * Judge the answers of an `eval realtime` directory: pass rate and solvable pass rate. The result is also written to
 * `DIR/pass.json`, which `eval prefer` and `eval report` read.
 *
 * @example const r = await evalPass("runs/dfsdt", { judge: modelFromSpec("replay:judge.jsonl", "summarizer"), times: 4, seed: 0 });
 */
export async function evalPass(dir: string, opts: JudgeOptions): Promise<PassResult> {
  const answers = readAnswerDir(dir);
  const times = opts.times ?? 4;
  const seed = opts.seed ?? 0;
  const j = new Judge(opts);
  const queries: QueryPass[] = [];
  for (const a of answers) {
    const samples: PassSample[] = [];
    for (let s = 0; s < times; s++) samples.push(await judgeSample(j, a, s, seed));
    const passes = samples.filter((x) => x.passed).length;
    const fails = samples.length - passes;
    queries.push({ query_id: a.query_id, group: a.group ?? (basename(dir.replace(/[\\/]+$/, "")) || dir), passed: passes >= fails, passes, fails, samples });
  }
  const groups = [...new Set(queries.map((q) => q.group))].map((group) => {
    const qs = queries.filter((q) => q.group === group);
    return { group, queries: qs.length, passRate: passRateOf(qs), solvablePassRate: solvablePassRateOf(qs, times) };
  });
  const result: PassResult = {
    queries,
    passRate: passRateOf(queries),
    solvablePassRate: solvablePassRateOf(queries, times),
    groups,
    judgeCalls: j.calls,
    times,
    seed,
  };
  writeFileSync(join(dir, "pass.json"), JSON.stringify(result, null, 2));
  return result;
}

export type Outcome = "win" | "tie" | "loss";

export interface PreferResult {
  reference: string;
  wins: number;
  ties: number;
  losses: number;
  /** (wins + ties / 2) / queries compared. */
  winRate: number;
  queries: Array<{ query_id: string; outcome: Outcome; by: "pass" | "judge" }>;
  /** Queries of DIR with no answer in REF_DIR (left out). */
  unmatched: string[];
  judgeCalls: number;
}

/** A directory's pass results: its `pass.json` when `eval pass` wrote one, else judged now (and written). */
async function passOf(dir: string, opts: JudgeOptions): Promise<Map<string, boolean>> {
  const file = join(dir, "pass.json");
  const r = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as PassResult) : await evalPass(dir, opts);
  return new Map(r.queries.map((q) => [q.query_id, q.passed]));
}

/**
 * Win rate of DIR against REF_DIR over the queries both answered: a pass beats a fail without a judge call; otherwise
 * the judge compares the two attempts, shown in a seeded random order. Written to `DIR/prefer-{REF name}.json`.
 *
 * @example const r = await evalPrefer("runs/dfsdt", "runs/react", { judge }); // r.wins, r.ties, r.losses
 */
export async function evalPrefer(dir: string, refDir: string, opts: JudgeOptions): Promise<PreferResult> {
  const ours = readAnswerDir(dir);
  const refs = new Map(readAnswerDir(refDir).map((a) => [a.query_id, a]));
  const passA = await passOf(dir, opts);
  const passB = await passOf(refDir, opts);
  const j = new Judge(opts);
  const seed = opts.seed ?? 0;
  const queries: PreferResult["queries"] = [];
  const unmatched: string[] = [];
  for (const a of ours) {
    const b = refs.get(a.query_id);
    if (!b) {
      unmatched.push(a.query_id);
      continue;
    }
    const pa = passA.get(a.query_id) ?? false;
    const pb = passB.get(a.query_id) ?? false;
    if (pa !== pb) {
      queries.push({ query_id: a.query_id, outcome: pa ? "win" : "loss", by: "pass" });
      continue;
    }
    const attempt = (x: AnswerFile) => ({ answer: x.answer_generation.final_answer, trajectory: renderTrajectory(x.answer_generation.chain) });
    const oursFirst = seededCoin(seed, `prefer#${a.query_id}`);
    const [first, second] = oursFirst ? [attempt(a), attempt(b)] : [attempt(b), attempt(a)];
    const pref = await j.ask(`query ${a.query_id} preference`, judgePreferPrompt(a.query, first, second), JUDGE_SCHEMAS.prefer, parsePreference, "tie" as Preference);
    const outcome: Outcome = pref === "tie" ? "tie" : (pref === "A") === oursFirst ? "win" : "loss";
    queries.push({ query_id: a.query_id, outcome, by: "judge" });
  }
  const count = (o: Outcome) => queries.filter((q) => q.outcome === o).length;
  const [wins, ties, losses] = [count("win"), count("tie"), count("loss")];
  const result: PreferResult = {
    reference: refDir,
    wins,
    ties,
    losses,
    winRate: queries.length ? (wins + ties / 2) / queries.length : 0,
    queries,
    unmatched,
    judgeCalls: j.calls,
  };
  const name = refDir.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || "ref";
  writeFileSync(join(dir, `prefer-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`), JSON.stringify(result, null, 2));
  return result;
}
