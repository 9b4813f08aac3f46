import { existsSync } from "node:fs";
import Database from "better-sqlite3";

/**
 * The rows an eval command has finished so far, by id, read from its resume store (`SQLITE` in its --out dir) while it
 * runs: empty before the file or its table exists.
 */
export function finishedRows(db: string): Map<number, string> {
  if (!existsSync(db)) return new Map();
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return new Map((d.prepare("SELECT id, row FROM rows").all() as Array<{ id: number; row: string }>).map((r) => [r.id, r.row]));
  } catch {
    return new Map(); // the table is not created yet
  } finally {
    d.close();
  }
}
