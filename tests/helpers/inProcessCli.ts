import { main } from "../../src/cli/main.js";

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI's `main` in this process, capturing what it writes: the same code path as the binary without a child
 * process's start-up (seconds per call under tsx), for tables of many invocations.
 */
export async function cliInProcess(args: string[]): Promise<InProcessResult> {
  let stdout = "";
  let stderr = "";
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(["node", "alpha-umi", ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.exitCode = undefined;
  }
}
