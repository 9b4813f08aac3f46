import type { z } from "zod";
import type { ToolDoc } from "../state.js";

/** A tool: the ToolBench document the models see, plus what runs when it is called. */
export interface ToolSpec {
  doc: ToolDoc;
  /** Validates the parsed arguments before `run`; a failure becomes an error observation. */
  schema?: z.ZodType<Record<string, unknown>>;
  run(args: Record<string, unknown>, ctx: { signal: AbortSignal }): unknown;
}

export function toolDocs(tools: readonly ToolSpec[]): ToolDoc[] {
  return tools.map((t) => t.doc);
}

/** Tool names must be unique: the caller names a tool and nothing else. */
export function checkUniqueNames(tools: readonly ToolSpec[], where: string): void {
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.doc.Name)) throw new Error(`${where}: two tools are named "${t.doc.Name}"`);
    seen.add(t.doc.Name);
  }
}
