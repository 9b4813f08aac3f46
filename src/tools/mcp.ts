/**
 * Tools from MCP servers (the usual `mcpServers` map of stdio commands and streamable HTTP URLs), through the official
 * SDK's client (@modelcontextprotocol/sdk). The servers live as long as the returned tool set: `close()` stops them.
 *
 * We talk to the SDK client directly rather than through @langchain/mcp-adapters, because the parts of a server's
 * answer the adapters drop or reshape are exactly what the planner needs: the raw CallToolResult (embedded resources,
 * binary data, structured content: see mcpResult.ts), tool annotations (idempotentHint/readOnlyHint for the crash
 * policy), and the session, which must be re-established when a streamable-HTTP server restarts.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { mcpResultText, type McpToolResult } from "./mcpResult.js";
import { fromJsonSchemaTools, resolveRefs, type JsonSchema, type JsonSchemaTool } from "./schema.js";
import type { ToolSet } from "./spec.js";
import { errorMessage } from "../stringify.js";
import { UserError } from "../errors.js";

export interface McpRestart {
  enabled?: boolean;
  maxAttempts?: number;
  delayMs?: number;
}

/** Which of a server's tools the models see, by the server's own tool names (default: all). */
export interface McpToolFilter {
  include?: string[];
  exclude?: string[];
}

/** One server of an `mcpServers` map: a stdio command, or a streamable HTTP (or legacy SSE) URL with headers. */
export type McpServerConfig = McpToolFilter &
  (
    | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string; restart?: McpRestart }
    | { url: string; headers?: Record<string, string>; transport?: "http" | "sse"; type?: "http" | "sse" }
  );

export interface McpConfig {
  mcpServers: Record<string, McpServerConfig>;
}

/** A stdio server that died is restarted at the next call unless its config says otherwise (`restart.enabled: false`). */
const DEFAULT_RESTART = { enabled: true, maxAttempts: 3, delayMs: 200 };

/** While a call to an HTTP server is in flight, the server is pinged this often: a dead one is noticed in seconds. */
const WATCH_MS = 2000;
/** A ping that gets no answer in this time is not taken as death (a busy single-threaded server answers late). */
const PING_TIMEOUT_MS = 2000;
/** The SDK's own per-request timeout (60 s) must not cut a call short: the tool timeout is the executor's. */
const NO_SDK_TIMEOUT = 2 ** 31 - 1;

/** `${NAME}` in header and env values comes from the environment, so tokens stay out of config files. */
function expandEnv(value: string, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new UserError(`${where}: environment variable ${name} is not set`);
    return v;
  });
}

const expandAll = (m: Record<string, string> | undefined, where: string) =>
  m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, expandEnv(String(v), `${where}.${k}`)]));

const isNameList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));

/** Read and check an MCP config file; relative `cwd`s are resolved against the file's folder. */
export function readMcpConfig(path: string): McpConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`MCP config ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const servers = (raw as Partial<McpConfig> | null)?.mcpServers;
  if (!servers || typeof servers !== "object" || Object.keys(servers).length === 0)
    throw new UserError(`MCP config ${path}: expected {"mcpServers": {NAME: {"command": …} or {"url": …}}} with at least one server`);
  for (const [name, s] of Object.entries(servers)) {
    const ok = s && typeof s === "object" && (typeof (s as { command?: unknown }).command === "string" || typeof (s as { url?: unknown }).url === "string");
    if (!ok) throw new UserError(`MCP config ${path}: server "${name}" needs a "command" (stdio) or a "url" (streamable HTTP)`);
    for (const key of ["include", "exclude"] as const)
      if (!isNameList(s[key])) throw new UserError(`MCP config ${path}: server "${name}": "${key}" must be a list of the server's tool names`);
    if ("cwd" in s && s.cwd) s.cwd = resolve(dirname(path), s.cwd);
  }
  return { mcpServers: servers };
}

/** A new transport for one server, secrets expanded from the environment now. */
function transportOf(name: string, s: McpServerConfig): Transport {
  if ("command" in s)
    return new StdioClientTransport({ command: s.command, args: s.args ?? [], env: expandAll(s.env, `mcpServers.${name}.env`), cwd: s.cwd, stderr: "inherit" });
  const url = new URL(s.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UserError(`mcpServers.${name}.url: unsupported URL scheme ${url.protocol} (http or https)`);
  const headers = expandAll(s.headers, `mcpServers.${name}.headers`) ?? {};
  if ((s.transport ?? s.type) === "sse")
    return new SSEClientTransport(url, {
      requestInit: { headers },
      eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
    });
  return new StreamableHTTPClientTransport(url, { requestInit: { headers } });
}

/** The server no longer knows our session (it restarted): it refused the request without running it. */
function sessionLost(e: unknown): boolean {
  return e instanceof StreamableHTTPError && (e.code === 404 || (e.code === 400 && /session/i.test(e.message)));
}

/** Nothing listens at the server's address: the request never reached it. */
function refused(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string; errors?: Array<{ code?: string }> } } | null)?.cause;
  return cause?.code === "ECONNREFUSED" || !!cause?.errors?.some((x) => x.code === "ECONNREFUSED");
}

/** The reason of a failed fetch is in its cause ("fetch failed" says nothing). */
function reasonOf(e: unknown): string {
  const cause = (e as { cause?: unknown } | null)?.cause;
  const own = errorMessage(e);
  return cause && own === "fetch failed" ? `${own}: ${errorMessage(cause)}` : own;
}

interface McpTool {
  name: string;
  description?: string;
  inputSchema: JsonSchema;
  annotations?: { readOnlyHint?: boolean; idempotentHint?: boolean };
}

/**
 * One server and its SDK client. A stdio server whose process is gone is started again at the next call, at most
 * `maxAttempts` times; an HTTP server's session is re-established whenever the server has lost it.
 */
class McpServerHandle {
  private client: Client | undefined;
  private broken = false;
  private restarts = 0;
  private readonly restart: typeof DEFAULT_RESTART;
  private readonly http: boolean;
  /** Called when the transport reports an error while calls are in flight (see watch). */
  private onTransportError: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
  ) {
    this.restart = { ...DEFAULT_RESTART, ...("restart" in config ? config.restart : undefined) };
    this.http = !("command" in config);
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: "alpha-umi", version: "1" });
    const transport = transportOf(this.name, this.config);
    client.onerror = () => this.onTransportError?.();
    client.onclose = () => {
      if (this.client === client) this.broken = true;
    };
    try {
      await client.connect(transport);
    } catch (e) {
      await client.close().catch(() => undefined);
      throw new UserError(`MCP server "${this.name}": cannot connect (${reasonOf(e)})`);
    }
    this.client = client;
    this.broken = false;
    return client;
  }

  /** Every tool the server offers (all pages). */
  async listTools(): Promise<McpTool[]> {
    const client = this.client ?? (await this.connect());
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...(page.tools as McpTool[]));
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** The client to call through: the current one, or a new connection when the last one was lost. */
  private async live(): Promise<Client> {
    if (this.client && !this.broken) return this.client;
    if (!this.http) {
      if (!this.restart.enabled || this.restarts >= this.restart.maxAttempts)
        throw new Error(`MCP server "${this.name}" has stopped (${this.restart.enabled ? `restarted ${this.restarts} time(s) already` : "restart disabled in its config"})`);
      this.restarts++;
      await new Promise((r) => setTimeout(r, this.restart.delayMs));
    }
    const old = this.client;
    this.client = undefined;
    await old?.close().catch(() => undefined);
    return this.connect();
  }

  /**
   * Run a request, pinging an HTTP server while it is in flight: a ping that fails (refused, session gone) means the
   * server is dead or restarted, and the request is given up at once instead of waiting for the tool timeout.
   */
  private async watch<T>(client: Client, signal: AbortSignal, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!this.http) return run(signal);
    const lost = new AbortController();
    let done = false;
    const ping = () => client.ping({ timeout: PING_TIMEOUT_MS });
    // A failed ping is asked again once (a kept-alive socket the server closed fails the first request on it).
    const check = () =>
      void ping()
        .catch(ping)
        .catch((e: unknown) => {
          if (done || /timed out/i.test(errorMessage(e))) return;
          lost.abort(new Error(`MCP server "${this.name}" stopped answering (${reasonOf(e)})`));
        });
    const timer = setInterval(check, WATCH_MS);
    this.onTransportError = check;
    // Not AbortSignal.any: on Node 20 a signal it derives can be collected while the request waits on it.
    const either = new AbortController();
    const forward = (from: AbortSignal) => (from.aborted ? either.abort(from.reason) : from.addEventListener("abort", () => either.abort(from.reason), { once: true }));
    forward(signal);
    forward(lost.signal);
    try {
      return await run(either.signal);
    } catch (e) {
      if (lost.signal.aborted) {
        this.broken = true;
        throw lost.signal.reason;
      }
      throw e;
    } finally {
      done = true;
      clearInterval(timer);
      this.onTransportError = undefined;
    }
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const attempt = async () => {
      const client = await this.live();
      return (await this.watch(client, signal, (s) => client.callTool({ name: tool, arguments: args }, undefined, { signal: s, timeout: NO_SDK_TIMEOUT }))) as McpToolResult;
    };
    let result: McpToolResult;
    try {
      result = await attempt();
    } catch (e) {
      if (!this.http || !(sessionLost(e) || refused(e))) throw new Error(reasonOf(e));
      // The request never ran (the server refused it, or nothing listened): a new session may take it.
      this.broken = true;
      try {
        result = await attempt();
      } catch (again) {
        this.broken = true;
        throw new Error(`MCP server "${this.name}" is unreachable (${reasonOf(again)})`);
      }
    }
    const text = mcpResultText(result);
    if (result.isError) throw new Error(text || "the tool reported an error");
    return text;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // An HTTP session is ended politely (DELETE); a stdio server is stopped by closing its transport.
    if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

/** The tools the models see: `include` (all when absent) minus `exclude`; a name the server does not offer is an error. */
function chosen(name: string, filter: McpToolFilter, tools: McpTool[]): McpTool[] {
  const offered = tools.map((t) => t.name);
  for (const key of ["include", "exclude"] as const) {
    const unknown = (filter[key] ?? []).filter((n) => !offered.includes(n));
    if (unknown.length) throw new UserError(`mcpServers.${name}.${key}: the server offers no tool named ${unknown.join(", ")} (it offers ${offered.join(", ")})`);
  }
  return tools.filter((t) => (!filter.include || filter.include.includes(t.name)) && !filter.exclude?.includes(t.name));
}

/**
 * Start the servers of an MCP config and return their tools (named `tool_for_server`) with a `close()` that stops them.
 * A server's `include`/`exclude` lists choose which of its tools the models see. A call to a server that died is an
 * error observation; a stdio server is restarted per its `restart` config (default: up to 3 times) and the next call
 * reaches the new process; an HTTP server that restarted gets a new session. A tool the server annotates
 * `readOnlyHint` or `idempotentHint` is idempotent: after a crash a call to it that may have been in flight runs again.
 *
 * @example
 * const { tools, close } = await openMcpTools({ mcpServers: { math: { command: "node", args: ["math-server.mjs"], include: ["add"] } } });
 * try { await createAlphaUmiGraph({ tools, models }).invoke({ instruction: "What is 2 + 3?" }); } finally { await close(); }
 */
export async function openMcpTools(config: McpConfig | string): Promise<ToolSet> {
  const cfg = typeof config === "string" ? readMcpConfig(config) : config;
  const handles: McpServerHandle[] = [];
  const close = async () => void (await Promise.allSettled(handles.map((h) => h.close())));
  try {
    const defs: JsonSchemaTool[] = [];
    for (const [name, server] of Object.entries(cfg.mcpServers)) {
      const handle = new McpServerHandle(name, server);
      handles.push(handle);
      for (const t of chosen(name, server, await handle.listTools()))
        defs.push({
          api: t.name,
          tool: name,
          description: t.description ?? "",
          schema: resolveRefs(t.inputSchema ?? { type: "object" }),
          idempotent: t.annotations?.readOnlyHint === true || t.annotations?.idempotentHint === true,
          call: (args, { signal }) => handle.call(t.name, args, signal),
        });
    }
    return { tools: fromJsonSchemaTools(defs), close };
  } catch (e) {
    await close();
    throw e;
  }
}
