/**
 * Tools from an HTTP service described by OpenAPI: every operation becomes a tool making real HTTP calls. The spec is
 * normalised by @samchon/openapi (Swagger 2.0, OpenAPI 3.0 and 3.1 into one form; routes with their path, query and
 * body), and calls are made by its route fetcher through a guarded fetch: host allow-list, per-tool timeout, response
 * size cap, and auth read from environment variables at call time (never put in documents, arguments or observations).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { HttpMigration, OpenApi, type IHttpMigrateRoute } from "@samchon/openapi";
import { fromJsonSchemaTools, type JsonSchema, type JsonSchemaTool } from "./schema.js";
import type { ToolSet } from "./spec.js";

export interface OpenApiConfig {
  /** Path of the OpenAPI document (relative to the config file). */
  spec: string;
  /** Where calls go; default: the document's first server URL. */
  baseUrl?: string;
  /** The `tool` part of `api_for_tool`; default: the document's title. */
  name?: string;
  /** Hosts (`host` or `host:port`) calls may reach; default: the base URL's host only. */
  allowHosts?: string[];
  /** Per-call timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** Responses longer than this many bytes are an error (default 1 MiB). */
  maxResponseBytes?: number;
  /** Auth from environment variables: values are variable NAMES, never secrets. */
  auth?: { headers?: Record<string, string>; query?: Record<string, string>; bearer?: string };
}

const DEFAULTS = { timeoutMs: 10_000, maxResponseBytes: 1 << 20 };

/** `SPEC.json[@BASE_URL]`: the base URL is what follows the last `@` that starts a URL. */
export function parseOpenApiSource(value: string): { path: string; baseUrl?: string } {
  const m = /^(.*)@([a-zA-Z][a-zA-Z0-9+.-]*:\/\/.*)$/.exec(value);
  return m ? { path: m[1]!, baseUrl: m[2]! } : { path: value };
}

function checkHttpUrl(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${what}: "${url}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`${what}: unsupported URL scheme ${u.protocol} in "${url}" (http or https)`);
  return u;
}

function readJson(path: string, what: string): Record<string, unknown> {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(path)) throw new Error(`${what}: unsupported URL scheme ${path.split(":")[0]}: in "${path}" (give a local JSON file)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${what}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? `no such file ${path}` : (e as Error).message}`);
  }
}

/** The file is an OpenAPI document (it has `openapi` or `swagger`) or a config naming one. */
function readSource(value: string): { config: OpenApiConfig; document: Record<string, unknown> } {
  const { path, baseUrl } = parseOpenApiSource(value);
  const where = `tool source openapi:${value}`;
  const file = readJson(path, where);
  if ("openapi" in file || "swagger" in file) return { config: { spec: path, baseUrl }, document: file };
  if (typeof file.spec !== "string") throw new Error(`${where}: expected an OpenAPI document, or a config {"spec": "SPEC.json", ...}`);
  const config = { ...(file as unknown as OpenApiConfig), baseUrl: baseUrl ?? (file.baseUrl as string | undefined) };
  const specPath = resolve(dirname(path), config.spec);
  return { config, document: readJson(specPath, `${where}: spec`) };
}

/** Resolve local `$ref`s (`#/components/schemas/X`) so the documents and the validator see whole schemas. */
function deref(schema: unknown, doc: OpenApi.IDocument, seen: string[] = []): JsonSchema {
  if (!schema || typeof schema !== "object") return schema as JsonSchema;
  if (Array.isArray(schema)) return schema.map((s) => deref(s, doc, seen)) as unknown as JsonSchema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref?.startsWith("#/components/schemas/")) {
    const name = ref.slice("#/components/schemas/".length);
    if (seen.includes(name)) return {}; // a recursive type: accept anything below this point
    return deref(doc.components?.schemas?.[name], doc, [...seen, name]);
  }
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, deref(v, doc, seen)])) as JsonSchema;
  // @samchon/openapi writes an enum as a oneOf of consts: back to `enum`, for shorter validation errors.
  const { oneOf, ...rest } = out;
  if (oneOf?.length && oneOf.every((a) => "const" in a)) return { ...rest, enum: oneOf.map((a) => a.const) };
  return out;
}

/** One operation's flat arguments: path and query parameters, and the body's properties (or `body` when not an object). */
interface ArgPlan {
  schema: JsonSchema;
  path: string[];
  query: string[];
  body: "none" | "spread" | "whole";
}

function argPlan(route: IHttpMigrateRoute, doc: OpenApi.IDocument): ArgPlan {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const plan: ArgPlan = { schema: { type: "object", properties, required }, path: [], query: [], body: "none" };
  for (const p of route.operation().parameters ?? []) {
    if (p.in !== "path" && p.in !== "query") continue; // headers and cookies carry auth, set by the config
    const s = deref(p.schema, doc);
    properties[p.name!] = { ...s, description: p.description ?? s.description };
    if (p.in === "path" || p.required) required.push(p.name!);
    (p.in === "path" ? plan.path : plan.query).push(p.name!);
  }
  if (route.body) {
    const body = deref(route.body.schema, doc);
    const props = body.type === "object" ? body.properties : undefined;
    if (props && !Object.keys(props).some((k) => k in properties)) {
      plan.body = "spread";
      Object.assign(properties, props);
      const bodyRequired = route.operation().requestBody?.required !== false;
      if (bodyRequired) required.push(...(body.required ?? []));
    } else {
      plan.body = "whole";
      properties.body = { ...body, description: body.description ?? route.body.description() };
      required.push("body");
    }
  }
  return plan;
}

/** A fetch that only reaches allowed hosts, gives up after the timeout, and refuses bodies over the cap. */
function guardedFetch(allow: Set<string>, o: { timeoutMs: number; maxResponseBytes: number; signal: AbortSignal; query: Record<string, string> }): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    for (const [k, v] of Object.entries(o.query)) url.searchParams.set(k, v);
    if (!allow.has(url.host) && !allow.has(url.hostname)) throw new Error(`host ${url.host} is not in the allow-list (${[...allow].join(", ")})`);
    const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal, redirect: "manual" });
    } catch (e) {
      if (signal.aborted) throw new Error(`no answer within ${o.timeoutMs} ms`);
      throw new Error(`request failed: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        if (size > o.maxResponseBytes) throw new Error(`the response is larger than ${o.maxResponseBytes} bytes`);
        chunks.push(chunk);
      }
    } catch (e) {
      void res.body?.cancel().catch(() => undefined);
      if (signal.aborted) throw new Error(`no answer within ${o.timeoutMs} ms`);
      throw e;
    }
    return new Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** Secrets from the environment; read per call so a rotated token is used and nothing holds it longer. */
function authOf(config: OpenApiConfig, where: string): () => { headers: Record<string, string>; query: Record<string, string>; secrets: string[] } {
  const env = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === "") throw new Error(`${where}: environment variable ${name} (auth) is not set`);
    return v;
  };
  const read = () => {
    const headers: Record<string, string> = {};
    const query: Record<string, string> = {};
    for (const [h, name] of Object.entries(config.auth?.headers ?? {})) headers[h] = env(name);
    for (const [q, name] of Object.entries(config.auth?.query ?? {})) query[q] = env(name);
    if (config.auth?.bearer) headers.Authorization = `Bearer ${env(config.auth.bearer)}`;
    return { headers, query, secrets: [...Object.values(headers), ...Object.values(query)].map((v) => v.replace(/^Bearer /, "")) };
  };
  read(); // a missing variable is a configuration error now, not a failed call later
  return read;
}

/** A service that echoes a credential must not put it into τ: replace every secret by `***`. */
function redact(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => (s ? t.split(s).join("***") : t), text);
}

/**
 * Open an OpenAPI source: `SPEC.json[@BASE_URL]`, or a config file `{"spec", "baseUrl", "allowHosts", "timeoutMs",
 * "maxResponseBytes", "auth": {"headers": {"X-Api-Key": "ENV_NAME"}, "query": {...}, "bearer": "ENV_NAME"}}`.
 *
 * @example
 * const { tools } = await openOpenApiTools("petstore.json@http://127.0.0.1:8080/v1");
 * tools.map((t) => t.doc.Name); // ["get_pet_by_id_for_pet_store", ...]
 */
export async function openOpenApiTools(value: string): Promise<ToolSet> {
  const where = `tool source openapi:${value}`;
  const { config, document: raw } = readSource(value);
  let doc: OpenApi.IDocument;
  try {
    doc = OpenApi.convert(raw as unknown as Parameters<typeof OpenApi.convert>[0]);
  } catch (e) {
    throw new Error(`${where}: not an OpenAPI document: ${(e as Error).message}`);
  }
  const baseUrl = config.baseUrl ?? doc.servers?.[0]?.url;
  if (!baseUrl) throw new Error(`${where}: the document has no servers; give the base URL as openapi:SPEC.json@BASE_URL`);
  const base = checkHttpUrl(baseUrl, where);
  const allow = new Set(config.allowHosts ?? [base.host]);
  if (!allow.has(base.host) && !allow.has(base.hostname)) throw new Error(`${where}: host ${base.host} is not in allowHosts (${[...allow].join(", ")})`);
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxResponseBytes = config.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
  const auth = authOf(config, where);
  const app = HttpMigration.application(doc);
  const service = config.name ?? doc.info?.title ?? "api";
  const defs: JsonSchemaTool[] = app.routes.map((route) => {
    const op = route.operation();
    const plan = argPlan(route, doc);
    return {
      api: op.operationId ?? `${route.method}_${route.path}`,
      tool: service,
      description: [op.summary, op.description].filter(Boolean).join(". "),
      schema: plan.schema,
      call: async (args, { signal }) => {
        const { headers, query, secrets } = auth();
        const pick = (keys: string[]) => Object.fromEntries(keys.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
        const bodyArgs = plan.body === "spread" ? Object.fromEntries(Object.entries(args).filter(([k]) => !plan.path.includes(k) && !plan.query.includes(k))) : args.body;
        try {
          const res = await HttpMigration.propagate({
            connection: { host: base.href.replace(/\/$/, ""), headers, fetch: guardedFetch(allow, { timeoutMs, maxResponseBytes, signal, query }) },
            route,
            parameters: pick(plan.path) as Record<string, string>,
            query: route.query ? pick(plan.query) : undefined,
            body: plan.body === "none" ? undefined : (bodyArgs as object),
          });
          const text = typeof res.body === "string" ? res.body : JSON.stringify(res.body);
          if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}: ${text}`);
          return redact(text ?? "", secrets);
        } catch (e) {
          throw new Error(redact((e as Error).message, secrets));
        }
      },
    };
  });
  return { tools: fromJsonSchemaTools(defs), close: async () => undefined };
}
