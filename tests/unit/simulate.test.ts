import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedModel } from "../../src/models/scripted.js";
import { SIMULATION_FAILED, simulateApiPrompt } from "../../src/protocol/judgesAndSimulator.js";
import { toolbenchReplayTools } from "../../src/tools/toolbenchReplay.js";
import { loadToolSources } from "../../src/tools/sources.js";
import { writeFileSync } from "node:fs";
import { cliInProcess } from "../helpers/inProcessCli.js";
import type { ToolBenchDialog } from "../../src/toolbenchDialogs.js";

const doc = { Name: "rate_for_fx_tool", function: "Exchange rate between two currencies.", input: { to: "string, target currency" } };
const dialogs: ToolBenchDialog[] = [
  {
    tools: [doc],
    instruction: "Rate?",
    conversations: [
      { from: "user", value: "Rate?" },
      { from: "assistant", value: "Look it up.\n Next: caller." },
      { from: "caller", value: 'Action: rate_for_fx_tool\nAction Input: {"to": "JPY"}' },
      { from: "observation", value: '{"error": "", "response": "{\\"rate\\": 162.5}"}' },
    ],
  },
];
const signal = new AbortController().signal;

describe("virtual APIs: the replay pack's simulate miss policy", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "sim-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("simulates a miss (retrying an unparsable reply), caches it, and a second run replays the cache without a model call", async () => {
    const model = new ScriptedModel(["Sure! The rate is 0.9", '{"error": "", "response": "{\\"rate\\": 0.92}"}'], "simulator");
    const [tool] = toolbenchReplayTools(dialogs, "fx.json", { miss: { kind: "simulate", model, cacheDir: dir } });
    // A recorded call is replayed, no model call.
    expect(await tool!.run({ to: "JPY" }, { signal })).toBe('{"error": "", "response": "{\\"rate\\": 162.5}"}');
    expect(model.prompts).toHaveLength(0);
    const answer = await tool!.run({ to: "USD" }, { signal });
    expect(answer).toBe(JSON.stringify({ error: "", response: '{"rate": 0.92}' }));
    expect(model.prompts).toHaveLength(2);
    // The prompt is the API's document with the recorded example and the call.
    expect(model.prompts[0]).toBe(simulateApiPrompt(doc, '{"to":"USD"}', [{ arguments: '{"to": "JPY"}', response: '{"error": "", "response": "{\\"rate\\": 162.5}"}' }]));
    expect(model.prompts[0]).toContain("API: rate");
    expect(model.prompts[0]).toContain("Tool: fx_tool");
    expect(JSON.parse(readFileSync(join(dir, "fx_tool", "rate.json"), "utf8"))).toEqual({ '{"to":"USD"}': answer });

    const silent = new ScriptedModel([], "simulator-2");
    const [again] = toolbenchReplayTools(dialogs, "fx.json", { miss: { kind: "simulate", model: silent, cacheDir: dir } });
    // Same arguments in another key order: the canonical key hits the cache.
    expect(await again!.run({ to: "USD" }, { signal })).toBe(answer);
    expect(silent.prompts).toHaveLength(0);
  });

  it("three unusable replies give StableToolBench's failure answer, which is not cached", async () => {
    const model = new ScriptedModel(["no", '{"response": "x"}', "[1]"], "simulator");
    const [tool] = toolbenchReplayTools(dialogs, "fx.json", { miss: { kind: "simulate", model, cacheDir: dir } });
    expect(await tool!.run({ to: "EUR" }, { signal })).toBe(SIMULATION_FAILED);
    expect(SIMULATION_FAILED).toBe('{"error":"Failed to generate fake response","response":""}');
    expect(model.prompts).toHaveLength(3);
    const next = new ScriptedModel(['{"error": "", "response": "ok"}'], "simulator");
    const [retry] = toolbenchReplayTools(dialogs, "fx.json", { miss: { kind: "simulate", model: next, cacheDir: dir } });
    expect(await retry!.run({ to: "EUR" }, { signal })).toBe('{"error":"","response":"ok"}');
  });

  it("the error policy (default) keeps today's behaviour", async () => {
    const [tool] = toolbenchReplayTools(dialogs, "fx.json");
    await expect(Promise.resolve(tool!.run({ to: "USD" }, { signal }))).rejects.toThrow('no recorded response in fx.json for rate_for_fx_tool with arguments {"to":"USD"}');
  });

  it("run's tool sources take the miss policy: a toolbench: source simulates what it has no answer for", async () => {
    const file = join(dir, "fx.json");
    writeFileSync(file, JSON.stringify(dialogs));
    const model = new ScriptedModel(['{"error": "", "response": "{\\"rate\\": 1.08}"}'], "simulator");
    const { tools, close } = await loadToolSources([`toolbench:${file}`], { miss: { kind: "simulate", model, cacheDir: dir } });
    expect(await tools[0]!.run({ to: "USD" }, { signal })).toBe(JSON.stringify({ error: "", response: '{"rate": 1.08}' }));
    await close();
    const { tools: strict } = await loadToolSources([`toolbench:${file}`]);
    await expect(strict[0]!.run({ to: "GBP" }, { signal })).rejects.toThrow(/no recorded response in .*fx\.json for rate_for_fx_tool/);
  });

  it("run --miss with an unknown policy is one clear line", async () => {
    const r = await cliInProcess(["run", "q", "--tools", "demo", "--miss", "guess"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('alpha-umi: --miss: expected error or simulate:SPEC, got "guess"');
  });
});
