/** LangChain tools (e.g. @langchain/community's) from a module path or a package name: `MODULE#Export`. */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { isLangChainTool, jsonSchemaOf } from "./adapters.js";
import { fromJsonSchemaTools } from "./schema.js";
import type { ToolSpec } from "./spec.js";
import { UserError } from "../errors.js";

/** A path (it exists, or starts with `.` or `/`) is imported as a file; anything else is a package specifier. */
async function importModule(spec: string): Promise<Record<string, unknown>> {
  const abs = resolve(spec);
  if (existsSync(abs) || /^(\.{1,2}[\\/]|[\\/])/.test(spec)) {
    if (!existsSync(abs)) throw new UserError(`no such file`);
    return import(pathToFileURL(abs).href);
  }
  try {
    // This package's own dependencies first, then the packages of the working directory (@langchain/community).
    return await import(spec);
  } catch (e) {
    if (!/MODULE_NOT_FOUND|PACKAGE_PATH_NOT_EXPORTED/.test(String((e as NodeJS.ErrnoException).code)) && !/Cannot find (module|package)/.test((e as Error).message)) throw e;
    let file: string;
    try {
      file = createRequire(join(process.cwd(), "package.json")).resolve(spec);
    } catch {
      throw new UserError(`cannot find the package or module "${spec}"`);
    }
    return import(pathToFileURL(file).href);
  }
}

const isClass = (f: Function): f is new () => unknown => typeof f.prototype?.invoke === "function";

/** An export as tools: a tool, an array of tools, a tool class (constructed with no arguments) or a factory (maybe async). */
async function toolsOf(value: unknown): Promise<StructuredToolInterface[]> {
  let v = value;
  if (typeof v === "function") v = isClass(v) ? new v() : await (v as () => unknown)();
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every(isLangChainTool)) return [];
  return list;
}

/**
 * Load `MODULE#Export` (or `MODULE`: every export that is a tool or an array of tools). The tools are named
 * `name_for_export` the ToolBench way and their arguments are checked against their schema before the call.
 *
 * @example
 * const [calc] = await openLangChainTools("@langchain/community/tools/calculator#Calculator");
 * calc.doc.Name; // "calculator_for_calculator"
 */
export async function openLangChainTools(source: string): Promise<ToolSpec[]> {
  const hash = source.lastIndexOf("#");
  const spec = hash >= 0 ? source.slice(0, hash) : source;
  const exportName = hash >= 0 ? source.slice(hash + 1) : undefined;
  const where = `tool source langchain:${source}`;
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(spec);
  } catch (e) {
    throw new UserError(`${where}: ${(e as Error).message}`);
  }
  const group = (name: string) => (name === "default" ? basename(spec, extname(spec)) : name);
  const found: Array<{ tool: StructuredToolInterface; group: string }> = [];
  if (exportName !== undefined) {
    if (!(exportName in mod)) throw new UserError(`${where}: the module has no export "${exportName}" (it has ${Object.keys(mod).join(", ") || "none"})`);
    const tools = await toolsOf(mod[exportName]);
    if (tools.length === 0) throw new UserError(`${where}: "${exportName}" is not a LangChain tool, an array of tools, a tool class or a factory of tools`);
    for (const tool of tools) found.push({ tool, group: group(exportName) });
  } else {
    for (const [name, value] of Object.entries(mod))
      if (typeof value !== "function") for (const tool of await toolsOf(value)) found.push({ tool, group: group(name) });
    if (found.length === 0) throw new UserError(`${where}: exports no LangChain tools`);
  }
  return fromJsonSchemaTools(
    found.map(({ tool, group }) => ({
      api: tool.name,
      tool: group,
      description: tool.description,
      schema: jsonSchemaOf(tool.schema),
      call: (args, { signal }) => tool.invoke(args, { signal }),
    })),
  );
}
