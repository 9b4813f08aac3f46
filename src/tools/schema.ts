/**
 * One adapter from a JSON Schema tool (an MCP tool, an OpenAPI operation, a LangChain tool) to the ToolBench document
 * the models see, with ToolBench's naming and argument validation against the original schema.
 */
import { Validator } from "@langchain/core/utils/json_schema";
import { z } from "zod";
import type { ToolDoc } from "../state.js";
import type { ToolSpec } from "./spec.js";

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  $ref?: string;
  [key: string]: unknown;
};

/** ToolBench's `input` and `function` cuts (its `api_json_to_openai_json`). */
export const MAX_NAME = 64;
const MAX_TEXT = 256;

/** ToolBench's `standardize`: snake case of [a-z0-9_], no repeated, leading or trailing `_`, `get_` before a digit. */
export function standardize(name: string): string {
  let s = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^\p{Script=Han}a-zA-Z0-9_]/gu, "_")
    .replace(/_+/g, "_")
    .toLowerCase()
    .replace(/^_+|_+$/g, "");
  if (/^[0-9]/.test(s)) s = "get_" + s;
  return s;
}

/** `api_for_tool`, cut to its last 64 characters as ToolBench cut it; a name already in that form is kept. */
export function toolbenchName(api: string, tool: string): string {
  const a = standardize(api) || "call";
  const t = standardize(tool);
  const name = t === "" || a.endsWith(`_for_${t}`) ? a : `${a}_for_${t}`;
  return name.slice(-MAX_NAME);
}

/** Make names unique (against `taken` and each other) by numbering the api part: `get_2_for_tool`. */
export function uniqueNames(names: readonly string[], taken: Iterable<string> = []): string[] {
  const seen = new Set(taken);
  return names.map((name) => {
    let out = name;
    for (let n = 2; seen.has(out); n++) {
      const at = name.lastIndexOf("_for_");
      out = (at > 0 ? `${name.slice(0, at)}_${n}${name.slice(at)}` : `${name}_${n}`).slice(-MAX_NAME);
    }
    seen.add(out);
    return out;
  });
}

function typeOf(s: JsonSchema): string {
  if (Array.isArray(s.type)) return s.type.filter((t) => t !== "null").join(" or ");
  if (s.type) return s.type;
  const alt = [...(s.anyOf ?? []), ...(s.oneOf ?? [])].find((a) => a.type && a.type !== "null");
  if (alt) return typeOf(alt);
  const consts = enumOf(s);
  if (consts?.length) return typeof consts[0] === "number" ? "number" : typeof consts[0] === "boolean" ? "boolean" : "string";
  return "any";
}

/** Allowed values: `enum`, or a `oneOf`/`anyOf` of consts (how @samchon/openapi writes enums). */
function enumOf(s: JsonSchema): unknown[] | undefined {
  if (s.enum) return s.enum;
  const alts = s.oneOf ?? s.anyOf;
  if (alts?.length && alts.every((a) => "const" in a)) return alts.map((a) => a.const);
  return undefined;
}

/** `a`, `b` and `c`: the listing ToolBench's RapidAPI documents use. */
function listing(values: unknown[]): string {
  const items = values.map((v) => "`" + (typeof v === "string" ? v : JSON.stringify(v)) + "`");
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** The schema of an array's items, when it has one (not a tuple's list). */
const itemsOf = (s: JsonSchema): JsonSchema | undefined => (s.items && typeof s.items === "object" && !Array.isArray(s.items) ? s.items : undefined);

/** How deep the fields of object and array arguments are spelled out; below it a field is just its type. */
const SHAPE_DEPTH = 3;

/**
 * The shape of a value, TypeScript-like: `{path: string, edits: {oldText: string, newText: string}[], dryRun?: boolean}`
 * — a field's description follows it in parentheses, optional fields end in `?`.
 */
export function shapeOf(s: JsonSchema, depth = SHAPE_DEPTH): string {
  const t = typeOf(s);
  if (t === "array") {
    const item = itemsOf(s) ? shapeOf(itemsOf(s)!, depth) : "any";
    return item.startsWith("{") || !item.includes(" ") ? `${item}[]` : `(${item})[]`;
  }
  if (t !== "object" || !s.properties || Object.keys(s.properties).length === 0 || depth <= 0) return t;
  const required = new Set(s.required ?? []);
  const fields = Object.entries(s.properties).map(([name, f]) => {
    const about = (f.description ?? "").trim();
    return `${name}${required.has(name) ? "" : "?"}: ${shapeOf(f, depth - 1)}${about ? ` (${about})` : ""}`;
  });
  return `{${fields.join(", ")}}`;
}

/**
 * One argument as ToolBench documents it: `TYPE, DESCRIPTION`, optional ones marked `(Optional)` first, then
 * `Possible values are … Default value is ….` (the phrasing of ToolBench's RapidAPI documents). An object or array
 * argument also says what it holds (`Fields: {…}`, `Items: …`), so the caller can write it. The text is cut to its last
 * 256 characters, keeping the marker.
 */
export function argumentDoc(prop: JsonSchema, required: boolean): string {
  let body = (prop.description ?? "").trim();
  const type = typeOf(prop);
  const shape = shapeOf(prop);
  if (type === "object" && shape !== "object") body += `${body ? " " : ""}Fields: ${shape}.`;
  const items = type === "array" ? itemsOf(prop) : undefined;
  if (items) body += `${body ? " " : ""}Items: ${shapeOf(items)}.`;
  const values = enumOf(prop);
  if (values?.length) body += `${body ? " " : ""}Possible values are ${listing(values)}.`;
  if (prop.default !== undefined) body += `${body ? " " : ""}Default value is ${listing([prop.default])}.`;
  const mark = required ? "" : "(Optional) ";
  return `${typeOf(prop)}, ${mark}${body.slice(-(MAX_TEXT - mark.length))}`;
}

/** ToolBench's `input`: required arguments first, then optional ones (its required/optional parameter lists). */
export function inputDocFromJsonSchema(schema: JsonSchema): Record<string, string> {
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const out: Record<string, string> = {};
  for (const [name, prop] of props.filter(([n]) => required.has(n))) out[name] = argumentDoc(prop, true);
  for (const [name, prop] of props.filter(([n]) => !required.has(n))) out[name] = argumentDoc(prop, false);
  return out;
}

/** A zod schema whose check is the original JSON schema's: a bad argument fails before the call, naming the field. */
export function jsonSchemaValidator(schema: JsonSchema): z.ZodType<Record<string, unknown>> {
  const validator = new Validator(schema as ConstructorParameters<typeof Validator>[0], "2020-12", false);
  return z.record(z.string(), z.unknown()).superRefine((args, ctx) => {
    const result = validator.validate(args);
    if (result.valid) return;
    // The innermost failures say what is wrong; the wrapping "properties"/"items" units only repeat where.
    const leaves = result.errors.filter((e) => !["properties", "items", "allOf", "$ref", "prefixItems"].includes(e.keyword));
    for (const e of leaves.length ? leaves : result.errors) {
      const path = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean);
      const missing = e.keyword === "required" ? /"([^"]+)"/.exec(e.error)?.[1] : undefined;
      if (missing !== undefined) ctx.addIssue({ code: "custom", path: [...path, missing], message: "required" });
      else ctx.addIssue({ code: "custom", path, message: e.error });
    }
  });
}

/**
 * A schema with its local `$ref`s (`#/$defs/X`, `#/definitions/X`, `#/components/schemas/X`: any JSON pointer into
 * `root`) replaced by what they point to, so documents and validation see whole schemas; a recursive reference becomes
 * `{}` (anything) below its first use.
 *
 * @example resolveRefs({ properties: { p: { $ref: "#/$defs/P" } }, $defs: { P: { type: "string" } } }).properties.p // { type: "string" }
 */
export function resolveRefs(schema: JsonSchema, root: unknown = schema, seen: readonly string[] = []): JsonSchema {
  if (!schema || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map((s) => resolveRefs(s as JsonSchema, root, seen)) as unknown as JsonSchema;
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#")) {
    if (seen.includes(ref)) return {};
    const target = ref
      .slice(1)
      .split("/")
      .filter(Boolean)
      .map((k) => decodeURIComponent(k).replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((at, k) => (at && typeof at === "object" ? (at as Record<string, unknown>)[k] : undefined), root);
    if (target === undefined) return {};
    // Keys beside the $ref (a description) win over the target's, unless they are there but undefined (@samchon/openapi).
    const rest = Object.fromEntries(Object.entries(schema).filter(([k, v]) => k !== "$ref" && v !== undefined));
    return resolveRefs({ ...(target as JsonSchema), ...rest }, root, [...seen, ref]);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, v && typeof v === "object" ? resolveRefs(v as JsonSchema, root, seen) : v])) as JsonSchema;
}

/** A tool described by a JSON schema, before it is named and documented the ToolBench way. */
export interface JsonSchemaTool {
  /** The operation's own name (MCP tool name, operationId…): the `api` of `api_for_tool`. */
  api: string;
  /** What groups it (MCP server, OpenAPI service title, module export): the `tool` of `api_for_tool`. */
  tool: string;
  description: string;
  /** The JSON schema of its arguments object (refs resolved). */
  schema: JsonSchema;
  /** Safe to run twice with the same arguments (see ToolSpec.idempotent). */
  idempotent?: boolean;
  call(args: Record<string, unknown>, ctx: { signal: AbortSignal }): unknown;
}

/** ToolBench's `function`: `This is the subfunction for tool "TOOL", you can use this tool.The description of this function is: "…"`. */
export function functionDoc(tool: string, description: string): string {
  const head = `This is the subfunction for tool "${tool}", you can use this tool.`;
  const text = description.trim().slice(0, MAX_TEXT);
  return text ? `${head}The description of this function is: "${text}"` : head;
}

/**
 * JSON Schema tools as α-UMi tools: named `api_for_tool` (unique among themselves and `taken`), documented as ToolBench
 * documents RapidAPI functions, arguments checked against each tool's own schema before it runs.
 *
 * @example
 * const [t] = fromJsonSchemaTools([{ api: "getPet", tool: "Pet Store", description: "Find a pet.",
 *   schema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] }, call: ({ id }) => ({ id }) }]);
 * t.doc.Name; // "get_pet_for_pet_store"
 */
export function fromJsonSchemaTools(defs: readonly JsonSchemaTool[], taken: Iterable<string> = []): ToolSpec[] {
  const names = uniqueNames(
    defs.map((d) => toolbenchName(d.api, d.tool)),
    taken,
  );
  return defs.map((d, i) => {
    const doc: ToolDoc = { Name: names[i]!, function: functionDoc(standardize(d.tool), d.description), input: inputDocFromJsonSchema(d.schema) };
    return { doc, schema: jsonSchemaValidator(d.schema), run: (args, ctx) => d.call(args, ctx), ...(d.idempotent ? { idempotent: true } : {}) };
  });
}
