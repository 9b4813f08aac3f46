import type { Command } from "commander";
import { SUMMARIES, type CommandName } from "./summaries.js";

type Register = (program: Command) => void;

/** Each command group lives in its own file and is imported only when one of its commands runs. */
const GROUPS: Array<{ names: CommandName[]; load: () => Promise<Register> }> = [
  { names: ["run", "demo"], load: async () => (await import("./run.js")).registerRun },
  { names: ["eval"], load: async () => (await import("./eval.js")).registerEval },
  { names: ["data"], load: async () => (await import("./data.js")).registerData },
  { names: ["tools"], load: async () => (await import("./tools.js")).registerTools },
  { names: ["models"], load: async () => (await import("./models.js")).registerModels },
  { names: ["serve"], load: async () => (await import("./serve.js")).registerServe },
  { names: ["worker"], load: async () => (await import("./worker.js")).registerWorker },
];

/**
 * Registers the command named in `argv` with all its options; with no known command (top-level help, a typo), only
 * the list of commands, so that `alpha-umi --help` loads no engine code.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  // `alpha-umi help run` shows the help of run: its group must be loaded too.
  const name = words[0] === "help" ? words[1] : words[0];
  const group = GROUPS.find((g) => (g.names as string[]).includes(name ?? ""));
  if (group) return (await group.load())(program);
  for (const g of GROUPS) for (const n of g.names) program.command(n).description(SUMMARIES[n]);
}
