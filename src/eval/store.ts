/** The resumable record of an eval run: one SQLite row per finished step, in the run's out dir. */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export interface StoredStep {
  id: number;
  predictions: string;
  /** The model failure that made this step a miss, if any. */
  error: string | null;
  /** Model calls the step made and their wall time. */
  calls: number;
  ms: number;
}

export class StepStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  /** Opens (or creates) `steps.sqlite` in `dir`; a store made by a run with other settings is refused. */
  constructor(dir: string, settings: Record<string, unknown>) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, "steps.sqlite"));
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, predictions TEXT NOT NULL, error TEXT, calls INTEGER NOT NULL, ms REAL NOT NULL)`);
    const want = JSON.stringify(settings);
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'settings'").get() as { value: string } | undefined;
    if (row && row.value !== want) {
      this.db.close();
      throw new Error(`${dir} holds a run with other settings (${row.value}); use another --out to start a new run`);
    }
    if (!row) this.db.prepare("INSERT INTO meta (key, value) VALUES ('settings', ?)").run(want);
    this.insert = this.db.prepare("INSERT OR REPLACE INTO steps (id, predictions, error, calls, ms) VALUES (@id, @predictions, @error, @calls, @ms)");
  }

  done(): Map<number, StoredStep> {
    const rows = this.db.prepare("SELECT id, predictions, error, calls, ms FROM steps").all() as StoredStep[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  save(step: StoredStep): void {
    this.insert.run(step);
  }

  close(): void {
    this.db.close();
  }
}
