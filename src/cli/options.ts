import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Command } from "commander";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { AutoSetupPostgresSaver, checkpointerFrom, reachPostgres } from "../checkpoint/checkpointers.js";
import { CONTEXT_POLICIES, isContextPolicy, type CodecSettings } from "../codec/index.js";
import { minimumWindow } from "../codec/minimum.js";
import { UsageError, UserError } from "../errors.js";
import { modelFromSpec, type RoleModelOptions } from "../models/spec.js";
import type { MissPolicy } from "../tools/toolbenchReplay.js";
import { ROLES, type Role } from "../models/generate.js";
import { DEFAULT_TEMPLATES, isTemplates, TEMPLATES, type Templates } from "../protocol/index.js";
import { settingDefault } from "../settings.js";

/** A commander parser for a positive integer option that fails with one clear line (exit 2). */
export function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: expected a positive integer, got "${v}"`);
    return n;
  };
}

/** The role-model options the eval commands share; `data` describes the command's `--data` file. */
export function roleModelOptions(cmd: Command, what: string, data = "test set [{tools, instruction, conversations}]"): Command {
  return cmd
    .requiredOption("--data <file>", data)
    .option("--planner <spec>", "planner model: ollama:MODEL[@URL], openai:MODEL@BASE_URL[#lora=ID], llama:PATH.gguf[+ADAPTER.gguf] or replay:PATH")
    .option("--caller <spec>", "caller model")
    .option("--summarizer <spec>", "summarizer model")
    .option("--backbone <spec>", "single-LLM model (with --single-llm)")
    .option("--single-llm", `${what} the single-LLM baseline (backbone) instead of α-UMi`);
}

/** `--templates` for every role (default `dflt`) and `--ROLE-templates` for one. */
export function templateOptions(cmd: Command, dflt: Templates = DEFAULT_TEMPLATES): Command {
  cmd.option("--templates <templates>", `prompt templates: ${TEMPLATES.join(", ")} (instruct: off-the-shelf chat models)`, dflt);
  for (const role of ROLES) cmd.option(`--${role}-templates <templates>`, `override --templates for the ${role}`);
  return cmd;
}

export function templateChoice(o: Record<string, unknown>): { templates: Templates; roleTemplates: Partial<Record<Role, Templates>> } {
  const check = (flag: string, v: unknown): Templates => {
    if (typeof v !== "string" || !isTemplates(v)) throw new UserError(`${flag}: unknown templates "${String(v)}" (${TEMPLATES.join(", ")})`);
    return v;
  };
  const templates = check("--templates", o.templates ?? DEFAULT_TEMPLATES);
  const roleTemplates: Partial<Record<Role, Templates>> = {};
  for (const role of ROLES) if (o[`${role}Templates`] !== undefined) roleTemplates[role] = check(`--${role}-templates`, o[`${role}Templates`]);
  return { templates, roleTemplates };
}

/** How prompts meet the models' context windows, and how long a model call may take. */
export function contextOptions(cmd: Command): Command {
  return cmd
    .option("--context-policy <policy>", `over-long prompts: ${CONTEXT_POLICIES.join(", ")} (default: elide for models with a context window, none otherwise)`, (v: string) => {
      if (!isContextPolicy(v)) throw new UserError(`--context-policy: unknown policy "${v}" (${CONTEXT_POLICIES.join(", ")})`);
      return v;
    })
    .option("--num-ctx <n>", "context window of every role model in tokens (Ollama num_ctx, llama.cpp context size; bounds a replay too)", positiveInt("--num-ctx"))
    .option("--model-timeout-ms <n>", `per model call (default ${settingDefault("modelTimeoutMs")})`, positiveInt("--model-timeout-ms"));
}

/**
 * A commander parser for `--checkpoints`: a path that is a directory, or a file that is not SQLite, is a one-line error
 * naming it before any run starts (SQLite alone would say "unable to open database file" later).
 */
export function checkpointsLocation(location: string): string {
  if (location === "memory" || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(location)) return location;
  const path = location.replace(/^sqlite:/, "");
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new UserError(`--checkpoints ${path}: is a directory, not a SQLite checkpoint file`);
  if (stat && stat.size > 0) {
    const head = Buffer.alloc(16);
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
    if (head.toString("latin1") !== "SQLite format 3\u0000") throw new UserError(`--checkpoints ${path}: not a SQLite checkpoint file`);
  }
  return location;
}

/**
 * The checkpointer of `--checkpoints`. A Postgres one is reached first, as serve, worker and data export do: a bad
 * host, port, user or database is one line (exit 2) before the run starts, not a pg stack at its first step.
 */
export async function openCheckpointer(location: string): Promise<BaseCheckpointSaver> {
  const saver = checkpointerFrom(location);
  if (saver instanceof AutoSetupPostgresSaver)
    await reachPostgres(saver.pgPool, location).catch(async (err: unknown) => {
      await saver.end();
      throw err;
    });
  return saver;
}

/** `--miss error` or `--miss simulate:SPEC` (with `--cache DIR`). */
export function missPolicy(miss: string, cacheDir: string | undefined): MissPolicy {
  if (miss === "error") return { kind: "error" };
  if (!miss.startsWith("simulate:")) throw new UserError(`--miss: expected error or simulate:SPEC, got "${miss}"`);
  // Temperature 0, as StableToolBench's simulator.
  const model = userModel(miss.slice("simulate:".length), "--miss", { temperature: 0 });
  return { kind: "simulate", model, cacheDir };
}

export function userModel(spec: string, flag: string, options: RoleModelOptions = {}) {
  try {
    return modelFromSpec(spec, "summarizer", options);
  } catch (err) {
    throw new UserError(`${flag}: ${(err as Error).message}`);
  }
}

/** Library errors about the user's files become one-line user errors; `fn` may be sync or return a promise. */
export function userErrors<T>(fn: () => T): T {
  const asUserError = (err: unknown): never => {
    if (err instanceof UserError) throw err; // keeps its exit code
    throw new UserError(err instanceof Error ? err.message : String(err));
  };
  try {
    const result = fn();
    return (result instanceof Promise ? result.catch(asUserError) : result) as T;
  } catch (err) {
    return asUserError(err);
  }
}

/**
 * Templates, context policy and window, model timeout, as parsed by templateOptions and contextOptions. A `--num-ctx`
 * smaller than the roles' templates need (src/codec/minimum.ts) is refused here, before any model is called.
 */
export async function codecSettings(o: Record<string, unknown>): Promise<CodecSettings> {
  const { templates, roleTemplates } = templateChoice(o);
  const settings: CodecSettings = {
    templates,
    roleTemplates,
    ...(o.contextPolicy ? { contextPolicy: o.contextPolicy as CodecSettings["contextPolicy"] } : {}),
    ...(o.numCtx ? { numCtx: o.numCtx as number } : {}),
    ...(o.modelTimeoutMs ? { modelTimeoutMs: o.modelTimeoutMs as number } : {}),
  };
  if (settings.numCtx !== undefined) {
    const min = await minimumWindow(settings, o.singleLlm ? ["backbone"] : ["planner", "caller", "summarizer"]);
    if (settings.numCtx < min.numCtx)
      throw new UsageError(
        `--num-ctx ${settings.numCtx}: too small: the ${min.role}'s ${min.templates} prompt takes ${min.promptTokens} tokens with no tools and an empty instruction, and a reply up to ${min.numPredict}: at least ${min.numCtx}`,
      );
  }
  return settings;
}
