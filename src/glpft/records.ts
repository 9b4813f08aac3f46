import { z } from "zod";
import { UserError } from "../errors.js";
import { ToolDocSchema, TurnSchema, type ToolDoc, type Turn } from "../state.js";
import { describeWhere, type Where } from "./io.js";

/** One message of ToolBench's `train_messages` (OpenAI function-calling format). */
export const ChainMessageSchema = z.looseObject({
  role: z.string(),
  content: z.string().nullable().optional(),
  function_call: z
    .looseObject({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]) })
    .optional(),
});
export type ChainMessage = z.infer<typeof ChainMessageSchema>;

export const Stage1RecordSchema = z.looseObject({
  tools: z.array(ToolDocSchema),
  instruction: z.string(),
  chains: z.array(ChainMessageSchema),
});
export interface Stage1Record {
  tools: ToolDoc[];
  instruction: string;
  chains: ChainMessage[];
}

/** A dialog: the stage-2 format, and what a run's τ becomes. */
export const Stage2RecordSchema = z.looseObject({
  tools: z.array(ToolDocSchema),
  instruction: z.string().optional(),
  conversations: z.array(TurnSchema),
});
export interface Stage2Record {
  tools: ToolDoc[];
  instruction?: string;
  conversations: Turn[];
}

/** One training example of a role dataset. */
export interface RoleRecord {
  tools: ToolDoc[];
  /** The turns before the target turn. */
  history: Turn[];
  /** The whole prompt, role suffix included. */
  input: string;
  target: string;
}

/** `conversations[3].from` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/**
 * Check one record against a schema. Returns the ORIGINAL object (zod's output drops unknown keys and reorders them,
 * and both the tool documents' keys and their order are part of the prompt text).
 */
export function checkRecord<T>(schema: z.ZodType, value: unknown, where: Where): T {
  const res = schema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new UserError(`${describeWhere(where, fieldPath(issue.path) || "(record)")}: ${issue.message}`);
  }
  return value as T;
}

/** A file's top level must be an array of records. */
export function checkArray(value: unknown, file: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw new UserError(`${file}: expected a JSON array of ${what}, got ${value === null ? "null" : typeof value}`);
  return value;
}
