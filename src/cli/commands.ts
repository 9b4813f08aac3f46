import type { Command } from "commander";

/** One line per command group; each group lives in its own file. */
export function registerCommands(program: Command): void {
  void program;
}
