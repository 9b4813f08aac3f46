import type { DeltaChannelHistory, SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Pool } from "pg";
import { deltaChannelHistory, type ChainLink, type ChainStart, type HistoryStore, type StoredWrite } from "./deltaHistory.js";

/** One ancestor, once per channel it seeds (seed_* null when it seeds none). */
interface ChainRow {
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  found_before: number;
  has: number;
  seed_channel: string | null;
  seed_type: string | null;
  seed_blob: Buffer | null;
}

interface WriteRow {
  checkpoint_id: string;
  task_id: string;
  channel: string;
  type: string;
  blob: Buffer;
}

/**
 * `getDeltaChannelHistory` for LangGraph's PostgresSaver tables in schema `schema`, in two round trips (more only when
 * a seed lies more than CHAIN_PAGE ancestors back) instead of one getTuple per ancestor. Undefined where it cannot
 * answer exactly (too many channels): the caller runs LangGraph's walk.
 *
 * @example const h = await postgresDeltaChannelHistory(pool, "public", serde, { config, channels: ["turns"] });
 */
export async function postgresDeltaChannelHistory(
  pool: Pool,
  schema: string,
  serde: SerializerProtocol,
  options: { config: RunnableConfig; channels: string[] },
): Promise<Record<string, DeltaChannelHistory> | undefined> {
  const { config, channels } = options;
  const { thread_id, checkpoint_ns = "", checkpoint_id } = (config.configurable ?? {}) as Record<string, string | undefined>;
  const decoder = new TextDecoder();
  const store: HistoryStore = {
    chain: async (start, foundBefore, full, limit) => {
      const from = "at" in start ? start.at : start.parentOf;
      const args: unknown[] = [thread_id, checkpoint_ns, channels, foundBefore, full, limit];
      if (from !== undefined) args.push(from);
      const { rows } = await pool.query<ChainRow>(chainSql(schema, start, channels.length), args);
      const links = new Map<string, ChainLink>();
      const seeds = new Map<string, Array<[string, string, Buffer]>>();
      for (const r of rows) {
        if (!links.has(r.checkpoint_id)) {
          const own: Array<[string, string, Buffer]> = [];
          seeds.set(r.checkpoint_id, own);
          links.set(r.checkpoint_id, {
            checkpointId: r.checkpoint_id,
            parentId: r.parent_checkpoint_id,
            foundBefore: r.found_before,
            has: r.has,
            // As PostgresSaver._loadBlobs: each blob deserialised by its stored type.
            seeds: async () => Object.fromEntries(await Promise.all(own.map(async ([c, t, v]) => [c, await serde.loadsTyped(t, v)]))),
          });
        }
        if (r.seed_channel !== null) seeds.get(r.checkpoint_id)!.push([r.seed_channel, r.seed_type!, r.seed_blob!]);
      }
      return [...links.values()];
    },
    writes: async (ids, chs) => {
      const { rows } = await pool.query<WriteRow>(writesSql(schema), [thread_id, checkpoint_ns, ids, chs]);
      return rows.map(
        (r): StoredWrite => ({ checkpointId: r.checkpoint_id, taskId: r.task_id, channel: r.channel, load: () => serde.loadsTyped(r.type, r.blob) }),
      );
    },
  };
  return deltaChannelHistory(channels, checkpoint_id || undefined, store);
}

/**
 * Bit i set when the checkpoint holds channels[i]: channel_versions names it and that version's blob is not the
 * "empty" marker (PostgresSaver writes "empty" for a versioned channel absent from channel_values; its reads skip them).
 * One EXISTS per channel so each probe is a checkpoint_blobs primary-key lookup.
 */
function hasSql(blobs: string, n: number): string {
  const bits = Array.from(
    { length: n },
    (_, i) => `(CASE WHEN EXISTS (SELECT 1 FROM ${blobs} bl WHERE bl.thread_id = c.thread_id AND bl.checkpoint_ns = c.checkpoint_ns
      AND bl.channel = ($3::text[])[${i + 1}] AND bl.version = c.checkpoint -> 'channel_versions' ->> ($3::text[])[${i + 1}]
      AND bl.type <> 'empty') THEN ${1 << i} ELSE 0 END)`,
  );
  return bits.join(" + ");
}

function chainSql(schema: string, start: ChainStart, n: number): string {
  const t = { checkpoints: `"${schema}".checkpoints`, blobs: `"${schema}".checkpoint_blobs` };
  const anchor =
    "at" in start
      ? "$7"
      : `(SELECT parent_checkpoint_id FROM ${t.checkpoints} WHERE thread_id = $1 AND checkpoint_ns = $2 ${
          start.parentOf === undefined ? "ORDER BY checkpoint_id DESC LIMIT 1" : "AND checkpoint_id = $7"
        })`;
  // Each row carries the channels nearer ancestors seeded; the walk stops after the row that seeds the last one. The
  // seeds' blobs come as plain bytea columns: pg parses a bytea[] element by element in JS, slow for a large snapshot.
  return `
WITH RECURSIVE chain(depth, checkpoint_id, parent_checkpoint_id, versions, found_before, has) AS (
  SELECT 0, c.checkpoint_id, c.parent_checkpoint_id, c.checkpoint -> 'channel_versions', $4::int, ${hasSql(t.blobs, n)}
  FROM ${t.checkpoints} c WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = ${anchor}
  UNION ALL
  SELECT chain.depth + 1, c.checkpoint_id, c.parent_checkpoint_id, c.checkpoint -> 'channel_versions', chain.found_before | chain.has, ${hasSql(t.blobs, n)}
  FROM chain JOIN ${t.checkpoints} c ON c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = chain.parent_checkpoint_id
  WHERE (chain.found_before | chain.has) <> $5 AND chain.depth + 1 < $6
)
SELECT chain.checkpoint_id, chain.parent_checkpoint_id, chain.found_before, chain.has,
  bl.channel AS seed_channel, bl.type AS seed_type, bl.blob AS seed_blob
FROM chain
LEFT JOIN unnest($3::text[]) WITH ORDINALITY AS u(ch, i) ON (chain.has & ~chain.found_before & (1 << (u.i - 1)::int)) <> 0
LEFT JOIN ${t.blobs} bl ON bl.thread_id = $1 AND bl.checkpoint_ns = $2 AND bl.channel = u.ch AND bl.version = chain.versions ->> u.ch
ORDER BY chain.depth`;
}

// Ordered as PostgresSaver's SELECT_SQL orders a checkpoint's pending_writes (task_id, idx).
function writesSql(schema: string): string {
  return `SELECT checkpoint_id, task_id, channel, type, blob FROM "${schema}".checkpoint_writes
WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = ANY($3::text[]) AND channel = ANY($4::text[])
ORDER BY checkpoint_id, task_id, idx`;
}
