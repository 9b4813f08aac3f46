import type { Pool, PoolClient } from "pg";

/**
 * One run of a thread at a time, across every worker on the database. BullMQ may hand the same job out twice (a worker
 * whose event loop stalled past its lock looks dead; the job goes back to the queue while it still runs): without this,
 * two runs would write the same thread and repeat its calls. Held as Postgres session advisory locks on one connection
 * per worker, so a killed worker's locks go with its connection; an in-process queue covers two runs in one worker
 * (session locks are re-entrant).
 */
export class ThreadLocks {
  private client?: Promise<PoolClient>;
  private readonly local = new Map<string, Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly pollMs = 200,
  ) {}

  async with<T>(threadId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.local.get(threadId) ?? Promise.resolve();
    let release!: () => void;
    const mine = before.then(() => new Promise<void>((r) => (release = r)));
    this.local.set(threadId, mine);
    await before;
    try {
      const client = await (this.client ??= this.pool.connect());
      const key = `alpha-umi-thread:${threadId}`;
      while (!(await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [key])).rows[0]!.ok)
        await new Promise((r) => setTimeout(r, this.pollMs));
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      }
    } finally {
      release();
      if (this.local.get(threadId) === mine) this.local.delete(threadId);
    }
  }

  async close(): Promise<void> {
    if (this.client) (await this.client).release();
  }
}
