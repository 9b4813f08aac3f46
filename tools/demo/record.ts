/** Regenerates tools/demo/cassette.jsonl from script.ts through the real graphs: `npm run demo:record`. */
import { rmSync } from "node:fs";
import { demoCassettePath } from "../../src/configurable.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../../src/graph.js";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RecordingModel } from "../../src/models/replay.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { demoTools } from "./index.js";
import { DEMO_SCRIPT } from "./script.js";

const path = demoCassettePath();
rmSync(path, { force: true });
const writer = new CassetteWriter(path);
const rec = (role: "planner" | "caller" | "summarizer" | "backbone") => new RecordingModel(new ScriptedModel(DEMO_SCRIPT[role], role), role, writer);

const multi = await createAlphaUmiGraph({ tools: demoTools(), models: { planner: rec("planner"), caller: rec("caller"), summarizer: rec("summarizer") } }).invoke(
  { instruction: DEMO_SCRIPT.instruction },
  { configurable: { thread_id: "record" } },
);
const single = await createSingleLlmGraph({ tools: demoTools(), models: { backbone: rec("backbone") } }).invoke(
  { instruction: DEMO_SCRIPT.instruction },
  { configurable: { thread_id: "record" } },
);
for (const [name, s] of [["alphaUmi", multi], ["singleLlm", single]] as const) {
  if (s.status.status !== "finished") throw new Error(`${name} demo did not finish: ${JSON.stringify(s.status)}`);
}
console.log(`wrote ${path}`);
