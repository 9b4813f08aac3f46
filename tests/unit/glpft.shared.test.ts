import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  glpftRecords,
  readStage1AsConversations,
  readStage2File,
  writeGlpft,
  type RoleRecord,
  type Stage1Record,
  type Stage2Record,
} from "../../src/glpft/index.js";
import { toConversation } from "../../src/glpft/stage2.js";
import { pyJsonIndent, SkipLog, writeJsonArray } from "../../src/glpft/io.js";
import { backbonePrompt, callerPrompt } from "../../src/protocol/render.js";
import { pyJsonDumps } from "../../src/protocol/pyjson.js";
import type { ToolDoc, Turn } from "../../src/state.js";
import { describeShared, readJson, TRAIN_EXAMPLE } from "../helpers/shared.js";

const STAGE1 = join(TRAIN_EXAMPLE, "raw_data/raw_data_stage_1.json");
const STAGE2 = join(TRAIN_EXAMPLE, "raw_data/raw_data_stage_2.json");
const GIVE_UP_TARGET = "\nconclusion: give up.";

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), "glpft-unit-"))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describeShared(TRAIN_EXAMPLE, "train-example reproduction", () => {
  it("stage 1 → stage 2 deep-equals raw_data_stage_2.json, and is byte-identical when written", () => {
    const ours = [...readStage1AsConversations(STAGE1)];
    expect(ours).toEqual(readJson(STAGE2));
    const out = join(tmp, "stage2.json");
    writeJsonArray(out, ours);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(STAGE2, "utf8"));
  });

  describe("stage 2 → the four datasets", () => {
    let out: string;
    let summary: ReturnType<typeof writeGlpft>;
    beforeAll(() => {
      out = join(tmp, "datasets");
      summary = writeGlpft(readStage2File(STAGE2), out);
    });
    const ours = (role: string) => readJson<RoleRecord[]>(join(out, `train_${role}.json`));
    const theirs = (role: string) => readJson<RoleRecord[]>(join(TRAIN_EXAMPLE, `train_${role}.json`));

    it.each(["planner", "caller", "summarizer"])("%s deep-equals the reference (and is byte-identical)", (role) => {
      expect(ours(role)).toEqual(theirs(role));
      expect(readFileSync(join(out, `train_${role}.json`), "utf8")).toBe(readFileSync(join(TRAIN_EXAMPLE, `train_${role}.json`), "utf8"));
    });

    it("backbone equals the reference except exactly the give-up records' input (the documented defect fix)", () => {
      const a = ours("backbone");
      const b = theirs("backbone");
      expect(a.length).toBe(b.length);
      const differing = a.flatMap((r, i) => (JSON.stringify(r) === JSON.stringify(b[i]) ? [] : [i]));
      const giveUps = b.flatMap((r, i) => (r.target.endsWith(GIVE_UP_TARGET) ? [i] : []));
      expect(giveUps.length).toBeGreaterThan(0);
      expect(differing).toEqual(giveUps);
      for (const i of giveUps) {
        const { input: ourInput, ...ourRest } = a[i]!;
        const { input: refInput, ...refRest } = b[i]!;
        expect(ourRest).toEqual(refRest);
        expect(refInput).toBe(b[i - 1]!.input); // the reference reused the previous step's prompt
        expect(ourInput).toBe(backbonePrompt({ tools: a[i]!.tools, history: a[i]!.history }));
      }
    });

    it("reports counts per file and no skips on the reference data", () => {
      expect(summary.files.map((f) => f.count)).toEqual([79, 79, 59, 14]);
      expect(summary.skips.total).toBe(0);
    });
  });
});

describe("Python json.dump compatibility", () => {
  it("pyJsonIndent lays out nested values as json.dumps(indent=2)", () => {
    const v = [{ a: [], b: {}, c: [{ x: 'é/😀\u007f\u0001"\\' }], d: { k: "v" } }];
    // Python: json.dumps(v, indent=2)
    expect(pyJsonIndent(v, 0)).toBe(
      '[\n  {\n    "a": [],\n    "b": {},\n    "c": [\n      {\n        "x": "\\u00e9/\\ud83d\\ude00\\u007f\\u0001\\"\\\\"\n      }\n    ],\n    "d": {\n      "k": "v"\n    }\n  }\n]',
    );
    const empty = join(tmp, "empty.json");
    writeJsonArray(empty, []);
    expect(readFileSync(empty, "utf8")).toBe("[]");
  });
});

const TOOLS: ToolDoc[] = [{ Name: "weather_for_x", function: "Weather.", input: { city: "string, a city" } }];
const where = { file: "f.json", record: 3 };

function stage1(chains: Stage1Record["chains"]): Stage1Record {
  return { tools: TOOLS, instruction: "q", chains: [{ role: "system", content: "sys" }, { role: "user", content: "q" }, ...chains] };
}
const finish = (args: string | Record<string, unknown>, content: string | null = "done") => stage1([{ role: "assistant", content, function_call: { name: "Finish", arguments: args } }]);
const turnsOf = (r: Stage1Record) => toConversation(r, where).conversations.slice(1);

describe("stage 1 → stage 2 rules", () => {
  it("a tool call becomes a planner turn and a caller turn; no content means an empty span", () => {
    expect(turnsOf(stage1([{ role: "assistant", content: null, function_call: { name: "weather_for_x", arguments: '{"city": "Oslo"}' } }]))).toEqual([
      { from: "assistant", value: " Next: caller." },
      { from: "caller", value: 'Action: weather_for_x\nAction Input: {"city": "Oslo"}' },
    ]);
  });
  it("Finish: give up, answer, missing answer, dict arguments", () => {
    expect(turnsOf(finish('{"return_type": "give_up_and_restart"}'))).toEqual([{ from: "assistant", value: "done\n Next: give up." }]);
    expect(turnsOf(finish('{"return_type": "give_answer", "final_answer": "42"}'))).toEqual([
      { from: "assistant", value: "done\n Next: conclusion." },
      { from: "conclusion", value: "42" },
    ]);
    expect(turnsOf(finish('{"return_type": "give_answer"}'))[1]).toEqual({ from: "conclusion", value: "none" });
    expect(turnsOf(finish({ return_type: "give_answer", final_answer: "dict" }))[1]).toEqual({ from: "conclusion", value: "dict" });
    // Python's json.loads accepts NaN: the arguments parse, so the answer is the decoded string.
    expect(turnsOf(finish('{"return_type": "give_answer", "final_answer": "caf\\u00e9", "score": NaN}'))[1]).toEqual({ from: "conclusion", value: "café" });
  });
  it("Finish arguments that do not parse are read as text, as the reference does", () => {
    expect(turnsOf(finish('{"return_type": "give_up_and_restart"'))).toEqual([{ from: "assistant", value: "done\n Next: give up." }]);
    expect(turnsOf(finish('{"return_type": "give_answer", "final_answer": "It is \\"42\\""}}'))[1]!.value).toBe('It is \\"42\\');
    expect(turnsOf(finish("{broken", "content answer"))[1]!.value).toBe("content answer");
    expect(turnsOf(finish("{broken", null))[1]!.value).toBe("none");
    // Parses, but without return_type: the reference falls back to the text too.
    expect(turnsOf(finish('{"final_answer": "caf\\u00e9"}'))[1]!.value).toBe("caf\\u00e9");
  });
  it("function messages give their response, or the raw text after \"response\":, or nothing", () => {
    const obs = (content: string) => turnsOf(stage1([{ role: "function", content }]))[0];
    expect(obs('{"error": "", "response": "sunny"}')).toEqual({ from: "observation", value: "sunny" });
    expect(obs('{"error": "", "response": "cut off')).toEqual({ from: "observation", value: ' "cut off' });
    expect(obs("garbage")).toEqual({ from: "observation", value: "" });
  });
  it("user turns are kept; assistant turns without a call and system messages give nothing", () => {
    expect(turnsOf(stage1([{ role: "assistant", content: "thinking" }, { role: "system", content: "x" }, { role: "user", content: "more" }]))).toEqual([
      { from: "user", value: "more" },
    ]);
  });
  it("bad chains are errors naming file, record and field", () => {
    expect(() => turnsOf(stage1([{ role: "tool", content: "x" }]))).toThrow('f.json: record 3: chains[2].role: unknown role "tool"');
    expect(() => turnsOf(stage1([{ role: "user", content: null }]))).toThrow("f.json: record 3: chains[2].content: expected a string, got null");
    expect(() => turnsOf(stage1([{ role: "function", content: '{"response": {"a": 1}}' }]))).toThrow('chains[2].content: "response" must be a string');
    expect(() => turnsOf(finish('{"return_type": "give_answer", "final_answer": 42}'))).toThrow("chains[2].function_call.arguments: final_answer must be a string");
  });
});

function dialog(turns: Turn[]): Stage2Record {
  return { tools: TOOLS, instruction: "q", conversations: [{ from: "user", value: "q" }, ...turns] };
}
const CALL = (v = "Action: weather_for_x\nAction Input: {}"): Turn => ({ from: "caller", value: v });
const PLAN = (next: string): Turn => ({ from: "assistant", value: `think\n Next: ${next}.` });
const OBS: Turn = { from: "observation", value: "sunny" };
const HALLU = CALL('Action: nope\nAction Input: {"error": "invalid_hallucination_function_name"}');

describe("role datasets: skips are counted, never silent", () => {
  it("a hallucinated caller turn: no planner or caller example, the backbone keeps it, later caller prompts leave it out", () => {
    const d = dialog([PLAN("caller"), HALLU, OBS, PLAN("caller"), CALL(), OBS, PLAN("conclusion"), { from: "conclusion", value: "sunny" }]);
    const skips = new SkipLog();
    const r = glpftRecords(d, "toolbench", skips);
    expect(r.planner.map((x) => x.history.length)).toEqual([4, 7]);
    expect(r.caller).toHaveLength(1);
    expect(r.caller[0]!.history).toEqual(d.conversations.slice(0, 5));
    expect(r.caller[0]!.input).toBe(callerPrompt({ tools: TOOLS, history: d.conversations.slice(0, 5).filter((t) => t !== HALLU) }));
    expect(r.backbone.map((x) => x.target)).toEqual(["think\n" + HALLU.value, "think\nAction: weather_for_x\nAction Input: {}", "think\nconclusion: sunny"]);
    expect(r.summarizer).toHaveLength(1);
    expect(skips.lines()).toEqual(["caller: invalid_hallucination_function_name: 1", "planner: invalid_hallucination_function_name: 1"]);
  });
  it("a conversation ending on an assistant turn without a decision, a caller without a planner turn, a `none` conclusion", () => {
    const d = dialog([CALL(), OBS, PLAN("conclusion"), { from: "conclusion", value: "none" }, { from: "assistant", value: "hmm" }]);
    const skips = new SkipLog();
    const r = glpftRecords(d, "toolbench", skips);
    expect(r.planner).toHaveLength(1);
    expect(r.caller).toHaveLength(0);
    expect(r.summarizer).toHaveLength(0);
    expect(r.backbone.map((x) => x.target)).toEqual(["think\nconclusion: none"]);
    expect(skips.lines()).toEqual([
      "backbone: conversation_ends_on_assistant_turn: 1",
      "caller: caller_turn_without_planner_turn: 1",
      "planner: conversation_ends_on_assistant_turn: 1",
      "summarizer: conclusion_none: 1",
    ]);
  });
  it("a give up at the end is an example for the planner and the backbone, its backbone prompt from its own history", () => {
    const d = dialog([PLAN("caller"), CALL(), OBS, PLAN("give up")]);
    const r = glpftRecords(d, "toolbench", new SkipLog());
    expect(r.planner.map((x) => x.target)).toEqual([PLAN("caller").value, PLAN("give up").value]);
    expect(r.backbone[1]).toEqual({ tools: TOOLS, history: d.conversations.slice(0, 4), input: backbonePrompt({ tools: TOOLS, history: d.conversations.slice(0, 4) }), target: "think" + GIVE_UP_TARGET });
  });
  it("the toolalpaca templates are used when asked", () => {
    const r = glpftRecords(dialog([PLAN("conclusion"), { from: "conclusion", value: "a" }]), "toolalpaca", new SkipLog());
    expect(r.planner[0]!.input).toMatch(/followed by Next: caller or conclusion\. assistant: $/);
    expect(r.backbone[0]!.input).toContain("the final answer of the question.\n assistant: ");
  });
});

describe("bad stage-2 input", () => {
  const file = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const read = (p: string) => () => [...readStage2File(p)];
  it("names the file when it is not JSON or not an array", () => {
    const p = file("bad.json", "[{");
    expect(read(p)).toThrow(`${p}: not valid JSON`);
    const q = file("obj.json", "{}");
    expect(read(q)).toThrow(`${q}: expected a JSON array of stage-2 records`);
  });
  it("names the file, record index and field of a wrong record", () => {
    const good = dialog([PLAN("give up")]);
    const p = file("from.json", JSON.stringify([good, { ...good, conversations: [{ from: "user", value: "q" }, { from: "robot", value: "x" }] }]));
    expect(read(p)).toThrow(`${p}: record 1: conversations[1].from:`);
    const q = file("tools.json", JSON.stringify([{ ...good, tools: [{ Name: "t", function: 1, input: {} }] }]));
    expect(read(q)).toThrow(`${q}: record 0: tools[0].function:`);
    const r = file("noconv.json", JSON.stringify([{ tools: [] }]));
    expect(read(r)).toThrow(`${r}: record 0: conversations:`);
  });
});
