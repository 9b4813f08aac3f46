import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { exitOf } from "../errors.js";
import { errorMessage } from "../stringify.js";
import { packageRoot } from "../paths.js";
import { registerCommands } from "./commands.js";

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/** Runs the CLI; user mistakes print one line and exit 2, never a stack trace; bugs print their stack and exit 1. */
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
    // A user's mistake (UserError) is one line and exit 2; a part that failed (any other AlphaUmiError) one line and
    // exit 1; anything else is a bug: its stack follows, exit 1. ALPHA_UMI_DEBUG prints the stack of every error.
    const { code, stack } = exitOf(err);
    process.stderr.write(`alpha-umi: ${errorMessage(err)}\n`);
    if ((stack || process.env.ALPHA_UMI_DEBUG) && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
    return code;
  }
}
