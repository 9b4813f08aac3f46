import { join } from "node:path";
import { parseBackbone, parseCaller, parsePlanner } from "../../src/protocol/index.js";
import { backbonePrompt, callerPrompt, plannerPrompt, renderHistory, summarizerPrompt } from "../../src/protocol/render.js";
import { mergeBackboneTurns } from "../../src/protocol/render.js";
import { pyJsonDumps } from "../../src/protocol/pyjson.js";
import type { ToolDoc, Turn } from "../../src/state.js";
import { describeShared, readJson, TRAIN_EXAMPLE } from "../helpers/shared.js";

interface RoleRecord {
  tools: ToolDoc[];
  history: Turn[];
  input: string;
  target: string;
}
const load = (role: string) => readJson<RoleRecord[]>(join(TRAIN_EXAMPLE, `train_${role}.json`));

describe("pyJsonDumps matches Python json.dumps", () => {
  it("uses Python separators and ASCII escapes with surrogate pairs", () => {
    expect(pyJsonDumps({ Name: "a/b", function: 'say "hé" 😀\n', input: { x: "string, ü" } })).toBe(
      '{"Name": "a/b", "function": "say \\"h\\u00e9\\" \\ud83d\\ude00\\n", "input": {"x": "string, \\u00fc"}}',
    );
    expect(pyJsonDumps([1, 2.5, true, null, "\u007f\u0001"])).toBe('[1, 2.5, true, null, "\\u007f\\u0001"]');
    // Lone surrogates, line separators and BOM as Python writes them; control characters in lowercase hex.
    expect(pyJsonDumps("\ud800 lone \udc00|\u2028\u2029\ufeff|\u001f\b\f\r\t")).toBe('"\\ud800 lone \\udc00|\\u2028\\u2029\\ufeff|\\u001f\\b\\f\\r\\t"');
  });
});

describeShared(TRAIN_EXAMPLE, "prompts reproduce every train-example record byte for byte", () => {
  it("planner", () => {
    const records = load("planner");
    expect(records.length).toBe(79);
    records.forEach((r, i) => expect([i, plannerPrompt({ tools: r.tools, history: r.history })]).toEqual([i, r.input]));
  });
  it("caller", () => {
    const records = load("caller");
    expect(records.length).toBeGreaterThan(0);
    records.forEach((r, i) => expect([i, callerPrompt({ tools: r.tools, history: r.history })]).toEqual([i, r.input]));
  });
  it("summarizer", () => {
    const records = load("summarizer");
    expect(records.length).toBeGreaterThan(0);
    records.forEach((r, i) => expect([i, summarizerPrompt({ tools: r.tools, history: r.history })]).toEqual([i, r.input]));
  });
  it("backbone, except the reference's documented give-up defect", () => {
    const records = load("backbone");
    let giveUps = 0;
    records.forEach((r, i) => {
      const ours = backbonePrompt({ tools: r.tools, history: r.history });
      if (r.target.endsWith("\nconclusion: give up.")) {
        giveUps++;
        // The reference script reuses the previous step's prompt for a give up; we build it from the current history.
        expect(r.input).toBe(records[i - 1]!.input);
        expect(ours).not.toBe(r.input);
        expect(ours).toContain(renderHistory(mergeBackboneTurns(r.history)) + "\nYou should answer the action");
      } else {
        expect([i, ours]).toEqual([i, r.input]);
      }
    });
    expect(giveUps).toBeGreaterThan(0);
  });
});

describe("history rendering", () => {
  it("ends turns with </s> except observations", () => {
    const h: Turn[] = [
      { from: "user", value: "q" },
      { from: "assistant", value: "p Next: caller." },
      { from: "caller", value: "Action: a\nAction Input: {}" },
      { from: "observation", value: "r" },
      { from: "conclusion", value: "done" },
    ];
    expect(renderHistory(h)).toBe("user: q</s>assistant: p Next: caller.</s>caller: Action: a\nAction Input: {}</s>observation: rconclusion: done</s>");
  });
  it("replaces placeholders literally, with no $ patterns", () => {
    const p = plannerPrompt({ tools: [{ Name: "t", function: "costs $& and $1", input: {} }], history: [{ from: "user", value: "pay $$" }] });
    expect(p).toContain("costs $& and $1");
    expect(p).toContain("user: pay $$</s>");
  });
  it("summarizer leaves out earlier `none` conclusions", () => {
    const p = summarizerPrompt({
      tools: [],
      history: [
        { from: "user", value: "q" },
        { from: "conclusion", value: "none" },
        { from: "assistant", value: "x Next: conclusion." },
      ],
    });
    expect(p).toBe("Make a conclusion based on the conversation history:\nuser: q</s>assistant: x Next: conclusion.</s> conclusion: ");
  });
});

describe("parsers", () => {
  it("planner keeps text up to the first marker, give up before conclusion before caller", () => {
    expect(parsePlanner("a Next: caller. b Next: give up. c")).toMatchObject({ plan: "a Next: caller. b Next: give up.", decision: "give up" });
    expect(parsePlanner("x\n Next: conclusion. trailing")).toMatchObject({ plan: "x\n Next: conclusion.", decision: "conclusion" });
    expect(parsePlanner("x\n Next: caller.")).toMatchObject({ plan: "x\n Next: caller.", decision: "caller", markerMissing: false });
    expect(parsePlanner("no marker")).toEqual({ plan: "no marker Next: caller.", decision: "caller", markerMissing: true, empty: false });
    expect(parsePlanner(" . ")).toMatchObject({ plan: "none Next: caller.", empty: true });
  });
  it("caller reads the last Action and Action Input", () => {
    expect(parseCaller("Action: a\nAction Input: {\"q\": 1}")).toEqual({ action: "a", actionInput: '{"q": 1}' });
    // As the reference: the action after the last `Action:`, the input after the last `Action Input:`.
    expect(parseCaller("Action: a\nAction Input: {}\nAction: b")).toEqual({ action: "b", actionInput: "{}\nAction: b" });
    expect(parseCaller("nothing")).toEqual({ action: "none", actionInput: "{}" });
  });
  it("backbone reads calls, conclusions and give ups", () => {
    expect(parseBackbone("think\nAction: a\nAction Input: {}")).toEqual({ kind: "call", rationale: "think", action: "a", actionInput: "{}" });
    expect(parseBackbone("think\nconclusion: 42")).toEqual({ kind: "conclusion", rationale: "think", answer: "42" });
    expect(parseBackbone("think\nconclusion: give up.")).toEqual({ kind: "give up", rationale: "think" });
  });
});
