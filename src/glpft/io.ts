import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { UserError } from "../errors.js";
import { pyJsonDumps, pyJsonString } from "../protocol/pyjson.js";

/** Read and parse a JSON file; a missing file or bad JSON is a UserError naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
}

/** Where a value came from, for error messages: `FILE: record N: FIELD: problem`. */
export interface Where {
  file: string;
  /** Record index in the file, or a thread id for checkpoints; none when the file is the record (ToolBench answers). */
  record?: number | string;
}

export function describeWhere(where: Where, field?: string): string {
  const rec = where.record === undefined ? "" : typeof where.record === "number" ? `: record ${where.record}` : `: thread ${where.record}`;
  return `${where.file}${rec}${field ? `: ${field}` : ""}`;
}

/**
 * Python's `json.dump(value, f, indent=2)` layout (separators "," and ": ", ensure_ascii) for the value nested at
 * `level`, so array elements can be written one at a time and the file still matches the reference byte for byte.
 */
export function pyJsonIndent(value: unknown, level: number): string {
  if (typeof value === "string") return pyJsonString(value);
  if (value === null || typeof value !== "object") return pyJsonDumps(value);
  const inner = "\n" + "  ".repeat(level + 1);
  const close = "\n" + "  ".repeat(level) + (Array.isArray(value) ? "]" : "}");
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + inner + pyJsonIndent(value[i], level + 1);
    return out + close;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  let out = "{";
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!;
    out += (i ? "," : "") + inner + pyJsonString(k) + ": " + pyJsonIndent(v, level + 1);
  }
  return out + close;
}

const FLUSH_AT = 1 << 20;

/** Buffered synchronous file output: memory stays bounded by one buffer whatever the file size. */
class BufferedFile {
  private fd: number;
  private buf = "";
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "w");
    } catch (err) {
      throw new UserError(`${path}: cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  write(s: string): void {
    this.buf += s;
    if (this.buf.length >= FLUSH_AT) this.flush();
  }
  private flush(): void {
    if (this.buf) writeSync(this.fd, this.buf);
    this.buf = "";
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export interface RecordSink<T> {
  readonly path: string;
  readonly count: number;
  write(record: T): void;
  close(): void;
}

/** A JSON array written one element at a time, laid out as Python's json.dump(indent=2) writes it. */
export class PyJsonArrayWriter<T> implements RecordSink<T> {
  private file: BufferedFile;
  count = 0;
  constructor(readonly path: string) {
    this.file = new BufferedFile(path);
  }
  write(record: T): void {
    this.file.write((this.count++ ? ",\n  " : "[\n  ") + pyJsonIndent(record, 1));
  }
  close(): void {
    this.file.write(this.count ? "\n]" : "[]");
    this.file.close();
  }
}

/** Stream records into a JSON array file (reference layout); returns how many were written. */
export function writeJsonArray<T>(path: string, records: Iterable<T>): number {
  const out = new PyJsonArrayWriter<T>(path);
  try {
    for (const r of records) out.write(r);
  } finally {
    out.close();
  }
  return out.count;
}

/** One JSON object per line, mapped from each record (e.g. `{prompt, completion}` for SFT trainers). */
export class JsonlWriter<T> implements RecordSink<T> {
  private file: BufferedFile;
  count = 0;
  constructor(
    readonly path: string,
    private readonly map: (record: T) => unknown,
  ) {
    this.file = new BufferedFile(path);
  }
  write(record: T): void {
    this.count++;
    this.file.write(JSON.stringify(this.map(record)) + "\n");
  }
  close(): void {
    this.file.close();
  }
}

/**
 * Counted skips by reason, so nothing is dropped silently.
 *
 * @example
 * const skips = new SkipLog();
 * for (const r of readToolBench("data/answer", skips)) use(r);
 * console.log(skips.total, "skipped");
 */
export class SkipLog {
  readonly counts = new Map<string, number>();
  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
  lines(): string[] {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `${reason}: ${n}`);
  }
}
