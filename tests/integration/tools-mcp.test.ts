import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel, scriptedRoles } from "../../src/models/scripted.js";
import type { AgentStateType } from "../../src/state.js";
import { executeCall } from "../../src/tools/executor.js";
import { openMcpTools } from "../../src/tools/mcp.js";
import { loadToolSources } from "../../src/tools/sources.js";
import type { ToolSet } from "../../src/tools/spec.js";
import { runCli } from "../helpers/cli.js";
import { call, plan } from "../helpers/scenario.js";

/** A real MCP server over stdio, written for this test: add, pid, and die (the process exits mid-call). */
const STDIO_SERVER = `
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
const server = new McpServer({ name: "calc", version: "1.0.0" });
server.registerTool("add", {
  description: "Add two numbers.",
  inputSchema: { a: z.number().describe("first addend"), b: z.number().describe("second addend"), round: z.enum(["none", "int"]).default("none").describe("rounding") },
}, async ({ a, b, round }) => ({ content: [{ type: "text", text: String(round === "int" ? Math.round(a + b) : a + b) }] }));
server.registerTool("pid", { description: "The server's process id." }, async () => ({ content: [{ type: "text", text: String(process.pid) }] }));
server.registerTool("die", { description: "Exit the server process." }, async () => process.exit(3));
await server.connect(new StdioServerTransport());
`;

const TOKEN = "mcp-token-7f3a";

/** A real MCP server over streamable HTTP on a free loopback port, refusing requests without the bearer token. */
function startHttpServer(): Promise<{ server: Server; url: string; seenAuth: string[] }> {
  const seenAuth: string[] = [];
  const server = createServer(async (req, res) => {
    seenAuth.push(req.headers.authorization ?? "");
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end("unauthorized");
    const mcp = new McpServer({ name: "web", version: "1.0.0" });
    mcp.registerTool(
      "lookupCapital",
      { description: "Capital city of a country.", inputSchema: { country: z.string().describe("country name") } },
      async ({ country }) => ({ content: [{ type: "text", text: JSON.stringify({ country, capital: country === "Japan" ? "Tokyo" : "unknown" }) }] }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => void transport.close().then(() => mcp.close()));
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, seenAuth })));
}

const opts = { timeoutMs: 10_000, maxObservationChars: 1000 };
let dir: string;
let http: Awaited<ReturnType<typeof startHttpServer>>;
let configPath: string;
let set: ToolSet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-mcp-"));
  symlinkSync(join(process.cwd(), "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "server.mjs"), STDIO_SERVER);
  http = await startHttpServer();
  configPath = join(dir, "mcp.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      mcpServers: {
        calc: { command: process.execPath, args: ["server.mjs"], cwd: ".", restart: { enabled: true, maxAttempts: 5, delayMs: 100 } },
        web: { url: http.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" } },
      },
    }),
  );
  process.env.MCP_TOKEN = TOKEN;
  set = await openMcpTools(configPath);
});

afterAll(async () => {
  await set?.close();
  http?.server.closeAllConnections();
  http?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("MCP tools (stdio and streamable HTTP servers on loopback)", () => {
  it("are named and documented the ToolBench way, enums and defaults included", () => {
    const byName = Object.fromEntries(set.tools.map((t) => [t.doc.Name, t.doc]));
    expect(Object.keys(byName).sort()).toEqual(["add_for_calc", "die_for_calc", "lookup_capital_for_web", "pid_for_calc"]);
    expect(byName.add_for_calc).toEqual({
      Name: "add_for_calc",
      function: 'This is the subfunction for tool "calc", you can use this tool.The description of this function is: "Add two numbers."',
      input: { a: "number, first addend", b: "number, second addend", round: "string, (Optional) rounding Possible values are `none` and `int`. Default value is `none`." },
    });
    expect(byName.lookup_capital_for_web!.input).toEqual({ country: "string, country name" });
  });

  it("call the servers: the result is the observation; bad arguments are refused against the tool's schema before the call", async () => {
    expect(await executeCall(set.tools, "add_for_calc", '{"a": 2, "b": 3.5, "round": "int"}', opts)).toEqual({ ok: true, observation: "6" });
    expect(await executeCall(set.tools, "lookup_capital_for_web", '{"country": "Japan"}', opts)).toEqual({ ok: true, observation: '{"country":"Japan","capital":"Tokyo"}' });
    expect(http.seenAuth.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    const bad = await executeCall(set.tools, "add_for_calc", '{"a": "two", "round": "up"}', opts);
    expect(bad.error).toBe("invalid_arguments");
    expect(JSON.parse(bad.observation).error).toBe(
      'Invalid arguments for add_for_calc: b: required; a: Instance type "string" is invalid. Expected "number".; round: Instance does not match any of ["none","int"].',
    );
  });

  it("a server that dies mid-run is an error observation, and it is restarted per its config", async () => {
    const before = await executeCall(set.tools, "pid_for_calc", "{}", opts);
    expect(before.ok).toBe(true);
    const died = await executeCall(set.tools, "die_for_calc", "{}", opts);
    expect(died.ok).toBe(false);
    expect(died.error).toBe("tool_error");
    let after = await executeCall(set.tools, "pid_for_calc", "{}", opts);
    for (let i = 0; !after.ok && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await executeCall(set.tools, "pid_for_calc", "{}", opts);
    }
    expect(after.ok).toBe(true);
    expect(after.observation).not.toBe(before.observation);
  });

  it("close() stops the stdio server", async () => {
    const own = await openMcpTools({ mcpServers: { calc: { command: process.execPath, args: [join(dir, "server.mjs")] } } });
    const pid = Number((await executeCall(own.tools, "pid_for_calc", "{}", opts)).observation);
    expect(() => process.kill(pid, 0)).not.toThrow();
    await own.close();
    for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(pid)).toBe(false);
  });

  it("a bad config is one clear error naming the file and the server", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ mcpServers: { x: { args: [] } } }));
    await expect(loadToolSources([`mcp:${bad}`])).rejects.toThrow(`MCP config ${bad}: server "x" needs a "command" (stdio) or a "url" (streamable HTTP)`);
    await expect(loadToolSources([`mcp:${join(dir, "none.json")}`])).rejects.toThrow(/no such file/);
  });

  it("alpha-umi run --tools mcp:CONFIG.json calls both servers; their results are the observations", async () => {
    const instruction = "What is 2 + 3, and what is the capital of Japan?";
    const cassette = join(dir, "cassette.jsonl");
    const writer = new CassetteWriter(cassette);
    const rec = (role: "planner" | "caller" | "summarizer", script: string[]) => new RecordingModel(new ScriptedModel(script, role), role, writer);
    await createAlphaUmiGraph({
      tools: set.tools,
      models: {
        planner: rec("planner", [plan("Add first.", "caller"), plan("Now the capital.", "caller"), plan("Done.", "conclusion")]),
        caller: rec("caller", [call("add_for_calc", { a: 2, b: 3 }), call("lookup_capital_for_web", { country: "Japan" })]),
        summarizer: rec("summarizer", ["2 + 3 = 5 and the capital of Japan is Tokyo."]),
      },
    }).invoke({ instruction }, { configurable: { thread_id: "rec" } });
    const spec = `replay:${cassette}`;
    const r = await runCli(["run", instruction, "--tools", `mcp:${configPath}`, "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", "memory"], { MCP_TOKEN: TOKEN });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[observation] 5\n");
    expect(r.stdout).toContain('[observation] {"country":"Japan","capital":"Tokyo"}');
  });

  it("work in the graph with scripted models", async () => {
    const models = scriptedRoles({ planner: [plan("Add.", "caller"), plan("Done.", "conclusion")], caller: [call("add_for_calc", { a: 40, b: 2 })], summarizer: ["42"] });
    const state = (await createAlphaUmiGraph({ tools: set.tools, models }).invoke({ instruction: "40 + 2?" }, { configurable: { thread_id: "g" } })) as AgentStateType;
    expect(state.turns.find((t) => t.from === "observation")?.value).toBe("42");
    expect(models.planner.prompts[0]).toContain('{"Name": "add_for_calc"');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
