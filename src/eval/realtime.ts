/**
 * `eval realtime`: the paper's Table 2 runs. Every query of a ToolBench query file is run live (ReAct chain or DFSDT
 * search) over the ToolBench replay pack or ToolBench's tool environment (a StableToolBench server, or its cache with
 * simulated APIs on a miss), and one answer file per query is written in
 * ToolBench's answer format. Resumable: a query with an answer file is skipped; a query whose run was killed resumes
 * from its thread in `checkpoints.sqlite` (a search replays its tree, no completed tool call runs again).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { checkpointerFrom } from "../checkpoint/checkpointers.js";
import type { Role, RoleModel } from "../models/generate.js";
import { runAgent, type RunOptions } from "../runAgent.js";
import type { SearchNode, SearchOptions } from "../search/index.js";
import type { ToolDoc, Turn } from "../state.js";
import { readToolBenchFile } from "../toolbenchDialogs.js";
import type { ToolSpec } from "../tools/spec.js";
import { toolbenchReplayTools, type MissPolicy } from "../tools/toolbenchReplay.js";
import { openToolEnv, type ApiRef } from "../tools/toolenv.js";
import { parseJsonFile } from "../protocol/pyjson-loads.js";
import { runPool } from "./runner.js";
import { UserError } from "../errors.js";

const QueryIdSchema = z.union([z.string(), z.number()]).optional();
/** ToolBench's and StableToolBench's query files (G1/G2/G3 instruction and solvable queries); other keys are ignored. */
const ToolBenchQuerySchema = z.object({
  query: z.string().min(1),
  query_id: QueryIdSchema,
  api_list: z.array(z.object({ category_name: z.string().min(1), tool_name: z.string().min(1), api_name: z.string().min(1) })).min(1),
});
const QuerySchema = z.union([
  z.object({ query: z.string().min(1), query_id: QueryIdSchema, tools: z.array(z.string()).optional() }),
  z.object({ instruction: z.string().min(1), query_id: QueryIdSchema, tools: z.array(z.object({ Name: z.string() })) }),
]);

export interface RealtimeQuery {
  id: string;
  query: string;
  /** The tool names this query may use (all of the pack when the file names none). */
  tools?: string[];
  /** ToolBench's `api_list`: the APIs of a tool environment this query runs on. */
  apis?: ApiRef[];
}

/**
 * Read a query file: ToolBench's `[{query, query_id, api_list: [{category_name, tool_name, api_name}], …}]`,
 * `[{query, query_id?, tools?: [NAME…]}]`, or ToolBench-format dialogs (`instruction` and `tools` documents). Ids
 * default to the record's position; errors name the file and record.
 */
export function readQueries(path: string): RealtimeQuery[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path}: no such query file`);
  }
  const data = parseJsonFile(path, text);
  if (!Array.isArray(data)) throw new UserError(`${path}: expected a JSON array of {query, query_id?, tools?} records`);
  const seen = new Set<string>();
  const queryId = (raw: string | number | undefined, i: number): string => {
    const id = String(raw ?? i);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new UserError(`${path}: record ${i}: query_id "${id}" must be letters, digits, _ . or -`);
    if (seen.has(id)) throw new UserError(`${path}: record ${i}: query_id "${id}" appears twice`);
    seen.add(id);
    return id;
  };
  return data.map((d, i) => {
    // A record with an api_list is a ToolBench query: a fault in it is named, never read as a query without its tools.
    if (d && typeof d === "object" && "api_list" in d) {
      const t = ToolBenchQuerySchema.safeParse(d);
      if (!t.success) {
        const issue = t.error.issues[0]!;
        throw new UserError(`${path}: record ${i}: expected a ToolBench query {query, query_id, api_list: [{category_name, tool_name, api_name}]}; field ${issue.path.join(".")}: ${issue.message}`);
      }
      return { id: queryId(t.data.query_id, i), query: t.data.query, apis: t.data.api_list };
    }
    const r = QuerySchema.safeParse(d);
    if (!r.success) throw new UserError(`${path}: record ${i}: expected a ToolBench query {query, query_id, api_list: [{category_name, tool_name, api_name}]}, {query, query_id?, tools?: [names]} or a ToolBench dialog {instruction, tools}`);
    const v = r.data;
    const id = queryId(v.query_id, i);
    if ("query" in v) return { id, query: v.query, ...(v.tools ? { tools: v.tools } : {}) };
    return { id, query: v.instruction, tools: v.tools.map((t) => t.Name) };
  });
}

/** One query's result, in ToolBench's answer format (`answer_generation`), plus the tree of a search. */
export interface AnswerFile {
  query_id: string;
  /** The query file's name without `.json` (`G1_instruction`): the group `eval pass` reports SoPR by. */
  group?: string;
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
  /**
   * `toolbench:FILE` (the replay pack: ToolBench-format dialogs) or `toolenv:DIR[@URL|+cache:CACHE_DIR]` (ToolBench's
   * tool environment through a StableToolBench server or its response cache; each query runs on its own `api_list`).
   */
  tools: string;
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
  if (!existsSync(dir)) throw new UserError(`${dir}: no such answer directory`);
  const files = readdirSync(dir).filter((f) => f.endsWith(".json") && !/^(pass|prefer-.*)\.json$/.test(f));
  const answers = files.map((f) => {
    const a = parseJsonFile(join(dir, f), readFileSync(join(dir, f), "utf8")) as AnswerFile;
    if (!a?.answer_generation || typeof a.query !== "string") throw new UserError(`${join(dir, f)}: not an answer file written by eval realtime`);
    return a;
  });
  if (answers.length === 0) throw new UserError(`${dir}: no answer files (write them with alpha-umi eval realtime --out ${dir})`);
  return answers.sort((a, b) => a.query_id.localeCompare(b.query_id, "en", { numeric: true }));
}

function modelTurns(turns: readonly Turn[]): number {
  return turns.filter((t) => t.from === "assistant" || t.from === "caller" || t.from === "conclusion").length;
}

/**
 * Each query's tools, all resolved before any run starts (a query naming a tool or API the source lacks fails here):
 * a pack's tools named by the query (all of them when it names none), or a tool environment's APIs of its `api_list`.
 */
async function queryTools(opts: RealtimeOptions, queries: readonly RealtimeQuery[]): Promise<(q: RealtimeQuery) => ToolSpec[]> {
  const at = opts.tools.indexOf(":");
  const [kind, value] = [opts.tools.slice(0, Math.max(at, 0)), opts.tools.slice(at + 1)];
  if (kind === "toolbench" && value) {
    const pack = toolbenchReplayTools(readToolBenchFile(value), value, { miss: opts.miss });
    for (const q of queries) {
      if (q.apis) throw new UserError(`${opts.data}: query ${q.id} has an api_list: run ToolBench query files on a tool environment (--tools toolenv:DIR…)`);
      for (const name of q.tools ?? []) if (!pack.some((t) => t.doc.Name === name)) throw new UserError(`${opts.data}: query ${q.id} names tool "${name}", which ${value} does not document`);
    }
    return (q) => (q.tools ? pack.filter((t) => q.tools!.includes(t.doc.Name)) : pack);
  }
  if (kind === "toolenv" && value) {
    const env = await openToolEnv(value, opts.miss);
    const byQuery = new Map<string, ToolSpec[]>();
    for (const q of queries) {
      if (!q.apis) throw new UserError(`${opts.data}: query ${q.id} has no api_list (a toolenv: source runs each query on its own api_list)`);
      byQuery.set(q.id, env.forApiList(q.apis, `${opts.data}: query ${q.id}`));
    }
    return (q) => byQuery.get(q.id)!;
  }
  throw new UserError(`--tools: expected toolbench:FILE or toolenv:DIR[@URL|+cache:CACHE_DIR], got "${opts.tools}"`);
}

/**
 * Run every query not yet answered in `out`, at most `concurrency` at a time, writing each answer file as it finishes.
 *
 * @example await evalRealtime({ data: "G1_instruction.json", tools: "toolenv:toolenv/tools@http://127.0.0.1:8080", search: { search: "dfsdt" }, models, out: "runs/G1_instruction" })
 */
export async function evalRealtime(opts: RealtimeOptions): Promise<RealtimeResult> {
  const queries = readQueries(opts.data).slice(0, opts.limit);
  const toolsOf = await queryTools(opts, queries);
  const group = basename(opts.data).replace(/\.json$/i, "");
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
    const tools = toolsOf(q);
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
        group,
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
