import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(process.cwd());
// One node process with tsx's loader (the tsx launcher would put a second process in between, which SIGKILL would miss).
const CLI_ARGS = ["--import", "tsx", resolve(ROOT, "src/cli/bin.ts")];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start the CLI from source (tsx) in a child process. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): ChildProcess & { output: () => CliResult; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const output = () => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
  const done = new Promise<CliResult>((res) => child.on("close", (code, signal) => res({ code, signal, stdout, stderr })));
  return Object.assign(child, { output, done });
}

/** Run the CLI with `stdin` piped in (e.g. approval answers, one per line). */
export function runCliWithInput(args: string[], stdin: string): Promise<CliResult> {
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: ROOT, env: { ...process.env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((res) => child.on("close", (code, signal) => res({ code, signal, stdout, stderr })));
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * SIGKILL a CLI child as soon as `log` (written by a test tool) mentions `marker`, i.e. the call is running; fails if
 * the child exits first. Returns what the killed child printed.
 */
export async function killWhenLogged(child: ReturnType<typeof startCli>, log: string, marker: string, what: string): Promise<CliResult> {
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the run ended before ${what}: ${JSON.stringify(child.output())}`);
      return existsSync(log) && readFileSync(log, "utf8").includes(marker);
    },
    30_000,
    what,
  );
  child.kill("SIGKILL");
  return child.done;
}
