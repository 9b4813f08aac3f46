import type { Command } from "commander";
import { UserError } from "../errors.js";

/** A commander parser for a positive integer option that fails with one clear line. */
export function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UserError(`${name}: expected a positive integer, got "${v}"`);
    return n;
  };
}

/** The role-model options the eval commands share. */
export function roleModelOptions(cmd: Command, what: string): Command {
  return cmd
    .requiredOption("--data <file>", "test set [{tools, instruction, conversations}]")
    .option("--planner <spec>", "planner model (ollama:MODEL[@URL] or replay:PATH)")
    .option("--caller <spec>", "caller model")
    .option("--summarizer <spec>", "summarizer model")
    .option("--backbone <spec>", "single-LLM model (with --single-llm)")
    .option("--single-llm", `${what} the single-LLM baseline (backbone) instead of α-UMi`)
    .option("--templates <variant>", "prompt templates: toolbench or toolalpaca", "toolbench");
}
