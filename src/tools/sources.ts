import { existsSync } from "node:fs";
import { UserError } from "../errors.js";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { toolbenchReplayTools, type MissPolicy } from "./toolbenchReplay.js";
import { readToolBenchFile } from "../toolbenchDialogs.js";
import { fromLangChainTool, isLangChainTool, isToolSpec } from "./adapters.js";
import { openLangChainTools } from "./langchain.js";
import { openToolEnvTools } from "./toolenv.js";
import { checkUniqueNames, type ToolSet, type ToolSpec } from "./spec.js";
import { loadToolPack } from "./packs.js";

const SOURCES = "demo, python, toolbench:FILE, toolenv:DIR[@URL|+cache:DIR], module:PATH, mcp:CONFIG.json, openapi:SPEC.json[@BASE_URL] or langchain:MODULE#Export";

const fixed = (tools: ToolSpec[]): ToolSet => ({ tools, close: async () => undefined });

/**
 * Tool sources for the CLI:
 * - `demo` — the offline demo world (a named pack under the package's `tools/`, src/tools/packs.ts);
 * - `python` — the sandboxed Python interpreter (pyodide) of the math agent;
 * - `toolbench:FILE` — the replay pack over a ToolBench-format file;
 * - `toolenv:DIR[@URL|+cache:CACHE_DIR]` — ToolBench's tool environment, called through a StableToolBench server or its cache;
 * - `module:PATH` — a JS/TS module exporting LangChain tools or tool specs (default export or named exports, arrays allowed);
 * - `mcp:CONFIG.json` — the tools of the MCP servers in an `mcpServers` config (started now, stopped by `close()`);
 * - `openapi:SPEC.json[@BASE_URL]` — the operations of an OpenAPI service (or a config file naming the spec);
 * - `langchain:MODULE#Export` — LangChain tools exported by a module or package (a tool, an array, a class or a factory).
 */
export interface ToolSourceOptions {
  /** What a `toolbench:` or `toolenv:` source does with a call it has no recorded answer for (default: a clear error). */
  miss?: MissPolicy;
}

// MCP, OpenAPI and pyodide load when a source names them, so that importing alpha-umi does not load them.
export async function loadToolSource(source: string, opts: ToolSourceOptions = {}): Promise<ToolSet> {
  const pack = await loadToolPack(source);
  if (pack) return fixed(pack.tools());
  if (source === "python") return (await import("./python.js")).openPythonTool();
  const at = source.indexOf(":");
  const kind = at > 0 ? source.slice(0, at) : "";
  const value = source.slice(at + 1);
  if (kind === "toolbench") return fixed(toolbenchReplayTools(readToolBenchFile(value), value, { miss: opts.miss }));
  if (kind === "toolenv") return openToolEnvTools(value, opts.miss);
  if (kind === "module") return fixed(await loadModuleTools(value));
  if (kind === "mcp") return (await import("./mcp.js")).openMcpTools(value);
  if (kind === "openapi") return (await import("./openapi.js")).openOpenApiTools(value);
  if (kind === "langchain") return fixed(await openLangChainTools(value));
  throw new UserError(`tool source "${source}": expected ${SOURCES}`);
}

async function loadModuleTools(path: string): Promise<ToolSpec[]> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UserError(`tool source module:${path}: no such file`);
  const mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  const found: ToolSpec[] = [];
  for (const value of Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v]))) {
    if (isToolSpec(value)) found.push(value);
    else if (isLangChainTool(value)) found.push(fromLangChainTool(value));
  }
  if (found.length === 0) throw new UserError(`tool source module:${path}: exports no LangChain tools or tool specs`);
  return found;
}

/**
 * Open every source; the returned `close()` stops what they started (MCP servers, the Python sandbox). A source that
 * fails to open closes the ones already open.
 *
 * @example
 * const { tools, close } = await loadToolSources(["python", "mcp:mcp.json"]);
 * try { await runAgent({ tools, ... }); } finally { await close(); }
 */
export async function loadToolSources(sources: readonly string[], opts: ToolSourceOptions = {}): Promise<ToolSet> {
  const opened: ToolSet[] = [];
  const close = async () => void (await Promise.allSettled(opened.map((s) => s.close())));
  try {
    for (const source of sources) opened.push(await loadToolSource(source, opts));
    const tools = opened.flatMap((s) => s.tools);
    checkUniqueNames(tools, `tool sources ${sources.join(", ")}`);
    return { tools, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const shared = new Map<string, Promise<ToolSet>>();

/**
 * Tool sources opened once per process and kept open, for runs that name their sources in the configuration (Studio,
 * `alpha-umi serve`): MCP servers and the Python sandbox live as long as the server. A source that fails to open is
 * tried again by the next run.
 */
export function sharedToolSources(sources: readonly string[]): Promise<ToolSet> {
  const key = sources.join("\n");
  let set = shared.get(key);
  if (!set) {
    shared.set(key, (set = loadToolSources(sources)));
    set.catch(() => shared.delete(key));
  }
  return set;
}
