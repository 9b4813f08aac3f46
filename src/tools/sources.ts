import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { demoTools } from "../../tools/demo/index.js";
import { toolbenchReplayTools } from "./toolbench.js";
import { readToolBenchFile } from "../toolbench.js";
import { fromLangChainTool, isLangChainTool, isToolSpec } from "./adapters.js";
import { checkUniqueNames, type ToolSpec } from "./spec.js";

/**
 * Tool sources for the CLI:
 * - `demo` — the built-in offline demo world;
 * - `toolbench:FILE` — the replay pack over a ToolBench-format file;
 * - `module:PATH` — a JS/TS module exporting LangChain tools or tool specs (default export or named exports, arrays allowed).
 */
export async function loadToolSource(source: string): Promise<ToolSpec[]> {
  if (source === "demo") return demoTools();
  const at = source.indexOf(":");
  const kind = at > 0 ? source.slice(0, at) : "";
  const value = source.slice(at + 1);
  if (kind === "toolbench") return toolbenchReplayTools(readToolBenchFile(value), value);
  if (kind === "module") return loadModuleTools(value);
  throw new Error(`tool source "${source}": expected demo, toolbench:FILE or module:PATH`);
}

async function loadModuleTools(path: string): Promise<ToolSpec[]> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new Error(`tool source module:${path}: no such file`);
  const mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  const found: ToolSpec[] = [];
  for (const value of Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v]))) {
    if (isToolSpec(value)) found.push(value);
    else if (isLangChainTool(value)) found.push(fromLangChainTool(value));
  }
  if (found.length === 0) throw new Error(`tool source module:${path}: exports no LangChain tools or tool specs`);
  return found;
}

export async function loadToolSources(sources: readonly string[]): Promise<ToolSpec[]> {
  const tools = (await Promise.all(sources.map(loadToolSource))).flat();
  checkUniqueNames(tools, `tool sources ${sources.join(", ")}`);
  return tools;
}
