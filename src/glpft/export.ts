import { existsSync } from "node:fs";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { UserError } from "../errors.js";
import type { RunStatus } from "../state.js";
import { SkipLog } from "./io.js";
import { checkRecord, Stage2RecordSchema, type Stage2Record } from "./records.js";

export interface ExportOptions {
  /** Path of the SQLite file written by `SqliteSaver.fromConnString`. */
  checkpoints: string;
  /** Keep only threads whose run ended with one of these statuses; all threads when absent. */
  status?: readonly RunStatus["status"][];
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
 */
export async function exportCheckpoints(opts: ExportOptions): Promise<ExportResult> {
  const file = opts.checkpoints;
  // fromConnString would silently create an empty database.
  if (!existsSync(file)) throw new UserError(`${file}: no such checkpoint file`);
  const saver = SqliteSaver.fromConnString(file);
  try {
    const records: Stage2Record[] = [];
    const skips = new SkipLog();
    const ids = threadIds(saver, file);
    for (const threadId of ids) {
      const config = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      for await (const tuple of saver.list(config, { limit: 1 })) {
        const values = tuple.checkpoint.channel_values as Record<string, unknown>;
        const status = (values.status as RunStatus | undefined)?.status ?? "running";
        if (opts.status && !opts.status.includes(status)) {
          skips.add(`thread_status_${status}`);
          continue;
        }
        const dialog = { tools: values.tools, instruction: values.instruction, conversations: values.turns };
        records.push(checkRecord<Stage2Record>(Stage2RecordSchema, dialog, { file, record: threadId }));
      }
    }
    return { records, threads: ids.length, skips };
  } finally {
    saver.db.close();
  }
}

function threadIds(saver: SqliteSaver, file: string): string[] {
  try {
    const rows = saver.db.prepare("SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = '' ORDER BY thread_id").all() as { thread_id: string }[];
    return rows.map((r) => r.thread_id);
  } catch (err) {
    throw new UserError(`${file}: not a LangGraph SQLite checkpoint file (${(err as Error).message})`);
  }
}
