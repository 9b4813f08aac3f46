import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands.js";

/** Runs the CLI; user mistakes print one line and exit 1, never a stack trace. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = new Command("alpha-umi")
    .description("α-UMi: planner, caller and summarizer models as a LangGraph tool-use agent")
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
    return 1;
  }
}
