import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GraphInterrupt } from "@langchain/langgraph";
import { CassetteWriter } from "../../src/models/cassette.js";
import { RoleCodec } from "../../src/codec/index.js";
import { contextWindowOf } from "../../src/models/window.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { ensureConfiguration } from "../../src/configurable.js";
import { roleCodec, roleModel } from "../../src/runCache.js";
import { OllamaRawModel } from "../../src/models/ollama.js";
import { ScriptedModel, scriptedRoles } from "../../src/models/scripted.js";
import { countTokens } from "../../src/protocol/tokens.js";
import { renderToolDocs } from "../../src/protocol/index.js";
import { plannerPrompt } from "../../src/protocol/render.js";
import { elisionTurn } from "../../src/protocol/budget.js";
import { instructFormat } from "../../src/protocol/instruct.js";
import { ROLE_SUFFIX } from "../../src/protocol/templates.js";
import type { AgentStateType, ToolDoc, Turn } from "../../src/state.js";
import { DEMO_INSTRUCTION, demoTools } from "../../tools/demo/index.js";
import { call, plan } from "../helpers/scenario.js";

const tools: ToolDoc[] = demoTools().map((t) => t.doc);

/** A long τ: many steps with bulky observations. */
function longHistory(steps: number): Turn[] {
  const turns: Turn[] = [{ from: "user", value: DEMO_INSTRUCTION }];
  for (let i = 0; i < steps; i++)
    turns.push(
      { from: "assistant", value: plan(`Step ${i}: look it up.`, "caller") },
      { from: "caller", value: call("lookup_country_for_atlas", { country: `Country ${i}` }) },
      { from: "observation", value: `{"country": "Country ${i}", "notes": "${"a long observation with many words ".repeat(20)}"}` },
    );
  return turns;
}

describe("render", () => {
  test("an unbounded codec renders the full protocol prompt, raw, stopping at </s>", async () => {
    const history = longHistory(40);
    const r = await new RoleCodec("planner").render({ tools, turns: history });
    expect(r.prompt).toBe(plannerPrompt({ tools, history, doc: renderToolDocs(tools) }));
    expect(r.callOptions).toEqual({ stop: ["</s>"], raw: true });
    expect(r.elision).toBeUndefined();
  });

  test("elide keeps tool docs, instruction and the latest turns within the window", async () => {
    const history = longHistory(40);
    const codec = new RoleCodec("planner", { window: { numCtx: 2048, numPredict: 512 } });
    expect(codec.policy).toBe("elide");
    const r = await codec.render({ tools, turns: history });
    expect(r.elision).toMatchObject({ kind: "elision", role: "planner", policy: "elide", fits: true });
    expect(await countTokens(r.prompt)).toBeLessThanOrEqual(2048 - 512);
    expect(r.prompt).toContain(renderToolDocs(tools));
    expect(r.prompt).toContain(`user: ${DEMO_INSTRUCTION}</s>`);
    expect(r.prompt).toContain(elisionTurn(r.elision!.elided).value);
    expect(r.prompt).toContain("Step 39: look it up.");
  });

  test("reference cuts from the left to the last num_ctx − num_predict − 8 tokens: the tool docs and instruction go", async () => {
    const history = longHistory(40);
    const codec = new RoleCodec("planner", { window: { numCtx: 2048, numPredict: 512 }, policy: "reference" });
    const full = codec.prompt(tools, history);
    const r = await codec.render({ tools, turns: history });
    expect(r.elision).toMatchObject({ policy: "reference", budget: 2048 - 512 - 8 });
    expect(r.elision!.dropped).toBe((await countTokens(full)) - (2048 - 512 - 8));
    expect(full.endsWith(r.prompt.slice(-2000))).toBe(true);
    expect(r.prompt.endsWith(ROLE_SUFFIX.planner)).toBe(true);
    expect(r.prompt).not.toContain(DEMO_INSTRUCTION);
    expect(r.prompt).not.toContain("You have assess to the following apis");
    // The model re-adds its BOS: within one token of the budget at the cut.
    expect(Math.abs((await countTokens(r.prompt)) - 1 - (2048 - 512 - 8))).toBeLessThanOrEqual(1);
    // A short prompt is left alone.
    const short = await codec.render({ tools, turns: history.slice(0, 1) });
    expect(short.prompt).toBe(codec.prompt(tools, history.slice(0, 1)));
    expect(short.elision).toBeUndefined();
  });

  test("none sends the full prompt even to a bounded model", async () => {
    const history = longHistory(40);
    const codec = new RoleCodec("planner", { window: { numCtx: 2048, numPredict: 512 }, policy: "none" });
    expect((await codec.render({ tools, turns: history })).prompt).toBe(codec.prompt(tools, history));
  });

  test("instruct templates: chat prompt (raw false), the role's schema, and the JSON reply read back as α-UMi text", async () => {
    const turns: Turn[] = [{ from: "user", value: "Capital of Japan?" }, { from: "assistant", value: plan("Look it up.", "caller") }];
    const codec = new RoleCodec("caller", { templates: "instruct" });
    const r = await codec.render({ tools, turns });
    expect(r.callOptions).toEqual({ stop: ["</s>"], raw: false, format: instructFormat("caller", tools) });
    expect(r.prompt).not.toContain("</s>");
    expect(codec.read('{"action": "lookup_country_for_atlas", "action_input": {"country": "Japan"}}')).toMatchObject({
      decision: "caller",
      call: { action: "lookup_country_for_atlas" },
    });
  });
});

describe("read", () => {
  test("cuts at </s>, parses each role, and never throws on bad output", () => {
    expect(new RoleCodec("planner").read("Done.\n Next: conclusion.</s>junk")).toMatchObject({ decision: "conclusion", turns: [{ from: "assistant", value: "Done.\n Next: conclusion." }] });
    expect(new RoleCodec("planner").read("no marker")).toMatchObject({ decision: "caller" });
    expect(new RoleCodec("caller").read("garbage")).toMatchObject({ call: { action: "none", actionInput: "{}" } });
    expect(new RoleCodec("summarizer").read("")).toMatchObject({ answer: "none" });
    expect(new RoleCodec("backbone").read("Hmm.\nconclusion: give up.")).toMatchObject({ decision: "give up", turns: [{ from: "assistant" }] });
    // A planner marker in a backbone rationale must not contradict the decision it took.
    const odd = new RoleCodec("backbone").read('Done? Next: conclusion. No, look again.\nAction: f\nAction Input: {}');
    expect(odd.turns[0]).toEqual({ from: "assistant", value: "Done?  No, look again.\n Next: caller." });
  });
});

describe("the context window follows the model", () => {
  test("Ollama states num_ctx; scripted and replay models are unbounded unless numCtx bounds them", () => {
    expect(contextWindowOf(new OllamaRawModel({ model: "m", numCtx: 8192 }))).toEqual({ numCtx: 8192, numPredict: 512 });
    expect(contextWindowOf(new ScriptedModel([]))).toBeUndefined();
    const replay = ensureConfiguration({ configurable: {} });
    expect(roleCodec("planner", replay).policy).toBe("none");
    const bounded = ensureConfiguration({ configurable: { numCtx: 4096 } });
    expect(roleCodec("planner", bounded)).toMatchObject({ policy: "elide", window: { numCtx: 4096, numPredict: 512 } });
    expect(() => ensureConfiguration({ configurable: { contextPolicy: "squeeze" } })).toThrow(/contextPolicy: unknown policy "squeeze"/);
  });
});

describe("through the graph", () => {
  test("a LangChain model passed in directly honours per-role templates", async () => {
    const models = scriptedRoles({
      planner: [plan("Look it up.", "caller"), plan("Tokyo.", "conclusion")],
      caller: ['{"action": "lookup_country_for_atlas", "action_input": {"country": "Japan"}}'],
      summarizer: ["Tokyo."],
    });
    const graph = createAlphaUmiGraph({ tools: demoTools(), models, roleTemplates: { caller: "instruct" } });
    const state = (await graph.invoke({ instruction: "Capital of Japan?" }, { configurable: { thread_id: "t" } })) as AgentStateType;
    expect(state.status.status).toBe("finished");
    expect(models.caller.prompts[0]).not.toContain("</s>");
    expect(models.planner.prompts[0]).toContain("</s>");
    expect(state.turns[2]).toEqual({ from: "caller", value: 'Action: lookup_country_for_atlas\nAction Input: {\n  "country": "Japan"\n}' });
  });

  test("a model that never settles fails the run after modelTimeoutMs; the thread resumes", async () => {
    const never = () => new Promise<string>(() => undefined);
    const models = scriptedRoles({ planner: [never, plan("Nothing to do.", "conclusion")], summarizer: ["Done."] });
    const graph = createAlphaUmiGraph({ tools: demoTools(), models, modelTimeoutMs: 100 });
    const config = { configurable: { thread_id: "hang" } };
    const t0 = Date.now();
    const failed = (await graph.invoke({ instruction: "Hi" }, config)) as AgentStateType;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(failed.status).toEqual({ status: "failed", reason: "planner model failed: no reply within 0.1 s (modelTimeoutMs)" });
    const resumed = (await graph.invoke({ instruction: "Hi" }, config)) as AgentStateType;
    expect(resumed.status.status).toBe("finished");
  });

  test("an abort signal stops a run waiting on a model at once", async () => {
    const models = scriptedRoles({ planner: [() => new Promise<string>(() => undefined)] });
    const graph = createAlphaUmiGraph({ tools: demoTools(), models });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    await graph.invoke({ instruction: "Hi" }, { configurable: { thread_id: "abort" }, signal: ac.signal }).catch(() => undefined);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test("a LangGraph interrupt raised in a model call passes through (not a failed run)", async () => {
    const models = scriptedRoles({ planner: [new GraphInterrupt([{ value: "ask a person" }])] });
    const graph = createAlphaUmiGraph({ tools: demoTools(), models });
    const state = await graph.invoke({ instruction: "Hi" }, { configurable: { thread_id: "int" } });
    expect((state as Record<string, unknown>).__interrupt__).toBeDefined();
    expect((state as AgentStateType).status.status).toBe("running");
  });

  test("two threads replaying one cassette replay independently (no shared position)", async () => {
    // One prompt with two recorded outputs: each thread must get the first.
    const dir = mkdtempSync(join(tmpdir(), "codec-replay-"));
    try {
      const cassette = join(dir, "c.jsonl");
      const prompt = new RoleCodec("planner").prompt(tools, [{ from: "user", value: "Hi" }]);
      const writer = new CassetteWriter(cassette);
      writer.write("planner", prompt, plan("Cannot.", "give up"));
      writer.write("planner", prompt, plan("Done.", "conclusion"));
      const spec = "replay:" + cassette;
      const graph = createAlphaUmiGraph({ tools: demoTools(), models: { planner: spec, caller: spec, summarizer: spec } });
      const a = { configurable: { thread_id: "replay-a" } };
      const b = { configurable: { thread_id: "replay-b" } };
      const first = (await graph.invoke({ instruction: "Hi" }, a)) as AgentStateType;
      const second = (await graph.invoke({ instruction: "Hi" }, b)) as AgentStateType;
      expect(first.status.status).toBe("gave_up");
      expect(second.turns).toEqual(first.turns);
      expect(roleModel("planner", ensureConfiguration({ ...a, configurable: { ...a.configurable, plannerModel: spec } }))).not.toBe(
        roleModel("planner", ensureConfiguration({ ...b, configurable: { ...b.configurable, plannerModel: spec } })),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
