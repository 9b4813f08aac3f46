import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TEMPLATES, type TemplateVariant } from "../protocol/index.js";
import { JsonlWriter, PyJsonArrayWriter, readJsonFile, SkipLog, type RecordSink } from "./io.js";
import { checkArray, checkRecord, Stage2RecordSchema, type RoleRecord, type Stage2Record } from "./records.js";
import { DATASETS, glpftRecords, type Dataset } from "./roles.js";

export const OUTPUT_FORMATS = ["reference", "jsonl"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface GlpftOptions {
  variant?: TemplateVariant;
  /** `reference` writes `train_ROLE.json` as the reference scripts do; `jsonl` also writes `train_ROLE.jsonl` prompt/completion lines. */
  format?: OutputFormat;
}

export interface WrittenFile {
  path: string;
  count: number;
}

export interface GlpftSummary {
  dialogs: number;
  files: WrittenFile[];
  skips: SkipLog;
}

/**
 * The dialogs of a stage-2 file, each checked as it is reached (errors name the file, record index and field).
 *
 * @example
 * const summary = writeGlpft(readStage2File("stage2.json"), "out/glpft");
 */
export function* readStage2File(path: string): Generator<Stage2Record> {
  const records = checkArray(readJsonFile(path), path, "stage-2 records ({tools, instruction, conversations})");
  for (let i = 0; i < records.length; i++) yield checkRecord<Stage2Record>(Stage2RecordSchema, records[i], { file: path, record: i });
}

/**
 * Stage 2 → the four GLPFT datasets in `outDir`, streamed: each record is serialised and written as soon as it is
 * built, so memory holds one dialog's records at a time however large the output.
 *
 * @example
 * const { files } = writeGlpft(readStage1AsConversations("stage1.json"), "out/glpft"); // train_planner.json, …
 */
export function writeGlpft(dialogs: Iterable<Stage2Record>, outDir: string, opts: GlpftOptions = {}): GlpftSummary {
  mkdirSync(outDir, { recursive: true });
  const variant = opts.variant ?? DEFAULT_TEMPLATES;
  const sinks = {} as Record<Dataset, RecordSink<RoleRecord>[]>;
  for (const d of DATASETS) {
    sinks[d] = [new PyJsonArrayWriter<RoleRecord>(join(outDir, `train_${d}.json`))];
    if (opts.format === "jsonl") sinks[d].push(new JsonlWriter(join(outDir, `train_${d}.jsonl`), (r: RoleRecord) => ({ prompt: r.input, completion: r.target })));
  }
  const skips = new SkipLog();
  let count = 0;
  try {
    for (const dialog of dialogs) {
      count++;
      const records = glpftRecords(dialog, variant, skips);
      for (const d of DATASETS) for (const r of records[d]) for (const s of sinks[d]) s.write(r);
    }
  } finally {
    for (const d of DATASETS) for (const s of sinks[d]) s.close();
  }
  return { dialogs: count, files: DATASETS.flatMap((d) => sinks[d].map((s) => ({ path: s.path, count: s.count }))), skips };
}
