import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointerFrom, closeCheckpointer } from "../../src/checkpoint/checkpointers.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { executeCall } from "../../src/tools/executor.js";
import { describeOperation, openOpenApiTools } from "../../src/tools/openapi.js";
import type { ToolSet } from "../../src/tools/spec.js";
import { runCli } from "../helpers/cli.js";
import { call, plan } from "../helpers/scenario.js";

/**
 * OpenAPI securitySchemes against a loopback service that checks each credential the way its document says, with the
 * secrets only in environment variables; relative server URLs; operation descriptions; argument fields. Then the
 * attacks: a base URL or redirect pointing at another host (a second loopback address) must not get the credentials,
 * and a service echoing a secret in any encoding must not get it into τ, a checkpoint or a cassette.
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

/** Query key and bearer token with the characters that escaped masking: `/+=`, `&?%#`, quotes, `<>`, space, backslash, é. */
const QUERY_KEY = `k/+=&?%#"<>' é\\Zq7Y~v`;
const BEARER = "tok/+=Zx81Q==r9";

/** Every encoding a service may echo a secret in, computed here independently of the masking code. */
function encodings(s: string): Record<string, string> {
  const escapeAll = (f: (c: string) => string) => [...s].map((c) => (/[A-Za-z0-9]/.test(c) ? c : f(c))).join("");
  return {
    raw: s,
    uri: encodeURIComponent(s),
    form: new URLSearchParams({ k: s }).toString().slice(2),
    lowerHex: encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    twice: encodeURIComponent(encodeURIComponent(s)),
    base64: Buffer.from(s).toString("base64"),
    base64url: Buffer.from(s).toString("base64url"),
    json: JSON.stringify(s).slice(1, -1),
    jsonSlash: JSON.stringify(s).slice(1, -1).replace(/\//g, "\\/"),
    jsonUnicode: escapeAll((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    html: escapeAll((c) => `&#${c.codePointAt(0)};`),
    htmlHex: escapeAll((c) => `&#x${c.codePointAt(0)!.toString(16)};`),
  };
}

const echoDocument = (base: string) => ({
  openapi: "3.0.3",
  info: { title: "Echo", version: "1" },
  servers: [{ url: base }],
  security: [{ key: [], bearer: [] }],
  paths: {
    "/echo": { get: { operationId: "echo", summary: "Echo what the request carried (a careless service)", responses: { "200": { description: "text" } } } },
    "/moved": { get: { operationId: "moved", summary: "Moved elsewhere", responses: { "200": { description: "ok" } } } },
  },
  components: { securitySchemes: { key: { type: "apiKey", in: "query", name: "key" }, bearer: { type: "http", scheme: "bearer" } } },
});

/** "Another host": a second loopback address, recording everything that reaches it. */
function startOtherHost(): Promise<{ server: Server; origin: string; host: string; seen: Array<{ url: string; headers: IncomingHttpHeaders }> }> {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    res.writeHead(200, { "content-type": "application/json" }).end('{"echo":"ok"}');
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.2", () => {
      const host = `127.0.0.2:${(server.address() as AddressInfo).port}`;
      done({ server, origin: `http://${host}`, host, seen });
    }),
  );
}

/**
 * The document's own service: checks both credentials, then echoes them in every encoding, one `name=value` line each
 * (text/plain, so the forms reach the observation as written); `/moved` redirects to the other host with the key.
 */
function startEchoService(other: () => string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const key = url.searchParams.get("key");
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    if (key !== QUERY_KEY || token !== BEARER) return void res.writeHead(401).end(`unauthorized: key=${key} token=${token}`);
    if (url.pathname === "/v1/moved") return void res.writeHead(307, { location: `${other()}/steal?key=${encodeURIComponent(key)}` }).end();
    const lines = [`wire=${req.url}`, `basic=${Buffer.from(`ann:${key}`).toString("base64")}`, `wrapped=${Buffer.from(`{"key":"${key}"}`).toString("base64")}`];
    for (const [name, v] of [...Object.entries(encodings(key)).map(([n, v]) => [`key.${n}`, v]), ...Object.entries(encodings(token)).map(([n, v]) => [`token.${n}`, v])]) lines.push(`${name}=${v}`);
    res.writeHead(200, { "content-type": "text/plain" }).end(lines.join("\n"));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` })));
}

/** Which encodings of which secret `text` holds: each form as written, and as a JSON string holds it (a checkpoint row, a cassette line). */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [who, secret] of [["key", QUERY_KEY], ["token", BEARER]] as const)
    for (const [name, form] of Object.entries(encodings(secret)))
      if (text.includes(form) || text.includes(JSON.stringify(form).slice(1, -1))) found.push(`${who}.${name}`);
  return found;
}

describe("OpenAPI credentials go only where the document's servers are", () => {
  let other: Awaited<ReturnType<typeof startOtherHost>>;
  let echo: Awaited<ReturnType<typeof startEchoService>>;
  let echoSpec: string;
  const ECHO_ENV = { ECHO_KEY: QUERY_KEY, ECHO_TOKEN: BEARER };
  const echoSecurity = { key: "ECHO_KEY", bearer: "ECHO_TOKEN" };
  /** What reached the other host carrying a credential: the header key, the query key, the cookie or an Authorization scheme. */
  const credentialsSeen = () =>
    other.seen.flatMap((r) => [r.headers["x-vault-key"], new URL(r.url, "http://x").searchParams.get("key"), r.headers.cookie, r.headers.authorization?.split(" ")[0]].filter((v) => v != null));

  beforeAll(async () => {
    other = await startOtherHost();
    echo = await startEchoService(() => other.origin);
    echoSpec = join(dir, "echo.json");
    writeFileSync(echoSpec, JSON.stringify(echoDocument(echo.base)));
    Object.assign(process.env, ECHO_ENV);
  });

  afterAll(() => {
    for (const k of Object.keys(ECHO_ENV)) delete process.env[k];
    other?.server.close();
    echo?.server.close();
  });

  beforeEach(() => void other.seen.splice(0));

  /** Open the source and, if it opens, call every tool: whatever it would send, the other host records. */
  const attempt = async (source: string) => {
    try {
      const { tools } = await openOpenApiTools(source, { warn: () => undefined });
      for (const t of tools) await executeCall(tools, t.doc.Name, "{}", opts);
      return "opened";
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("@BASE_URL or a config's baseUrl on another host is refused with the fix, and that host receives nothing; allowHosts naming it lets them go", async () => {
    const config = writeConfig("vault-keys.json", { security: SECURITY });
    const inFile = writeConfig("vault-elsewhere.json", { security: SECURITY, baseUrl: `${other.origin}/v1` });
    const outcomes = [await attempt(`${config}@${other.origin}/v1`), await attempt(inFile)];
    expect(credentialsSeen()).toEqual([]);
    const fix = `the configured credentials go only to the document's own servers, and ${other.origin} is not one (its servers are ${new URL(http.base).origin}); to send them to ${other.host}, list it in the config: "allowHosts": ["${other.host}"]`;
    expect(outcomes).toEqual([`tool source openapi:${config}@${other.origin}/v1: ${fix}`, `tool source openapi:${inFile}: ${fix}`]);

    // The operator's explicit choice, and the proof that the other host would have recorded them (byBasic needs a body,
    // so "{}" never leaves the validator).
    const widened = writeConfig("vault-widened.json", { security: SECURITY, allowHosts: [other.host] });
    expect(await attempt(`${widened}@${other.origin}/v1`)).toBe("opened");
    expect(credentialsSeen()).toEqual([KEY, KEY, `session=${KEY}`, "Bearer"]);
    // Without credentials there is nothing to protect: a plain document may be pointed anywhere (a local mock).
    expect(await attempt(`${join(dir, "vault.json")}@${other.origin}/v1`)).toBe("opened");
  });

  it("another port, plain http to an https server, or a relative server URL with credentials is refused the same way", async () => {
    const config = writeConfig("vault-keys.json", { security: SECURITY });
    const { port, host } = new URL(http.base);
    expect(await attempt(`${config}@http://127.0.0.1:${Number(port) + 1}/v1`)).toMatch(/and http:\/\/127\.0\.0\.1:\d+ is not one .* "allowHosts": \["127\.0\.0\.1:\d+"\]$/);
    writeFileSync(join(dir, "vault-tls.json"), JSON.stringify(document(`https://${host}/v1`)));
    writeFileSync(join(dir, "vault-downgrade.json"), JSON.stringify({ spec: "vault-tls.json", security: SECURITY, baseUrl: http.base }));
    expect(await attempt(join(dir, "vault-downgrade.json"))).toMatch(/is not one \(its servers are https:\/\/127\.0\.0\.1:\d+\)/);
    // A relative server names no host: the operator says where credentials may go.
    writeFileSync(join(dir, "vault-relative.json"), JSON.stringify({ spec: "relative.json", security: SECURITY }));
    expect(await attempt(`${join(dir, "vault-relative.json")}@${http.base}`)).toMatch(/is not one \(its server URL is relative\); to send them to 127\.0\.0\.1:\d+, list it/);
  });

  it("a redirect to another host is not followed: the agent is told where it pointed, the key masked", async () => {
    const { tools } = await openOpenApiTools(writeConfig("echo-config.json", { spec: "echo.json", security: echoSecurity }));
    const r = await executeCall(tools, "moved_for_echo", "{}", opts);
    expect(JSON.parse(r.observation).error).toBe(`moved_for_echo failed: HTTP 307: redirect to ${other.origin}/steal?key=*** not followed`);
    expect(other.seen).toEqual([]);
  });

  it("a secret with /+= and friends, echoed raw, percent-encoded, base64 and JSON- or HTML-escaped, reaches neither τ, the checkpoint nor the cassette", async () => {
    const { tools } = await openOpenApiTools(writeConfig("echo-config.json", { spec: "echo.json", security: echoSecurity }));
    const direct = await executeCall(tools, "echo_for_echo", "{}", opts);
    expect(direct.ok).toBe(true); // the service checked both credentials before echoing
    expect(leaks(direct.observation)).toEqual([]);
    const lines = Object.fromEntries(direct.observation.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(lines["key.raw"]).toBe("***");
    expect(lines.wire).toBe("/v1/echo?key=***");
    // Base64 of a longer value keeps only the characters that also encode its other bytes.
    expect(lines.basic).toMatch(/^YW5u[A-Za-z0-9+/]{0,2}\*\*\*[A-Za-z0-9+/=]{0,4}$/);
    expect(lines.wrapped).toMatch(/^eyJrZXkiOi[A-Za-z0-9+/]{0,2}\*\*\*[A-Za-z0-9+/=]{0,6}$/);
    expect(Object.keys(lines)).toHaveLength(3 + 2 * Object.keys(encodings("")).length);

    const ckDir = mkdtempSync(join(tmpdir(), "alpha-umi-openapi-ck-"));
    try {
      const saver = checkpointerFrom(join(ckDir, "ck.sqlite"));
      const writer = new CassetteWriter(join(ckDir, "cassette.jsonl"));
      const rec = (role: "planner" | "caller" | "summarizer", script: string[]) => new RecordingModel(new ScriptedModel(script, role), role, writer);
      const state = await createAlphaUmiGraph({
        tools,
        checkpointer: saver,
        models: {
          planner: rec("planner", [plan("Echo.", "caller"), plan("Follow it.", "caller"), plan("Done.", "conclusion")]),
          caller: rec("caller", [call("echo_for_echo", {}), call("moved_for_echo", {})]),
          summarizer: rec("summarizer", ["Echoed; the move was not followed."]),
        },
      }).invoke({ instruction: "Echo my credentials, then follow the move." }, { configurable: { thread_id: "echo" } });
      await closeCheckpointer(saver);
      const observations = state.turns.filter((t: { from: string }) => t.from === "observation").map((t: { value: string }) => t.value);
      expect(observations).toHaveLength(2);
      expect(observations[0]).toContain("key.raw=***");
      expect(leaks(observations.join("\n"))).toEqual([]);
      const files = readdirSync(ckDir);
      expect(files).toEqual(expect.arrayContaining(["ck.sqlite", "cassette.jsonl"]));
      const stored = files.map((f) => readFileSync(join(ckDir, f), "latin1")).join("\n");
      // The observations are there, masked: the search below looks where the secrets would be.
      expect(stored).toContain("key.raw=***");
      expect(stored).toContain("steal?key=***");
      expect(leaks(Buffer.from(stored, "latin1").toString("utf8"))).toEqual([]);
    } finally {
      rmSync(ckDir, { recursive: true, force: true });
    }
  });
});
