import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { postgresPool } from "../../src/checkpoint/checkpointers.js";

/** The local test database (127.0.0.1:5432, trust auth). */
export const TEST_DB = "postgres://127.0.0.1:5432/test";

/**
 * A Postgres schema of this test run in the test database: `reach()` in beforeAll (no server fails the suite there,
 * with the connection error), `drop()` in afterAll. `admin` is the pool `reach()` opened.
 */
export function testSchema(prefix: string, id = randomUUID().replace(/-/g, "").slice(0, 12)) {
  const schema = `t_${prefix}_${id}`;
  let admin: Pool | undefined;
  return {
    schema,
    db: TEST_DB,
    url: `${TEST_DB}?schema=${schema}`,
    get admin(): Pool {
      if (!admin) throw new Error("testSchema: reach() first");
      return admin;
    },
    async reach(): Promise<void> {
      admin = postgresPool(TEST_DB, 2);
      await admin.query("SELECT 1");
    },
    async drop(): Promise<void> {
      await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin?.end();
    },
  };
}
