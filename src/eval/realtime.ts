/**
 * `eval realtime`: the paper's Table 2 runs. Every query of a ToolBench query file is run live (ReAct chain or DFSDT
 * search) over the ToolBench replay pack (with simulated APIs on a miss), and one answer file per query is written in
 * ToolBench's answer format. Resumable: a query with an answer file is skipped; a query whose run was killed resumes
 * from its thread in `checkpoints.sqlite` (a search replays its tree, no completed tool call runs again).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { checkpointerFrom } from "../checkpoint.js";
import type { Role, RoleModel } from "../models/generate.js";
import { runAgent, type RunOptions } from "../run.js";
import type { SearchNode, SearchOptions } from "../search/index.js";
import type { ToolDoc, Turn } from "../state.js";
import { readToolBenchFile } from "../toolbench.js";
import { toolbenchReplayTools, type MissPolicy } from "../tools/toolbench.js";
import { parseJsonFile } from "./records.js";
import { runPool } from "./runner.js";

const QuerySchema = z.union([
  z.object({ query: z.string().min(1), query_id: z.union([z.string(), z.number()]).optional(), tools: z.array(z.string()).optional() }),
  z.object({ instruction: z.string().min(1), query_id: z.union([z.string(), z.number()]).optional(), tools: z.array(z.object({ Name: z.string() })) }),
]);

export interface RealtimeQuery {
  id: string;
  query: string;
  /** The tool names this query may use (all of the pack when the file names none). */
  tools?: string[];
}

/**
 * Read a query file: `[{query, query_id?, tools?: [NAME…]}]`, or ToolBench-format dialogs (`instruction` and `tools`
 * documents). Ids default to the record's position; errors name the file and record.
 */
export function readQueries(path: string): RealtimeQuery[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`${path}: no such query file`);
  }
  const data = parseJsonFile(path, text);
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of {query, query_id?, tools?} records`);
  const seen = new Set<string>();
  return data.map((d, i) => {
    const r = QuerySchema.safeParse(d);
    if (!r.success) throw new Error(`${path}: record ${i}: expected {query, query_id?, tools?: [names]} or a ToolBench dialog {instruction, tools}`);
    const v = r.data;
    const id = String(v.query_id ?? i);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`${path}: record ${i}: query_id "${id}" must be letters, digits, _ . or -`);
    if (seen.has(id)) throw new Error(`${path}: record ${i}: query_id "${id}" appears twice`);
    seen.add(id);
    if ("query" in v) return { id, query: v.query, ...(v.tools ? { tools: v.tools } : {}) };
    return { id, query: v.instruction, tools: v.tools.map((t) => t.Name) };
  });
}

/** One query's result, in ToolBench's answer format (`answer_generation`), plus the tree of a search. */
export interface AnswerFile {
  query_id: string;
  query: string;
  available_tools: ToolDoc[];
  answer_generation: {
    valid_data: boolean;
    final_answer: string;
    finish_type: "give_answer" | "give_up";
    method: "CoT@1" | "DFS_woFilter_w2";
    /** Model queries (planner, then caller or summarizer). */
    query_count: number;
    model_calls: number;
    /** The answering chain (or the chain that ended the run): τ, a stage-2 dialog. */
    chain: Turn[];
  };
  tree: SearchNode[] | null;
  answer_node: number | null;
  thread_id: string;
}

export interface RealtimeOptions {
  data: string;
  /** The ToolBench-format file of the replay pack. */
  toolsFile: string;
  miss?: MissPolicy;
  search: SearchOptions;
  models: Partial<Record<Role, string | RoleModel>>;
  singleLlm?: boolean;
  out: string;
  concurrency?: number;
  limit?: number;
  /** Anything else a run takes (templates, context policy, timeouts, max steps of a ReAct chain). */
  run?: Partial<Omit<RunOptions, "instruction" | "tools" | "models" | "singleLlm" | "checkpointer" | "threadId" | "search">>;
  onAnswer?: (a: AnswerFile, resumed: boolean) => void;
}

export interface RealtimeResult {
  answers: AnswerFile[];
  /** Queries answered by an earlier run (their files were kept). */
  skipped: number;
  failures: Array<{ id: string; error: string }>;
}

const answerPath = (out: string, id: string) => join(out, `${id}.json`);

/** Read every answer file of an `eval realtime` output directory, in query-id order. */
export function readAnswerDir(dir: string): AnswerFile[] {
  if (!existsSync(dir)) throw new Error(`${dir}: no such answer directory`);
  const files = readdirSync(dir).filter((f) => f.endsWith(".json") && !/^(pass|prefer-.*)\.json$/.test(f));
  const answers = files.map((f) => {
    const a = parseJsonFile(join(dir, f), readFileSync(join(dir, f), "utf8")) as AnswerFile;
    if (!a?.answer_generation || typeof a.query !== "string") throw new Error(`${join(dir, f)}: not an answer file written by eval realtime`);
    return a;
  });
  if (answers.length === 0) throw new Error(`${dir}: no answer files (write them with alpha-umi eval realtime --out ${dir})`);
  return answers.sort((a, b) => a.query_id.localeCompare(b.query_id, "en", { numeric: true }));
}

function modelTurns(turns: readonly Turn[]): number {
  return turns.filter((t) => t.from === "assistant" || t.from === "caller" || t.from === "conclusion").length;
}

/**
 * Run every query not yet answered in `out`, at most `concurrency` at a time, writing each answer file as it finishes.
 *
 * @example await evalRealtime({ data: "queries.json", toolsFile: "tools.json", search: { search: "dfsdt" }, models, out: "runs/dfsdt" })
 */
export async function evalRealtime(opts: RealtimeOptions): Promise<RealtimeResult> {
  const queries = readQueries(opts.data).slice(0, opts.limit);
  const pack = toolbenchReplayTools(readToolBenchFile(opts.toolsFile), opts.toolsFile, { miss: opts.miss });
  for (const q of queries)
    for (const name of q.tools ?? []) if (!pack.some((t) => t.doc.Name === name)) throw new Error(`${opts.data}: query ${q.id} names tool "${name}", which ${opts.toolsFile} does not document`);
  mkdirSync(opts.out, { recursive: true });
  const checkpointer = checkpointerFrom(join(opts.out, "checkpoints.sqlite"));
  const answers = new Map<string, AnswerFile>();
  const failures: RealtimeResult["failures"] = [];
  let skipped = 0;
  const todo = queries.filter((q) => {
    if (!existsSync(answerPath(opts.out, q.id))) return true;
    answers.set(q.id, JSON.parse(readFileSync(answerPath(opts.out, q.id), "utf8")) as AnswerFile);
    skipped++;
    return false;
  });
  const dfsdt = opts.search.search === "dfsdt";
  await runPool(todo, opts.concurrency ?? 1, async (q) => {
    const tools = q.tools ? pack.filter((t) => q.tools!.includes(t.doc.Name)) : pack;
    const threadId = `realtime-${q.id}`;
    // A ReAct thread that exists is resumed as is: its instruction would otherwise be read as a follow-up question.
    const started = !dfsdt && (await checkpointer.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } })) !== undefined;
    try {
      const r = await runAgent({
        ...opts.run,
        instruction: started ? undefined : q.query,
        tools,
        models: opts.models,
        singleLlm: opts.singleLlm,
        checkpointer,
        threadId,
        search: dfsdt ? opts.search : undefined,
      });
      if (r.state.status.status === "failed" && !r.search) {
        failures.push({ id: q.id, error: r.state.status.reason ?? "failed" });
        return;
      }
      const answered = r.search ? r.search.finishType === "give_answer" : r.state.status.status === "finished";
      const file: AnswerFile = {
        query_id: q.id,
        query: q.query,
        available_tools: tools.map((t) => t.doc),
        answer_generation: {
          valid_data: true,
          final_answer: answered ? ((r.search ? r.search.answer : r.state.answer) ?? "") : "",
          finish_type: answered ? "give_answer" : "give_up",
          method: dfsdt ? "DFS_woFilter_w2" : "CoT@1",
          query_count: r.search ? r.search.queries : r.state.steps,
          model_calls: r.search ? r.search.modelCalls : modelTurns(r.state.turns),
          chain: r.state.turns,
        },
        tree: r.search?.tree ?? null,
        answer_node: r.search?.answerNode ?? null,
        thread_id: threadId,
      };
      const path = answerPath(opts.out, q.id);
      writeFileSync(path + ".tmp", JSON.stringify(file, null, 2));
      renameSync(path + ".tmp", path);
      answers.set(q.id, file);
      opts.onAnswer?.(file, false);
    } catch (err) {
      failures.push({ id: q.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  return { answers: queries.flatMap((q) => answers.get(q.id) ?? []), skipped, failures };
}
