import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

/**
 * One `alpha-umi serve` process (from source) on a free port; resolves with its URL once it listens (killed if it does
 * not), and what it has printed so far (stdout and stderr).
 */
export function startServe(args: string[], timeoutMs = 30_000): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve("src/cli/bin.ts"), "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LANGSMITH_TRACING: "false" },
  });
  let log = "";
  return new Promise((res, rej) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), rej(new Error(`serve did not start within ${timeoutMs / 1000} s:\n${log}`))), timeoutMs);
    const read = (d: Buffer) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) (clearTimeout(timer), res({ url: m[1]!, child, log: () => log }));
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => (clearTimeout(timer), rej(new Error(`serve exited with ${code}:\n${log}`))));
  });
}

/** Stop a child process (SIGTERM unless told otherwise) and wait for it to exit. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => (child.once("exit", () => r()), child.kill(signal)));
}

/** Every chunk of a run stream, in order, once it ends. */
export async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

/** Wait until `check` holds (polled every 50 ms), or fail naming `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
