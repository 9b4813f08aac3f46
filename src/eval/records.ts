/** Reading a predictions file in the reference format `[{tools, reference, predictions}]`, with clear errors. */
import { readFileSync } from "node:fs";
import { UserError } from "../errors.js";
import { parseJsonFile } from "../protocol/pyjson-loads.js";
import type { ScoreRecord } from "./score.js";

/** A predictions record as written by `eval steps` (extra fields are allowed and kept). */
export interface PredictionRecord extends ScoreRecord {
  [extra: string]: unknown;
}

/** Check the shape of every record; the first problem is reported with its file, record index and field. */
export function validateRecords(path: string, data: unknown): ScoreRecord[] {
  if (!Array.isArray(data)) throw new UserError(`${path}: expected a JSON array of {tools, reference, predictions} records`);
  data.forEach((rec: unknown, i) => {
    const where = `${path}: record ${i}`;
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) throw new UserError(`${where}: expected an object`);
    const r = rec as Record<string, unknown>;
    for (const field of ["reference", "predictions"] as const) {
      if (!(field in r)) throw new UserError(`${where}: field "${field}" is missing`);
      if (typeof r[field] !== "string") throw new UserError(`${where}, field "${field}": expected a string, got ${kind(r[field])}`);
    }
    if (!Array.isArray(r.tools)) throw new UserError(`${where}, field "tools": expected an array of tool documents, got ${kind(r.tools)}`);
    r.tools.forEach((t: unknown, k) => {
      const name = (t as { Name?: unknown } | null)?.Name;
      if (typeof name !== "string") throw new UserError(`${where}, field "tools[${k}].Name": expected a string, got ${kind(name)}`);
    });
  });
  return data as ScoreRecord[];
}

function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : v === undefined ? "nothing" : typeof v;
}

export function readScoreRecords(path: string): ScoreRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return validateRecords(path, parseJsonFile(path, text));
}
