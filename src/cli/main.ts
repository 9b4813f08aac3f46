import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { UsageError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { registerCommands } from "./commands.js";

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/** Runs the CLI; user mistakes print one line and exit 1 (2 for a bad option value), never a stack trace. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = new Command("alpha-umi")
    .description("α-UMi: planner, caller and summarizer models as a LangGraph tool-use agent")
    .version(packageVersion(), "-V, --version", "print the version and exit")
    .exitOverride()
    .showHelpAfterError(false);
  await registerCommands(program, argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`alpha-umi: ${msg}\n`);
    if (process.env.ALPHA_UMI_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
    return err instanceof UsageError ? err.exitCode : 1;
  }
}
