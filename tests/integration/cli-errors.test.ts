import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliInProcess } from "../helpers/inProcessCli.js";

/**
 * Every command given a truncated JSON file, a record of the wrong type, a missing file, a directory instead of a file,
 * or a malformed cassette line: one line on stderr naming the file (and the record or line, and the field), exit 1.
 */
let dir: string;
const at = (name: string) => join(dir, name);
const TEST_SET = "tests/fixtures/toolbench-demo.json";
const SHA = "a".repeat(64);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-cli-errors-"));
  writeFileSync(at("truncated.json"), '[{"tools": [], "instruction": "x", "conv');
  writeFileSync(at("wrong-type.json"), '[{"tools": "none", "instruction": 5, "conversations": {}}]');
  writeFileSync(at("empty.json"), "[]");
  writeFileSync(at("cassette.jsonl"), `{"prompt_sha256": "${SHA}", "output": "x"}\n{"prompt_sha256": "${SHA}", "outp\n`);
  writeFileSync(at("cassette-field.jsonl"), `{"prompt_sha256": "${SHA}", "output": 5}\n`);
  writeFileSync(at("not-sqlite.sqlite"), "plain text, not a database ".repeat(10));
  mkdirSync(at("a-dir"));
  mkdirSync(at("toolbench/answer/G1_answer"), { recursive: true });
  writeFileSync(at("toolbench/answer/G1_answer/q1.json"), '{"answer_generation": {"query": "x"');
  mkdirSync(at("run-truncated"));
  writeFileSync(at("run-truncated/predictions.json"), '[{"tools": [], "refer');
  mkdirSync(at("run-wrong-type"));
  writeFileSync(at("run-wrong-type/predictions.json"), '[{"tools": [], "predictions": []}]');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const models = (spec: string) => ["--planner", spec, "--caller", spec, "--summarizer", spec];
const replay = (file: string) => models(`replay:${at(file)}`);
const run = (...args: string[]) => ["run", "What is the capital of Japan?", "--checkpoints", "memory", ...args];
const cassetteLine = /line 2.*(not JSON|JSON)/i;
const outputField = /line 1, field output/;

/** [case, arguments, the file the line names, what else it must say (record, field, line)]. */
// The exit code is 2 (a user mistake) unless a row says otherwise: a bad replay cassette is read by the planner's model
// call, so the run ends as failed (exit 1, resumable once the cassette is fixed).
const TABLE: Array<[string, () => string[], () => string, RegExp, number?]> = [
  ["run: truncated tool file", () => run("--tools", `toolbench:${at("truncated.json")}`), () => at("truncated.json"), /not JSON/],
  ["run: wrong record type", () => run("--tools", `toolbench:${at("wrong-type.json")}`), () => at("wrong-type.json"), /record 0, field tools/],
  ["run: missing tool file", () => run("--tools", `toolbench:${at("nope.json")}`), () => at("nope.json"), /no such file/],
  ["run: directory as tool file", () => run("--tools", `toolbench:${at("a-dir")}`), () => at("a-dir"), /EISDIR/],
  ["run: missing module", () => run("--tools", `module:${at("nope.mjs")}`), () => at("nope.mjs"), /no such file/],
  ["run: malformed cassette line", () => run("--tools", "demo", ...replay("cassette.jsonl")), () => at("cassette.jsonl"), cassetteLine, 1],
  ["run: cassette field of the wrong type", () => run("--tools", "demo", ...replay("cassette-field.jsonl")), () => at("cassette-field.jsonl"), outputField, 1],
  ["run: missing cassette", () => run("--tools", "demo", ...replay("nope.jsonl")), () => at("nope.jsonl"), /no such file/, 1],
  ["run: directory as checkpoint file", () => ["run", "q", "--tools", "demo", "--checkpoints", at("a-dir")], () => at("a-dir"), /is a directory/],
  ["demo: directory as checkpoint file", () => ["demo", "--checkpoints", at("a-dir")], () => at("a-dir"), /is a directory/],
  ["demo: checkpoint file that is not SQLite", () => ["demo", "--checkpoints", at("not-sqlite.sqlite")], () => at("not-sqlite.sqlite"), /not a SQLite/],
  ["eval score: truncated", () => ["eval", "score", at("truncated.json")], () => at("truncated.json"), /not JSON/],
  ["eval score: wrong record type", () => ["eval", "score", at("wrong-type.json")], () => at("wrong-type.json"), /record 0: field "reference"/],
  ["eval score: missing", () => ["eval", "score", at("nope.json")], () => at("nope.json"), /ENOENT/],
  ["eval score: directory", () => ["eval", "score", at("a-dir")], () => at("a-dir"), /EISDIR/],
  ["eval score: empty array", () => ["eval", "score", at("empty.json")], () => at("empty.json"), /no records/],
  ["eval steps: truncated", () => ["eval", "steps", "--data", at("truncated.json"), "--out", at("o1")], () => at("truncated.json"), /not JSON/],
  ["eval steps: wrong record type", () => ["eval", "steps", "--data", at("wrong-type.json"), "--out", at("o1")], () => at("wrong-type.json"), /record 0, field tools/],
  ["eval steps: missing", () => ["eval", "steps", "--data", at("nope.json"), "--out", at("o1")], () => at("nope.json"), /no such file/],
  ["eval steps: directory", () => ["eval", "steps", "--data", at("a-dir"), "--out", at("o1")], () => at("a-dir"), /EISDIR/],
  [
    "eval steps: malformed cassette line",
    () => ["eval", "steps", "--data", TEST_SET, "--limit", "1", ...replay("cassette.jsonl"), "--out", at("o2")],
    () => at("cassette.jsonl"),
    cassetteLine,
  ],
  ["eval episodes: truncated", () => ["eval", "episodes", "--data", at("truncated.json"), "--out", at("o3")], () => at("truncated.json"), /not JSON/],
  ["eval episodes: wrong record type", () => ["eval", "episodes", "--data", at("wrong-type.json"), "--out", at("o3")], () => at("wrong-type.json"), /record 0, field tools/],
  ["eval episodes: directory", () => ["eval", "episodes", "--data", at("a-dir"), "--out", at("o3")], () => at("a-dir"), /EISDIR/],
  [
    "eval episodes: malformed cassette line",
    () => ["eval", "episodes", "--data", TEST_SET, "--limit", "1", ...replay("cassette.jsonl"), "--out", at("o4")],
    () => at("cassette.jsonl"),
    cassetteLine,
  ],
  ["eval cassette: truncated", () => ["eval", "cassette", "--data", at("truncated.json"), "--out", at("c.jsonl")], () => at("truncated.json"), /not JSON/],
  ["eval cassette: wrong record type", () => ["eval", "cassette", "--data", at("wrong-type.json"), "--out", at("c.jsonl")], () => at("wrong-type.json"), /record 0, field tools/],
  ["eval cassette: missing", () => ["eval", "cassette", "--data", at("nope.json"), "--out", at("c.jsonl")], () => at("nope.json"), /no such file/],
  ["eval report: truncated predictions", () => ["eval", "report", at("run-truncated")], () => at("run-truncated/predictions.json"), /not JSON/],
  ["eval report: wrong record type", () => ["eval", "report", at("run-wrong-type")], () => at("run-wrong-type/predictions.json"), /record 0: field "reference"/],
  ["eval report: missing run", () => ["eval", "report", at("nope")], () => at("nope"), /no predictions\.json/],
  ["data stage1: truncated answer file", () => ["data", "stage1", "--toolbench", at("toolbench"), "--out", at("s1.json")], () => at("toolbench/answer/G1_answer/q1.json"), /not valid JSON/],
  ["data stage1: missing folder", () => ["data", "stage1", "--toolbench", at("nope"), "--out", at("s1.json")], () => at("nope"), /no such directory/],
  ["data stage2: truncated", () => ["data", "stage2", "--input", at("truncated.json"), "--out", at("s2.json")], () => at("truncated.json"), /not valid JSON/],
  ["data stage2: directory", () => ["data", "stage2", "--input", at("a-dir"), "--out", at("s2.json")], () => at("a-dir"), /EISDIR/],
  ["data glpft: wrong record type", () => ["data", "glpft", "--input", at("wrong-type.json"), "--out", at("g")], () => at("wrong-type.json"), /record 0: tools/],
  ["data glpft: missing", () => ["data", "glpft", "--input", at("nope.json"), "--out", at("g")], () => at("nope.json"), /ENOENT/],
  ["data export: missing", () => ["data", "export", "--checkpoints", at("nope.sqlite"), "--out", at("ex")], () => at("nope.sqlite"), /no such checkpoint file/],
  ["data export: directory", () => ["data", "export", "--checkpoints", at("a-dir"), "--out", at("ex")], () => at("a-dir"), /is a directory/],
  ["data export: not SQLite", () => ["data", "export", "--checkpoints", at("not-sqlite.sqlite"), "--out", at("ex")], () => at("not-sqlite.sqlite"), /not a SQLite/],
  [
    "models create: missing GGUF",
    () => ["models", "create", "--planner", at("nope.gguf"), "--caller", at("nope.gguf"), "--summarizer", at("nope.gguf"), "--host", "http://127.0.0.1:9"],
    () => at("nope.gguf"),
    /no such file/,
  ],
  [
    "models create: directory as GGUF",
    () => ["models", "create", "--planner", at("a-dir"), "--caller", at("a-dir"), "--summarizer", at("a-dir"), "--host", "http://127.0.0.1:9"],
    () => at("a-dir"),
    /no such file/,
  ],
  ["models check: a cassette where an Ollama model goes", () => ["models", "check", "--planner", `replay:${at("cassette.jsonl")}`], () => at("cassette.jsonl"), /not an ollama:MODEL/],
];

describe("CLI: bad files are one line naming file, record and field, exit 2 (a failed run: 1)", () => {
  it.each(TABLE)("%s", async (_name, args, file, detail, code = 2) => {
    const r = await cliInProcess(args());
    expect(r.code).toBe(code);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alpha-umi: /);
    expect(lines[0]).toContain(file());
    expect(lines[0]).toMatch(detail);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
  });
});
