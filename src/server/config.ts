/**
 * What the operator sets for `alpha-umi serve` in `langgraph.json`, under LangGraph's own keys so that a file written
 * for LangGraph's server works unchanged: `auth.path` (an `Auth` from `@langchain/langgraph-sdk/auth`) and `http.cors`.
 * Read once at start; other keys of the file (graphs, env, …) are LangGraph CLI's and are left alone here.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";

/** LangGraph's `http.cors` (langgraph-cli's config schema), applied as its server applies it. */
const CorsSchema = z
  .object({
    allow_origins: z.array(z.string()).optional(),
    allow_origin_regex: z.string().optional(),
    allow_methods: z.array(z.string()).optional(),
    allow_headers: z.array(z.string()).optional(),
    allow_credentials: z.boolean().optional(),
    expose_headers: z.array(z.string()).optional(),
    max_age: z.number().optional(),
  })
  .strict();

const FileSchema = z.object({
  auth: z
    .object({
      path: z.string().min(1).optional(),
      // Accepted for LangGraph's sake; serve never lets a header stand in for authentication (docs/security.md).
      disable_studio_auth: z.boolean().optional(),
    })
    .optional(),
  http: z.object({ cors: CorsSchema.optional() }).loose().optional(),
  // alpha-umi's own key (LangGraph's CLI ignores keys it does not know): operator settings opened to clients.
  alpha_umi: z.object({ client_settable: z.array(z.string()).optional(), webhook_hosts: z.array(z.string()).optional() }).strict().optional(),
});

export type CorsConfig = z.infer<typeof CorsSchema>;

/** The operator's serve settings; every key is optional and its absence is the safe default. */
export interface ServeConfig {
  /** The file they came from, for messages; none when serve runs without one. */
  file?: string;
  /** `auth.path` as LangGraph reads it: `PATH[:EXPORT]`, PATH relative to the config file's folder (resolved here). */
  auth?: { path: string };
  /** Cross-origin access; absent: no origin but the server's own may call it from a browser. */
  cors?: CorsConfig;
  /** `alpha_umi.client_settable`: operator settings a client's run may set (docs/security.md), as `--client-settable`. */
  clientSettable?: string[];
  /** `alpha_umi.webhook_hosts`: hosts (`name` or `name:port`) a run's webhook may name, as `--webhook-hosts`. */
  webhookHosts?: string[];
  /** Keys of LangGraph's `http` that serve does not apply (`app`, `disable_*`…), for a warning at start. */
  ignored?: string[];
}

/**
 * Read `langgraph.json`: `file` when given (it must exist), else the working folder's when there is one, else no
 * settings. Bad keys are one line naming the file and the key.
 *
 * @example
 * const config = readServeConfig("deploy/langgraph.json"); // { file, auth: { path: "/abs/deploy/auth.ts:auth" }, cors }
 */
export function readServeConfig(file?: string, cwd = process.cwd()): ServeConfig {
  const path = resolve(cwd, file ?? "langgraph.json");
  if (!existsSync(path)) {
    if (file !== undefined) throw new UserError(`--config ${file}: no such file`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path}: not JSON (${(e as Error).message})`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${path}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  const { auth, http, alpha_umi } = parsed.data;
  const config: ServeConfig = {
    file: path,
    ...(alpha_umi?.client_settable ? { clientSettable: alpha_umi.client_settable } : {}),
    ...(alpha_umi?.webhook_hosts ? { webhookHosts: alpha_umi.webhook_hosts } : {}),
  };
  if (auth?.path) {
    const [module, symbol] = auth.path.split(":", 2) as [string, string | undefined];
    const modulePath = resolve(dirname(path), module);
    if (!existsSync(modulePath)) throw new UserError(`${path}: auth.path: ${modulePath} not found`);
    config.auth = { path: symbol ? `${modulePath}:${symbol}` : modulePath };
  }
  const ignored = Object.keys(http ?? {}).filter((k) => k !== "cors");
  if (ignored.length) config.ignored = ignored.map((k) => `http.${k}`);
  if (http?.cors) {
    if (http.cors.allow_origin_regex !== undefined) {
      try {
        new RegExp(http.cors.allow_origin_regex);
      } catch (e) {
        throw new UserError(`${path}: http.cors.allow_origin_regex: ${(e as Error).message}`);
      }
    }
    config.cors = http.cors;
  }
  return config;
}
