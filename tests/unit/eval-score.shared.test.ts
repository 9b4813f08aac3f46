import { join } from "node:path";
import { describeShared, METRICS_DIR, readJson } from "../helpers/shared.js";
import { readScoreRecords, validateRecords } from "../../src/eval/records.js";
import { parseJsonFile } from "../../src/protocol/pyjson-loads.js";
import { METRIC_KEYS, scoreRecords, type ScoreRecord } from "../../src/eval/score.js";
import { rougeL, RougeEmptyError } from "../../src/eval/rouge.js";

describeShared(METRICS_DIR, "eval score: the reference scorer's numbers", () => {
  test("reproduces public_first60_seed1.expected.json to 1e-9", () => {
    const result = scoreRecords(readScoreRecords(join(METRICS_DIR, "public_first60_seed1.predictions.json")));
    const expected = readJson<Record<string, number>>(join(METRICS_DIR, "public_first60_seed1.expected.json"));
    expect(Object.keys(expected).sort()).toEqual([...METRIC_KEYS].sort());
    for (const k of METRIC_KEYS) expect(Math.abs(result.metrics[k] - expected[k]!)).toBeLessThanOrEqual(1e-9);
    expect(result.warnings).toEqual([]);
  });

  test("every rouge_l_cases.json pair: the package's value, or its error", () => {
    const cases = readJson<Array<{ hyp: string; ref: string; rouge_l_f?: number; error?: string }>>(join(METRICS_DIR, "rouge_l_cases.json"));
    expect(cases.length).toBeGreaterThan(0);
    let errors = 0;
    for (const c of cases) {
      if (c.error !== undefined) {
        errors++;
        expect(() => rougeL(c.hyp, c.ref)).toThrow(RougeEmptyError);
        expect(() => rougeL(c.hyp, c.ref)).toThrow(c.error.replace(/^ValueError: /, ""));
      } else {
        expect(Math.abs(rougeL(c.hyp, c.ref).f - c.rouge_l_f!)).toBeLessThanOrEqual(1e-12);
      }
    }
    expect(errors).toBeGreaterThan(0);
  });

  test("pairs the package raises on score 0 with a counted warning instead of a crash", () => {
    const cases = readJson<Array<{ hyp: string; ref: string; error?: string }>>(join(METRICS_DIR, "rouge_l_cases.json"));
    const raising = cases.filter((c) => c.error !== undefined);
    const records: ScoreRecord[] = raising.map((c) => ({
      tools: [],
      reference: `assistant: done Next: conclusion.</s>conclusion: ${c.ref}</s>`,
      predictions: `assistant: done Next: conclusion.</s>conclusion: ${c.hyp}`,
    }));
    const r = scoreRecords(records);
    expect(r.metrics.rouge).toBe(0);
    expect(r.metrics.plan_em).toBe(1);
    const w = r.warnings.find((x) => x.code === "rouge-empty");
    expect(w?.count).toBe(raising.length);
    expect(w?.records).toEqual(raising.map((_, i) => i));
  });
});

const tools = [{ Name: "get_weather" }, { Name: "get_time" }];
const call = (plan: string, action: string, input: string, eos = "</s>") =>
  `assistant: ${plan} Next: caller.</s>caller: Action: ${action}\nAction Input: ${input}${eos}`;
const rec = (reference: string, predictions: string): ScoreRecord => ({ tools, reference, predictions });
const refCall = (input: string) => call("go", "get_weather", input);
const predCall = (input: string, action = "get_weather") => call("go", action, input, "");

describe("eval score: argument F1 with Python semantics", () => {
  const argF1 = (refInput: string, predInput: string) => scoreRecords([rec(refCall(refInput), predCall(predInput))]).steps[0]!;

  test("Python equality: 1 == 1.0, true == 1, nested containers, key order irrelevant", () => {
    expect(argF1('{"a": 1}', '{"a": 1.0}').argF1).toBe(1);
    expect(argF1('{"a": true}', '{"a": 1}').argF1).toBe(1);
    expect(argF1('{"a": {"x": [1, 2], "y": null}}', '{"a": {"y": null, "x": [1.0, 2]}}').argF1).toBe(1);
    expect(argF1('{"a": "1"}', '{"a": 1}').argF1).toBeCloseTo(0.5, 15); // half match: key present, value differs
    expect(argF1('{"a": 12345678901234567890}', '{"a": 12345678901234567891}').argF1).toBeCloseTo(0.5, 15);
  });

  test("json.loads quirks: NaN/Infinity parse, duplicate keys keep the last, trailing garbage fails", () => {
    expect(argF1('{"a": Infinity}', '{"a": Infinity}').argF1).toBe(1);
    expect(argF1('{"a": NaN}', '{"a": NaN}').argF1).toBeCloseTo(0.5, 15); // NaN != NaN at top level
    expect(argF1('{"a": [NaN]}', '{"a": [NaN]}').argF1).toBe(1); // but json's one NaN object is identical inside lists
    expect(argF1('{"a": 1}', '{"a": 2, "a": 1}').argF1).toBe(1);
    expect(argF1('{"a": 1}', '{"a": 1} x').argF1).toBe(0);
  });

  test("precision counts predicted keys; no shared key scores 0; non-dicts score 0", () => {
    // recall 1, precision 1/2 → F1 2/3
    expect(argF1('{"a": 1}', '{"a": 1, "b": 2}').argF1).toBeCloseTo(2 / 3, 15);
    expect(argF1('{"a": 1}', '{"b": 1}').argF1).toBe(0);
    expect(argF1('{"a": 1}', "[1]").argF1).toBe(0);
    expect(argF1("[1]", "[1]")).toMatchObject({ argF1: 0, argKind: "hard" });
  });

  test("an empty reference input goes to easy_f1; an unparsable reference input is skipped", () => {
    expect(argF1("{}", "{}")).toMatchObject({ argF1: 1, argKind: "easy" });
    expect(argF1("{}", "[]")).toMatchObject({ argF1: 0, argKind: "easy" });
    expect(argF1("{}", "nope")).toMatchObject({ argF1: 0, argKind: "easy" });
    const skipped = scoreRecords([rec(refCall("{'a': 1}"), predCall("{}"))]);
    expect(skipped.steps[0]!.argF1).toBeNull();
    expect(skipped.counts.f1).toBe(0);
    expect(skipped.metrics.f1).toBe(0);
    expect(skipped.warnings.map((w) => w.code).sort()).toEqual(["empty-easy-f1", "empty-f1", "empty-hard-f1"]);
  });

  test("a wrong action gives 0 to easy, hard and f1; the reference's 1e-30 is kept", () => {
    const r = scoreRecords([rec(refCall('{"a": 1}'), predCall('{"a": 1}', "get_time"))]);
    expect(r.counts).toMatchObject({ easy: 1, hard: 1, f1: 1 });
    expect(r.metrics.f1).toBe(1e-30);
    expect(r.metrics.action_em).toBe(0);
  });
});

describe("eval score: plans, hallucination and defined values where the reference crashes", () => {
  test("hallucination is over all steps; none and known names are not hallucinations", () => {
    const r = scoreRecords([
      rec(refCall("{}"), predCall("{}", "made_up")),
      rec(refCall("{}"), "assistant: x Next: caller.</s>caller: no action here"),
      rec("done Next: give up.", predCall("{}", "get_time")),
      rec("done Next: give up.", "done Next: give up."),
    ]);
    expect(r.metrics.hallu_rate).toBe(0.25);
    expect(r.steps.map((s) => s.hallucinated)).toEqual([true, false, false, false]);
    expect(r.metrics.plan_em).toBe(0.75); // only the give-up step predicted as a call misses
  });

  test("a non-finish prediction for a finish step is the answer `none`; a non-call one is action `none`", () => {
    const r = scoreRecords([
      rec("assistant: a Next: conclusion.</s>conclusion: none</s>", "a Next: give up."),
      rec(refCall("{}"), "assistant: a Next: conclusion.</s>conclusion: x"),
    ]);
    expect(r.steps[0]!.rouge).toBeCloseTo(1, 6);
    expect(r.steps[1]).toMatchObject({ predAction: null, actionOk: false, argF1: 0 });
  });

  test("a call without `</s>` and `conclusion:` without a space are read, counted and listed", () => {
    const r = scoreRecords([
      rec(refCall("{}"), "I will call get_weather Next: caller."),
      rec("assistant: a Next: conclusion.</s>conclusion: yes</s>", "a Next: conclusion.</s>conclusion:yes"),
    ]);
    expect(r.steps[0]).toMatchObject({ predPlan: "call", predAction: "none" });
    expect(r.warnings.find((w) => w.code === "no-eos")).toMatchObject({ count: 1, records: [0] });
    expect(r.warnings.find((w) => w.code === "no-conclusion-space")).toMatchObject({ count: 1, records: [1] });
  });

  test("no records: every metric 0 and a warning", () => {
    const r = scoreRecords([]);
    for (const k of METRIC_KEYS) expect(r.metrics[k]).toBe(0);
    expect(r.warnings.map((w) => w.code)).toContain("empty-data");
  });
});

describe("eval score: bad files name the file, record and field", () => {
  test.each([
    [{}, /f\.json: expected a JSON array/],
    [[1], /f\.json: record 0: expected an object/],
    [[{ tools: [], reference: "x" }], /record 0: field "predictions" is missing/],
    [[{ tools: [], reference: "x", predictions: ["x"] }], /record 0, field "predictions": expected a string, got an array/],
    [[{ tools: [{ Name: 3 }], reference: "x", predictions: "y" }], /record 0, field "tools\[0\]\.Name": expected a string/],
  ])("%j", (data, message) => {
    expect(() => validateRecords("f.json", data)).toThrow(message);
  });

  test("Python-only JSON (NaN) in a file is accepted, like json.load; broken JSON names the file", () => {
    const data = parseJsonFile("f.json", '[{"tools": [{"Name": "a", "n": NaN}], "reference": "x", "predictions": "y"}]');
    expect(validateRecords("f.json", data)[0]!.tools[0]!.Name).toBe("a");
    expect(() => parseJsonFile("f.json", "[1] x")).toThrow(/^f\.json: not JSON \(Extra data at char 4\)/);
  });
});
