/**
 * Tools from an HTTP service described by OpenAPI: every operation becomes a tool making real HTTP calls. The spec is
 * normalised by @samchon/openapi (Swagger 2.0, OpenAPI 3.0 and 3.1 into one form; routes with their path, query and
 * body), and calls are made by its route fetcher through a guarded fetch: host allow-list, per-tool timeout, response
 * size cap, and auth read from environment variables at call time (never put in documents, arguments or observations).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { HttpMigration, OpenApi, type IHttpMigrateRoute } from "@samchon/openapi";
import { maskLocation, maskSecrets } from "../secrets.js";
import { fromJsonSchemaTools, resolveRefs, type JsonSchema, type JsonSchemaTool } from "./schema.js";
import type { ToolSet } from "./spec.js";
import { UserError } from "../errors.js";

export interface OpenApiConfig {
  /** Path of the OpenAPI document (relative to the config file). */
  spec: string;
  /** Where calls go; default: the document's first server URL. */
  baseUrl?: string;
  /** The `tool` part of `api_for_tool`; default: the document's title. */
  name?: string;
  /**
   * Hosts (`host` or `host:port`) calls, and so credentials, may reach; default: the base URL's host only, and
   * credentials only when that is one of the document's servers.
   */
  allowHosts?: string[];
  /** Per-call timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** Responses longer than this many bytes are an error (default 1 MiB). */
  maxResponseBytes?: number;
  /** Auth from environment variables: values are variable NAMES, never secrets. */
  auth?: { headers?: Record<string, string>; query?: Record<string, string>; bearer?: string };
  /**
   * The document's `securitySchemes`, each given the NAME of the environment variable holding its secret: an apiKey's
   * key, a bearer token, or a basic scheme's `user:password` (or `{"user": ENV, "password": ENV}`). Each operation gets
   * the first of its security requirements whose schemes are all given.
   */
  security?: Record<string, string | { user: string; password: string }>;
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
    throw new UserError(`${what}: "${url}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UserError(`${what}: unsupported URL scheme ${u.protocol} in "${url}" (http or https)`);
  return u;
}

function readJson(path: string, what: string): Record<string, unknown> {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(path)) throw new UserError(`${what}: unsupported URL scheme ${path.split(":")[0]}: in "${path}" (give a local JSON file)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${what}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? `no such file ${path}` : (e as Error).message}`);
  }
}

/** The file is an OpenAPI document (it has `openapi` or `swagger`) or a config naming one. */
function readSource(value: string): { config: OpenApiConfig; document: Record<string, unknown> } {
  const { path, baseUrl } = parseOpenApiSource(value);
  const where = `tool source openapi:${maskLocation(value)}`;
  const file = readJson(path, where);
  if ("openapi" in file || "swagger" in file) return { config: { spec: path, baseUrl }, document: file };
  if (typeof file.spec !== "string") throw new UserError(`${where}: expected an OpenAPI document, or a config {"spec": "SPEC.json", ...}`);
  const config = { ...(file as unknown as OpenApiConfig), baseUrl: baseUrl ?? (file.baseUrl as string | undefined) };
  const specPath = resolve(dirname(path), config.spec);
  return { config, document: readJson(specPath, `${where}: spec`) };
}

/**
 * A schema with its `$ref`s into the document resolved (schema.ts), and the enums @samchon/openapi writes as a
 * `oneOf` of consts back as `enum`, for shorter documents and validation errors.
 */
function deref(schema: unknown, doc: OpenApi.IDocument): JsonSchema {
  return enums(resolveRefs(schema as JsonSchema, doc));
}

function enums(schema: JsonSchema): JsonSchema {
  if (!schema || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map(enums) as unknown as JsonSchema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, v && typeof v === "object" ? enums(v as JsonSchema) : v])) as JsonSchema;
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
    // Following would carry the credentials wherever the service points; the agent sees where it pointed instead.
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (location !== null) {
      void res.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${res.status}: redirect to ${URL.canParse(location, url.href) ? new URL(location, url).href : location} not followed`);
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

interface Credentials {
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Every secret value sent, to be masked in whatever comes back (src/secrets.ts). */
  secrets: string[];
}

const SUPPORTED = "apiKey, http bearer and http basic";

/**
 * Credentials per operation, from environment variables the config names: its fixed `auth`, then the first of the
 * operation's security requirements (or the document's) whose schemes `security` gives. Values are read per call so a
 * rotated token is used and nothing holds it longer; a variable that is not set is an error now, at open.
 */
function credentialsOf(config: OpenApiConfig, doc: OpenApi.IDocument, where: string) {
  const env = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === "") throw new UserError(`${where}: environment variable ${name} (auth) is not set`);
    return v;
  };
  const schemes = doc.components?.securitySchemes ?? {};
  const given = config.security ?? {};
  for (const name of Object.keys(given))
    if (!schemes[name]) throw new UserError(`${where}: security.${name}: the document defines no such scheme (it defines ${Object.keys(schemes).join(", ") || "none"})`);

  const apply = (name: string, c: Credentials) => {
    const scheme = schemes[name]!;
    const v = given[name]!;
    if (scheme.type === "apiKey" && typeof v === "string") {
      const key = env(v);
      if (scheme.in === "query") c.query[scheme.name!] = key;
      else if (scheme.in === "cookie") c.headers.Cookie = [c.headers.Cookie, `${scheme.name}=${key}`].filter(Boolean).join("; ");
      else c.headers[scheme.name!] = key;
      c.secrets.push(key);
    } else if (scheme.type === "http" && scheme.scheme === "bearer" && typeof v === "string") {
      const token = env(v);
      c.headers.Authorization = `Bearer ${token}`;
      c.secrets.push(token);
    } else if (scheme.type === "http" && scheme.scheme === "basic") {
      const [user, password] = typeof v === "string" ? splitPair(env(v), v, where) : [env(v.user), env(v.password)];
      const encoded = Buffer.from(`${user}:${password}`).toString("base64");
      c.headers.Authorization = `Basic ${encoded}`;
      c.secrets.push(encoded, password);
    } else throw new UserError(`${where}: security.${name}: a ${describe(scheme)} scheme cannot be configured (${SUPPORTED} can${typeof v !== "string" ? ", each with one variable name" : ""})`);
  };

  const fixed = (): Credentials => {
    const c: Credentials = { headers: {}, query: {}, secrets: [] };
    for (const [h, name] of Object.entries(config.auth?.headers ?? {})) c.secrets.push((c.headers[h] = env(name)));
    for (const [q, name] of Object.entries(config.auth?.query ?? {})) c.secrets.push((c.query[q] = env(name)));
    if (config.auth?.bearer) {
      const token = env(config.auth.bearer);
      c.headers.Authorization = `Bearer ${token}`;
      c.secrets.push(token);
    }
    return c;
  };
  fixed();
  for (const name of Object.keys(given)) apply(name, { headers: {}, query: {}, secrets: [] });

  /** Schemes some operation needs that the config leaves out, with how many operations go without them. */
  const missing = new Map<string, number>();
  return {
    forOperation(op: OpenApi.IOperation): () => Credentials {
      const requirements = op.security ?? doc.security ?? [];
      const usable = requirements.find((r) => Object.keys(r).every((n) => n in given));
      if (requirements.length > 0 && !usable && !config.auth)
        for (const n of new Set(requirements.flatMap((r) => Object.keys(r)))) if (!(n in given)) missing.set(n, (missing.get(n) ?? 0) + 1);
      return () => {
        const c = fixed();
        for (const name of Object.keys(usable ?? {})) apply(name, c);
        return c;
      };
    },
    /** Whether any call will carry a credential. */
    any: fixed().secrets.length > 0 || Object.keys(given).length > 0,
    /** One line per scheme left unconfigured. */
    warnings(): string[] {
      return [...missing].map(
        ([name, n]) =>
          `${where}: security scheme "${name}" (${describe(schemes[name])}) is not configured: ${n} operation(s) will be called without it (give its environment variable in the config: "security": {"${name}": "ENV_NAME"})`,
      );
    },
  };
}

function describe(s: OpenApi.ISecurityScheme | undefined): string {
  if (!s) return "not defined in the document";
  if (s.type === "apiKey") return `apiKey ${s.name ?? "?"} in ${s.in ?? "header"}`;
  if (s.type === "http") return `http ${s.scheme}`;
  return s.type;
}

function splitPair(value: string, name: string, where: string): [string, string] {
  const at = value.indexOf(":");
  if (at < 0) throw new UserError(`${where}: environment variable ${name} must hold user:password (basic auth)`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/**
 * Open an OpenAPI source: `SPEC.json[@BASE_URL]`, or a config file `{"spec", "baseUrl", "allowHosts", "timeoutMs",
 * "maxResponseBytes", "auth": {"headers": {"X-Api-Key": "ENV_NAME"}, "query": {...}, "bearer": "ENV_NAME"}}`.
 *
 * @example
 * const { tools } = await openOpenApiTools("petstore.json@http://127.0.0.1:8080/v1");
 * tools.map((t) => t.doc.Name); // ["get_pet_by_id_for_pet_store", ...]
 */
export async function openOpenApiTools(value: string, o: { warn?: (line: string) => void } = {}): Promise<ToolSet> {
  const warn = o.warn ?? ((line: string) => process.stderr.write(`warning: ${line}\n`));
  const where = `tool source openapi:${maskLocation(value)}`;
  const { config, document: raw } = readSource(value);
  let doc: OpenApi.IDocument;
  try {
    doc = OpenApi.convert(raw as unknown as Parameters<typeof OpenApi.convert>[0]);
  } catch (e) {
    throw new UserError(`${where}: not an OpenAPI document: ${(e as Error).message}`);
  }
  const baseUrl = config.baseUrl ?? doc.servers?.[0]?.url;
  if (!baseUrl) throw new UserError(`${where}: the document has no servers; give the base URL as openapi:SPEC.json@BASE_URL`);
  if (!config.baseUrl && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(baseUrl))
    throw new UserError(
      `${where}: the document's server URL "${baseUrl}" is relative; give the base URL it is relative to as openapi:${config.spec}@BASE_URL (e.g. @http://127.0.0.1:8080${baseUrl.startsWith("/") ? "" : "/"}${baseUrl}), or "baseUrl" in a config file`,
    );
  const base = checkHttpUrl(baseUrl, where);
  const allow = new Set(config.allowHosts ?? [base.host]);
  if (!allow.has(base.host) && !allow.has(base.hostname)) throw new UserError(`${where}: host ${base.host} is not in allowHosts (${[...allow].join(", ")})`);
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxResponseBytes = config.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
  const credentials = credentialsOf(config, doc, where);
  if (credentials.any && !config.allowHosts) checkOwnServer(base, doc, where);
  const app = HttpMigration.application(doc);
  const service = config.name ?? doc.info?.title ?? "api";
  const defs: JsonSchemaTool[] = app.routes.map((route) => {
    const op = route.operation();
    const plan = argPlan(route, doc);
    const auth = credentials.forOperation(op);
    return {
      api: op.operationId ?? `${route.method}_${route.path}`,
      tool: service,
      description: describeOperation(op),
      schema: plan.schema,
      idempotent: IDEMPOTENT.has(route.method.toUpperCase()),
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
          return maskSecrets(text ?? "", secrets);
        } catch (e) {
          throw new Error(maskSecrets((e as Error).message, secrets));
        }
      },
    };
  });
  for (const line of credentials.warnings()) warn(line);
  return { tools: fromJsonSchemaTools(defs), close: async () => undefined };
}

/**
 * Credentials are for the document's own servers: a base URL elsewhere (`@BASE_URL`, a config's `baseUrl`) would hand
 * them to a host the operator never named for them, so it is refused unless `allowHosts` names it. Scheme and port
 * count: `http://` to an `https://` server would send them in clear.
 */
function checkOwnServer(base: URL, doc: OpenApi.IDocument, where: string): void {
  const own = (doc.servers ?? []).flatMap((s) => (URL.canParse(s.url) ? [new URL(s.url).origin] : []));
  if (own.includes(base.origin)) return;
  const servers = own.length ? `its servers are ${own.join(", ")}` : "its server URL is relative";
  throw new UserError(
    `${where}: the configured credentials go only to the document's own servers, and ${base.origin} is not one (${servers}); to send them to ${base.host}, list it in the config: "allowHosts": ["${base.host}"]`,
  );
}

/** Methods whose call may run again after a crash (the crash policy): reads, and a PUT of the same value. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT"]);

/** Summary and description, the summary once: many documents begin the description with it. */
export function describeOperation(op: { summary?: string; description?: string }): string {
  const summary = op.summary?.trim() ?? "";
  const description = op.description?.trim() ?? "";
  const head = summary.replace(/\.$/, "").toLowerCase();
  if (!summary || (description.toLowerCase().startsWith(head) && !/[\p{L}\p{N}]/u.test(description.charAt(head.length)))) return description || summary;
  if (!description) return summary;
  return `${summary}${/[.!?]$/.test(summary) ? "" : "."} ${description}`;
}
