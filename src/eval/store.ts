/** The resumable record of an eval run: one SQLite row per finished step (or episode), in the run's out dir. */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";

export interface StoredStep {
  id: number;
  predictions: string;
  /** The model failure that made this step a miss, if any. */
  error: string | null;
  /** Model calls the step made and their wall time. */
  calls: number;
  ms: number;
  /** The first prompt the step sent (planner or backbone), byte for byte; null when no call was made. */
  model_input: string | null;
}

/**
 * Opens (or creates) a run's SQLite file in `dir` with its result table. The settings of the run that made it are kept;
 * a run with other settings is refused, so resuming never mixes results of different models or data.
 */
function openRunDb(dir: string, file: string, tableSql: string, settings: Record<string, unknown>): Database.Database {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, file));
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); ${tableSql}`);
  const want = JSON.stringify(settings);
  const row = db.prepare("SELECT value FROM meta WHERE key = 'settings'").get() as { value: string } | undefined;
  if (row && row.value !== want) {
    db.close();
    throw new UserError(`${dir} holds a run with other settings (${row.value}); use another --out to start a new run`);
  }
  if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('settings', ?)").run(want);
  return db;
}

export class StepStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  /** Opens (or creates) `steps.sqlite` in `dir`; a store made by a run with other settings is refused. */
  constructor(dir: string, settings: Record<string, unknown>) {
    this.db = openRunDb(dir, "steps.sqlite", "CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, predictions TEXT NOT NULL, error TEXT, calls INTEGER NOT NULL, ms REAL NOT NULL, model_input TEXT)", settings);
    this.insert = this.db.prepare("INSERT OR REPLACE INTO steps (id, predictions, error, calls, ms, model_input) VALUES (@id, @predictions, @error, @calls, @ms, @model_input)");
  }

  done(): Map<number, StoredStep> {
    const rows = this.db.prepare("SELECT id, predictions, error, calls, ms, model_input FROM steps").all() as StoredStep[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  save(step: StoredStep): void {
    this.insert.run(step);
  }

  close(): void {
    this.db.close();
  }
}

/** One JSON row per finished item (e.g. an episode), keyed by its index, in `file` in the run's out dir. */
export class JsonRowStore<T> {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(dir: string, file: string, settings: Record<string, unknown>) {
    this.db = openRunDb(dir, file, "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, row TEXT NOT NULL)", settings);
    this.insert = this.db.prepare("INSERT OR REPLACE INTO rows (id, row) VALUES (?, ?)");
  }

  done(): Map<number, T> {
    const rows = this.db.prepare("SELECT id, row FROM rows").all() as Array<{ id: number; row: string }>;
    return new Map(rows.map((r) => [r.id, JSON.parse(r.row) as T]));
  }

  save(id: number, row: T): void {
    this.insert.run(id, JSON.stringify(row));
  }

  close(): void {
    this.db.close();
  }
}
