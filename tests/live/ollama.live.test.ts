/**
 * Runs the demo task against a real Ollama (`OLLAMA_HOST=… npm run test:live`). Models: ALPHA_UMI_PREFIX-{role}
 * (default alpha-umi-*, see `alpha-umi models create`), or one off-the-shelf model for all roles with
 * ALPHA_UMI_INSTRUCT_MODEL=qwen2.5 (instruct pack).
 */
import { createAlphaUmiGraph } from "../../src/graph.js";
import { checkModels } from "../../src/models/modelfiles.js";
import { ollamaHost, OllamaRawModel } from "../../src/models/ollama.js";
import { parseCaller } from "../../src/protocol/index.js";
import type { AgentStateType } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";

const live = Boolean(process.env.OLLAMA_HOST);
const instructModel = process.env.ALPHA_UMI_INSTRUCT_MODEL;
const prefix = process.env.ALPHA_UMI_PREFIX ?? "alpha-umi";
const ROLES = ["planner", "caller", "summarizer"] as const;

(live ? describe : describe.skip)(live ? `live Ollama at ${process.env.OLLAMA_HOST}` : "live Ollama: skipped because OLLAMA_HOST is not set", () => {
  const host = ollamaHost();
  const name = (role: string) => instructModel ?? `${prefix}-${role}`;
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
