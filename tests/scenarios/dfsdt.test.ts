import { MemorySaver } from "@langchain/langgraph";
import { z } from "zod";
import { ScriptedModel, scriptedRoles, type ScriptStep } from "../../src/models/scripted.js";
import { renderDiversityTurn } from "../../src/protocol/diversity.js";
import { searchAgent, type SearchRunEvent, type SearchRunOptions } from "../../src/search/index.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { call, plan } from "../helpers/scenario.js";

/** Two tools that answer from their arguments and count their runs. */
function countingTools() {
  const runs: string[] = [];
  const tool = (name: string): ToolSpec => ({
    doc: { Name: name, function: `${name} of a city`, input: { city: "string, the city" } },
    run: (args) => {
      runs.push(`${name}(${String(args.city)})`);
      return { city: args.city, value: `${name}:${String(args.city)}` };
    },
  });
  return { tools: [tool("weather_for_meteo"), tool("time_for_clock")], runs };
}

async function search(script: { planner?: ScriptStep[]; caller?: ScriptStep[]; summarizer?: ScriptStep[] }, opts: Partial<SearchRunOptions> = {}) {
  const models = scriptedRoles(script);
  const { tools, runs } = countingTools();
  const events: SearchRunEvent[] = [];
  const result = await searchAgent(
    { instruction: "Weather in Lisbon?", tools, models, checkpointer: new MemorySaver(), threadId: "s", ...opts },
    (e) => events.push(e),
  );
  return { ...result, models, runs, events };
}

const kinds = (tree: { kind: string }[]) => tree.map((n) => n.kind);

describe("DFSDT over checkpoints", () => {
  it("the first branch gives up, the grandparent tries another action with the diversity turn, and the second branch answers", async () => {
    const r = await search({
      planner: [plan("Try the weather.", "caller"), plan("That did not help.", "give up"), plan("Try the clock.", "caller"), plan("Done.", "conclusion")],
      caller: [call("weather_for_meteo", { city: "Lisbon" }), call("time_for_clock", { city: "Lisbon" })],
      summarizer: ["It is sunny."],
    });
    expect(kinds(r.search.tree)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(r.search.tree.map((n) => [n.parent, n.depth, n.branch])).toEqual([
      [null, 0, 1],
      [0, 1, 1],
      [1, 2, 1],
      [0, 1, 2],
      [3, 2, 2],
    ]);
    expect(r.search).toMatchObject({ answerNode: 4, finishType: "give_answer", answer: "It is sunny.", stop: "answer", queries: 4, modelCalls: 7 });
    expect(r.runs).toEqual(["weather_for_meteo(Lisbon)", "time_for_clock(Lisbon)"]);
    // The root's second child was asked for with the diversity turn listing the first child (no former observation at the root).
    const diversity = renderDiversityTurn([{ name: "weather_for_meteo", arguments: '{"city":"Lisbon"}', functionOutput: r.search.tree[1]!.observation! }], "");
    expect(r.models.planner.prompts[2]).toContain(`user: ${diversity}</s>`);
    expect(r.models.planner.prompts[1]).not.toContain("This is not the first time");
    // The fork keeps the diversity turn in the branch's τ (α-UMi's fork); the answering state is that branch.
    expect(r.state.turns.map((t) => t.from)).toEqual(["user", "user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(r.state.turns[1]!.value).toBe(diversity);
    expect(r.models.summarizer.prompts[0]).toContain("This is not the first time");
    // The tree streamed as it grew, and the diversity turn was streamed as such.
    expect(r.events.filter((e) => e.kind === "search").map((e) => (e.kind === "search" ? e.node.index : -1))).toEqual([0, 1, 2, 3, 4]);
    expect(r.events.some((e) => e.kind === "turn" && e.node === "diversity")).toBe(true);
  });

  it("hideDiversity: the step sees the diversity turn, later calls and the branch's τ do not (ToolBench's behaviour)", async () => {
    const r = await search(
      {
        planner: [plan("Try the weather.", "caller"), plan("No.", "give up"), plan("Try the clock.", "caller"), plan("Done.", "conclusion")],
        caller: [call("weather_for_meteo", { city: "Lisbon" }), call("time_for_clock", { city: "Lisbon" })],
        summarizer: ["It is sunny."],
      },
      { hideDiversity: true },
    );
    expect(r.search.answer).toBe("It is sunny.");
    expect(r.models.planner.prompts[2]).toContain("This is not the first time");
    expect(r.models.caller.prompts[1]).toContain("This is not the first time");
    expect(r.models.planner.prompts[3]).not.toContain("This is not the first time");
    expect(r.state.turns.map((t) => t.from)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(r.runs).toHaveLength(2);
  });

  it("depth limit: a chain is cut after chainSteps planner steps and the search goes back one level", async () => {
    const step = (i: number) => plan(`Step ${i}.`, "caller");
    const r = await search(
      {
        planner: [step(1), step(2)],
        caller: [call("weather_for_meteo", { city: "A" }), call("weather_for_meteo", { city: "B" })],
      },
      { beam: 1, chainSteps: 2 },
    );
    expect(kinds(r.search.tree)).toEqual(["root", "step", "step"]);
    expect(r.search.tree[2]).toMatchObject({ depth: 2, pruned: true });
    expect(r.search).toMatchObject({ answerNode: null, finishType: "give_up", answer: null, stop: "exhausted", queries: 2 });
    expect(r.models.planner.remaining).toBe(0);
  });

  it("sibling exhaustion: every node tries `beam` children, with `again, your former observation` below the root", async () => {
    const planner = Array.from({ length: 6 }, (_, i) => plan(`Try ${i}.`, "caller"));
    const caller = Array.from({ length: 6 }, (_, i) => call("weather_for_meteo", { city: `C${i}` }));
    const r = await search({ planner, caller }, { beam: 2, chainSteps: 2 });
    expect(r.search.tree.map((n) => n.parent)).toEqual([null, 0, 1, 1, 0, 4, 4]);
    expect(r.search.tree.map((n) => n.diversity)).toEqual([false, false, false, true, true, false, true]);
    expect(r.search).toMatchObject({ stop: "exhausted", queries: 6, finishType: "give_up" });
    const n1 = r.search.tree[1]!;
    const n2 = r.search.tree[2]!;
    const expected = renderDiversityTurn([{ name: "weather_for_meteo", arguments: n2.actionInput!, functionOutput: n2.observation! }], n1.observation!);
    expect(expected).toContain(`again, your former observation: ${n1.observation}\n`);
    expect(r.models.planner.prompts[2]).toContain(`user: ${expected}</s>`);
    expect(r.runs).toHaveLength(6);
  });

  it("query budget: the search stops at maxQueries", async () => {
    const planner = Array.from({ length: 3 }, (_, i) => plan(`Try ${i}.`, "caller"));
    const caller = Array.from({ length: 3 }, (_, i) => call("weather_for_meteo", { city: `C${i}` }));
    const r = await search({ planner, caller }, { maxQueries: 3 });
    expect(r.search).toMatchObject({ stop: "max_queries", queries: 3, answerNode: null });
    expect(r.search.tree).toHaveLength(4);
  });

  it("a failed model call prunes one level, a tool error is only an observation, an empty plan is retried", async () => {
    const { tools } = countingTools();
    const failing: ToolSpec = { doc: { Name: "broken_for_x", function: "always fails", input: {} }, run: () => { throw new Error("boom"); } };
    const models = scriptedRoles({
      planner: [plan("Call broken.", "caller"), "", ".", plan("Answer now.", "conclusion"), new Error("server down"), plan("Fine.", "conclusion")],
      caller: [call("broken_for_x", {})],
      summarizer: [new Error("summarizer down"), "ok"],
    });
    const r = await searchAgent({ instruction: "Q", tools: [...tools, failing], models, checkpointer: new MemorySaver(), threadId: "f" });
    // root → n1 (tool error observation: the chain goes on) → n2 (summarizer failed: pruned, sibling) → n3 (planner failed) ;
    // n1 spent → root's second child answers.
    expect(kinds(r.search.tree)).toEqual(["root", "step", "failed", "failed", "answer"]);
    expect(r.search.tree[1]!.observation).toContain("boom");
    expect(r.search.tree.map((n) => n.parent)).toEqual([null, 0, 1, 1, 0]);
    // n1's first child made no call, so its second is asked for without a diversity turn (as ToolBench does).
    expect(r.search.tree.map((n) => n.diversity)).toEqual([false, false, false, false, true]);
    expect(models.planner.prompts[4]).not.toContain("This is not the first time");
    expect(r.search.answer).toBe("ok");
    expect(models.planner.prompts).toHaveLength(6);
  });

  it("searches with the single-LLM backbone too (one model writes plan and call)", async () => {
    const { tools, runs } = countingTools();
    const backbone = new ScriptedModel(
      [
        'Weather first.\nAction: weather_for_meteo\nAction Input: {"city": "Oslo"}',
        "Hopeless.\nconclusion: give up.",
        'Clock instead.\nAction: time_for_clock\nAction Input: {"city": "Oslo"}',
        "Got it.\nconclusion: It is noon.",
      ],
      "backbone",
    );
    const r = await searchAgent({ instruction: "Time in Oslo?", tools, models: { backbone }, singleLlm: true, checkpointer: new MemorySaver(), threadId: "b" });
    expect(kinds(r.search.tree)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(r.search).toMatchObject({ answer: "It is noon.", queries: 4, modelCalls: 4 });
    expect(backbone.prompts[2]).toContain("This is not the first time");
    expect(runs).toEqual(["weather_for_meteo(Oslo)", "time_for_clock(Oslo)"]);
  });
});

describe("DFSDT under approval", () => {
  // The first test's search: the weather branch gives up, the clock branch answers.
  const script = () => ({
    planner: [plan("Try the weather.", "caller"), plan("That did not help.", "give up"), plan("Try the clock.", "caller"), plan("Done.", "conclusion")],
    caller: [call("weather_for_meteo", { city: "Lisbon" }), call("time_for_clock", { city: "Lisbon" })],
    summarizer: ["It is sunny."],
  });

  it("each call waits for approval, asked like a run; approved, the search builds the same tree, each call run once", async () => {
    const asked: unknown[] = [];
    const r = await search(script(), { approve: "all", ask: async (q) => (asked.push(q), { action: "approve" }) });
    expect(kinds(r.search.tree)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(r.search).toMatchObject({ answer: "It is sunny.", stop: "answer", finishType: "give_answer" });
    expect(asked).toEqual([
      expect.objectContaining({ action_requests: [expect.objectContaining({ name: "weather_for_meteo", args: { city: "Lisbon" } })] }),
      expect.objectContaining({ action_requests: [expect.objectContaining({ name: "time_for_clock", args: { city: "Lisbon" } })] }),
    ]);
    expect(r.runs).toEqual(["weather_for_meteo(Lisbon)", "time_for_clock(Lisbon)"]);
  });

  it("with no answer the search stops waiting; the same search resumed with answers goes on in the same tree", async () => {
    const models = scriptedRoles(script());
    const { tools, runs } = countingTools();
    const checkpointer = new MemorySaver();
    const opts = { tools, models, checkpointer, threadId: "w", approve: ["time_for_clock"] } as const;
    const first = await searchAgent({ ...opts, instruction: "Weather in Lisbon?" });
    // The weather call needs no approval and ran; the clock call waits.
    expect(first.search).toMatchObject({ stop: "waiting", finishType: null, answer: null });
    expect(first.search.waiting!.value).toMatchObject({ action_requests: [expect.objectContaining({ name: "time_for_clock", args: { city: "Lisbon" } })] });
    expect(kinds(first.search.tree)).toEqual(["root", "step", "give_up"]);
    expect(first.state.turns.at(-1)).toMatchObject({ from: "caller" });
    expect(runs).toEqual(["weather_for_meteo(Lisbon)"]);

    // Asked again, the question is the same one, at the same checkpoint; a caller that still has no answer leaves it waiting.
    const where: unknown[] = [];
    const again = await searchAgent({ ...opts, ask: async (_q, w) => void where.push(w) });
    expect(again.search.waiting).toEqual(first.search.waiting);
    expect(where).toEqual([{ interruptId: first.search.waiting!.interruptId, checkpointId: first.search.waiting!.checkpointId }]);

    const events: SearchRunEvent[] = [];
    const done = await searchAgent({ ...opts, ask: async () => ({ action: "approve" }) }, (e) => events.push(e));
    expect(kinds(done.search.tree)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(done.search).toMatchObject({ answer: "It is sunny.", stop: "answer" });
    expect(done.search.waiting).toBeUndefined();
    // Not restarted: the first branch came from the checkpoints, no model or tool ran for it again.
    expect(events.flatMap((e) => (e.kind === "search" ? [e.replayed] : []))).toEqual([true, true, true, false, false]);
    expect(runs).toEqual(["weather_for_meteo(Lisbon)", "time_for_clock(Lisbon)"]);
    expect([models.planner.remaining, models.caller.remaining, models.summarizer.remaining]).toEqual([0, 0, 0]);
  });

  it("a rejected call is not run: the reason is its observation, and the search goes on from it", async () => {
    const answers = [{ action: "reject", reason: "not the weather" }, { action: "approve" }];
    const r = await search(script(), { approve: "all", ask: async () => answers.shift() });
    expect(kinds(r.search.tree)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(r.search.tree[1]!.observation).toContain("The user rejected this call to weather_for_meteo: not the weather");
    expect(r.runs).toEqual(["time_for_clock(Lisbon)"]);
    expect(r.search.answer).toBe("It is sunny.");
  });

  it("an edit that does not fit the tool's schema is asked again (a new question); the edit that fits runs once", async () => {
    const { tools, runs } = countingTools();
    const typed = tools.map((t) => ({ ...t, schema: z.object({ city: z.string() }) }));
    const models = scriptedRoles({ planner: [plan("Try the weather.", "caller"), plan("Done.", "conclusion")], caller: [call("weather_for_meteo", { city: "Lisbon" })], summarizer: ["Sunny in Porto."] });
    const answers = [{ action: "edit", args: { city: 7 } }, { action: "edit", args: { city: "Porto" } }];
    const asked: Array<{ q: unknown; interruptId: string }> = [];
    const r = await searchAgent({ instruction: "Weather?", tools: typed, models, checkpointer: new MemorySaver(), threadId: "e", approve: "all", ask: async (q, w) => (asked.push({ q, interruptId: w.interruptId }), answers.shift()) });
    expect(asked).toHaveLength(2);
    expect(asked[1]!.q).toMatchObject({ action_requests: [expect.objectContaining({ description: expect.stringMatching(/^Not taken: edit: invalid arguments for weather_for_meteo: city/) })] });
    expect(asked[1]!.interruptId).not.toBe(asked[0]!.interruptId);
    expect(runs).toEqual(["weather_for_meteo(Porto)"]);
    expect(r.search.answer).toBe("Sunny in Porto.");
  });
});
