/**
 * `langgraphjs dev` (LangGraph Studio's server, from @langchain/langgraph-cli) serving the repo's langgraph.json from a
 * temporary copy (graph paths made absolute), so that what the CLI writes (`.langgraph_api/`, a `.gitignore` line)
 * lands in the temp dir, never in the repo.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { freePort } from "../../src/models/llamaServer.js";

const REPO = process.cwd();
const CLI = join(REPO, "node_modules/@langchain/langgraph-cli/dist/cli/cli.mjs");
export const STUDIO_STARTUP_MS = 120_000;
/** The server extracts schemas by type-checking the graph files: seconds to tens of seconds on a small machine. */
export const STUDIO_SCHEMA_MS = 180_000;


export interface Studio {
  client: Client;
  stop(): Promise<void>;
}

/** Start `langgraphjs dev` on a free port (with `env` added); resolves once it answers `/ok`, fails with its log otherwise. */
export async function startStudio(env: NodeJS.ProcessEnv = {}): Promise<Studio> {
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-studio-"));
  const config = JSON.parse(readFileSync(join(REPO, "langgraph.json"), "utf8")) as { graphs: Record<string, string>; dependencies?: string[] };
  for (const [id, spec] of Object.entries(config.graphs)) config.graphs[id] = resolve(REPO, spec);
  config.dependencies = [REPO];
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "langgraph.json"), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Detached: the CLI and the server form one process group that stop() kills as a whole. No reload: the watcher
  // restarts the server on any edit under the repo, which would cut requests off mid-way.
  const server: ChildProcess = spawn(
    process.execPath,
    [CLI, "dev", "--port", String(port), "--host", "127.0.0.1", "--no-browser", "--no-reload", "--n-jobs-per-worker", "2", "--config", join(dir, "langgraph.json")],
    {
      cwd: REPO,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LANGGRAPH_CLI_NO_ANALYTICS: "1", BROWSER: "none", LANGSMITH_TRACING: "false", LANGCHAIN_TRACING_V2: "false", ...env },
    },
  );
  let log = "";
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  server.stdout!.on("data", keep);
  server.stderr!.on("data", keep);
  const stop = async () => {
    if (server.pid !== undefined && server.exitCode === null) {
      let timer: NodeJS.Timeout | undefined;
      const exited = new Promise((r) => server.once("exit", r));
      process.kill(-server.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      try {
        process.kill(-server.pid, "SIGKILL"); // stragglers of the group, if any
      } catch {
        // the whole group is gone already
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + STUDIO_STARTUP_MS;
  try {
    for (;;) {
      if (server.exitCode !== null) throw new Error(`langgraphjs dev exited with ${server.exitCode}:\n${log}`);
      if (await fetch(`${url}/ok`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`langgraphjs dev not ready within ${STUDIO_STARTUP_MS} ms:\n${log.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { client: new Client({ apiUrl: url }), stop };
}
