import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { AutoSetupPostgresSaver, closeCheckpointer, existingCheckpointerFrom, storedState } from "../checkpoint/checkpointers.js";
import { maskLocation } from "../secrets.js";
import { UserError } from "../errors.js";
import type { RunStatus } from "../state.js";
import { SkipLog } from "./io.js";
import { checkRecord, Stage2RecordSchema, type Stage2Record } from "./records.js";

export interface ExportOptions {
  /** A SQLite checkpoint file (as `SqliteSaver.fromConnString` writes it) or `postgres://…[?schema=NAME]`. */
  checkpoints: string;
  /** Keep only threads whose run ended with one of these statuses; all threads when absent. */
  status?: readonly RunStatus["status"][];
  /**
   * Every branch of a thread instead of its latest checkpoint: one dialog per leaf checkpoint (no checkpoint forks from
   * it), e.g. every chain a DFSDT search tried (src/search). The status filter applies to each leaf.
   */
  branches?: boolean;
}

export interface ExportResult {
  /** One stage-2 dialog per kept thread, in thread-id order: `{tools, instruction, conversations: τ}`. */
  records: Stage2Record[];
  threads: number;
  /** Threads left out, by reason. */
  skips: SkipLog;
}

/**
 * The data flywheel: every thread's latest checkpoint holds a run's τ, which is exactly a stage-2 conversation.
 * Threads are read one at a time (latest checkpoint only), so memory holds the kept dialogs, not whole histories.
 *
 * @example const { records } = await exportCheckpoints({ checkpoints: "postgres://127.0.0.1/test?schema=prod", status: ["finished"] });
 */
export async function exportCheckpoints(opts: ExportOptions): Promise<ExportResult> {
  const where = maskLocation(opts.checkpoints);
  const saver = existingCheckpointerFrom(opts.checkpoints);
  try {
    const records: Stage2Record[] = [];
    const skips = new SkipLog();
    const ids = await threadIds(saver, where);
    for (const threadId of ids) {
      const config = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      for await (const tuple of opts.branches ? await leafCheckpoints(saver, config) : saver.list(config, { limit: 1 })) {
        const values = await storedState(saver, tuple.config);
        const status = (values.status as RunStatus | undefined)?.status ?? "running";
        if (opts.status && !opts.status.includes(status)) {
          skips.add(`thread_status_${status}`);
          continue;
        }
        const dialog = { tools: values.tools, instruction: values.instruction, conversations: values.turns };
        const record = opts.branches ? `${threadId}@${tuple.checkpoint.id}` : threadId;
        records.push(checkRecord<Stage2Record>(Stage2RecordSchema, dialog, { file: where, record }));
      }
    }
    return { records, threads: ids.length, skips };
  } finally {
    await closeCheckpointer(saver);
  }
}

/** The checkpoints of a thread that no other checkpoint forks from, oldest first. */
async function leafCheckpoints(saver: BaseCheckpointSaver, config: { configurable: { thread_id: string; checkpoint_ns: string } }) {
  const all = [];
  const parents = new Set<string>();
  for await (const t of saver.list(config)) {
    all.push(t);
    const parent = t.parentConfig?.configurable?.checkpoint_id as string | undefined;
    if (parent) parents.add(parent);
  }
  return all.filter((t) => !parents.has(t.checkpoint.id)).sort((a, b) => (a.checkpoint.id < b.checkpoint.id ? -1 : 1));
}

async function threadIds(saver: BaseCheckpointSaver, where: string): Promise<string[]> {
  if (saver instanceof AutoSetupPostgresSaver) {
    const found = await saver.hasTables().catch((err: Error) => {
      throw new UserError(`${where}: cannot read checkpoints (${err.message})`);
    });
    if (!found) throw new UserError(`${where}: no LangGraph checkpoints in schema "${saver.schema}"`);
    return saver.threadIds();
  }
  if (!(saver instanceof SqliteSaver)) throw new UserError(`${where}: export reads a SQLite file or postgres://…`);
  try {
    const rows = saver.db.prepare("SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = '' ORDER BY thread_id").all() as { thread_id: string }[];
    return rows.map((r) => r.thread_id);
  } catch (err) {
    throw new UserError(`${where}: not a LangGraph SQLite checkpoint file (${(err as Error).message})`);
  }
}
