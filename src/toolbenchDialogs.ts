import { readFileSync } from "node:fs";
import { UserError } from "./errors.js";
import { z } from "zod";
import { parseJsonFile } from "./protocol/pyjson-loads.js";
import { ToolDocSchema, TurnSchema } from "./state.js";

/** A ToolBench-format dialog: the stage-2 conversation form of the test sets (and of every recorded run). */
export const ToolBenchDialogSchema = z.object({
  tools: z.array(ToolDocSchema),
  instruction: z.string(),
  conversations: z.array(TurnSchema),
});
export type ToolBenchDialog = z.infer<typeof ToolBenchDialogSchema>;

/** Read and check a ToolBench-format file `[{tools, instruction, conversations}]`; errors name the file, record and field. */
export function readToolBenchFile(path: string): ToolBenchDialog[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code === "ENOENT" ? "no such file" : `cannot read (${code ?? (err as Error).message})`}`);
  }
  const data = parseJsonFile(path, text);
  if (!Array.isArray(data)) throw new UserError(`${path}: expected a JSON array of {tools, instruction, conversations} dialogs`);
  return data.map((d, i) => {
    const r = ToolBenchDialogSchema.safeParse(d);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new UserError(`${path}: record ${i}, field ${issue.path.join(".") || "(record)"}: ${issue.message}`);
    }
    return r.data;
  });
}
