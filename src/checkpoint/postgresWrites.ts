/**
 * PostgresSaver's `put` and `putWrites`, each as one statement. PostgresSaver sends BEGIN, one INSERT per changed
 * channel (or per write) and COMMIT — about 17 round trips a graph step, 50 a tool step — and node-postgres spends
 * more CPU per query than the engine spends on the step. The rows, their serialisation (the saver's own `_dump*`)
 * and the conflict rules are PostgresSaver's; a single statement is atomic as its transaction was.
 */
import { WRITES_IDX_MAP, type Checkpoint, type CheckpointMetadata, type ChannelVersions, type PendingWrite } from "@langchain/langgraph-checkpoint";
import type { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Pool } from "pg";

/** PostgresSaver's row builders (protected there; the rows must be exactly its own). */
interface Dumps {
  _dumpCheckpoint(checkpoint: Checkpoint): unknown;
  _dumpBlobs(threadId: string, ns: string, values: Record<string, unknown>, versions: ChannelVersions): Promise<unknown[][]>;
  _dumpMetadata(metadata: CheckpointMetadata): Promise<unknown>;
  _dumpWrites(threadId: string, ns: string, checkpointId: string, taskId: string, writes: PendingWrite[]): Promise<unknown[][]>;
}

/** `(…), (…)` placeholders for `rows`, their values appended to `params`. */
function valuesList(rows: unknown[][], params: unknown[]): string {
  return rows.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(", ")})`).join(", ");
}

/**
 * A checkpoint and its changed channels' values in one statement.
 *
 * @example await putCheckpoint(pool, "public", saver, config, checkpoint, metadata, newVersions);
 */
export async function putCheckpoint(
  pool: Pool,
  schema: string,
  saver: PostgresSaver,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
): Promise<RunnableConfig> {
  if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`);
  const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable as Record<string, string>;
  const dumps = saver as unknown as Dumps;
  const [blobs, meta] = await Promise.all([dumps._dumpBlobs(thread_id!, checkpoint_ns, checkpoint.channel_values, newVersions), dumps._dumpMetadata(metadata)]);
  const params: unknown[] = [];
  const blobRows = blobs.length ? valuesList(blobs, params) : "";
  const checkpointRow = valuesList([[thread_id, checkpoint_ns, checkpoint.id, checkpoint_id, dumps._dumpCheckpoint(checkpoint), meta]], params);
  const insertCheckpoint = `INSERT INTO "${schema}".checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
    VALUES ${checkpointRow}
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`;
  const sql = blobRows
    ? `WITH blobs AS (INSERT INTO "${schema}".checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
         VALUES ${blobRows} ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING)
       ${insertCheckpoint}`
    : insertCheckpoint;
  await pool.query(sql, params);
  return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
}

/**
 * A task's writes in one statement: special channels (errors, interrupts, resumes) replace a stored write, others keep
 * the first, as in PostgresSaver.
 *
 * @example await putTaskWrites(pool, "public", saver, config, [["turns", [turn]]], taskId);
 */
export async function putTaskWrites(pool: Pool, schema: string, saver: PostgresSaver, config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
  if (writes.length === 0) return;
  const { thread_id, checkpoint_ns, checkpoint_id } = (config.configurable ?? {}) as Record<string, string>;
  const dumped = await (saver as unknown as Dumps)._dumpWrites(thread_id!, checkpoint_ns!, checkpoint_id!, taskId, writes);
  const replace = writes.every((w) => w[0] in WRITES_IDX_MAP);
  // Special channels share fixed indexes: of two writes to one, the later replaced the earlier in PostgresSaver's loop,
  // and one statement may not update a row twice.
  const rows = replace ? [...new Map(dumped.map((r) => [String(r[4]), r])).values()] : dumped;
  const onConflict = replace ? "DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob" : "DO NOTHING";
  const params: unknown[] = [];
  await pool.query(
    `INSERT INTO "${schema}".checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
     VALUES ${valuesList(rows, params)} ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) ${onConflict}`,
    params,
  );
}
