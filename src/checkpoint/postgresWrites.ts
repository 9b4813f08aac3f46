/**
 * PostgresSaver's `put` and `putWrites`, each as one statement. PostgresSaver sends BEGIN, one INSERT per changed
 * channel (or per write) and COMMIT — about 17 round trips a graph step, 50 a tool step — and node-postgres spends
 * more CPU per query than the engine spends on the step. The rows and the conflict rules are PostgresSaver's, built
 * here with the saver's public serializer (`serde`); a single statement is atomic as its transaction was. The contract
 * suite (tests/contract/postgres-rows.test.ts) checks the rows against PostgresSaver's own `put`/`putWrites`.
 */
import { WRITES_IDX_MAP, type Checkpoint, type CheckpointMetadata, type ChannelVersions, type PendingWrite, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Pool } from "pg";

/** The `checkpoint_blobs` rows of the changed channels (a channel absent from the values is stored as `empty`). */
function blobsOf(serde: SerializerProtocol, threadId: string, ns: string, values: Record<string, unknown>, versions: ChannelVersions): Promise<unknown[][]> {
  return Promise.all(
    Object.entries(versions).map(async ([channel, version]) => {
      const [type, value] = channel in values ? await serde.dumpsTyped(values[channel]) : ["empty", null];
      return [threadId, ns, channel, String(version), type, value ? new Uint8Array(value) : undefined];
    }),
  );
}

/** The checkpoint column: the checkpoint without its values (they are blobs). */
function checkpointColumn(checkpoint: Checkpoint): Omit<Checkpoint, "channel_values"> {
  const { channel_values: _values, ...rest } = checkpoint;
  return rest;
}

/** The metadata column: JSON as the serializer writes it, raw NULs dropped as PostgresSaver does (an escaped \u0000 is left: jsonb refuses it, in PostgresSaver too). */
async function metadataColumn(serde: SerializerProtocol, metadata: CheckpointMetadata): Promise<unknown> {
  const [, bytes] = await serde.dumpsTyped(metadata);
  return JSON.parse(new TextDecoder().decode(bytes).replace(/\0/g, ""));
}

/** The `checkpoint_writes` rows of a task: special channels at their fixed indexes, others at their position. */
function writesOf(serde: SerializerProtocol, threadId: string, ns: string, checkpointId: string, taskId: string, writes: PendingWrite[]): Promise<unknown[][]> {
  return Promise.all(
    writes.map(async ([channel, value], idx) => {
      const [type, bytes] = await serde.dumpsTyped(value);
      return [threadId, ns, checkpointId, taskId, WRITES_IDX_MAP[channel] ?? idx, channel, type, new Uint8Array(bytes)];
    }),
  );
}

/** `(…), (…)` placeholders for `rows`, their values appended to `params`. */
function valuesList(rows: unknown[][], params: unknown[]): string {
  return rows.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(", ")})`).join(", ");
}

/**
 * A checkpoint and its changed channels' values in one statement.
 *
 * @example await putCheckpoint(pool, "public", saver.serde, config, checkpoint, metadata, newVersions);
 */
export async function putCheckpoint(
  pool: Pool,
  schema: string,
  serde: SerializerProtocol,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
): Promise<RunnableConfig> {
  if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`);
  const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable as Record<string, string>;
  const [blobs, meta] = await Promise.all([blobsOf(serde, thread_id!, checkpoint_ns, checkpoint.channel_values, newVersions), metadataColumn(serde, metadata)]);
  const params: unknown[] = [];
  const blobRows = blobs.length ? valuesList(blobs, params) : "";
  const checkpointRow = valuesList([[thread_id, checkpoint_ns, checkpoint.id, checkpoint_id, checkpointColumn(checkpoint), meta]], params);
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
 * @example await putTaskWrites(pool, "public", saver.serde, config, [["turns", [turn]]], taskId);
 */
export async function putTaskWrites(pool: Pool, schema: string, serde: SerializerProtocol, config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
  if (writes.length === 0) return;
  const { thread_id, checkpoint_ns, checkpoint_id } = (config.configurable ?? {}) as Record<string, string>;
  const dumped = await writesOf(serde, thread_id!, checkpoint_ns!, checkpoint_id!, taskId, writes);
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
