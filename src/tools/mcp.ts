/**
 * Tools from MCP servers (the usual `mcpServers` map of stdio commands and streamable HTTP URLs), through
 * @langchain/mcp-adapters. The servers live as long as the returned tool set: `close()` stops them.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MultiServerMCPClient } from "@langchain/mcp-adapters";
import { fromJsonSchemaTools, type JsonSchema, type JsonSchemaTool } from "./schema.js";
import type { ToolSet } from "./spec.js";

/** One server of an `mcpServers` map: a stdio command, or a streamable HTTP URL with headers. */
export interface McpRestart {
  enabled?: boolean;
  maxAttempts?: number;
  delayMs?: number;
}

export type McpServerConfig =
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string; restart?: McpRestart }
  | { url: string; headers?: Record<string, string>; transport?: "http" | "sse"; type?: "http" | "sse" };

export interface McpConfig {
  mcpServers: Record<string, McpServerConfig>;
}

/** A stdio server that died is restarted at the next call unless its config says otherwise (`restart.enabled: false`). */
const DEFAULT_RESTART = { enabled: true, maxAttempts: 3, delayMs: 200 };

/** `${NAME}` in header and env values comes from the environment, so tokens stay out of config files. */
function expandEnv(value: string, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`${where}: environment variable ${name} is not set`);
    return v;
  });
}

const expandAll = (m: Record<string, string> | undefined, where: string) =>
  m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, expandEnv(String(v), `${where}.${k}`)]));

/** Read and check an MCP config file; relative `cwd`s are resolved against the file's folder. */
export function readMcpConfig(path: string): McpConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`MCP config ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const servers = (raw as Partial<McpConfig> | null)?.mcpServers;
  if (!servers || typeof servers !== "object" || Object.keys(servers).length === 0)
    throw new Error(`MCP config ${path}: expected {"mcpServers": {NAME: {"command": …} or {"url": …}}} with at least one server`);
  for (const [name, s] of Object.entries(servers)) {
    const ok = s && typeof s === "object" && (typeof (s as { command?: unknown }).command === "string" || typeof (s as { url?: unknown }).url === "string");
    if (!ok) throw new Error(`MCP config ${path}: server "${name}" needs a "command" (stdio) or a "url" (streamable HTTP)`);
    if ("cwd" in s && s.cwd) s.cwd = resolve(dirname(path), s.cwd);
  }
  return { mcpServers: servers };
}

/** The adapters' connection for one server, secrets expanded from the environment at start. */
function connection(name: string, s: McpServerConfig) {
  if ("command" in s)
    return { transport: "stdio" as const, command: s.command, args: s.args ?? [], env: expandAll(s.env, `mcpServers.${name}.env`), cwd: s.cwd, stderr: "inherit" as const };
  const url = new URL(s.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`mcpServers.${name}.url: unsupported URL scheme ${url.protocol} (http or https)`);
  return { transport: s.transport ?? s.type ?? ("http" as const), url: s.url, headers: expandAll(s.headers, `mcpServers.${name}.headers`), automaticSSEFallback: false };
}

/** An MCP tool result as observation text: text blocks joined, anything else as JSON. */
function resultText(result: unknown): string {
  if (typeof result === "string") return result;
  if (Array.isArray(result)) return result.map((b) => (b && typeof b === "object" && (b as { type?: string }).type === "text" ? (b as { text: string }).text : JSON.stringify(b))).join("\n");
  return JSON.stringify(result);
}

type Connection = ReturnType<typeof connection>;

/**
 * One server and its client. Restarts are ours, not the adapters' (theirs race with close() and can leave a process
 * behind): a stdio server whose process is gone is started again at the next call, at most `maxAttempts` times.
 */
class McpServerHandle {
  private client: MultiServerMCPClient;
  private restarts = 0;
  private readonly restart: typeof DEFAULT_RESTART;

  constructor(
    readonly name: string,
    private readonly conn: Connection,
    restart: McpRestart | undefined,
  ) {
    this.restart = { ...DEFAULT_RESTART, ...restart };
    this.client = this.connect();
  }

  private connect(): MultiServerMCPClient {
    return new MultiServerMCPClient({ mcpServers: { [this.name]: this.conn }, throwOnLoadError: true, prefixToolNameWithServerName: false, onConnectionError: "throw" });
  }

  tools() {
    return this.client.getTools(this.name);
  }

  /** The stdio process is gone when its SDK client has lost its transport. */
  private async dead(): Promise<boolean> {
    if (this.conn.transport !== "stdio") return false;
    const c = await this.client.getClient(this.name).catch(() => undefined);
    return !c?.transport;
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    if (await this.dead()) {
      if (!this.restart.enabled || this.restarts >= this.restart.maxAttempts)
        throw new Error(`MCP server "${this.name}" has stopped (${this.restart.enabled ? `restarted ${this.restarts} time(s) already` : "restart disabled in its config"})`);
      this.restarts++;
      await this.client.close().catch(() => undefined);
      await new Promise((r) => setTimeout(r, this.restart.delayMs));
      this.client = this.connect();
    }
    const live = (await this.tools()).find((x) => x.name === tool);
    if (!live) throw new Error(`MCP server "${this.name}" no longer offers ${tool}`);
    return live.invoke(args, { signal });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * Start the servers of an MCP config and return their tools (named `tool_for_server`) with a `close()` that stops them.
 * A call to a server that died is an error observation; a stdio server is restarted per its `restart` config (default:
 * up to 3 times) and the next call reaches the new process.
 *
 * @example
 * const { tools, close } = await openMcpTools({ mcpServers: { math: { command: "node", args: ["math-server.mjs"] } } });
 * try { await createAlphaUmiGraph({ tools, models }).invoke({ instruction: "What is 2 + 3?" }); } finally { await close(); }
 */
export async function openMcpTools(config: McpConfig | string): Promise<ToolSet> {
  const cfg = typeof config === "string" ? readMcpConfig(config) : config;
  const handles: McpServerHandle[] = [];
  const close = async () => void (await Promise.allSettled(handles.map((h) => h.close())));
  try {
    const defs: JsonSchemaTool[] = [];
    for (const [name, server] of Object.entries(cfg.mcpServers)) {
      const handle = new McpServerHandle(name, connection(name, server), "restart" in server ? server.restart : undefined);
      handles.push(handle);
      for (const t of await handle.tools())
        defs.push({ api: t.name, tool: name, description: t.description, schema: t.schema as JsonSchema, call: async (args, { signal }) => resultText(await handle.call(t.name, args, signal)) });
    }
    return { tools: fromJsonSchemaTools(defs), close };
  } catch (e) {
    await close();
    throw e;
  }
}
