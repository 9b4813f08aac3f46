import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { episodeMetrics, episodesReport } from "../../src/eval/episodeMetrics.js";
import { evalEpisodes } from "../../src/eval/episodes.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import type { ToolBenchDialog } from "../../src/toolbenchDialogs.js";
import { toolbenchReplayTools } from "../../src/tools/toolbenchReplay.js";

// A synthetic test set of our own: one tool, called twice with the same arguments and two different observations.
const dialog: ToolBenchDialog = {
  tools: [{ Name: "weather_for_demo", function: "Current weather of a city.", input: { city: "string" } }],
  instruction: "What is the weather in Paris?",
  conversations: [
    { from: "user", value: "What is the weather in Paris?" },
    { from: "assistant", value: "Ask the weather service. Next: caller." },
    { from: "caller", value: 'Action: weather_for_demo\nAction Input: {"city": "Paris"}' },
    { from: "observation", value: "timeout" },
    { from: "assistant", value: "Try again. Next: caller." },
    { from: "caller", value: 'Action: weather_for_demo\nAction Input: {"city":"Paris"}' },
    { from: "observation", value: "{'temp': 21}" },
    { from: "assistant", value: "I have it. Next: conclusion." },
    { from: "conclusion", value: "It is 21 degrees in Paris." },
  ],
};

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "eval-episodes-unit-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("replay tools answer a repeated call in recorded order with inOrder, always the first recording otherwise", async () => {
  const [ordered] = toolbenchReplayTools([dialog], "synthetic", { inOrder: true });
  const [first] = toolbenchReplayTools([dialog], "synthetic");
  const args = { city: "Paris" };
  const ctx = { signal: new AbortController().signal };
  expect([await ordered!.run(args, ctx), await ordered!.run(args, ctx), await ordered!.run(args, ctx)]).toEqual(["timeout", "{'temp': 21}", "{'temp': 21}"]);
  expect([await first!.run(args, ctx), await first!.run(args, ctx)]).toEqual(["timeout", "timeout"]);
});

test("a single-LLM episode runs the backbone on the dialog's replayed tools and counts only backbone usage", async () => {
  const data = join(dir, "test.json");
  writeFileSync(data, JSON.stringify([dialog]));
  const call = 'Ask the service.\nAction: weather_for_demo\nAction Input: {"city": "Paris"}';
  const backbone = new ScriptedModel([call, call, "Got it.\nconclusion: It is 21 degrees in Paris."], "backbone");
  const r = await evalEpisodes({ data, models: { backbone }, singleLlm: true, settings: { templates: "toolbench" }, concurrency: 1, out: join(dir, "single") });
  const row = r.rows[0]!;
  expect(row).toMatchObject({ status: "finished", reason: null, steps: 3, answer: "It is 21 degrees in Paris." });
  expect(row.turns.filter((t) => t.from === "observation").map((t) => t.value)).toEqual(["timeout", "{'temp': 21}"]);
  expect(Object.keys(row.roles)).toEqual(["backbone"]);
  expect(row.roles.backbone!.calls).toBe(3);
  expect(Object.keys(r.metrics.roles)).toEqual(["backbone"]);
  expect(r.metrics.mean_model_calls).toBe(3);
});

test("metrics over no episodes are zeros, not NaN, and the report still renders", () => {
  const m = episodeMetrics([], ["planner", "caller", "summarizer"]);
  expect(m).toMatchObject({ episodes: 0, finish_rate: 0, mean_steps: 0 });
  expect(m.roles.planner).toEqual({ calls: 0, calls_per_episode: 0, prompt_tokens: 0, completion_tokens: 0, prompt_tokens_per_call: 0, completion_tokens_per_call: 0, ms_per_call: 0 });
  expect(episodesReport(m)).toContain("0 episodes: 0.00 steps");
});

test("a test set with a bad record is refused with the file, record and field", async () => {
  const data = join(dir, "bad.json");
  writeFileSync(data, JSON.stringify([dialog, { ...dialog, conversations: [{ from: "robot", value: "x" }] }]));
  await expect(evalEpisodes({ data, models: { backbone: "replay:x" }, singleLlm: true, settings: { templates: "toolbench" }, concurrency: 1, out: join(dir, "bad") })).rejects.toThrow(
    /bad\.json: record 1, field conversations\.0\.from: /,
  );
});
