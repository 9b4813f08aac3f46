import type { Command } from "commander";
import { registerRun } from "./run.js";
import { registerEval } from "./eval.js";
import { registerData } from "./data.js";
import { registerModels } from "./models.js";

/** One line per command group; each group lives in its own file. */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerEval(program);
  registerData(program);
  registerModels(program);
}
