import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeCall } from "../../src/tools/executor.js";
import { describeOperation, openOpenApiTools } from "../../src/tools/openapi.js";
import type { ToolSet } from "../../src/tools/spec.js";
import { runCli } from "../helpers/cli.js";

/**
 * OpenAPI securitySchemes against a loopback service that checks each credential the way its document says, with the
 * secrets only in environment variables; relative server URLs; operation descriptions; argument fields.
 */
const KEY = "key-3f9a77";
const TOKEN = "tok-b41c02";
const USER = "ann";
const PASSWORD = "pw-9d2e1";

function document(base: string | undefined) {
  return {
    openapi: "3.0.3",
    info: { title: "Vault", version: "1" },
    ...(base ? { servers: [{ url: base }] } : {}),
    security: [{ headerKey: [] }],
    paths: {
      "/header": { get: { operationId: "byHeader", summary: "Read with the header key.", description: "Read with the header key. Returns who you are.", responses: { "200": { description: "ok" } } } },
      "/query": { get: { operationId: "byQuery", summary: "Read with the query key", security: [{ queryKey: [] }], responses: { "200": { description: "ok" } } } },
      "/cookie": { get: { operationId: "byCookie", security: [{ cookieKey: [] }], responses: { "200": { description: "ok" } } } },
      "/bearer": { put: { operationId: "byBearer", summary: "Store", description: "Stores a value.", security: [{ oauth: [] }, { bearer: [] }], responses: { "200": { description: "ok" } } } },
      "/basic": {
        post: {
          operationId: "byBasic",
          security: [{ basic: [] }],
          requestBody: {
            required: true,
            content: { "application/json": { schema: { type: "object", required: ["items"], properties: { items: { type: "array", description: "what to add", items: { $ref: "#/components/schemas/Item" } }, owner: { $ref: "#/components/schemas/Owner" } } } } },
          },
          responses: { "200": { description: "ok" } },
        },
      },
      "/open": { get: { operationId: "open", security: [], responses: { "200": { description: "ok" } } } },
    },
    components: {
      schemas: {
        Item: { type: "object", required: ["sku"], properties: { sku: { type: "string", description: "stock unit" }, qty: { type: "integer" } } },
        Owner: { type: "object", description: "who owns them", properties: { name: { type: "string" } } },
      },
      securitySchemes: {
        headerKey: { type: "apiKey", in: "header", name: "X-Vault-Key" },
        queryKey: { type: "apiKey", in: "query", name: "key" },
        cookieKey: { type: "apiKey", in: "cookie", name: "session" },
        bearer: { type: "http", scheme: "bearer" },
        basic: { type: "http", scheme: "basic" },
        oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://auth.example/token", scopes: {} } } },
      },
    },
  };
}

/** The service: each path accepts only its scheme's credential, and echoes it (a careless service) when it is right. */
function startServer(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const seen: Record<string, string | undefined> = {
      "/v1/header": req.headers["x-vault-key"] as string | undefined,
      "/v1/query": url.searchParams.get("key") ?? undefined,
      "/v1/cookie": /session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1],
      "/v1/bearer": req.headers.authorization?.replace(/^Bearer /, ""),
      "/v1/basic": req.headers.authorization?.startsWith("Basic ") ? Buffer.from(req.headers.authorization.slice(6), "base64").toString() : undefined,
      "/v1/open": "none",
    };
    const want: Record<string, string> = { "/v1/header": KEY, "/v1/query": KEY, "/v1/cookie": KEY, "/v1/bearer": TOKEN, "/v1/basic": `${USER}:${PASSWORD}`, "/v1/open": "none" };
    const got = seen[url.pathname];
    if (got !== want[url.pathname]) return void res.writeHead(401).end(JSON.stringify({ error: "unauthorized", got: got ?? null }));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: url.pathname, echo: got, auth: req.headers.authorization ?? null }));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` })));
}

const ENV = { VAULT_KEY: KEY, VAULT_TOKEN: TOKEN, VAULT_BASIC: `${USER}:${PASSWORD}` };
const SECURITY = { headerKey: "VAULT_KEY", queryKey: "VAULT_KEY", cookieKey: "VAULT_KEY", bearer: "VAULT_TOKEN", basic: "VAULT_BASIC" };
const opts = { timeoutMs: 5000, maxObservationChars: 10_000 };
let dir: string;
let http: Awaited<ReturnType<typeof startServer>>;
let set: ToolSet;
let warnings: string[];

const writeConfig = (name: string, config: object) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ spec: "vault.json", ...config }));
  return path;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-openapi-sec-"));
  http = await startServer();
  writeFileSync(join(dir, "vault.json"), JSON.stringify(document(http.base)));
  writeFileSync(join(dir, "relative.json"), JSON.stringify(document("/v1")));
  Object.assign(process.env, ENV);
  warnings = [];
  set = await openOpenApiTools(writeConfig("all.json", { security: SECURITY }), { warn: (l) => warnings.push(l) });
});

afterAll(() => {
  for (const k of Object.keys(ENV)) delete process.env[k];
  http?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const observation = async (tools: ToolSet, name: string, args: object = {}) => executeCall(tools.tools, name, JSON.stringify(args), opts);

describe("OpenAPI securitySchemes from environment variables", () => {
  it("apiKey in header, query and cookie, bearer and basic each reach the service as its document says; the secrets are masked", async () => {
    expect(warnings).toEqual([]);
    for (const name of ["by_header_for_vault", "by_query_for_vault", "by_cookie_for_vault", "by_bearer_for_vault", "open_for_vault"]) {
      const r = await observation(set, name);
      expect(r.ok).toBe(true);
      expect(r.observation).not.toMatch(new RegExp(`${KEY}|${TOKEN}`));
    }
    const basic = await observation(set, "by_basic_for_vault", { items: [{ sku: "a1", qty: 2 }] });
    expect(basic.ok).toBe(true);
    expect(JSON.parse(basic.observation)).toEqual({ ok: "/v1/basic", echo: `${USER}:***`, auth: "Basic ***" });
    expect(JSON.parse((await observation(set, "by_header_for_vault")).observation)).toEqual({ ok: "/v1/header", echo: "***", auth: null });
  });

  it("a scheme left unconfigured is one warning naming it, and its operations go without it (401)", async () => {
    const lines: string[] = [];
    const partial = await openOpenApiTools(writeConfig("partial.json", { security: { headerKey: "VAULT_KEY", queryKey: "VAULT_KEY" } }), { warn: (l) => lines.push(l) });
    expect(lines).toHaveLength(4);
    expect(lines).toEqual([
      expect.stringMatching(/security scheme "cookieKey" \(apiKey session in cookie\) is not configured: 1 operation\(s\) will be called without it \(give its environment variable in the config: "security": \{"cookieKey": "ENV_NAME"\}\)$/),
      expect.stringMatching(/security scheme "oauth" \(oauth2\) is not configured: 1 operation/),
      expect.stringMatching(/security scheme "bearer" \(http bearer\) is not configured: 1 operation/),
      expect.stringMatching(/security scheme "basic" \(http basic\) is not configured: 1 operation/),
    ]);
    const r = await observation(partial, "by_bearer_for_vault");
    expect(r.ok).toBe(false);
    expect(JSON.parse(r.observation).error).toMatch(/HTTP 401/);
  });

  it("config mistakes are one clear error: an unknown scheme, an unset variable, a scheme that cannot be configured", async () => {
    await expect(openOpenApiTools(writeConfig("unknown.json", { security: { apiKey: "VAULT_KEY" } }))).rejects.toThrow(/security\.apiKey: the document defines no such scheme \(it defines headerKey, queryKey, cookieKey, bearer, basic, oauth\)$/);
    await expect(openOpenApiTools(writeConfig("unset.json", { security: { bearer: "VAULT_NOT_SET" } }))).rejects.toThrow(/environment variable VAULT_NOT_SET \(auth\) is not set$/);
    await expect(openOpenApiTools(writeConfig("oauth.json", { security: { oauth: "VAULT_TOKEN" } }))).rejects.toThrow(/security\.oauth: a oauth2 scheme cannot be configured \(apiKey, http bearer and http basic can\)$/);
  });

  it("through the CLI: the warning is one line on stderr, and no secret reaches the output", async () => {
    const config = writeConfig("cli.json", { security: { headerKey: "VAULT_KEY", queryKey: "VAULT_KEY", cookieKey: "VAULT_KEY", basic: "VAULT_BASIC" } });
    const r = await runCli(["run", "q", "--tools", `openapi:${config}`, "--checkpoints", "memory", "--num-ctx", "10"], ENV);
    const lines = r.stderr.trim().split("\n");
    // byBearer takes oauth or bearer, and the config gives neither.
    expect(lines.filter((l) => l.startsWith("warning: "))).toEqual([expect.stringContaining('security scheme "oauth"'), expect.stringContaining('security scheme "bearer"')]);
    expect(r.stdout + r.stderr).not.toMatch(new RegExp(`${KEY}|${TOKEN}|${PASSWORD}`));
  }, 60_000);
});

describe("OpenAPI documents", () => {
  it("a relative server URL is answered with the @BASE_URL hint; with the base URL it works", async () => {
    const path = join(dir, "relative.json");
    await expect(openOpenApiTools(path)).rejects.toThrow(
      `tool source openapi:${path}: the document's server URL "/v1" is relative; give the base URL it is relative to as openapi:${path}@BASE_URL (e.g. @http://127.0.0.1:8080/v1), or "baseUrl" in a config file`,
    );
    const origin = http.base.replace(/\/v1$/, "");
    const tools = await openOpenApiTools(`${path}@${origin}/v1`, { warn: () => undefined });
    expect((await observation(tools, "open_for_vault")).ok).toBe(true);
  });

  it("summary and description are joined once", () => {
    const docs = Object.fromEntries(set.tools.map((t) => [t.doc.Name, t.doc.function]));
    expect(docs.by_header_for_vault).toMatch(/"Read with the header key\. Returns who you are\."$/);
    expect(docs.by_query_for_vault).toMatch(/"Read with the query key"$/);
    expect(docs.by_bearer_for_vault).toMatch(/"Store\. Stores a value\."$/);
    expect(describeOperation({ summary: "Find pets.", description: "Lists pets by tag." })).toBe("Find pets. Lists pets by tag.");
    expect(describeOperation({ summary: "Find pets", description: "find pets by tag" })).toBe("find pets by tag");
  });

  it("object and array arguments are documented with their fields", () => {
    const input = set.tools.find((t) => t.doc.Name === "by_basic_for_vault")!.doc.input;
    expect(input).toEqual({
      items: "array, what to add Items: {sku: string (stock unit), qty?: integer}.",
      owner: "object, (Optional) who owns them Fields: {name?: string}.",
    });
  });

  it("GET, HEAD and PUT operations are idempotent; POST is not", () => {
    const idem = Object.fromEntries(set.tools.map((t) => [t.doc.Name, !!t.idempotent]));
    expect(idem).toEqual({ by_header_for_vault: true, by_query_for_vault: true, by_cookie_for_vault: true, by_bearer_for_vault: true, by_basic_for_vault: false, open_for_vault: true });
  });
});
