import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RoleCodec } from "../../src/codec/index.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { countTokens } from "../../src/protocol/tokens.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { DEFAULT_BUDGET, promptLimit } from "../../src/protocol/budget.js";
import { executeCall } from "../../src/tools/executor.js";
import { openMcpTools, type McpConfig } from "../../src/tools/mcp.js";
import type { ToolSet } from "../../src/tools/spec.js";
import { runCli } from "../helpers/cli.js";
import { call, plan } from "../helpers/scenario.js";
import { freePort } from "../../src/models/llamaServer.js";

/**
 * The three reference MCP servers from npm (devDependencies), as a user configures them: tool results as their servers
 * meant them, tool choice per server, annotations, and a streamable-HTTP server that restarts or dies.
 */
const require = createRequire(import.meta.url);
const bin = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), "dist/index.js");
const EVERYTHING = bin("@modelcontextprotocol/server-everything");
const FILESYSTEM = bin("@modelcontextprotocol/server-filesystem");
const MEMORY = bin("@modelcontextprotocol/server-memory");

let dir: string;
let files: string;
let config: McpConfig;
let set: ToolSet;
const opts = { timeoutMs: 30_000, maxObservationChars: 4000 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-mcp-ref-"));
  files = join(dir, "files");
  require("node:fs").mkdirSync(files);
  writeFileSync(join(files, "notes.txt"), "hello\nworld\n");
  config = {
    mcpServers: {
      everything: { command: process.execPath, args: [EVERYTHING, "stdio"] },
      filesystem: { command: process.execPath, args: [FILESYSTEM, files] },
      memory: { command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
    },
  };
  set = await openMcpTools(config);
}, 60_000);

afterAll(async () => {
  await set?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = async (name: string, args: object) => {
  const r = await executeCall(set.tools, name, JSON.stringify(args), opts);
  expect(r).toMatchObject({ ok: true });
  return r.observation;
};

describe("MCP reference servers: tool results as their servers meant them", () => {
  it("all 36 tools are listed; readOnlyHint/idempotentHint make a tool idempotent, others are not", () => {
    expect(set.tools).toHaveLength(36);
    const idem = Object.fromEntries(set.tools.map((t) => [t.doc.Name, !!t.idempotent]));
    expect(idem).toMatchObject({
      echo_for_everything: true, // readOnly
      toggle_simulated_logging_for_everything: false,
      read_text_file_for_filesystem: true, // readOnly, no idempotentHint
      write_file_for_filesystem: true, // idempotentHint
      edit_file_for_filesystem: false,
      create_entities_for_memory: false,
      read_graph_for_memory: true,
    });
  });

  it("an embedded text resource's text reaches the observation, with its URI", async () => {
    const obs = await ok("get_resource_reference_for_everything", { resourceType: "Text", resourceId: 1 });
    expect(obs).toMatch(/^Returning resource reference for Resource 1:\n\[resource demo:\/\/resource\/dynamic\/text\/1: text\/plain\]\nResource 1: This is a plaintext resource created at .+\nYou can access this resource using the URI: demo:\/\/resource\/dynamic\/text\/1$/);
  });

  it("an embedded blob is [mime, N bytes], never its base64", async () => {
    const obs = await ok("get_resource_reference_for_everything", { resourceType: "Blob", resourceId: 2 });
    expect(obs).toMatch(/\[resource demo:\/\/resource\/dynamic\/blob\/2: text\/plain, \d+ bytes\]/);
    expect(obs).not.toMatch(/[A-Za-z0-9+/]{40,}/);
  });

  it("resource links say URI, name and description", async () => {
    const obs = await ok("get_resource_links_for_everything", { count: 2 });
    expect(obs).toBe(
      [
        "Here are 2 resource links to resources available in this server:",
        "[resource link demo://resource/dynamic/blob/1: Blob Resource 1 — Resource 1: plaintext resource (text/plain)]",
        "[resource link demo://resource/dynamic/text/2: Text Resource 2 — Resource 2: plaintext resource (text/plain)]",
      ].join("\n"),
    );
  });

  it("an image is a placeholder with type and size, not ~4k characters of base64", async () => {
    const obs = await ok("get_tiny_image_for_everything", {});
    expect(obs).toMatch(/^Here's the image you requested:\n\[image: image\/png, \d{4} bytes\]\nThe image above is the MCP logo\.$/);
  });

  it("structured content is its JSON once, not a text block repeating it", async () => {
    const weather = await ok("get_structured_content_for_everything", { location: "Chicago" });
    expect(Object.keys(JSON.parse(weather)).sort()).toEqual(["conditions", "humidity", "temperature"]);
    await ok("create_entities_for_memory", { entities: [{ name: "Ada", entityType: "person", observations: ["wrote the first program"] }] });
    const graph = await ok("read_graph_for_memory", {});
    expect(graph).toBe('{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]}],"relations":[]}');
    expect(await ok("read_text_file_for_filesystem", { path: join(files, "notes.txt") })).toBe('{"content":"hello\\nworld\\n"}');
  });

  it("a tool's own error (isError) is an error observation with the server's message", async () => {
    const r = await executeCall(set.tools, "read_text_file_for_filesystem", JSON.stringify({ path: "/etc/passwd" }), opts);
    expect(r.ok).toBe(false);
    expect(JSON.parse(r.observation).error).toMatch(/^read_text_file_for_filesystem failed: Access denied - path outside allowed directories/);
  });

  it("object and array arguments are documented with their fields", () => {
    const doc = set.tools.find((t) => t.doc.Name === "edit_file_for_filesystem")!.doc;
    expect(doc.input.edits).toBe("array, Items: {oldText: string (Text to search for - must match exactly), newText: string (Text to replace with)}.");
    const entities = set.tools.find((t) => t.doc.Name === "create_entities_for_memory")!.doc.input.entities;
    expect(entities).toMatch(/^array, .*Items: \{name: string \(.+\), entityType: string \(.+\), observations: string\[\] \(.+\)\}\.$/);
  });
});

describe("choosing a server's tools (include / exclude)", () => {
  it("the 36 documents overflow a 4096-token context; include/exclude lists make them fit", async () => {
    const tokens = async (tools: ToolSet) => countTokens(new RoleCodec("planner").prompt(tools.tools.map((t) => t.doc), [{ from: "user", value: "What is in notes.txt?" }]));
    expect(await tokens(set)).toBeGreaterThan(promptLimit(DEFAULT_BUDGET));
    const chosen = await openMcpTools({
      mcpServers: {
        everything: { ...config.mcpServers.everything!, include: ["echo", "get-resource-reference"] },
        filesystem: { ...config.mcpServers.filesystem!, include: ["read_text_file", "list_directory"] },
        memory: { ...config.mcpServers.memory!, exclude: ["delete_entities", "delete_observations", "delete_relations", "create_relations", "add_observations", "open_nodes"] },
      },
    });
    try {
      expect(chosen.tools.map((t) => t.doc.Name).sort()).toEqual([
        "create_entities_for_memory",
        "echo_for_everything",
        "get_resource_reference_for_everything",
        "list_directory_for_filesystem",
        "read_graph_for_memory",
        "read_text_file_for_filesystem",
        "search_nodes_for_memory",
      ]);
      expect(await tokens(chosen)).toBeLessThanOrEqual(promptLimit(DEFAULT_BUDGET));
    } finally {
      await chosen.close();
    }
  }, 60_000);

  it("a name the server does not offer is one clear error, in the config file or given directly", async () => {
    await expect(openMcpTools({ mcpServers: { everything: { ...config.mcpServers.everything!, include: ["echo", "ecko"] } } })).rejects.toThrow(
      /^mcpServers\.everything\.include: the server offers no tool named ecko \(it offers echo, get-annotated-message, /,
    );
    const bad = join(dir, "bad-include.json");
    writeFileSync(bad, JSON.stringify({ mcpServers: { everything: { command: "node", include: "echo" } } }));
    await expect(openMcpTools(bad)).rejects.toThrow(`MCP config ${bad}: server "everything": "include" must be a list of the server's tool names`);
  }, 30_000);

  it("alpha-umi run --num-ctx 4096 --tools mcp:CONFIG with include lists: the embedded resource's text is the observation", async () => {
    const path = join(dir, "chosen.json");
    const chosenConfig = {
      mcpServers: {
        everything: { command: process.execPath, args: [EVERYTHING, "stdio"], include: ["get-resource-reference"] },
        memory: { command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: join(dir, "memory2.jsonl") }, include: ["read_graph"] },
      },
    };
    writeFileSync(path, JSON.stringify(chosenConfig));
    const tools = await openMcpTools(path);
    const cassette = join(dir, "chosen.jsonl");
    const writer = new CassetteWriter(cassette);
    const rec = (role: "planner" | "caller" | "summarizer", script: string[]) => new RecordingModel(new ScriptedModel(script, role), role, writer);
    const instruction = "What does resource 1 say?";
    try {
      // One step: the resource's text carries the time it was made, so no later prompt could be replayed.
      await createAlphaUmiGraph({
        tools: tools.tools,
        numCtx: 4096,
        maxSteps: 1,
        models: {
          planner: rec("planner", [plan("Fetch the resource.", "caller")]),
          caller: rec("caller", [call("get_resource_reference_for_everything", { resourceType: "Text", resourceId: 1 })]),
          summarizer: rec("summarizer", []),
        },
      }).invoke({ instruction }, { configurable: { thread_id: "rec" } });
    } finally {
      await tools.close();
    }
    const spec = `replay:${cassette}`;
    const r = await runCli(["run", instruction, "--tools", `mcp:${path}`, "--num-ctx", "4096", "--max-steps", "1", "--planner", spec, "--caller", spec, "--summarizer", spec, "--checkpoints", "memory"]);
    expect(r.stdout).toMatch(/\[observation\] Returning resource reference for Resource 1:\n\s+\[resource demo:\/\/resource\/dynamic\/text\/1: text\/plain\]\n\s+Resource 1: This is a plaintext resource created at /);
    expect(r.stdout).toContain("gave up: step budget exhausted: 1 planner steps without a conclusion");
    expect(r.stdout).not.toContain("[budget]");
    expect(r.code).toBe(3);
  }, 90_000);
});

/** server-everything over streamable HTTP (or legacy SSE) on `port`; resolves once it listens. */
function startHttpEverything(port: number, transport = "streamableHttp"): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, transport], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((res, rej) => {
    let err = "";
    child.stderr!.on("data", (d) => {
      err += d;
      if (/listening on port|is running on port/.test(err)) res(child);
    });
    child.once("exit", (code) => rej(new Error(`server-everything exited ${code}: ${err}`)));
  });
}


const stop = (child: ChildProcess) =>
  new Promise<void>((res) => (child.exitCode !== null || child.signalCode !== null ? res() : (child.once("exit", () => res()), child.kill("SIGKILL"))));

describe("a streamable-HTTP server that restarts or dies (server-everything streamableHttp)", () => {
  it("after a restart the session is re-established and the call goes through", async () => {
    const port = await freePort();
    let server = await startHttpEverything(port);
    const http = await openMcpTools({ mcpServers: { web: { url: `http://127.0.0.1:${port}/mcp`, include: ["echo"] } } });
    try {
      expect(await executeCall(http.tools, "echo_for_web", '{"message": "before"}', opts)).toEqual({ ok: true, observation: "Echo: before" });
      await stop(server);
      server = await startHttpEverything(port);
      expect(await executeCall(http.tools, "echo_for_web", '{"message": "after"}', opts)).toEqual({ ok: true, observation: "Echo: after" });
    } finally {
      await http.close();
      await stop(server);
    }
  }, 60_000);

  it("a legacy SSE server (transport: sse) is called the same way", async () => {
    const port = await freePort();
    const server = await startHttpEverything(port, "sse");
    const sse = await openMcpTools({ mcpServers: { old: { url: `http://127.0.0.1:${port}/sse`, transport: "sse", include: ["echo"] } } });
    try {
      expect(await executeCall(sse.tools, "echo_for_old", '{"message": "hi"}', opts)).toEqual({ ok: true, observation: "Echo: hi" });
    } finally {
      await sse.close();
      await stop(server);
    }
  }, 60_000);

  it("a server that dies mid-call ends the call with an error naming the server, not at the tool timeout", async () => {
    const port = await freePort();
    const server = await startHttpEverything(port);
    const http = await openMcpTools({ mcpServers: { web: { url: `http://127.0.0.1:${port}/mcp`, include: ["trigger-long-running-operation", "echo"] } } });
    try {
      const long = executeCall(http.tools, "trigger_long_running_operation_for_web", '{"duration": 120, "steps": 2}', { ...opts, timeoutMs: 110_000 });
      await new Promise((r) => setTimeout(r, 1000));
      await stop(server);
      const r = await long;
      expect(r.error).toBe("tool_error");
      expect(JSON.parse(r.observation).error).toMatch(/^trigger_long_running_operation_for_web failed: MCP server "web" stopped answering \(fetch failed: .*ECONN(REFUSED|RESET)/);
      // The next call to the dead server is an error at once too.
      const next = await executeCall(http.tools, "echo_for_web", '{"message": "x"}', opts);
      expect(next.error).toBe("tool_error");
      expect(JSON.parse(next.observation).error).toMatch(/MCP server "web".*ECONNREFUSED/);
    } finally {
      await http.close();
      await stop(server);
    }
  }, 100_000);
});
