/**
 * LangGraph Studio integration: `langgraphjs dev` (from @langchain/langgraph-cli) serves the graphs of langgraph.json,
 * and a run completes through its HTTP API with the default (replayed demo cassette) models; streamed with
 * `streamSubgraphs` (as Studio streams), every mode Studio reads arrives and the thread ends idle.
 *
 * The server runs from a temporary copy of langgraph.json (graph paths made absolute) so that what the CLI writes
 * (`.langgraph_api/`, a `.gitignore` line) lands in the temp dir, never in the repo.
 */
import type { Client } from "@langchain/langgraph-sdk";
import { ConfigurationSchema } from "../../src/configurable.js";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../../src/graph.js";
import { parseCaller } from "../../src/protocol/index.js";
import type { Turn } from "../../src/state.js";
import { executeCall } from "../../src/tools/executor.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { DEMO_TURN_ROLES } from "../helpers/scenario.js";
import { startStudio, STUDIO_SCHEMA_MS, STUDIO_STARTUP_MS, type Studio } from "../helpers/studio.js";

/** What the issue asks Studio to configure: role model specs, the templates variant and the step budget. */
const REQUIRED_KEYS = ["plannerModel", "callerModel", "summarizerModel", "backboneModel", "templates", "maxSteps"];

let studio: Studio;
let client: Client;

beforeAll(async () => {
  // langgraph-api gives schema extraction (a type-check of the project) 30 s, then answers 500; on a loaded 2-core
  // machine it takes longer. The schemas are what is tested here, not how fast they come.
  studio = await startStudio({ LANGGRAPH_SCHEMA_RESOLVE_TIMEOUT_MS: String(STUDIO_SCHEMA_MS) });
  client = studio.client;
}, STUDIO_STARTUP_MS + 30_000);

afterAll(async () => studio?.stop(), 30_000);

/** Each observation must be what the real demo tool returns for the call just before it. */
async function expectRealObservations(turns: Turn[]): Promise<void> {
  const tools = demoTools();
  for (let i = 0; i < turns.length; i++) {
    if (turns[i]!.from !== "observation") continue;
    expect(turns[i - 1]!.from).toBe("caller");
    const { action, actionInput } = parseCaller(turns[i - 1]!.value);
    const real = await executeCall(tools, action, actionInput, { timeoutMs: 5_000, maxObservationChars: 4096 });
    expect(real.ok).toBe(true);
    expect(turns[i]!.value).toBe(real.observation);
  }
}

interface RunValues {
  turns: Turn[];
  status: { status: string; reason?: string };
  answer: string | null;
  messages: Array<{ type: string }>;
}

async function runOnServer(graphId: string): Promise<{ values: RunValues; stored: RunValues }> {
  const thread = await client.threads.create();
  const values = (await client.runs.wait(thread.thread_id, graphId, { input: { instruction: DEMO_INSTRUCTION } })) as unknown as RunValues;
  const stored = (await client.threads.getState(thread.thread_id)).values as unknown as RunValues;
  return { values, stored };
}

describe("LangGraph Studio: langgraphjs dev serves both graphs over HTTP", () => {
  it.each(["alphaUmi", "singleLlm"])("%s: the assistant's config schema exposes the configurable keys", async (graphId) => {
    const [assistant] = await client.assistants.search({ graphId });
    expect(assistant?.graph_id).toBe(graphId);
    const schemas = await client.assistants.getSchemas(assistant!.assistant_id);
    const props = (schemas.config_schema as { properties?: Record<string, { type?: string; default?: unknown; enum?: string[] }> } | null)?.properties ?? {};
    // Studio shows exactly the configuration schema's keys, the required ones among them.
    expect(Object.keys(props).sort()).toEqual(Object.keys(ConfigurationSchema.shape).sort());
    expect(Object.keys(props)).toEqual(expect.arrayContaining(REQUIRED_KEYS));
    expect(props.plannerModel!.type).toBe("string");
    // With their defaults and choices, as Studio's form shows them.
    expect(props.maxSteps).toMatchObject({ type: "integer", default: 12 });
    expect(props.templates).toMatchObject({ type: "string", default: "toolbench", enum: ["toolbench", "toolalpaca", "math", "instruct"] });
    expect(props.contextPolicy).toMatchObject({ enum: ["elide", "reference", "none"] });
  }, STUDIO_SCHEMA_MS);

  it("alphaUmi completes the demo instruction with the default replay models and the real demo tools", async () => {
    const { values, stored } = await runOnServer("alphaUmi");
    expect(values.status).toEqual({ status: "finished" });
    expect(values.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    expect(values.answer).toBe("The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen.");
    await expectRealObservations(values.turns);
    expect(JSON.parse(values.turns[3]!.value)).toMatchObject({ capital: "Tokyo" });
    expect(JSON.parse(values.turns[9]!.value)).toMatchObject({ result: 40625 });
    // The same τ as the graph gives in-process, and the server's checkpoint holds it.
    const local = await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "local" } });
    expect(values.turns).toEqual(local.turns);
    expect(stored.turns).toEqual(values.turns);
    expect(values.messages.map((m) => m.type)).toEqual(["human", ...Array.from({ length: 3 }, () => ["ai", "tool"]).flat(), "ai", "ai"]);
  });

  it("singleLlm completes the demo instruction with the default replay model and the real demo tools", async () => {
    const { values, stored } = await runOnServer("singleLlm");
    expect(values.status).toEqual({ status: "finished" });
    expect(values.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    expect(values.answer).toBe("The capital of Japan is Tokyo, and 250 euros buy 40,625 Japanese yen at the bundled rate.");
    await expectRealObservations(values.turns);
    const local = await createSingleLlmGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "local" } });
    expect(values.turns).toEqual(local.turns);
    expect(stored.turns).toEqual(values.turns);
  });

  it.each(["alphaUmi", "singleLlm"])("%s streams a run with streamSubgraphs: values, updates, messages and custom events, no error, the thread idle after", async (graphId) => {
    const thread = await client.threads.create();
    const chunks: Array<{ event: string; data: unknown }> = [];
    for await (const chunk of client.runs.stream(thread.thread_id, graphId, {
      input: { instruction: DEMO_INSTRUCTION },
      streamMode: ["values", "updates", "messages", "custom"],
      streamSubgraphs: true,
    }))
      chunks.push(chunk);
    expect(chunks.filter((c) => c.event === "error")).toEqual([]);
    const events = new Set(chunks.map((c) => c.event));
    for (const event of ["values", "updates", "messages/complete", "custom"]) expect(events).toContain(event);
    const last = chunks.filter((c) => c.event === "values").at(-1)!.data as RunValues;
    expect(last.status).toEqual({ status: "finished" });
    expect(last.turns.map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
    const after = await client.threads.get(thread.thread_id);
    expect(after.status).toBe("idle");
    expect((after.values as unknown as RunValues).turns).toEqual(last.turns);
  });
});
