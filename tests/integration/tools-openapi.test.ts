import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { executeCall } from "../../src/tools/executor.js";
import { openOpenApiTools, parseOpenApiSource } from "../../src/tools/openapi.js";
import { loadToolSources } from "../../src/tools/sources.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { runCli } from "../helpers/cli.js";
import { call, plan } from "../helpers/scenario.js";

const SECRET = "sk-live-5ecret-91c2";
const PETS: Record<string, { name: string; tag: string }> = { "7": { name: "Rex", tag: "dog" } };

/** An OpenAPI 3 document written for this test; the server below implements it. */
function spec(base: string) {
  return {
    openapi: "3.0.3",
    info: { title: "Pet Store", version: "1" },
    servers: [{ url: base }],
    paths: {
      "/pets/{petId}": {
        get: {
          operationId: "getPetById",
          summary: "Find a pet by id",
          parameters: [
            { name: "petId", in: "path", required: true, schema: { type: "integer" }, description: "id of the pet" },
            { name: "fields", in: "query", schema: { type: "string", enum: ["name", "all"] }, description: "what to return" },
            { name: "limit", in: "query", schema: { type: "integer", default: 10 }, description: "max items" },
          ],
          responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } } },
        },
      },
      "/pets": {
        post: {
          operationId: "addPet",
          summary: "Add a pet",
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } },
          responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } } } },
        },
      },
      "/slow": { get: { operationId: "slow", responses: { "200": { description: "ok" } } } },
      "/big": { get: { operationId: "big", responses: { "200": { description: "ok" } } } },
      "/whoami": { get: { operationId: "whoami", summary: "Echo the credentials (a careless service)", responses: { "200": { description: "ok" } } } },
    },
    components: { schemas: { Pet: { type: "object", required: ["name"], properties: { name: { type: "string", description: "pet name" }, tag: { type: "string" } } } } },
  };
}

const body = (req: IncomingMessage) => new Promise<string>((done) => {
  let s = "";
  req.on("data", (d) => (s += d));
  req.on("end", () => done(s));
});

function startServer(): Promise<{ server: Server; base: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    hits.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, v: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(v));
    if (req.headers["x-api-key"] !== SECRET) return json(401, { error: "bad key" });
    const pet = /^\/v1\/pets\/(\d+)$/.exec(url.pathname);
    if (req.method === "GET" && pet) return PETS[pet[1]!] ? json(200, { id: Number(pet[1]), ...PETS[pet[1]!], fields: url.searchParams.get("fields") }) : json(404, { error: "no such pet" });
    if (req.method === "POST" && url.pathname === "/v1/pets") return json(200, { created: JSON.parse(await body(req)) });
    if (url.pathname === "/v1/slow") return void setTimeout(() => json(200, { late: true }), 3000);
    if (url.pathname === "/v1/big") return json(200, { blob: "x".repeat(300_000) });
    if (url.pathname === "/v1/whoami") return json(200, { key: req.headers["x-api-key"], user: "ann" });
    json(404, { error: "not found" });
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, hits })));
}

const opts = { timeoutMs: 10_000, maxObservationChars: 100_000 };
let dir: string;
let srv: Awaited<ReturnType<typeof startServer>>;
let config: string;
let tools: ToolSpec[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-openapi-"));
  srv = await startServer();
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec(srv.base)));
  config = join(dir, "petstore.json");
  writeFileSync(config, JSON.stringify({ spec: "spec.json", auth: { headers: { "X-API-Key": "PETSTORE_KEY" } }, timeoutMs: 500, maxResponseBytes: 100_000 }));
  process.env.PETSTORE_KEY = SECRET;
  tools = (await openOpenApiTools(config)).tools;
});

afterAll(() => {
  srv?.server.closeAllConnections();
  srv?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("OpenAPI tools (a real HTTP service on loopback)", () => {
  it("every operation is a tool named and documented the ToolBench way", () => {
    expect(tools.map((t) => t.doc.Name)).toEqual(["get_pet_by_id_for_pet_store", "add_pet_for_pet_store", "slow_for_pet_store", "big_for_pet_store", "whoami_for_pet_store"]);
    expect(tools[0]!.doc).toEqual({
      Name: "get_pet_by_id_for_pet_store",
      function: 'This is the subfunction for tool "pet_store", you can use this tool.The description of this function is: "Find a pet by id"',
      input: {
        petId: "integer, id of the pet",
        fields: "string, (Optional) what to return Possible values are `name` and `all`.",
        limit: "integer, (Optional) max items Default value is `10`.",
      },
    });
    // A JSON body's properties are the tool's arguments (refs resolved).
    expect(tools[1]!.doc.input).toEqual({ name: "string, pet name", tag: "string, (Optional) " });
  });

  it("calls make real HTTP requests with the auth from the environment; failures are error observations", async () => {
    expect(await executeCall(tools, "get_pet_by_id_for_pet_store", '{"petId": 7, "fields": "all"}', opts)).toEqual({ ok: true, observation: '{"id":7,"name":"Rex","tag":"dog","fields":"all"}' });
    expect(srv.hits.at(-1)).toBe("GET /v1/pets/7?fields=all");
    expect(await executeCall(tools, "add_pet_for_pet_store", '{"name": "Tom", "tag": "cat"}', opts)).toEqual({ ok: true, observation: '{"created":{"name":"Tom","tag":"cat"}}' });
    const missing = await executeCall(tools, "get_pet_by_id_for_pet_store", '{"petId": 8}', opts);
    expect(JSON.parse(missing.observation).error).toBe('get_pet_by_id_for_pet_store failed: HTTP 404: {"error":"no such pet"}');
    const bad = await executeCall(tools, "get_pet_by_id_for_pet_store", '{"petId": "seven", "fields": "some"}', opts);
    expect(bad.error).toBe("invalid_arguments");
    expect(JSON.parse(bad.observation).error).toBe(
      'Invalid arguments for get_pet_by_id_for_pet_store: petId: Instance type "string" is invalid. Expected "integer".; fields: Instance does not match any of ["name","all"].',
    );
  });

  it("per-tool timeout and response size cap", async () => {
    const t0 = Date.now();
    const slow = await executeCall(tools, "slow_for_pet_store", "{}", opts);
    expect(JSON.parse(slow.observation).error).toBe("slow_for_pet_store failed: no answer within 500 ms");
    expect(Date.now() - t0).toBeLessThan(2500);
    const big = await executeCall(tools, "big_for_pet_store", "{}", opts);
    expect(JSON.parse(big.observation).error).toBe("big_for_pet_store failed: the response is larger than 100000 bytes");
  });

  it("host allow-list, URL schemes and missing secrets are clear errors", async () => {
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ spec: "spec.json", allowHosts: ["api.example.com"] }));
    await expect(loadToolSources([`openapi:${other}`])).rejects.toThrow(`tool source openapi:${other}: host ${new URL(srv.base).host} is not in allowHosts (api.example.com)`);
    await expect(loadToolSources(["openapi:ftp://example.com/spec.json"])).rejects.toThrow('unsupported URL scheme ftp: in "ftp://example.com/spec.json"');
    await expect(loadToolSources([`openapi:${join(dir, "spec.json")}@file:///etc`])).rejects.toThrow('unsupported URL scheme file: in "file:///etc"');
    expect(parseOpenApiSource("a@b.json@http://h:1/v1")).toEqual({ path: "a@b.json", baseUrl: "http://h:1/v1" });
    const noKey = join(dir, "nokey.json");
    writeFileSync(noKey, JSON.stringify({ spec: "spec.json", auth: { bearer: "ALPHA_UMI_TEST_UNSET_TOKEN" } }));
    await expect(loadToolSources([`openapi:${noKey}`])).rejects.toThrow("environment variable ALPHA_UMI_TEST_UNSET_TOKEN (auth) is not set");
  });

  it("alpha-umi run --tools openapi:…: the secret never reaches τ, the checkpoints, the cassette or the output", async () => {
    const instruction = "Who am I on the pet store, and what is pet 7?";
    const cassette = join(dir, "cassette.jsonl");
    const writer = new CassetteWriter(cassette);
    const rec = (role: "planner" | "caller" | "summarizer", script: string[]) => new RecordingModel(new ScriptedModel(script, role), role, writer);
    const state = await createAlphaUmiGraph({
      tools,
      models: {
        planner: rec("planner", [plan("Ask who I am.", "caller"), plan("Now pet 7.", "caller"), plan("Done.", "conclusion")]),
        caller: rec("caller", [call("whoami_for_pet_store", {}), call("get_pet_by_id_for_pet_store", { petId: 7 })]),
        summarizer: rec("summarizer", ["You are ann; pet 7 is Rex, a dog."]),
      },
    }).invoke({ instruction }, { configurable: { thread_id: "rec" } });
    expect(state.turns.find((t: { from: string }) => t.from === "observation")?.value).toBe('{"key":"***","user":"ann"}');

    const spec = `replay:${cassette}`;
    const args = ["run", instruction, "--tools", `openapi:${config}`, "--planner", spec, "--caller", spec, "--summarizer", spec];
    const r = await runCli([...args, "--checkpoints", join(dir, "run-ck.sqlite"), "--record", join(dir, "run-cassette.jsonl")], { PETSTORE_KEY: SECRET });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[observation] {"key":"***","user":"ann"}');
    expect(r.stdout).toContain('[observation] {"id":7,"name":"Rex","tag":"dog","fields":null}');
    expect(srv.hits.filter((h) => h === "GET /v1/whoami")).toHaveLength(2);
    const files = readdirSync(dir).filter((f) => /cassette|ck\.sqlite/.test(f));
    expect(files.sort()).toEqual(expect.arrayContaining(["cassette.jsonl", "run-cassette.jsonl", "run-ck.sqlite"]));
    for (const f of files) expect(readFileSync(join(dir, f)).includes(SECRET)).toBe(false);
    expect(r.stdout.includes(SECRET) || r.stderr.includes(SECRET)).toBe(false);
  });
});
