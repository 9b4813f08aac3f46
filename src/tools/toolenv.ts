/**
 * ToolBench's tool environment (`data/toolenv/tools/<Category>/<tool>.json`, as StableToolBench ships it) as α-UMi
 * tools. Documents are built as ToolBench's `api_json_to_openai_json` builds them and as GLPFT turned those into the
 * training data's `{Name, function, input}`; calls go to a StableToolBench server (`/virtual`), or are answered from its
 * `tool_response_cache` offline. The naming rules are ToolBench's `standardize` and `change_name` (toolbench/utils.py),
 * rewritten from their rules.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { isPyDict, pyJsonLoads, type PyDict } from "../protocol/pyjson-loads.js";
import { pyDumps, pyRepr } from "../protocol/pyrepr.js";
import { pyHead, pyStrip, pyTail } from "../protocol/pystr.js";
import { pyJsonDumps } from "../protocol/pyjson.js";
import type { ToolDoc } from "../state.js";
import { checkUniqueNames, type ToolSet, type ToolSpec } from "./spec.js";
import { canonicalArgs, simulateMiss, type MissPolicy } from "./toolbenchReplay.js";
import { UserError } from "../errors.js";

// ---- ToolBench's names -------------------------------------------------------------------------------------------

/** Kept by ToolBench's pattern `[^\u4e00-\u9fa5^a-z^A-Z^0-9^_]`: CJK ideographs, ASCII letters and digits, `_`, and `^` (a literal in its class). */
const NOT_KEPT = /[^\u4e00-\u9fa5a-zA-Z0-9_^]/gu;

/**
 * ToolBench's `standardize`: every other character becomes `_`, runs of `_` become one, lower case, no leading or
 * trailing `_`, and `get_` before a leading digit.
 *
 * @example toolbenchStandardize("2Factor SMS (v2)") // "get_2factor_sms_v2"
 */
export function toolbenchStandardize(s: string): string {
  const out = s.replace(NOT_KEPT, "_").replace(/_{2,}/g, "_").toLowerCase().replace(/^_+|_+$/g, "");
  return /^[0-9]/.test(out) ? "get_" + out : out;
}

const RESERVED = new Set(["from", "class", "return", "false", "true", "id", "and"]);

/** ToolBench's `change_name`: a Python keyword-like name gets `is_` before it. */
export function toolbenchChangeName(s: string): string {
  return RESERVED.has(s) ? "is_" + s : s;
}

/** StableToolBench's category folder: spaces, commas and slashes become `_`, then one pass of `__` → `_`. */
export function toolbenchCategory(category: string): string {
  let s = category.replace(/[ ,/]/g, "_");
  while (s.includes(" ") || s.includes(",")) s = s.replace(/[ ,]/g, "_");
  return s.replaceAll("__", "_");
}

/** An API's name as the models know it: `{api}_for_{tool}`, its last 64 characters. */
export function toolbenchApiName(api: string, standardTool: string): string {
  return pyTail(`${toolbenchChangeName(toolbenchStandardize(api))}_for_${standardTool}`, 64);
}

// ---- Tool files -------------------------------------------------------------------------------------------------

const ParameterSchema = z.looseObject({
  name: z.string(),
  type: z.string(),
  // A null description reads as none (ToolBench's files are not uniform here).
  description: z.string().nullish(),
  default: z.unknown().optional(),
});
const ApiSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().nullish(),
  method: z.string().optional(),
  required_parameters: z.array(ParameterSchema).default([]),
  optional_parameters: z.array(ParameterSchema).default([]),
});
const ToolFileSchema = z.looseObject({
  tool_name: z.string().min(1),
  tool_description: z.string().nullish(),
  api_list: z.array(ApiSchema),
});
export type ToolFile = z.infer<typeof ToolFileSchema>;
export type ToolFileApi = z.infer<typeof ApiSchema>;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path}: no such ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not JSON (${(err as Error).message})`);
  }
}

/** Read and check one tool file; errors name the file and field. */
export function readToolFile(path: string): ToolFile {
  const r = ToolFileSchema.safeParse(readJson(path, "tool file"));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError(`${path}: field ${issue.path.join(".") || "(file)"}: ${issue.message}`);
  }
  return r.data;
}

const TYPES: Record<string, string> = { NUMBER: "integer", STRING: "string", BOOLEAN: "boolean" };
const MAX_TEXT = 256;

/**
 * One API's document as the α-UMi models were trained on it. `function` is ToolBench's description (the tool line, then
 * the API's description with its own name replaced by the full name, cut to 256), cut to 256; `input` maps each
 * parameter's standardised name to `TYPE, DESCRIPTION` (RapidAPI's NUMBER/STRING/BOOLEAN as integer/string/boolean,
 * anything else string; the description cut to 256), required ones first. As in ToolBench, an API without required
 * parameters lists no optional ones either: the training data was built that way.
 *
 * @example toolEnvDoc({ name: "Get Rate", description: "Rate of a pair.", required_parameters: [{ name: "to", type: "STRING", description: "Currency" }], optional_parameters: [] }, "fx")
 * // { Name: "get_rate_for_fx", function: 'This is the subfunction for tool "fx", you can use this tool.The description of this function is: "Rate of a pair."', input: { to: "string, Currency" } }
 */
export function toolEnvDoc(api: ToolFileApi, standardTool: string): ToolDoc {
  const name = toolbenchApiName(api.name, standardTool);
  let fn = `This is the subfunction for tool "${standardTool}", you can use this tool.`;
  const description = pyStrip(api.description ?? "");
  if (description !== "") fn += `The description of this function is: "${pyHead(description.split(api.name).join(name), MAX_TEXT)}"`;
  const input: Record<string, string> = {};
  if (api.required_parameters.length > 0)
    for (const p of [...api.required_parameters, ...api.optional_parameters]) {
      const key = toolbenchChangeName(toolbenchStandardize(p.name));
      input[key] = `${TYPES[p.type] ?? "string"}, ${pyHead(p.description ?? "", MAX_TEXT)}`;
    }
  return { Name: name, function: pyHead(fn, MAX_TEXT), input };
}

// ---- Calls ------------------------------------------------------------------------------------------------------

/** One API of a query's `api_list` (ToolBench's query files). */
export interface ApiRef {
  category_name: string;
  tool_name: string;
  api_name: string;
}

/** Where calls go: a StableToolBench server, its response cache, or nowhere (every call is a miss). */
export type ToolEnvBackend = { kind: "server"; url: string } | { kind: "cache"; dir: string } | { kind: "none" };

/** The environment variable holding the key sent as `toolbench_key` (read per call, never stored). */
export const TOOLBENCH_KEY_ENV = "TOOLBENCH_KEY";

/** StableToolBench's client sends `strip` as ToolBench's default observation compression. */
const STRIP = "truncate";

/** An error observation as StableToolBench's client writes it (`json.dumps({"error": …, "response": ""})`). */
const errorReply = (error: string) => pyJsonDumps({ error, response: "" });

interface Api {
  category: string;
  standardTool: string;
  /** ToolBench's `pure_api_name` (the `api_name` the server gets). */
  pureApi: string;
  doc: ToolDoc;
}

/** `POST URL/virtual` as StableToolBench's client does; every failure is an error observation, as its client makes it. */
async function callServer(url: string, api: Api, input: string, signal: AbortSignal): Promise<string> {
  const key = process.env[TOOLBENCH_KEY_ENV] ?? "";
  const payload = { category: api.category, tool_name: api.standardTool, api_name: api.pureApi, tool_input: input, strip: STRIP, toolbench_key: key };
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", toolbench_key: key }, body: JSON.stringify(payload), signal });
  } catch (err) {
    if (signal.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return errorReply(`request invalid, data error: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 200) return errorReply(`request invalid, data error. status_code=${res.status}`);
  const reply = pyJsonLoads(text);
  if (!reply.ok || !isPyDict(reply.value) || !reply.value.has("error")) return errorReply("request invalid, data error");
  return pyDumps(reply.value);
}

/**
 * StableToolBench's `tool_response_cache`: `DIR/<category>/<tool>_for_<category>/<api>.json`, each a JSON object from
 * `str(tool_input)` (Python's repr of the parsed Action Input) to the reply `{"error", "response"}`. Files are read once.
 */
class ResponseCache {
  private files = new Map<string, PyDict | null>();
  constructor(readonly dir: string) {}

  file(api: Api): string {
    const category = toolbenchCategory(api.category);
    const tool = `${toolbenchStandardize(api.standardTool)}_for_${category}`;
    const name = toolbenchChangeName(toolbenchStandardize(api.pureApi)).split(`_for_${api.standardTool}`)[0]!;
    return join(this.dir, category, tool, `${name}.json`);
  }

  entries(api: Api): PyDict | null {
    const file = this.file(api);
    if (!this.files.has(file)) {
      let entries: PyDict | null = null;
      if (existsSync(file)) {
        const r = pyJsonLoads(readFileSync(file, "utf8"));
        if (!r.ok || !isPyDict(r.value)) throw new UserError(`${file}: not a StableToolBench cache file (a JSON object of replies)`);
        entries = r.value;
      }
      this.files.set(file, entries);
    }
    return this.files.get(file)!;
  }
}

/** StableToolBench's cache key of a call: `str(json.loads(tool_input))`, an empty input read as `{}`. */
export function responseCacheKey(input: string): string | null {
  if (input.trim() === "") return "{}";
  const r = pyJsonLoads(input);
  return r.ok ? pyRepr(r.value) : null;
}

// ---- The environment --------------------------------------------------------------------------------------------

/**
 * A tool environment: documents read on demand from `DIR/<Category>/<tool>.json`, calls through `backend`, and a miss
 * (an offline call the cache does not hold) handled by `miss` as the replay pack handles one.
 *
 * @example
 * const env = new ToolEnv("data/toolenv/tools", { kind: "server", url: "http://127.0.0.1:8080/virtual" });
 * const tools = env.forApiList([{ category_name: "Finance", tool_name: "FX", api_name: "Get Rate" }], "query 7");
 */
export class ToolEnv {
  private tools = new Map<string, ToolFile>();
  private cache: ResponseCache | undefined;

  constructor(
    readonly dir: string,
    readonly backend: ToolEnvBackend,
    readonly miss: MissPolicy = { kind: "error" },
  ) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`toolenv:${dir}: no such tool directory (expected <Category>/<tool>.json files)`);
    if (backend.kind === "cache") {
      if (!existsSync(backend.dir) || !statSync(backend.dir).isDirectory()) throw new UserError(`toolenv cache ${backend.dir}: no such directory (expected StableToolBench's tool_response_cache)`);
      this.cache = new ResponseCache(backend.dir);
    }
  }

  private toolFile(category: string, tool: string): ToolFile {
    const path = join(this.dir, category, `${tool}.json`);
    let file = this.tools.get(path);
    if (!file) this.tools.set(path, (file = readToolFile(path)));
    return file;
  }

  /**
   * The tools of one query's `api_list`, in its order, as ToolBench's `fetch_api_json` finds them: the file
   * `DIR/<category_name>/<standardised tool_name>.json`, the first API whose standardised name matches. An API the
   * environment lacks is an error naming it (ToolBench would drop it silently).
   */
  forApiList(list: readonly ApiRef[], where: string): ToolSpec[] {
    const out = new Map<string, ToolSpec>();
    for (const ref of list) {
      const standardTool = toolbenchStandardize(ref.tool_name);
      const pureApi = toolbenchChangeName(toolbenchStandardize(ref.api_name));
      const file = this.toolFile(ref.category_name, standardTool);
      const api = file.api_list.find((a) => toolbenchChangeName(toolbenchStandardize(a.name)) === pureApi);
      if (!api) throw new UserError(`${where}: ${join(this.dir, ref.category_name, `${standardTool}.json`)} has no API "${ref.api_name}"`);
      const spec = this.spec(ref.category_name, standardTool, api);
      // The same API listed twice is one tool: the caller names tools and nothing else.
      if (!out.has(spec.doc.Name)) out.set(spec.doc.Name, spec);
    }
    return [...out.values()];
  }

  /** Every API of every tool file (for a run that names no query's `api_list`). */
  all(): ToolSpec[] {
    const specs: ToolSpec[] = [];
    for (const category of readdirSync(this.dir).sort()) {
      if (!statSync(join(this.dir, category)).isDirectory()) continue;
      for (const f of readdirSync(join(this.dir, category)).filter((n) => n.endsWith(".json")).sort()) {
        // ToolBench's standard tool name is the file's name.
        const tool = basename(f, ".json");
        for (const api of this.toolFile(category, tool).api_list) specs.push(this.spec(category, tool, api));
      }
    }
    if (specs.length === 0) throw new UserError(`toolenv:${this.dir}: no tool files (expected <Category>/<tool>.json)`);
    checkUniqueNames(specs, `toolenv:${this.dir}`);
    return specs;
  }

  private spec(category: string, standardTool: string, file: ToolFileApi): ToolSpec {
    const api: Api = { category, standardTool, pureApi: toolbenchChangeName(toolbenchStandardize(file.name)), doc: toolEnvDoc(file, standardTool) };
    return {
      doc: api.doc,
      // A virtual API answers from its cache first: asking again is harmless.
      idempotent: true,
      run: async (args, ctx) => {
        const input = ctx.input ?? pyJsonDumps(args);
        if (this.backend.kind === "server") return callServer(this.backend.url, api, input, ctx.signal);
        const key = responseCacheKey(input);
        if (key === null) return errorReply("Tool input parse error...\n");
        const entries = this.cache?.entries(api);
        const hit = entries?.get(key);
        if (hit !== undefined) return pyDumps(hit);
        if (this.miss.kind === "error") {
          throw new Error(this.cache ? `no cached response in ${this.cache.file(api)} for ${key}` : `toolenv:${this.dir} has no server or cache to answer ${api.doc.Name}`);
        }
        const examples = [...(entries ?? [])].map(([a, r]) => ({ arguments: a, response: pyDumps(r) }));
        const answer = await simulateMiss(this.miss, api.doc, canonicalArgs(input), examples, ctx.signal);
        return pyJsonDumps(JSON.parse(answer));
      },
    };
  }
}

/**
 * Parse a `toolenv:` source value: `DIR`, `DIR@URL` (a StableToolBench server; `/virtual` is added unless the URL ends
 * with it) or `DIR+cache:CACHE_DIR` (its `tool_response_cache`, offline).
 */
export function parseToolEnvSource(value: string): { dir: string; backend: ToolEnvBackend } {
  const cache = /^(.+?)\+cache:(.+)$/.exec(value);
  if (cache) return { dir: cache[1]!, backend: { kind: "cache", dir: cache[2]! } };
  const server = /^(.+?)@(https?:\/\/.+)$/.exec(value);
  if (server) {
    const base = server[2]!.replace(/\/+$/, "");
    return { dir: server[1]!, backend: { kind: "server", url: base.endsWith("/virtual") ? base : `${base}/virtual` } };
  }
  if (value === "" || value.includes("+cache:") || /@[a-z]+:/.test(value)) throw new UserError(`toolenv:${value}: expected toolenv:DIR, toolenv:DIR@http://HOST:PORT or toolenv:DIR+cache:CACHE_DIR`);
  return { dir: value, backend: { kind: "none" } };
}

/**
 * Open a `toolenv:` source: the environment, after checking that its server answers HTTP at all (a server that is down
 * fails here, in one line, instead of turning every call into an error observation).
 *
 * @example const env = await openToolEnv("data/toolenv/tools@http://127.0.0.1:8080", { kind: "error" });
 */
export async function openToolEnv(value: string, miss?: MissPolicy): Promise<ToolEnv> {
  const { dir, backend } = parseToolEnvSource(value);
  const env = new ToolEnv(dir, backend, miss);
  if (backend.kind === "server") {
    try {
      await fetch(backend.url, { method: "GET", signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new UserError(`toolenv:${value}: no StableToolBench server answers at ${backend.url} (${cause?.code ?? (err as Error).message})`);
    }
  }
  return env;
}

/**
 * `--tools toolenv:…` for a run: every API of the environment.
 *
 * @example
 * const { tools, close } = await openToolEnvTools("data/toolenv/tools@http://127.0.0.1:8080/virtual"); // a StableToolBench server
 */
export async function openToolEnvTools(value: string, miss?: MissPolicy): Promise<ToolSet> {
  const env = await openToolEnv(value, miss);
  return { tools: env.all(), close: async () => undefined };
}
