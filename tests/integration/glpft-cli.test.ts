import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import type { RoleRecord, Stage2Record } from "../../src/glpft/index.js";
import { main } from "../../src/cli/main.js";
import { backbonePrompt, callerPrompt, plannerPrompt, summarizerPrompt } from "../../src/protocol/render.js";
import type { Turn } from "../../src/state.js";
import { DEMO_TEST_SET, describeShared, OUT_OF_DOMAIN, readJson, testShared, TRAIN_EXAMPLE } from "../helpers/shared.js";

/** Run the CLI in-process, capturing what it prints. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = jest.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(["node", "alpha-umi", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), "glpft-cli-"))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const load = (dir: string, role: string) => readJson<RoleRecord[]>(join(dir, `train_${role}.json`));

/** `data glpft` on a test set against a plain re-statement of the rules: the lines it must print, its step count. */
function glpftRules(input: string, name: string, lines: (out: string) => string[], stepCount: number): void {
  let out: string;
  let dialogs: Stage2Record[];
  let printed: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    out = join(tmp, name);
    printed = await cli("data", "glpft", "--input", input, "--out", out);
    dialogs = readJson<Stage2Record[]>(input);
  });

  /** Every (dialog, turn index) whose turn has role `from`, in file order. */
  function turnsFrom(from: Turn["from"]): { d: Stage2Record; i: number; t: Turn }[] {
    return dialogs.flatMap((d) => d.conversations.flatMap((t, i) => (t.from === from ? [{ d, i, t }] : [])));
  }
  const MARKERS = ["Next: caller.", "Next: conclusion.", "Next: give up."];

  it("prints the counts and the skipped turns with their reasons", () => {
    expect(printed).toMatchObject({ code: 0, stderr: "" });
    expect(printed.stdout.split("\n")).toEqual(expect.arrayContaining(lines(out)));
  });

  it(`planner: one record per step (${stepCount}), input = the step's planner prompt`, () => {
    const steps = turnsFrom("assistant").filter(({ t }) => MARKERS.some((m) => t.value.includes(m)));
    expect(steps).toHaveLength(stepCount);
    const records = load(out, "planner");
    expect(records).toHaveLength(steps.length);
    steps.forEach(({ d, i, t }, k) => {
      const r = records[k]!;
      expect(r.target).toBe(t.value);
      expect(r.history).toEqual(d.conversations.slice(0, i));
      expect(r.input).toBe(plannerPrompt({ tools: d.tools, history: d.conversations.slice(0, i) }));
    });
  });

  it("caller: one record per caller turn (none hallucinated in this set), thought = the planner turn", () => {
    const calls = turnsFrom("caller");
    const records = load(out, "caller");
    expect(records).toHaveLength(calls.length);
    calls.forEach(({ d, i, t }, k) => {
      expect(records[k]!.target).toBe(t.value);
      expect(records[k]!.input).toBe(callerPrompt({ tools: d.tools, history: d.conversations.slice(0, i) }));
      expect(records[k]!.input).toContain(`The thought of this step is:\n${d.conversations[i - 1]!.value}\nBase on the thought`);
    });
  });

  it("summarizer: one record per conclusion that is not `none`", () => {
    const answers = turnsFrom("conclusion").filter(({ t }) => t.value !== "none");
    const records = load(out, "summarizer");
    expect(records).toHaveLength(answers.length);
    answers.forEach(({ d, i, t }, k) => {
      expect(records[k]!.target).toBe(t.value);
      expect(records[k]!.input).toBe(summarizerPrompt({ tools: d.tools, history: d.conversations.slice(0, i) }));
    });
  });

  it("backbone: one record per step, plan and action merged, prompts from the step's own history", () => {
    const steps = turnsFrom("assistant").filter(({ t }) => MARKERS.some((m) => t.value.includes(m)));
    const records = load(out, "backbone");
    expect(records).toHaveLength(steps.length);
    steps.forEach(({ d, i, t }, k) => {
      const next = d.conversations[i + 1];
      const plan = (m: string) => t.value.split(m).join("").trim();
      const target = t.value.includes("Next: give up.")
        ? plan("Next: give up.") + "\nconclusion: give up."
        : next!.from === "caller"
          ? plan("Next: caller.") + "\n" + next!.value
          : plan("Next: conclusion.") + "\nconclusion: " + next!.value;
      expect(records[k]!.target).toBe(target);
      expect(records[k]!.input).toBe(backbonePrompt({ tools: d.tools, history: d.conversations.slice(0, i) }));
    });
  });
}

describeShared(OUT_OF_DOMAIN, "data glpft on the out-of-domain set, against a plain re-statement of the rules", () =>
  glpftRules(OUT_OF_DOMAIN, "ood", (out) => [
    "400 dialogs",
    `${join(out, "train_backbone.json")}: 1547 records`,
    `${join(out, "train_planner.json")}: 1547 records`, // metrics.md: 1547 steps
    `${join(out, "train_caller.json")}: 1146 records`,
    `${join(out, "train_summarizer.json")}: 293 records`,
    // assistant turns with no call: the reference makes no example of them either
    "  planner: assistant_turn_followed_by_assistant: 104",
    "  summarizer: conclusion_none: 1",
  ], 1547),
);

describe("data glpft on the project's demo test set, against a plain re-statement of the rules", () =>
  glpftRules(DEMO_TEST_SET, "demo", (out) => [
    "6 dialogs",
    `${join(out, "train_backbone.json")}: 17 records`,
    `${join(out, "train_planner.json")}: 17 records`,
    `${join(out, "train_caller.json")}: 11 records`,
    // one dialog gives up: no summarizer record for it
    `${join(out, "train_summarizer.json")}: 5 records`,
  ], 17),
);

describe("data stage2, --format jsonl, data stage1", () => {
  testShared(TRAIN_EXAMPLE, "stage2 reproduces raw_data_stage_2.json", async () => {
    const stage2 = join(tmp, "te", "stage2.json");
    expect(await cli("data", "stage2", "--input", join(TRAIN_EXAMPLE, "raw_data/raw_data_stage_1.json"), "--out", stage2)).toMatchObject({ code: 0, stdout: `${stage2}: 20 dialogs\n` });
    expect(readJson(stage2)).toEqual(readJson(join(TRAIN_EXAMPLE, "raw_data/raw_data_stage_2.json")));
  });

  it("glpft --format jsonl writes prompt/completion lines beside the JSON", async () => {
    const out = join(tmp, "jsonl");
    expect((await cli("data", "glpft", "--input", DEMO_TEST_SET, "--out", out, "--format", "jsonl")).code).toBe(0);
    for (const role of ["backbone", "planner", "caller", "summarizer"]) {
      const lines = readFileSync(join(out, `train_${role}.jsonl`), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(lines).toEqual(load(out, role).map((r) => ({ prompt: r.input, completion: r.target })));
    }
  });

  it("stage1 reads a ToolBench folder and prints what it skipped", async () => {
    const tb = join(tmp, "toolbench");
    const chain = [
      { role: "system", content: "s" },
      { role: "user", content: "q" },
      { role: "assistant", content: null, function_call: { name: "Finish", arguments: '{"return_type": "give_up_and_restart"}' } },
    ];
    const file = (id: string, gen: object) => {
      mkdirSync(join(tb, "answer/G1_answer"), { recursive: true });
      writeFileSync(join(tb, `answer/G1_answer/${id}_DFS.json`), JSON.stringify({ answer_generation: gen }));
    };
    file("1", { query: "q", function: [{ name: "Finish", description: "f", parameters: { properties: {} } }], train_messages: [chain] });
    file("2", { query: "test", function: [], train_messages: [chain] });
    file("3", { query: "none", function: [] });
    mkdirSync(join(tb, "test_query_ids"));
    writeFileSync(join(tb, "test_query_ids/G1_instruction.json"), JSON.stringify(["2"]));
    const stage1 = join(tmp, "tb-out", "stage1.json");
    const r = await cli("data", "stage1", "--toolbench", tb, "--out", stage1);
    expect(r).toMatchObject({ code: 0, stdout: `${stage1}: 1 records\nskipped 2:\n  no_train_messages: 1\n  test_query_id: 1\n` });
    expect(readJson(stage1)).toEqual([{ tools: [], instruction: "q", chains: chain }]);
  });
});

describe("bad input: one clear line, exit 1", () => {
  const bad = async (text: string, ...more: string[]) => {
    const p = join(tmp, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, text);
    const r = await cli("data", "glpft", "--input", p, "--out", join(tmp, "bad-out"), ...more);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    return { p, stderr: r.stderr };
  };
  it("not JSON", async () => {
    const { p, stderr } = await bad("not json");
    expect(stderr).toContain(`alpha-umi: ${p}: not valid JSON`);
  });
  it("an unknown `from`, with the record index and field", async () => {
    const { p, stderr } = await bad(JSON.stringify([{ tools: [], conversations: [{ from: "user", value: "q" }] }, { tools: [], conversations: [{ from: "bot", value: "x" }] }]));
    expect(stderr).toMatch(new RegExp(`^alpha-umi: ${p.replace(/[.]/g, "\\.")}: record 1: conversations\\[0\\]\\.from: `));
  });
  it("an unknown --format", async () => {
    const { stderr } = await bad("[]", "--format", "csv");
    expect(stderr).toBe('alpha-umi: --format must be one of reference, jsonl, got "csv"\n');
  });
  it("a stage-1 file that is a stage-2 file", async () => {
    const r = await cli("data", "stage2", "--input", DEMO_TEST_SET, "--out", join(tmp, "x.json"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("toolbench-demo.json: record 0: chains: ");
  });
});
