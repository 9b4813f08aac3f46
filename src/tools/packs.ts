import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ToolSpec } from "./spec.js";

/**
 * A named tool pack: a folder of the package's `tools/` (content, beside `graphs/` and `prompts/`) whose index module
 * exports `pack`. The engine finds it by name at run time, so no engine module imports a pack; the same relative path
 * reaches `tools/NAME/index.ts` from src/ (tsx, jest) and `dist/tools/NAME/index.js` from dist/src/.
 */
export interface ToolPack {
  tools(): ToolSpec[];
  /** A task the pack's recorded cassette answers (the demo's question). */
  instruction?: string;
}

const PACK_NAME = /^[a-z][a-z0-9-]*$/;

/** Whether `name` names a pack folder of the package (what `--tools NAME` accepts besides the prefixed sources). */
export function isToolPack(name: string): boolean {
  return PACK_NAME.test(name) && existsSync(fileURLToPath(new URL(`../../tools/${name}/`, import.meta.url)));
}

/**
 * The pack named `name`, or undefined when the package has no such pack.
 *
 * @example
 * const demo = await loadToolPack("demo");
 * const graph = createAlphaUmiGraph({ tools: demo!.tools() });
 * await graph.invoke({ instruction: demo!.instruction! }, { configurable: { thread_id: "t1" } });
 */
export async function loadToolPack(name: string): Promise<ToolPack | undefined> {
  if (!isToolPack(name)) return undefined;
  const mod = (await import(`../../tools/${name}/index.js`)) as { pack?: ToolPack };
  if (!mod.pack) throw new Error(`bug: tools/${name}/index exports no \`pack\``);
  return mod.pack;
}
