/**
 * The command that resumes a `run`: the options the user gave (they choose the tools, models and checkpoints the
 * thread needs again), `--thread` instead of the instruction, and `--approve` when the thread waits for an answer
 * (without it a waiting thread stays waiting). A run whose checkpoints were in memory has nothing to resume.
 */
import type { Command } from "commander";

/** Quoted for a POSIX shell when it has anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `npx alpha-umi run --thread T …` with every option given on the command line, or undefined for `--checkpoints memory`.
 * `npx` finds the command in a clone (the package's own bin) and in a project that installed alpha-umi alike: the line
 * runs as printed, where a bare `alpha-umi` is on no PATH unless installed globally.
 *
 * @example resumeCommand(cmd, "run-1", { waiting: true }) // "npx alpha-umi run --thread run-1 --tools demo --approve"
 */
export function resumeCommand(cmd: Command, threadId: string, o: { waiting: boolean }): string | undefined {
  const values = cmd.opts<Record<string, unknown>>();
  if (values.checkpoints === "memory") return undefined;
  const words = ["npx", "alpha-umi", "run", "--thread", threadId];
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (key === "thread" || cmd.getOptionValueSource(key) !== "cli") continue;
    const value = values[key];
    if (value === false || value === undefined) continue;
    words.push(option.long ?? option.flags);
    if (value !== true) words.push(...(Array.isArray(value) ? value : [value]).map((v) => shellWord(String(v))));
  }
  if (o.waiting && cmd.getOptionValueSource("approve") !== "cli") words.push("--approve");
  return words.join(" ");
}

/** The line after a run that did not end: how to resume it, or that it cannot be. */
export function resumeLine(resume: string | undefined): string {
  return resume ? `resume with: ${resume}` : "the thread was kept in memory (--checkpoints memory): it ends with this process and cannot be resumed";
}
