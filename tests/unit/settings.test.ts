import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { getConfigTypeSchema } from "@langchain/langgraph/zod/schema";
import { runAgent } from "../../src/runAgent.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { cliInProcess } from "../helpers/inProcessCli.js";
import { ensureConfiguration } from "../../src/configurable.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../../src/graph.js";
import { TEMPLATES } from "../../src/protocol/index.js";
import { createSearchGraph } from "../../src/search/graph.js";
import { defaultModel, SettingsSchema } from "../../src/settings.js";

type Props = Record<string, { type?: string; default?: unknown; enum?: string[]; description?: string }>;
/** The config schema as langgraph-api derives the assistant's `config_schema` from a zod configuration schema. */
const propsOf = (graph: unknown): Props => (getConfigTypeSchema(graph as never) as { properties: Props }).properties;

describe("one settings schema", () => {
  it.each([
    ["alphaUmi", () => createAlphaUmiGraph()],
    ["singleLlm", () => createSingleLlmGraph()],
    ["dfsdt", () => createSearchGraph()],
  ])("%s: the configuration schema lists every setting with its default, choices and description", (_id, make) => {
    const props = propsOf(make());
    expect(Object.keys(props)).toEqual(expect.arrayContaining(Object.keys(SettingsSchema.shape)));
    expect(props.templates).toMatchObject({ type: "string", default: "toolbench", enum: [...TEMPLATES] });
    expect(props.templates!.description).toMatch(/math/);
    expect(props.contextPolicy).toMatchObject({ type: "string", enum: ["elide", "reference", "none"] });
    expect(props.maxSteps).toMatchObject({ type: "integer", default: 12 });
    expect(props.toolTimeoutMs).toMatchObject({ default: 30000 });
    expect(props.maxObservationChars).toMatchObject({ default: 4096 });
    expect(props.approve).toMatchObject({ type: "string", default: "none" });
    expect(props.plannerModel).toMatchObject({ type: "string" });
    expect(props.plannerModel!.description).toMatch(/llama:.*replay:/);
    expect(props.plannerModel!.description).toMatch(/openai:/);
    for (const [key, p] of Object.entries(props)) expect([key, p.description?.length ?? 0]).not.toEqual([key, 0]);
  });

  it("the search graph adds its own settings with ToolBench's defaults", () => {
    expect(propsOf(createSearchGraph())).toMatchObject({ beam: { default: 2 }, chainSteps: { default: 4 }, maxQueries: { default: 200 }, hideDiversity: { type: "boolean", default: false } });
  });

  it("ensureConfiguration takes the schema's defaults, and the default model is the demo's replay cassette", () => {
    const cfg = ensureConfiguration({ configurable: {} });
    expect(cfg).toMatchObject({ maxSteps: 12, toolTimeoutMs: 30000, maxObservationChars: 4096, modelTimeoutMs: 600000, approve: "none" });
    expect(cfg.templates).toEqual({ planner: "toolbench", caller: "toolbench", summarizer: "toolbench", backbone: "toolbench" });
    expect(cfg.models.planner).toBe(defaultModel());
    expect(defaultModel()).toMatch(/^replay:.*tools\/demo\/cassette\.jsonl$/);
  });

  it("a bad value is one line naming its key", () => {
    expect(() => ensureConfiguration({ configurable: { maxSteps: -3 } })).toThrow(/^configuration maxSteps: expected a positive integer, got -3$/);
    expect(() => ensureConfiguration({ configurable: { templates: "xml" } })).toThrow(/^configuration templates: unknown templates "xml" \(toolbench, toolalpaca, math, instruct\)$/);
    expect(() => ensureConfiguration({ configurable: { callerTemplates: "xml" } })).toThrow(/^configuration callerTemplates: unknown templates "xml"/);
  });

  it("LangGraph does not refuse a bad value before the run reads it (the run fails with the one line)", async () => {
    await expect(createAlphaUmiGraph().invoke({ instruction: "q" }, { configurable: { thread_id: "bad", maxSteps: 0 } })).rejects.toThrow(/^configuration maxSteps: expected a positive integer, got 0$/);
  });

  it("one default role model for the library and the CLI: runAgent and `alpha-umi run` with no model answer the demo question offline", async () => {
    const lib = await runAgent({ instruction: DEMO_INSTRUCTION, tools: demoTools(), models: {}, checkpointer: new MemorySaver() });
    expect(lib.state.status).toEqual({ status: "finished" });
    const dir = mkdtempSync(join(tmpdir(), "settings-"));
    try {
      const cli = await cliInProcess(["run", DEMO_INSTRUCTION, "--tools", "demo", "--checkpoints", join(dir, "c.sqlite")]);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(lib.state.answer!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
