import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";
import { pyHead, pyTail } from "../protocol/pystr.js";
import type { ToolDoc } from "../state.js";
import { describeWhere, readJsonFile, type SkipLog, type Where } from "./io.js";
import { ChainMessageSchema, checkRecord, type ChainMessage, type Stage1Record } from "./records.js";

const FunctionSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  parameters: z.looseObject({ properties: z.record(z.string(), z.looseObject({ type: z.string(), description: z.string().optional() })) }).optional(),
});
type ToolBenchFunction = z.infer<typeof FunctionSchema>;

const AnswerGenerationSchema = z.looseObject({
  query: z.string(),
  function: z.array(FunctionSchema),
  train_messages: z.array(z.array(ChainMessageSchema)),
});
type AnswerGeneration = { query: string; function: ToolBenchFunction[]; train_messages: ChainMessage[][] };

/**
 * ToolBench answer files (`DIR/answer/G*_answer/*.json`) → stage-1 records, leaving out the query ids listed in
 * `DIR/test_query_ids/*.json`. Yields one record at a time (the full ToolBench set is large); files without
 * `train_messages` are counted in `skips`. Files are read in sorted order, so the output is deterministic.
 *
 * @example
 * const skips = new SkipLog();
 * const records = [...readToolBench("data/answer", skips)]; // stage 1, skipped answers counted by reason
 */
export function* readToolBench(dir: string, skips: SkipLog): Generator<Stage1Record> {
  const answerDir = join(dir, "answer");
  if (!existsSync(answerDir)) throw new UserError(`${answerDir}: no such directory (expected ToolBench's answer/G*_answer/*.json)`);
  const testIds = readTestIds(join(dir, "test_query_ids"));
  const sets = readdirSync(answerDir)
    .filter((d) => /^G.*_answer$/.test(d) && statSync(join(answerDir, d)).isDirectory())
    .sort();
  for (const set of sets) {
    for (const name of readdirSync(join(answerDir, set)).filter((f) => f.endsWith(".json")).sort()) {
      // ToolBench names answer files `QUERYID_...json`.
      if (testIds.has(name.split("_")[0]!)) {
        skips.add("test_query_id");
        continue;
      }
      const file = join(answerDir, set, name);
      const record = answerToStage1(readJsonFile(file), { file }, skips);
      if (record) yield record;
    }
  }
}

/** Every id in `test_query_ids/*.json` (each file a list of ids or an object keyed by id). */
function readTestIds(dir: string): Set<string> {
  const ids = new Set<string>();
  if (!existsSync(dir)) return ids;
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const file = join(dir, name);
    const v = readJsonFile(file);
    if (Array.isArray(v)) for (const id of v) ids.add(String(id));
    else if (typeof v === "object" && v !== null) for (const id of Object.keys(v)) ids.add(id);
    else throw new UserError(`${file}: expected a list of query ids or an object keyed by query id`);
  }
  return ids;
}

/** One parsed answer file → a stage-1 record, or null (counted) when it has no training messages. */
export function answerToStage1(answer: unknown, where: Where, skips: SkipLog): Stage1Record | null {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw new UserError(`${where.file}: expected a ToolBench answer object`);
  const gen = (answer as Record<string, unknown>).answer_generation;
  if (typeof gen !== "object" || gen === null || !("train_messages" in gen)) {
    skips.add("no_train_messages");
    return null;
  }
  const g = checkRecord<AnswerGeneration>(AnswerGenerationSchema, gen, { file: `${where.file}: answer_generation` });
  const chains = g.train_messages[g.train_messages.length - 1];
  if (!chains) {
    skips.add("empty_train_messages");
    return null;
  }
  const tools: ToolDoc[] = [];
  g.function.forEach((f, i) => {
    if (f.name !== "Finish") tools.push(toToolDoc(f, (field) => describeWhere(where, `answer_generation.function[${i}].${field}`)));
  });
  return { tools, instruction: g.query, chains };
}

function toToolDoc(f: ToolBenchFunction, at: (field: string) => string): ToolDoc {
  if (f.description === undefined) throw new UserError(`${at("description")}: missing`);
  if (f.parameters === undefined) throw new UserError(`${at("parameters")}: missing`);
  const input: Record<string, string> = {};
  for (const [arg, spec] of Object.entries(f.parameters.properties)) {
    input[arg] = spec.description === undefined ? spec.type : spec.type + ", " + pyTail(spec.description, 256);
  }
  return { Name: pyTail(f.name, 64), function: pyHead(f.description, 256), input };
}
