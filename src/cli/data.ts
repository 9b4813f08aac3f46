import { SUMMARIES } from "./summaries.js";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import {
  exportCheckpoints,
  readStage1AsConversations,
  readStage2File,
  readToolBench,
  writeGlpft,
  type GlpftOptions,
  type GlpftSummary,
} from "../glpft/index.js";
import { OUTPUT_FORMATS } from "../glpft/datasets.js";
import { SkipLog, writeJsonArray } from "../glpft/io.js";
import { DEFAULT_TEMPLATES } from "../protocol/index.js";
import { TEMPLATE_VARIANTS } from "../protocol/templates.js";
import { RUN_STATUSES } from "../state.js";
import { UserError } from "../errors.js";
import { checkpointsLocation } from "./options.js";

/** `alpha-umi data …`: the GLPFT training-data pipeline (glpft-data.md). */
export function registerData(program: Command): void {
  const data = program.command("data").description(SUMMARIES.data);

  data
    .command("stage1")
    .description("ToolBench answer files (answer/G*_answer/*.json) → stage-1 records, test query ids (test_query_ids/*.json) left out")
    .requiredOption("--toolbench <dir>", "ToolBench data folder holding answer/ and test_query_ids/")
    .requiredOption("--out <file>", "stage-1 JSON file to write")
    .action((o: { toolbench: string; out: string }) => {
      const skips = new SkipLog();
      const n = writeJsonArray(prepareFile(o.out), readToolBench(o.toolbench, skips));
      report([`${o.out}: ${n} records`], skips);
    });

  data
    .command("stage2")
    .description("stage-1 records → stage-2 conversations (τ)")
    .requiredOption("--input <file>", "stage-1 JSON file")
    .requiredOption("--out <file>", "stage-2 JSON file to write")
    .action((o: { input: string; out: string }) => {
      const n = writeJsonArray(prepareFile(o.out), readStage1AsConversations(o.input));
      report([`${o.out}: ${n} dialogs`], new SkipLog());
    });

  withDatasetOptions(
    data
      .command("glpft")
      .description("stage-2 conversations → train_backbone/planner/caller/summarizer.json")
      .requiredOption("--input <file>", "stage-2 JSON file ({tools, instruction, conversations} records)")
      .requiredOption("--out <dir>", "folder to write the four datasets to"),
  ).action((o: DatasetFlags & { input: string; out: string }) => {
    printSummary(writeGlpft(readStage2File(o.input), o.out, datasetOptions(o)));
  });

  withDatasetOptions(
    data
      .command("export")
      .description("runs stored by the checkpointer (SQLite or Postgres) → stage-2 conversations (raw_data_stage_2.json) and the four datasets")
      .requiredOption("--checkpoints <location>", "SQLite checkpoint file or postgres://…[?schema=NAME]", checkpointsLocation)
      .option("--status <list>", `keep threads whose run ended with these statuses, comma-separated (${RUN_STATUSES.join(", ")}); default: all`)
      .option("--branches", "one dialog per leaf checkpoint of a thread: every chain a DFSDT search tried, not only its last")
      .requiredOption("--out <dir>", "folder to write to"),
  ).action(async (o: DatasetFlags & { checkpoints: string; status?: string; branches?: boolean; out: string }) => {
    const status = o.status?.split(",").map((s) => choice(s.trim(), RUN_STATUSES, "--status"));
    const exported = await exportCheckpoints({ checkpoints: o.checkpoints, status, branches: !!o.branches });
    mkdirSync(o.out, { recursive: true });
    const stage2 = join(o.out, "raw_data_stage_2.json");
    writeJsonArray(stage2, exported.records);
    report([`${o.checkpoints}: ${exported.records.length} of ${exported.threads} threads exported to ${stage2}`], exported.skips);
    printSummary(writeGlpft(exported.records, o.out, datasetOptions(o)));
  });
}

interface DatasetFlags {
  templates: string;
  format: string;
}

function withDatasetOptions(cmd: Command): Command {
  return cmd
    .option("--templates <variant>", `prompt templates (${TEMPLATE_VARIANTS.join(", ")})`, DEFAULT_TEMPLATES)
    .option("--format <format>", "reference: train_ROLE.json as the reference scripts write them; jsonl: also train_ROLE.jsonl {prompt, completion} lines", "reference");
}

function datasetOptions(o: DatasetFlags): GlpftOptions {
  return {
    variant: choice(o.templates, TEMPLATE_VARIANTS, "--templates"),
    format: choice(o.format, OUTPUT_FORMATS, "--format"),
  };
}

function choice<T extends string>(value: string, choices: readonly T[], option: string): T {
  if (!(choices as readonly string[]).includes(value)) throw new UserError(`${option} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

function prepareFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

function printSummary(s: GlpftSummary): void {
  report([`${s.dialogs} dialogs`, ...s.files.map((f) => `${f.path}: ${f.count} records`)], s.skips);
}

function report(lines: string[], skips: SkipLog): void {
  const out = [...lines];
  if (skips.total) out.push(`skipped ${skips.total}:`, ...skips.lines().map((l) => `  ${l}`));
  process.stdout.write(out.join("\n") + "\n");
}
