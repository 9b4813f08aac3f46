import type { z } from "zod";
import type { ToolDoc } from "../state.js";
import { UserError } from "../errors.js";

/** A tool: the ToolBench document the models see, plus what runs when it is called. */
export interface ToolSpec {
  doc: ToolDoc;
  /** Validates the parsed arguments before `run`; a failure becomes an error observation. */
  schema?: z.ZodType<Record<string, unknown>>;
  /** `ctx.input` is the Action Input as the caller wrote it (for tools keyed by its exact text, as StableToolBench's cache). */
  run(args: Record<string, unknown>, ctx: { signal: AbortSignal; input?: string }): unknown;
  /**
   * Safe to run twice with the same arguments (a lookup, a PUT of the same value; MCP `readOnlyHint`/`idempotentHint`,
   * OpenAPI GET/HEAD/PUT). A call that may have been in flight when its run stopped (a killed process, an
   * aborted run; in every driver) runs again on resume only then; otherwise the planner is told it may or may not have
   * run (src/nodes/calls.ts, docs/production.md).
   */
  idempotent?: boolean;
}

export function toolDocs(tools: readonly ToolSpec[]): ToolDoc[] {
  return tools.map((t) => t.doc);
}

/** Tool names must be unique: the caller names a tool and nothing else. */
export function checkUniqueNames(tools: readonly ToolSpec[], where: string): void {
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.doc.Name)) throw new UserError(`${where}: two tools are named "${t.doc.Name}"`);
    seen.add(t.doc.Name);
  }
}

/** Tools and what stops them when the run ends (MCP servers, the Python sandbox); `close()` is safe to call twice. */
export interface ToolSet {
  tools: ToolSpec[];
  close(): Promise<void>;
}
