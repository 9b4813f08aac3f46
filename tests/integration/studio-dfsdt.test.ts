/**
 * DFSDT from LangGraph Studio: `langgraphjs dev` lists the `dfsdt` graph of langgraph.json with the search settings in
 * its configuration schema, and a run of it finishes with the default (replayed demo cassette) models over the demo
 * tools, its tree streamed as custom events; with `approve` in the run's configuration it stops on each call's approval
 * request and resumes with Command resume, as the α-UMi graph does.
 */
import { SearchConfigurationSchema, type SearchStateType } from "../../src/search/graph.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { startStudio, STUDIO_SCHEMA_MS, STUDIO_STARTUP_MS, type Studio } from "../helpers/studio.js";

let studio: Studio;
beforeAll(async () => {
  studio = await startStudio();
}, STUDIO_STARTUP_MS + 30_000);
afterAll(async () => {
  await studio?.stop();
}, 30_000);

describe("LangGraph Studio: the dfsdt search graph", () => {
  it("is listed with the search settings in its configuration schema", async () => {
    const [assistant] = await studio.client.assistants.search({ graphId: "dfsdt" });
    expect(assistant?.graph_id).toBe("dfsdt");
    const schemas = await studio.client.assistants.getSchemas(assistant!.assistant_id);
    const props = (schemas.config_schema as { properties?: Record<string, { type?: string; default?: unknown; enum?: string[] }> } | null)?.properties ?? {};
    expect(Object.keys(props).sort()).toEqual(Object.keys(SearchConfigurationSchema.shape).sort());
    // Studio's form shows each setting's default and choices.
    expect(props.beam).toMatchObject({ type: "integer", default: 2 });
    expect(props.hideDiversity).toMatchObject({ type: "boolean", default: false });
    expect(props.templates).toMatchObject({ default: "toolbench", enum: ["toolbench", "toolalpaca", "math", "instruct"] });
  }, STUDIO_SCHEMA_MS);

  it("a run finishes with an answer, its tree streamed node by node", async () => {
    const thread = await studio.client.threads.create();
    const custom: Array<{ kind: string }> = [];
    let values: Partial<SearchStateType> = {};
    for await (const chunk of studio.client.runs.stream(thread.thread_id, "dfsdt", { input: { instruction: DEMO_INSTRUCTION }, streamMode: ["custom", "values"] })) {
      expect(chunk.event).not.toBe("error");
      if (chunk.event === "custom") custom.push(chunk.data as { kind: string });
      if (chunk.event === "values") values = chunk.data as Partial<SearchStateType>;
    }
    expect(values.finishType).toBe("give_answer");
    expect(values.answer).toBe("The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.");
    expect(values.tree!.at(-1)!.kind).toBe("answer");
    expect(custom.map((e) => e.kind)).toEqual([...values.tree!.map(() => "search"), "search_end"]);
    expect((await studio.client.threads.get(thread.thread_id)).status).toBe("idle");
  }, 120_000);

  it("with approve in the run's configuration, each call is an interrupt of the run, and answering it goes on to the answer", async () => {
    const thread = await studio.client.threads.create();
    const tools: unknown[] = [];
    let values = (await studio.client.runs.wait(thread.thread_id, "dfsdt", { input: { instruction: DEMO_INSTRUCTION }, config: { configurable: { approve: "all" } } })) as Partial<SearchStateType>;
    for (let i = 0; i < 5 && (await studio.client.threads.get(thread.thread_id)).status === "interrupted"; i++) {
      const state = await studio.client.threads.getState(thread.thread_id);
      tools.push(...state.tasks.flatMap((t) => (t.interrupts ?? []).map((q) => (q.value as { action_requests: { name: string }[] }).action_requests[0]!.name)));
      values = (await studio.client.runs.wait(thread.thread_id, "dfsdt", { command: { resume: { action: "approve" } } })) as Partial<SearchStateType>;
    }
    expect(tools).toEqual(["country_facts_for_atlas", "exchange_rate_for_fx", "calculate_for_calculator"]);
    expect(values.finishType).toBe("give_answer");
    expect(values.tree!.map((n) => n.kind)).toEqual(["root", "step", "step", "step", "answer"]);
    expect((await studio.client.threads.get(thread.thread_id)).status).toBe("idle");
  }, 120_000);
});
