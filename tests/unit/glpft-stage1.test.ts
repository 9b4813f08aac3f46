import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { glpftRecords, readToolBench, type Stage1Record } from "../../src/glpft/index.js";
import { toConversation } from "../../src/glpft/stage2.js";
import { SkipLog } from "../../src/glpft/io.js";
import { plannerPrompt } from "../../src/protocol/render.js";

/** A small synthetic ToolBench data folder (answer/G*_answer/*.json, test_query_ids/*.json), written by us. */
function writeToolBench(root: string, files: Record<string, unknown>): string {
  for (const [path, value] of Object.entries(files)) {
    const p = join(root, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value));
  }
  return root;
}

const LONG_NAME = "prefix_" + "n".repeat(64);
const weather = {
  name: LONG_NAME,
  // Python slices code points: 256 emoji, not 128.
  description: "😀".repeat(300),
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "head " + "z".repeat(256) }, days: { type: "integer" } },
    required: ["city"],
  },
};
const finishFn = { name: "Finish", description: "finish", parameters: { type: "object", properties: {} } };
const chain = [
  { role: "system", content: "You are AutoGPT..." },
  { role: "user", content: "Weather in Oslo?" },
  { role: "assistant", content: "I will look it up.", function_call: { name: LONG_NAME.slice(-64), arguments: '{"city": "Oslo"}' } },
  { role: "function", name: LONG_NAME.slice(-64), content: '{"error": "", "response": "sunny"}' },
  { role: "assistant", content: "Done.", function_call: { name: "Finish", arguments: '{"return_type": "give_answer", "final_answer": "It is sunny."}' } },
];
const answer = (query: string, trainMessages: unknown) => ({
  answer_generation: { valid_data: true, query, function: [weather, finishFn], train_messages: trainMessages },
});

let root: string;
beforeAll(() => {
  root = writeToolBench(mkdtempSync(join(tmpdir(), "glpft-toolbench-")), {
    "answer/G1_answer/10_DFS_woFilter_w2.json": answer("Weather in Oslo?", [[{ role: "system", content: "an earlier try" }], chain]),
    "answer/G1_answer/11_DFS_woFilter_w2.json": answer("a test query", [chain]),
    "answer/G2_answer/12_DFS_woFilter_w2.json": { answer_generation: { query: "no messages", function: [] } },
    "answer/G2_answer/13_DFS_woFilter_w2.json": answer("empty", []),
    "answer/G3_answer/99_DFS_woFilter_w2.json": answer("listed as a number", [chain]),
    "answer/G3_answer/notes.txt": "not an answer file",
    "test_query_ids/G1_instruction.json": { "11": 1 },
    "test_query_ids/G1_tool.json": [99],
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ToolBench answers → stage 1", () => {
  let records: Stage1Record[];
  let skips: SkipLog;
  beforeAll(() => {
    skips = new SkipLog();
    records = [...readToolBench(root, skips)];
  });

  it("keeps the training files, leaves out test ids, and counts what it skips", () => {
    expect(records.map((r) => r.instruction)).toEqual(["Weather in Oslo?"]);
    expect(skips.lines()).toEqual(["empty_train_messages: 1", "no_train_messages: 1", "test_query_id: 2"]);
  });
  it("cuts names to their last 64, descriptions to their first 256 and argument descriptions to their last 256 characters", () => {
    expect(records[0]!.tools).toEqual([
      { Name: "n".repeat(64), function: "😀".repeat(256), input: { city: "string, " + "z".repeat(256), days: "integer" } },
    ]);
  });
  it("takes the last list of train_messages, Finish left out of the tools", () => {
    expect(records[0]!.chains).toEqual(chain);
    expect(records[0]!.tools.map((t) => t.Name)).not.toContain("Finish");
  });
  it("chains on to stage 2 and the four datasets", () => {
    const dialog = toConversation(records[0]!, { file: "synthetic", record: 0 });
    expect(dialog.conversations).toEqual([
      { from: "user", value: "Weather in Oslo?" },
      { from: "assistant", value: "I will look it up.\n Next: caller." },
      { from: "caller", value: `Action: ${"n".repeat(64)}\nAction Input: {"city": "Oslo"}` },
      { from: "observation", value: "sunny" },
      { from: "assistant", value: "Done.\n Next: conclusion." },
      { from: "conclusion", value: "It is sunny." },
    ]);
    const sets = glpftRecords(dialog, "toolbench", new SkipLog());
    expect([sets.backbone.length, sets.planner.length, sets.caller.length, sets.summarizer.length]).toEqual([2, 2, 1, 1]);
    expect(sets.planner[1]!.input).toBe(plannerPrompt({ tools: dialog.tools, history: dialog.conversations.slice(0, 4) }));
    expect(sets.backbone.map((r) => r.target)).toEqual([`I will look it up.\nAction: ${"n".repeat(64)}\nAction Input: {"city": "Oslo"}`, "Done.\nconclusion: It is sunny."]);
    expect(sets.summarizer[0]!.target).toBe("It is sunny.");
  });
});

describe("bad ToolBench input", () => {
  const run = (dir: string) => () => [...readToolBench(dir, new SkipLog())];
  let bad: string;
  beforeEach(() => (bad = mkdtempSync(join(tmpdir(), "glpft-toolbench-bad-"))));
  afterEach(() => rmSync(bad, { recursive: true, force: true }));

  it("a missing answer folder", () => {
    expect(run(bad)).toThrow(`${join(bad, "answer")}: no such directory`);
  });
  it("a file that is not JSON names the file", () => {
    writeToolBench(bad, { "answer/G1_answer/1_x.json": "{oops" });
    expect(run(bad)).toThrow(`${join(bad, "answer/G1_answer/1_x.json")}: not valid JSON`);
  });
  it("a wrong shape names the file and the field", () => {
    writeToolBench(bad, { "answer/G1_answer/1_x.json": answer("q", [chain]), "answer/G1_answer/2_x.json": { answer_generation: { query: "q", function: {}, train_messages: [] } } });
    expect(run(bad)).toThrow(`${join(bad, "answer/G1_answer/2_x.json")}: answer_generation: function:`);
    writeToolBench(bad, { "answer/G1_answer/2_x.json": answer("q", [chain]) });
    writeToolBench(bad, { "answer/G1_answer/3_x.json": { answer_generation: { query: "q", function: [{ name: "t", parameters: { properties: {} } }], train_messages: [chain] } } });
    expect(run(bad)).toThrow(`${join(bad, "answer/G1_answer/3_x.json")}: answer_generation.function[0].description: missing`);
  });
});
