/**
 * ToolAlpaca's APIs (tangqiaoyu/ToolAlpaca `data/eval_simulated.json`, `eval_real.json`) as α-UMi tools. Each function
 * of an API entry (`Function_Projection`: name → [path, method] of its OpenAPI `Documentation`) is one tool. A call is
 * checked and turned into an HTTP request as ToolAlpaca's `agent/convert_request.py` does, written as the curl line its
 * simulator (`instance_generation/simulator.py`) shows the model, and answered by a simulator model with its template;
 * the observation is its tool's `Status Code: N. Response: JSON`. Answers are cached per request (the `--miss simulate:`
 * cache, one file per API function), so a rerun is deterministic and makes no simulator call.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { UserError } from "../errors.js";
import { contentText, type RoleModel } from "../models/generate.js";
import { compactJson, parseSimulatorReply, TOOLALPACA_ERROR_HINT, toolalpacaSimulatorPrompt } from "../protocol/toolalpaca.js";
import { parseJsonFile, type PyValue } from "../protocol/pyjson-loads.js";
import { pyJsonDumps } from "../protocol/pyjson.js";
import { pyRepr } from "../protocol/pyrepr.js";
import type { ToolDoc } from "../state.js";
import type { ToolSpec } from "./spec.js";
import { ApiCache } from "./toolbenchReplay.js";

const GoldenSchema = z.array(z.object({ Action: z.string(), Action_Input: z.string() }));
const ApiEntrySchema = z.looseObject({
  Name: z.string().min(1),
  Documentation: z.string(),
  NLDocumentation: z.string(),
  Function_Description: z.record(z.string(), z.string()),
  Function_Projection: z.record(z.string(), z.tuple([z.string(), z.string()])),
  Instructions: z.array(z.string()),
  Golden_Answers: z.array(GoldenSchema).optional(),
  external_tools: z.array(z.string()).optional(),
  Authentication: z.record(z.string(), z.unknown()).optional(),
});
/** One API of a ToolAlpaca file; other keys (Description, Link, Functions…) are kept as read. */
export type ToolAlpacaApi = z.infer<typeof ApiEntrySchema>;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** The OpenAPI spec with its local `$ref`s replaced (jsonref's `replace_refs`, as ToolAlpaca loads it); a cycle stays a `$ref`. */
function resolveRefs(spec: Json): Json {
  const lookup = (ref: string): unknown =>
    ref
      .slice(2)
      .split("/")
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), spec);
  const walk = (v: unknown, seen: readonly string[]): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, seen));
    if (!isObject(v)) return v;
    if (typeof v.$ref === "string" && v.$ref.startsWith("#/") && !seen.includes(v.$ref)) {
      const target = lookup(v.$ref);
      if (target !== undefined) return walk(target, [...seen, v.$ref]);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, seen)]));
  };
  return walk(spec, []) as Json;
}

/**
 * Read and check a ToolAlpaca file: every entry's fields, its Documentation as an OpenAPI spec with a server URL, and
 * every function of `Function_Projection` present in it. Errors are one line naming the file, entry and field.
 */
export function readToolAlpacaFile(path: string): ToolAlpacaApi[] {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  const data = parseJsonFile(path, readFileSync(path, "utf8"));
  if (!Array.isArray(data) || data.length === 0) throw new UserError(`${path}: expected a JSON array of ToolAlpaca API entries {Name, Documentation, Function_Projection, Instructions, …}`);
  return data.map((d, i) => {
    const r = ApiEntrySchema.safeParse(d);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new UserError(`${path}: API ${i}: field ${issue.path.join(".") || "(entry)"}: ${issue.message}`);
    }
    const api = r.data;
    const where = `${path}: API ${i} (${api.Name})`;
    let spec: unknown;
    try {
      spec = JSON.parse(api.Documentation);
    } catch {
      throw new UserError(`${where}: Documentation is not JSON (expected an OpenAPI spec)`);
    }
    const servers = isObject(spec) && Array.isArray(spec.servers) ? spec.servers : [];
    if (!isObject(spec) || !isObject(spec.paths) || !isObject(servers[0]) || typeof servers[0].url !== "string")
      throw new UserError(`${where}: Documentation is not an OpenAPI spec with paths and servers[0].url`);
    for (const [fn, [p, method]] of Object.entries(api.Function_Projection)) {
      const op = (spec.paths as Json)[p];
      if (!isObject(op) || !isObject(op[method])) throw new UserError(`${where}: function ${fn} is ${method.toUpperCase()} ${p}, which its Documentation does not define`);
      if (!(fn in api.Function_Description)) throw new UserError(`${where}: function ${fn} has no Function_Description`);
    }
    if (api.Golden_Answers && api.Golden_Answers.length !== api.Instructions.length)
      throw new UserError(`${where}: ${api.Instructions.length} Instructions but ${api.Golden_Answers.length} Golden_Answers`);
    return api;
  });
}

/**
 * One function's document in the form the α-UMi templates read (`{Name, function, input}`): the description and output
 * of its `Function_Description` as `function` (the API's `components` text after the last function, where ToolAlpaca's
 * agent puts it), and its `Parameters:` object as `input`.
 *
 * @example toolalpacaDoc(axolotl, "getAxolotlFacts") // { Name: "getAxolotlFacts", function: "Retrieve interesting facts…\nOutput: …", input: { category: "string. One of: […]. …", limit: "integer. …" } }
 */
export function toolalpacaDoc(api: ToolAlpacaApi, fn: string): ToolDoc {
  const text = api.Function_Description[fn]!;
  const m = /^([\s\S]*?)\nParameters: (.*)(?:\n([\s\S]*))?$/.exec(text);
  const input: Record<string, string> = {};
  let fnText = text;
  if (m) {
    fnText = m[3] ? `${m[1]}\n${m[3]}` : m[1]!;
    try {
      const params: unknown = JSON.parse(m[2]!);
      if (isObject(params)) for (const [k, v] of Object.entries(params)) input[k] = typeof v === "string" ? v : JSON.stringify(v);
    } catch {
      fnText = text; // parameters it cannot read stay in the description
    }
  }
  const names = Object.keys(api.Function_Projection);
  const components = api.Function_Description.components ?? "";
  if (fn === names.at(-1) && components) fnText += components;
  return { Name: fn, function: fnText, input };
}

// ---- Requests (convert_request.py) -------------------------------------------------------------------------------

const PY_TYPES: Record<string, string> = { string: "str", integer: "int", number: "float", boolean: "bool", array: "list", object: "dict" };

/** The OpenAPI type name of a JSON value's Python type (`convert_type(type(v))`); None for null, as Python prints it. */
function typeName(v: unknown): string {
  if (v === null) return "None";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return Array.isArray(v) ? "array" : "object";
}

/** Python's `isinstance(v, doc_type)` (a bool is an int) and its str → int/float/bool conversion. */
function fitsType(v: unknown, type: string): boolean {
  const t = typeName(v);
  if (t === type || (type === "integer" && t === "boolean")) return true;
  if (type === "number" && t === "integer") return true; // float(int) converts
  if (t === "string" && (type === "integer" || type === "number" || type === "boolean")) {
    const s = (v as string).trim();
    if (type === "boolean") return true; // bool(str) never fails
    if (type === "integer") return /^[+-]?\d+(_\d+)*$/.test(s);
    return /^[+-]?((\d+(_\d+)*)?\.?\d+(_\d+)*([eE][+-]?\d+)?|inf(inity)?|nan)$/i.test(s) && s !== "";
  }
  return false;
}

/** Python's `==` for enum membership, on the value as given (JSON numbers compare by value). */
const inEnum = (v: unknown, values: readonly unknown[]) => values.some((e) => e === v || (typeof e === "number" && typeof v === "number" && e === v));

/** `type_check`: the errors of one parameter as `(name, expected, got)`. */
function typeCheck(name: string, schema: Json, value: unknown): Array<[string, string, string]> {
  const errors: Array<[string, string, string]> = [];
  const type = typeof schema.type === "string" ? schema.type : "";
  if (PY_TYPES[type] && !fitsType(value, type)) errors.push([name, type, typeName(value)]);
  if (Array.isArray(schema.enum) && value !== "" && !inEnum(value, schema.enum)) errors.push([name, `one of ${pyRepr(toPy(schema.enum))}`, `"${pyStr(value)}"`]);
  return errors;
}

/** A JSON value as json.loads would give it (ints as bigint), for Python's repr. */
function toPy(v: unknown): PyValue {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(toPy);
  if (isObject(v)) return new Map(Object.entries(v).map(([k, x]) => [k, toPy(x)]));
  return v as PyValue;
}

/** Python's `str()` of a json.loads value. */
const pyStr = (v: unknown): string => (typeof v === "string" ? v : pyRepr(toPy(v)));

/** Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` kept, space as `+`, the rest as UTF-8 %XX. */
function quotePlus(s: string): string {
  return [...Buffer.from(s, "utf8")].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 32 ? "+" : "%" + b.toString(16).toUpperCase().padStart(2, "0"))).join("");
}

/** The query string `requests` builds (`urlencode(params, doseq=True)`): None dropped, lists repeated, values as `str()`. */
function queryString(params: Json): string {
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    for (const x of Array.isArray(v) ? v : [v]) if (x !== null && x !== undefined) pairs.push(`${quotePlus(k)}=${quotePlus(pyStr(x))}`);
  }
  return pairs.join("&");
}

/** A call ToolAlpaca's checks refuse: the observation is the message, no request is made. */
class CallRefused extends Error {}

/**
 * `call_api_function` up to the request: parameters by their `in`, the JSON body from the request body's properties,
 * type and enum checks, missing required parameters; then the request as the simulator's curl line.
 */
export function toolalpacaRequest(spec: Json, path: string, method: string, input: Json): string {
  const op = ((spec.paths as Json)[path] as Json)[method] as Json;
  const params: Record<string, Json> = { query: {}, header: {}, path: {}, cookie: {} };
  const required = new Set<string>();
  const errors: Array<[string, string, string]> = [];
  for (const p of Array.isArray(op.parameters) ? op.parameters.filter(isObject) : []) {
    const name = String(p.name);
    const where = String(p.in);
    if (p.required) required.add(name);
    if (name in input) {
      required.delete(name);
      (params[where] ??= {})[name] = input[name];
      errors.push(...typeCheck(name, isObject(p.schema) ? { ...p, ...p.schema } : p, input[name]));
    }
  }
  let body: Json | undefined;
  const requestBody = isObject(op.requestBody) ? op.requestBody : undefined;
  if (requestBody) {
    body = {};
    const content = isObject(requestBody.content) ? requestBody.content : {};
    const schema = isObject(content["application/json"]) && isObject(content["application/json"].schema) ? content["application/json"].schema : {};
    if (isObject(schema.properties)) {
      for (const r of Array.isArray(schema.required) ? schema.required : []) required.add(String(r));
      for (const [name, prop] of Object.entries(schema.properties)) {
        if (!(name in input)) continue;
        body[name] = input[name];
        required.delete(name);
        errors.push(...typeCheck(name, isObject(prop) ? prop : {}, input[name]));
      }
    }
  }
  if (errors.length) throw new CallRefused(errors.map(([n, want, got]) => `Parameter type error: "${n}", expected ${want}, but got ${got}. You need to change the input and try again.`).join("\n"));
  if (required.size) throw new CallRefused(`Missing required parameters: ${[...required].join(", ")}. You need to change the input and try again.`);
  const base = String(((spec.servers as Json[])[0] as Json).url).replace(/\/+$/, "");
  const filled = path.replace(/\{([^{}]+)\}/g, (m, k: string) => (k in params.path! ? pyStr(params.path![k]) : m));
  const query = queryString(params.query!);
  const url = `${base}${filled}${query ? "?" + query : ""}`;
  // The headers the call sets (Starlette gives the simulator lower-case names); the HTTP client's own are left out.
  const headers = Object.entries({ "content-type": "application/json", ...Object.fromEntries(Object.entries(params.header!).map(([k, v]) => [k.toLowerCase(), pyStr(v)])) });
  const h = headers.map(([k, v]) => `-H "${k}: ${v}"`).join(" ");
  const d = body ? `-d '${pyJsonDumps(body)}'` : "";
  return `curl -X ${method.toUpperCase()} ${h} ${d} ${url}`;
}

// ---- The simulator -----------------------------------------------------------------------------------------------

export interface ToolAlpacaSimulator {
  /** Answers with ToolAlpaca's simulator template as one user message (any role-model spec's model). */
  model: RoleModel;
  /** Answers are cached here per request, one file per API function; without it every call asks the model. */
  cacheDir?: string;
}

/** The simulator's (status, response) as ToolAlpaca's server answers; `unparsable` when its reply had no status code. */
interface Answer {
  status: number;
  text: string;
  unparsable?: boolean;
}

/** FastAPI's answer when the simulator's handler raised (its first reply had no `Status Code:`). */
const SERVER_ERROR: Answer = { status: 500, text: "Internal Server Error", unparsable: true };

const ok = (status: number) => status >= 200 && status < 300;

/** ToolAlpaca's tool cuts an observation to this many characters (without its retrieval tool). */
export const TOOLALPACA_MAX_OUTPUT = 3000;

/**
 * `get_response`: one reply; if not 2xx, up to 5 more, returning the first whose status is 2xx or was seen before,
 * else the first.
 */
async function simulateOnce(sim: ToolAlpacaSimulator, prompt: string, signal: AbortSignal): Promise<Answer> {
  const ask = async (): Promise<Answer | null> => {
    const reply = parseSimulatorReply(contentText(await sim.model.invoke(prompt, { raw: false, signal } as never)));
    return reply && { status: reply.status, text: compactJson(reply.response) };
  };
  const first = await ask();
  if (!first) return SERVER_ERROR;
  if (ok(first.status)) return first;
  const seen = new Set([first.status]);
  for (let i = 0; i < 5; i++) {
    const again = await ask();
    if (!again) continue;
    if (seen.has(again.status) || ok(again.status)) return again;
    seen.add(again.status);
  }
  return first;
}

/**
 * The tools of one ToolAlpaca API: one per function of `Function_Projection`, in its order.
 *
 * @example
 * const [api] = readToolAlpacaFile("../shared/data/toolalpaca/eval_simulated.json");
 * const tools = toolalpacaTools(api!, { model: modelFromSpec("ollama:qwen2.5", "summarizer"), cacheDir: "runs/ta/simulator-cache" });
 */
export function toolalpacaTools(api: ToolAlpacaApi, sim: ToolAlpacaSimulator): ToolSpec[] {
  const spec = resolveRefs(JSON.parse(api.Documentation) as Json);
  const cache = sim.cacheDir ? new ApiCache(sim.cacheDir, (fn) => ({ tool: api.Name, api: fn })) : undefined;
  return Object.entries(api.Function_Projection).map(([fn, [path, method]]) => ({
    doc: toolalpacaDoc(api, fn),
    // A simulated answer is cached: asking again is harmless.
    idempotent: true,
    run: async (args, ctx) => {
      let request: string;
      try {
        request = toolalpacaRequest(spec, path, method, args);
      } catch (e) {
        if (e instanceof CallRefused) return e.message;
        throw e;
      }
      let answer: Answer | undefined;
      const hit = cache?.get(fn, request);
      if (hit !== undefined) answer = JSON.parse(hit) as Answer;
      else {
        const prompt = toolalpacaSimulatorPrompt(api.Name, api.Documentation, request);
        // The tool's own retries: a 5xx is asked again, three times in all.
        for (let i = 0; i < 3; i++) {
          answer = await simulateOnce(sim, prompt, ctx.signal);
          if (answer.status < 500) break;
        }
        if (!answer!.unparsable) cache?.put(fn, request, JSON.stringify({ status: answer!.status, text: answer!.text }));
      }
      let message = `Status Code: ${answer!.status}. Response: ${answer!.text}`;
      if (!ok(answer!.status)) message += TOOLALPACA_ERROR_HINT;
      // Python cuts code points, not UTF-16 units.
      const chars = [...message];
      return chars.length > TOOLALPACA_MAX_OUTPUT ? chars.slice(0, TOOLALPACA_MAX_OUTPUT).join("") : message;
    },
  }));
}

/** The instruction ToolAlpaca's generation gives the agent: with the API's authentication values appended, if any. */
export function toolalpacaInstruction(api: ToolAlpacaApi, instruction: string): string {
  const auth = Object.entries(api.Authentication ?? {});
  return auth.length ? `${instruction}\nAuthentication information: ${auth.map(([k, v]) => `${k}=${pyStr(v)}`).join(" ")}` : instruction;
}
