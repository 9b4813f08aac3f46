import { TASKS, type DeltaChannelHistory } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { RunnableConfig } from "@langchain/core/runnables";
import Database from "better-sqlite3";
import { deltaChannelHistory, type ChainLink, type ChainStart, type HistoryStore, type StoredWrite } from "./deltaHistory.js";

// Channel names go into SQLite JSON paths ($.channel_values."name"); one that would need escaping takes LangGraph's walk.
const PLAIN_CHANNEL = /^[^"\\]+$/;

interface ChainRow {
  checkpoint_id: string;
  parent_id: string | null;
  found_before: number;
  has: number;
  type: string | null;
  checkpoint: Buffer | null;
}

interface WriteRow {
  checkpoint_id: string;
  task_id: string;
  channel: string;
  type: string | null;
  value: string | null;
}

/**
 * LangGraph's SqliteSaver with a delta-channel history read in two queries (a recursive walk of the ancestors that
 * reads only which channels each one holds, then the requested channels' writes) rather than one getTuple per
 * ancestor. Same tables, same results; `instanceof SqliteSaver` still holds.
 *
 * @example const saver = AlphaUmiSqliteSaver.fromConnString("runs.sqlite");
 */
export class AlphaUmiSqliteSaver extends SqliteSaver {
  private readonly statements = new Map<string, Database.Statement>();

  static override fromConnString(connStringOrLocalPath: string): AlphaUmiSqliteSaver {
    return new AlphaUmiSqliteSaver(new Database(connStringOrLocalPath));
  }

  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }): Promise<Record<string, DeltaChannelHistory>> {
    const { config, channels } = options;
    if (channels.length === 0) return {};
    // TASKS can be rebuilt from older checkpoints by getTuple (migratePendingSends); only LangGraph's walk does that.
    if (channels.includes(TASKS) || !channels.every((c) => PLAIN_CHANNEL.test(c))) return super.getDeltaChannelHistory(options);
    this.setup();
    const { thread_id, checkpoint_ns = "", checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
    const store = this.store(thread_id!, checkpoint_ns, channels);
    return (await deltaChannelHistory(channels, checkpoint_id || undefined, store)) ?? super.getDeltaChannelHistory(options);
  }

  private store(thread: string, ns: string, channels: string[]): HistoryStore {
    const paths = Object.fromEntries(channels.map((c, i) => [`p${i}`, `$.channel_values."${c}"`]));
    return {
      chain: async (start, foundBefore, full, limit) => {
        const from = "at" in start ? start.at : start.parentOf;
        const rows = this.statement(chainSql(start, channels.length)).all({ thread, ns, from, found: foundBefore, full, limit, ...paths }) as ChainRow[];
        return rows.map(
          (r): ChainLink => ({
            checkpointId: r.checkpoint_id,
            parentId: r.parent_id,
            foundBefore: r.found_before,
            has: r.has,
            seeds: async () => ((await this.serde.loadsTyped(r.type ?? "json", r.checkpoint!)) as { channel_values: Record<string, unknown> }).channel_values,
          }),
        );
      },
      writes: async (ids, chs) => {
        const rows = this.statement(WRITES_SQL).all({ thread, ns, ids: JSON.stringify(ids), chs: JSON.stringify(chs) }) as WriteRow[];
        return rows.map(
          (r): StoredWrite => ({
            checkpointId: r.checkpoint_id,
            taskId: r.task_id,
            channel: r.channel,
            // As getTuple reads a write: the value as text, "json" when untyped.
            load: () => this.serde.loadsTyped(r.type ?? "json", r.value ?? ""),
          }),
        );
      },
    };
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}

/**
 * Bit i set when the checkpoint's channel_values has key channels[i] (json_type is NULL only for an absent key, so a
 * stored null counts, as hasOwnProperty does); -1 for a checkpoint not stored as JSON text, which only a full
 * deserialisation can read.
 */
function hasSql(n: number): string {
  const bits = Array.from({ length: n }, (_, i) => `(json_type(CAST(c.checkpoint AS TEXT), :p${i}) IS NOT NULL) * ${1 << i}`);
  return `CASE WHEN c.type IS NULL OR c.type = 'json' THEN ${bits.join(" + ")} ELSE -1 END`;
}

function chainSql(start: ChainStart, n: number): string {
  const anchor =
    "at" in start
      ? ":from"
      : `(SELECT parent_checkpoint_id FROM checkpoints WHERE thread_id = :thread AND checkpoint_ns = :ns ${
          start.parentOf === undefined ? "ORDER BY checkpoint_id DESC LIMIT 1" : "AND checkpoint_id = :from"
        })`;
  // Each row carries the channels nearer ancestors seeded; the walk stops after the row that seeds the last one.
  return `
WITH RECURSIVE chain(depth, checkpoint_id, parent_id, found_before, has) AS (
  SELECT 0, c.checkpoint_id, c.parent_checkpoint_id, :found, ${hasSql(n)}
  FROM checkpoints c WHERE c.thread_id = :thread AND c.checkpoint_ns = :ns AND c.checkpoint_id = ${anchor}
  UNION ALL
  SELECT chain.depth + 1, c.checkpoint_id, c.parent_checkpoint_id, chain.found_before | chain.has, ${hasSql(n)}
  FROM chain JOIN checkpoints c ON c.thread_id = :thread AND c.checkpoint_ns = :ns AND c.checkpoint_id = chain.parent_id
  WHERE chain.has >= 0 AND (chain.found_before | chain.has) <> :full AND chain.depth + 1 < :limit
)
SELECT chain.checkpoint_id, chain.parent_id, chain.found_before, chain.has,
  CASE WHEN (chain.has & ~chain.found_before) <> 0 THEN c.type END AS type,
  CASE WHEN (chain.has & ~chain.found_before) <> 0 THEN c.checkpoint END AS checkpoint
FROM chain JOIN checkpoints c ON c.thread_id = :thread AND c.checkpoint_ns = :ns AND c.checkpoint_id = chain.checkpoint_id
ORDER BY chain.depth`;
}

// getTuple reads a checkpoint's writes through the (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) key.
const WRITES_SQL = `
SELECT checkpoint_id, task_id, channel, type, CAST(value AS TEXT) AS value FROM writes
WHERE thread_id = :thread AND checkpoint_ns = :ns
  AND checkpoint_id IN (SELECT value FROM json_each(:ids)) AND channel IN (SELECT value FROM json_each(:chs))
ORDER BY checkpoint_id, task_id, idx`;
