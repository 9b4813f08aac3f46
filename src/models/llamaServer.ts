/**
 * llama.cpp's own HTTP server (`llama-server`), built from the llama.cpp source node-llama-cpp ships, serving one base
 * GGUF with the three role adapters: the same one-base-three-adapters deployment as vLLM's `--enable-lora
 * --lora-modules planner=… caller=… summarizer=…`, for users without Ollama or vLLM. The roles talk to it as
 * `openai:` models (src/models/openai.ts), each naming its adapter per request (`#lora=ID`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { checkGgufFile, freeCores } from "./llama.js";

export const SERVER_ROLES = ["planner", "caller", "summarizer"] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** The script that builds llama-server once into a cache keyed by the source bundle's hash and prints its path. */
export function llamaServerScript(): string {
  return join(packageRoot(), "scripts", "llama-server.sh");
}

/** node-llama-cpp's llama.cpp source bundle, in this package's node_modules or, installed as a dependency, above it. */
function sourceBundle(): string {
  const tail = join("node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
  for (let dir = packageRoot(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, tail))) return join(dir, tail);
    if (dirname(dir) === dir) return join(packageRoot(), tail);
  }
}

/**
 * The llama-server binary's path. A missing one is built (about 8 minutes on 2 cores, once per llama.cpp version),
 * its progress lines going to `progress`; with `build: false` a missing binary is an error saying how to build it.
 *
 * @example
 * const bin = await llamaServerBinary({ progress: (l) => process.stderr.write(l + "\n") });
 */
export function llamaServerBinary(opts: { build?: boolean; progress?: (line: string) => void } = {}): Promise<string> {
  const script = llamaServerScript();
  const args = opts.build === false ? [script, "--no-build"] : [script];
  return new Promise((res, rej) => {
    const child = spawn("bash", args, { env: { ...process.env, LLAMA_BUNDLE: process.env.LLAMA_BUNDLE ?? sourceBundle() }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.setEncoding("utf8");
    let partial = "";
    child.stderr.on("data", (d: string) => {
      err += d;
      const lines = (partial + d).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("llama-server:")) opts.progress?.(line);
    });
    child.on("error", (e) => rej(new UserError(`llama-server: cannot run ${script} (${e.message})`)));
    child.on("close", (code) => {
      const path = out.trim().split("\n").pop() ?? "";
      if (code === 0 && path && existsSync(path)) return res(path);
      const why = err.trim().split("\n").filter(Boolean).slice(-1)[0] ?? `exit code ${code}`;
      rej(new UserError(opts.build === false ? `${why}; \`npm test\` builds it first (tests/globalSetup.js)` : why.startsWith("llama-server:") ? why : `llama-server: ${why}`));
    });
  });
}

export interface LlamaServerOptions {
  /** The base GGUF. */
  base: string;
  /** One LoRA adapter GGUF per role (all three, or none: every role then runs the base). */
  adapters?: Partial<Record<ServerRole, string>>;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Parallel slots (`-np`): that many requests decode at once, each slot keeping its own prompt cache. Default 3, one per role (the specs pin them). */
  parallel?: number;
  /** Context per slot in tokens (the server's `-c` is this times `parallel`). Default 4096, the α-UMi training length. */
  ctxSize?: number;
  /** CPU threads (default: the cores free at start, see freeCores). */
  threads?: number;
  /** The binary; default {@link llamaServerBinary}'s, built if missing. */
  binary?: string;
  progress?: (line: string) => void;
  /** Every line the server logs (it logs each slot's start and end of a task, and load errors). */
  onLog?: (line: string) => void;
  /** How long loading may take before it is an error. */
  startTimeoutMs?: number;
}

export interface LlamaServer {
  /** `http://HOST:PORT/v1`, what the `openai:` specs name. */
  baseURL: string;
  port: number;
  /** The `openai:` spec of each role: the base with that role's adapter applied per request. */
  specs: Record<ServerRole, string>;
  process: ChildProcess;
  /** The server's last log lines (llama.cpp says there why a load failed). */
  log(): string[];
  /** Stop the server (SIGTERM, then SIGKILL after 5 s) and wait for it to exit. */
  stop(): Promise<void>;
}

/** A port nothing listens on now. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

const LOG_LINES = 60;

/**
 * Start llama-server on the base with the role adapters (`--lora A --lora B --lora C --lora-init-without-apply`: loaded
 * once, applied only where a request names one) and wait until it answers `/health`.
 *
 * @example
 * const server = await startLlamaServer({ base: "base.gguf", adapters: { planner: "p.gguf", caller: "c.gguf", summarizer: "s.gguf" } });
 * // server.specs.caller === "openai:caller@http://127.0.0.1:PORT/v1#lora=1&slot=1"
 * await server.stop();
 */
export async function startLlamaServer(opts: LlamaServerOptions): Promise<LlamaServer> {
  const base = resolve(opts.base);
  checkGgufFile(base, "base model");
  const given = SERVER_ROLES.filter((r) => opts.adapters?.[r]);
  if (given.length > 0 && given.length < SERVER_ROLES.length)
    throw new UserError(`llama-server: adapters for ${given.join(", ")} but not for ${SERVER_ROLES.filter((r) => !given.includes(r)).join(", ")} (give all three or none)`);
  const adapters = given.map((r) => resolve(opts.adapters![r]!));
  given.forEach((r, i) => checkGgufFile(adapters[i]!, `${r} adapter`));
  const parallel = opts.parallel ?? 3;
  const ctxSize = opts.ctxSize ?? 4096;
  for (const [name, v] of [["parallel", parallel], ["ctxSize", ctxSize], ["threads", opts.threads ?? 1], ["port", opts.port ?? 1]] as const)
    if (!(Number.isInteger(v) && v > 0)) throw new UserError(`llama-server: ${name} ${v} is not a positive integer`);
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(host));
  const binary = opts.binary ?? (await llamaServerBinary({ progress: opts.progress }));
  const args = [
    "-m", base,
    ...adapters.flatMap((a) => ["--lora", a]),
    ...(adapters.length ? ["--lora-init-without-apply"] : []),
    "--host", host,
    "--port", String(port),
    "-np", String(parallel),
    "-c", String(ctxSize * parallel),
    // The cores free now, not all of them: llama.cpp's threads spin at a barrier, so one on a busy core stalls the rest.
    "--threads", String(opts.threads ?? (await freeCores())),
    // No browser UI: this server is an API for the role models.
    "--no-webui",
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  const keep = (d: Buffer) => {
    const parts = (partial + d.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) {
      if (!l.trim()) continue;
      if (lines.push(l) > LOG_LINES) lines.shift();
      opts.onLog?.(l);
    }
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const baseURL = `http://${host.includes(":") ? `[${host}]` : host}:${port}/v1`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
  let alive = true;
  void exited.then(() => (alive = false));
  for (;;) {
    if (!alive) {
      const why = lines.filter((l) => /error|failed|invalid/i.test(l)).slice(-1)[0] ?? lines.slice(-1)[0] ?? "no output";
      throw new UserError(`llama-server exited while loading ${base}: ${why.trim()}`);
    }
    try {
      const res = await fetch(`${baseURL.replace(/\/v1$/, "")}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new UserError(`llama-server did not become healthy within ${(opts.startTimeoutMs ?? 120_000) / 1000} s on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // One slot per role: each role's spec pins its slot, so its prompt cache survives the other roles' calls (the
  // server's similarity-based choice would hand it to another role, whose adapter clears it). More slots: chosen by
  // the server, for concurrent threads.
  const option = (i: number) => [...(adapters.length ? [`lora=${i}`] : []), ...(parallel === SERVER_ROLES.length ? [`slot=${i}`] : [])].join("&");
  const specs = Object.fromEntries(SERVER_ROLES.map((r, i) => [r, `openai:${r}@${baseURL}${option(i) ? `#${option(i)}` : ""}`])) as Record<ServerRole, string>;
  return { baseURL, port, specs, process: child, log: () => [...lines], stop };
}
