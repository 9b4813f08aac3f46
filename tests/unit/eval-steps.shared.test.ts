import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedModel } from "../../src/models/index.js";
import { parseStepOutput } from "../../src/protocol/step.js";
import { extractSteps } from "../../src/eval/steps.js";
import { readToolBenchFile, type ToolBenchDialog as Dialog } from "../../src/toolbenchDialogs.js";
import { predictStep, runSteps } from "../../src/eval/runner.js";
import { StepStore } from "../../src/eval/store.js";
import { OUT_OF_DOMAIN, testShared } from "../helpers/shared.js";

const tools = [{ Name: "get_weather", function: "weather by city", input: { city: "string, a city" } }];
const dialog: Dialog = {
  tools,
  instruction: "Weather in Paris?",
  conversations: [
    { from: "user", value: "Weather in Paris?" },
    { from: "assistant", value: "I will look it up.\n Next: caller." },
    { from: "caller", value: 'Action: get_weather\nAction Input: {"city": "Paris"}' },
    { from: "observation", value: '{"temp": 20}' },
    { from: "assistant", value: "It is 20 degrees.\n Next: conclusion." },
    { from: "conclusion", value: "It is 20 degrees in Paris." },
    { from: "assistant", value: "thinking without a marker" },
  ],
};

describe("eval steps: extraction", () => {
  testShared(OUT_OF_DOMAIN, "the out-of-domain set yields 1547 steps with references in the reference format", () => {
    const steps = extractSteps(readToolBenchFile(OUT_OF_DOMAIN));
    expect(steps).toHaveLength(1547);
    const plans = steps.map((s) => parseStepOutput(s.reference).plan);
    expect(plans.filter((p) => p === "call")).toHaveLength(1146);
    expect(plans.filter((p) => p === "finish")).toHaveLength(294);
    expect(plans.filter((p) => p === "give up")).toHaveLength(107);
  });

  test("a step's history is τ before its planner turn; unmarked planner turns are not steps", () => {
    const steps = extractSteps([dialog]);
    expect(steps.map((s) => s.turn)).toEqual([1, 4]);
    expect(steps[1]!.history).toHaveLength(4);
    expect(steps[0]!.reference).toBe('assistant: I will look it up.\n Next: caller.</s>caller: Action: get_weather\nAction Input: {"city": "Paris"}</s>');
  });

  test("a call plan with no turn after it names the record and field", () => {
    const broken: Dialog = { ...dialog, conversations: dialog.conversations.slice(0, 2) };
    expect(() => extractSteps([dialog, broken], "t.json")).toThrow("t.json: record 1, field conversations.1:");
  });
});

describe("eval steps: teacher-forced nodes", () => {
  const opts = (planner: ScriptedModel, second: ScriptedModel) => ({
    models: { planner, caller: second, summarizer: second },
    singleLlm: false,
    settings: { templates: "toolbench" as const },
  });

  test("planner then caller on the planner's own output, in the reference prediction shape", async () => {
    const [step] = extractSteps([dialog]);
    const planner = new ScriptedModel(["Let me call.\n Next: caller."]);
    const caller = new ScriptedModel(['Action: get_weather\nAction Input: {"city": "Rome"}']);
    const r = await predictStep(step!, opts(planner, caller));
    expect(r).toMatchObject({ error: null, calls: 2 });
    expect(r.predictions).toBe('assistant: Let me call.\n Next: caller.</s>caller: Action: get_weather\nAction Input: {"city": "Rome"}');
    expect(caller.prompts[0]).toContain("The thought of this step is:\nLet me call.\n Next: caller.");
  });

  test("a model failure is recorded for its step as a miss; the run goes on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-steps-"));
    try {
      const steps = extractSteps([dialog]);
      const planner = new ScriptedModel([new Error("server down"), "Done.\n Next: conclusion."]);
      const summarizer = new ScriptedModel(["It is 20 degrees in Paris."]);
      const store = new StepStore(dir, { t: 1 });
      const results = await runSteps(steps, { ...opts(planner, summarizer), concurrency: 1, store });
      store.close();
      expect(results.get(0)!.error).toMatch(/server down/);
      expect(parseStepOutput(results.get(0)!.predictions).plan).not.toBe("call");
      expect(results.get(1)).toMatchObject({ error: null, predictions: "assistant: Done.\n Next: conclusion.</s>conclusion: It is 20 degrees in Paris." });
      expect(() => new StepStore(dir, { t: 2 })).toThrow(/other settings/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the single-LLM backbone's output comes back in α-UMi form", async () => {
    const [step] = extractSteps([dialog]);
    const backbone = new ScriptedModel(['Let me call.\nAction: get_weather\nAction Input: {"city": "Paris"}']);
    const r = await predictStep(step!, { models: { backbone }, singleLlm: true, settings: { templates: "toolbench" } });
    expect(parseStepOutput(r.predictions)).toMatchObject({ plan: "call", action: "get_weather", actionInput: '{"city": "Paris"}' });
    expect(backbone.prompts[0]).toMatch(/ assistant: $/);
  });
});
