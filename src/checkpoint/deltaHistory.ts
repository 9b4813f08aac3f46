import type { CheckpointPendingWrite, DeltaChannelHistory } from "@langchain/langgraph-checkpoint";
import { SNAPSHOT_EVERY } from "../state.js";

/**
 * How far one ancestor query walks before it continues in another: a channel's snapshot is at most SNAPSHOT_EVERY of
 * its writes back, and supersteps that do not write it stretch that, so a page is a few times that with a margin.
 *
 * @example const pages = Math.ceil(ancestors / CHAIN_PAGE); // chain queries for a walk to the root
 */
export const CHAIN_PAGE = 4 * SNAPSHOT_EVERY + 8;

/** Bitmasks stay plain SQL integers (Postgres `int`): more channels than this go to LangGraph's own walk. */
const MAX_MASK_CHANNELS = 30;

/** Where an ancestor walk starts: the parent of a checkpoint (or of the thread's latest), or a checkpoint itself (next page). */
export type ChainStart = { parentOf: string | undefined } | { at: string };

/** One ancestor, nearest first. Bit i of a mask stands for `channels[i]`. */
export interface ChainLink {
  checkpointId: string;
  parentId: string | null;
  /** Channels whose seed a nearer ancestor already holds: this one contributes no writes for them. */
  foundBefore: number;
  /** Channels this checkpoint's `channel_values` holds; -1 when the query could not tell (LangGraph's walk decides). */
  has: number;
  /** This checkpoint's stored channel values for the channels it seeds; only asked of links that seed one. */
  seeds(): Promise<Record<string, unknown>>;
}

/** A stored write of one of the requested channels, value still serialised. */
export interface StoredWrite {
  checkpointId: string;
  taskId: string;
  channel: string;
  /** Deserialises the value as the saver's getTuple does. */
  load(): Promise<unknown>;
}

/** What a saver's storage answers; each call is one query. */
export interface HistoryStore {
  /** Up to `limit` ancestors from `start`, nearest first, stopping after the one that completes `full`. */
  chain(start: ChainStart, foundBefore: number, full: number, limit: number): Promise<ChainLink[]>;
  /** The writes of these checkpoints to these channels, each checkpoint's in getTuple's order (task_id, idx). */
  writes(checkpointIds: string[], channels: string[]): Promise<StoredWrite[]>;
}

/**
 * `BaseCheckpointSaver.getDeltaChannelHistory` from a few queries instead of one getTuple per ancestor (each of which
 * deserialises every write and the whole checkpoint): same walk from the parent of the config's checkpoint, same stop
 * at the nearest ancestor holding a channel (its writes included), same seed, writes oldest first. Returns undefined
 * where the store cannot answer exactly (the caller then runs LangGraph's walk).
 *
 * @example const history = await deltaChannelHistory(["turns"], undefined, store); // { turns: { writes, seed? } }
 */
export async function deltaChannelHistory(
  channels: string[],
  checkpointId: string | undefined,
  store: HistoryStore,
): Promise<Record<string, DeltaChannelHistory> | undefined> {
  if (channels.length > MAX_MASK_CHANNELS) return undefined;
  const full = 2 ** channels.length - 1;
  const links: ChainLink[] = [];
  let start: ChainStart = { parentOf: checkpointId };
  let found = 0;
  for (;;) {
    const page = await store.chain(start, found, full, CHAIN_PAGE);
    if (page.some((l) => l.has < 0)) return undefined;
    links.push(...page);
    const last = page.at(-1);
    if (!last) break;
    found = last.foundBefore | last.has;
    if (found === full || last.parentId === null || page.length < CHAIN_PAGE) break;
    start = { at: last.parentId };
  }

  const result: Record<string, DeltaChannelHistory> = {};
  for (const ch of channels) result[ch] = { writes: [] };
  if (links.length === 0) return result;

  // A channel takes the writes of every ancestor up to and including the one holding its seed.
  const depthOf = new Map(links.map((l, i) => [l.checkpointId, i]));
  const index = new Map(channels.map((c, i) => [c, i]));
  const wanted = (w: StoredWrite) => (links[depthOf.get(w.checkpointId)!]!.foundBefore & (1 << index.get(w.channel)!)) === 0;
  const kept = (await store.writes(links.map((l) => l.checkpointId), channels)).filter(wanted);
  const values = await Promise.all(kept.map((w) => w.load()));
  const byDepth: CheckpointPendingWrite[][][] = links.map(() => channels.map(() => []));
  kept.forEach((w, i) => byDepth[depthOf.get(w.checkpointId)!]![index.get(w.channel)!]!.push([w.taskId, w.channel, values[i]]));

  const seedsOf = new Map<ChainLink, Promise<Record<string, unknown>>>(); // one checkpoint often seeds every channel
  for (let ch = 0; ch < channels.length; ch++) {
    const entry = result[channels[ch]!]!;
    for (let depth = links.length - 1; depth >= 0; depth--) entry.writes.push(...byDepth[depth]![ch]!);
    const seeder = links.find((l) => (l.has & ~l.foundBefore & (1 << ch)) !== 0);
    if (!seeder) continue;
    if (!seedsOf.has(seeder)) seedsOf.set(seeder, seeder.seeds());
    entry.seed = (await seedsOf.get(seeder)!)[channels[ch]!];
  }
  return result;
}
