/**
 * Runs the demo task against a real Ollama (`npm run test:live`, at OLLAMA_HOST or Ollama's default address). Models:
 * ALPHA_UMI_PREFIX-{role} (default alpha-umi-*, see `alpha-umi models create`), or one off-the-shelf model for all
 * roles with ALPHA_UMI_INSTRUCT_MODEL=qwen2.5 (instruct pack). Without an Ollama or the models, the suite is skipped
 * and one line says which is missing and how to get it.
 */
import { createAlphaUmiGraph } from "../../src/graph.js";
import { checkModels } from "../../src/models/modelfiles.js";
import { ollamaHost, OllamaRawModel } from "../../src/models/ollama.js";
import { parseCaller } from "../../src/protocol/index.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { liveSkipReason } from "../helpers/live.js";

const instructModel = process.env.ALPHA_UMI_INSTRUCT_MODEL;
const prefix = process.env.ALPHA_UMI_PREFIX ?? "alpha-umi";
const ROLES = ["planner", "caller", "summarizer"] as const;
const host = ollamaHost();
const name = (role: string) => instructModel ?? `${prefix}-${role}`;
const skipped = await liveSkipReason({ host, models: [...new Set(ROLES.map(name))], instruct: Boolean(instructModel) });
// Jest lists a skipped suite without its title unless --verbose: the reason goes to stderr, once.
if (skipped) process.stderr.write(`${skipped}\n`);

(skipped ? describe.skip : describe)(skipped ?? `live Ollama at ${host}`, () => {
  const templates = instructModel ? ("instruct" as const) : ("toolbench" as const);

  test("the role models are set up", async () => {
    expect(await checkModels(ROLES.map((role) => ({ role, model: name(role), host, templates })))).toEqual([]);
  });

  test("the demo task runs to an end with only real tool names", async () => {
    const models = Object.fromEntries(ROLES.map((role) => [role, new OllamaRawModel({ model: name(role), role, temperature: 0 })]));
    const graph = createAlphaUmiGraph({ tools: demoTools(), models, templates, maxSteps: 8 });
    const state = (await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "live" } })) as AgentStateType;
    console.log(state.turns.map((t) => `[${t.from}] ${t.value}`).join("\n"));
    expect(["finished", "gave_up"]).toContain(state.status.status);
    if (templates === "instruct") {
      const names = new Set(demoTools().map((t) => t.doc.Name));
      for (const t of state.turns.filter((t) => t.from === "caller")) expect(names.has(parseCaller(t.value).action)).toBe(true);
    }
  }, 600_000);
});
