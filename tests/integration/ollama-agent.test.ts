import { createAlphaUmiGraph } from "../../src/graph.js";
import { OllamaRawModel } from "../../src/models/ollama.js";
import { parseCaller } from "../../src/protocol/index.js";
import { instructPrompt } from "../../src/protocol/instruct.js";
import { plannerPrompt, summarizerPrompt } from "../../src/protocol/render.js";
import type { AgentStateType } from "../../src/state.js";
import { demoTools } from "../../tools/demo/index.js";
import { startFakeOllama, type GenerateCall } from "../helpers/fakeOllama.js";
import { prng as rng } from "../../src/prng.js";


/** A server that writes only schema-valid JSON, choosing randomly among the schema's alternatives and enums. */
function schemaValidReplies(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return ({ format }: GenerateCall): string => {
    const f = format as { anyOf?: { properties: { action: { enum: string[] } } }[]; properties?: { next?: { enum: string[] } } } | undefined;
    if (f?.anyOf) return JSON.stringify({ action: pick(f.anyOf).properties.action.enum[0], action_input: {} });
    if (f?.properties?.next) return JSON.stringify({ thought: "Let me think about the next step.", next: pick(f.properties.next.enum) });
    return "Here is what I found.";
  };
}

test("instruct pack through the graph: schema-constrained replies never yield a hallucinated tool name", async () => {
  const fake = await startFakeOllama({ models: { "qwen2.5": {} }, respond: schemaValidReplies(rng(42)) });
  try {
    const model = (role: "planner" | "caller" | "summarizer") =>
      new OllamaRawModel({ model: "qwen2.5", host: fake.url, role, numCtx: 8192 });
    const graph = createAlphaUmiGraph({ tools: demoTools(), models: { planner: model("planner"), caller: model("caller"), summarizer: model("summarizer") }, templates: "instruct", maxSteps: 6 });
    const names = new Set(demoTools().map((t) => t.doc.Name));
    let calls = 0;
    for (let run = 0; run < 8; run++) {
      const before = fake.generations().length;
      const state = (await graph.invoke({ instruction: "What is the capital of Japan?" }, { configurable: { thread_id: `r${run}` } })) as AgentStateType;
      for (const t of state.turns.filter((t) => t.from === "caller")) {
        calls++;
        expect(names.has(parseCaller(t.value).action)).toBe(true);
      }
      // τ stays in training format, and every prompt sent is the instruct rendering of τ at that point.
      for (const t of state.turns.filter((t) => t.from === "assistant")) expect(t.value).toMatch(/\n Next: (caller|conclusion|give up)\.$/);
      const sent = fake.generations().slice(before);
      const planIdx = state.turns.flatMap((t, i) => (t.from === "assistant" ? [i] : []));
      const plannerSent = sent.filter((b) => (b.format as { properties?: object } | undefined)?.properties);
      expect(plannerSent.map((b) => b.prompt)).toEqual(planIdx.map((i) => instructPrompt("planner", { tools: state.tools, history: state.turns.slice(0, i) })));
      expect(sent.every((b) => b.raw === false)).toBe(true);
    }
    expect(calls).toBeGreaterThan(0);
  } finally {
    await fake.close();
  }
});

test("α-UMi pack through the graph: the raw prompts sent are the protocol renderings of τ", async () => {
  const replies = ["I know the answer.\n Next: conclusion.", "Tokyo."];
  const fake = await startFakeOllama({ models: { p: {}, s: {} }, respond: () => replies.shift()! });
  try {
    const graph = createAlphaUmiGraph({
      tools: demoTools(),
      models: { planner: `ollama:p@${fake.url}`, caller: `ollama:c@${fake.url}`, summarizer: `ollama:s@${fake.url}` },
    });
    const state = (await graph.invoke({ instruction: "What is the capital of Japan?" }, { configurable: { thread_id: "a" } })) as AgentStateType;
    expect(state.answer).toBe("Tokyo.");
    const [p, s] = fake.generations();
    expect(p!.prompt).toBe(plannerPrompt({ tools: state.tools, history: state.turns.slice(0, 1) }));
    expect(s!.prompt).toBe(summarizerPrompt({ tools: state.tools, history: state.turns.slice(0, 2) }));
    expect([p!.raw, s!.raw, p!.format, (p!.options as { stop: string[] }).stop]).toEqual([true, true, undefined, ["</s>"]]);
  } finally {
    await fake.close();
  }
});
