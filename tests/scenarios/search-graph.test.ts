import { Command, MemorySaver } from "@langchain/langgraph";
import { pendingInterrupt } from "../../src/approval.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { createSearchGraph, type SearchStateType } from "../../src/search/graph.js";
import { searchAgent, type SearchNode } from "../../src/search/index.js";
import type { ToolSpec } from "../../src/tools/spec.js";

/** Role models that decide from the history they are shown: the weather branch gives up, the clock branch answers. */
function roles() {
  const decide = (role: string) => (prompt: string) => {
    const history = prompt.split("The conversation history is:")[1] ?? prompt;
    if (role === "planner") {
      if (history.includes("CLOCK-OK")) return "I have the time.\n Next: conclusion.";
      if (history.includes("This is not the first time")) return "Try the clock instead.\n Next: caller.";
      if (history.includes("observation: ")) return "The weather does not tell the time.\n Next: give up.";
      return "Try the weather.\n Next: caller.";
    }
    if (role === "caller") return `Action: ${history.includes("Try the clock instead.") ? "time_for_clock" : "weather_for_meteo"}\nAction Input: {"city": "Lisbon"}`;
    return "It is 10:00 in Lisbon.";
  };
  const model = (role: string) => new ScriptedModel(Array.from({ length: 20 }, () => decide(role)), role);
  return { planner: model("planner"), caller: model("caller"), summarizer: model("summarizer") };
}

/** The two tools; the clock can be made to wait until released (to stop a search during a call). */
function tools() {
  const runs: string[] = [];
  let gate: Promise<void> | undefined;
  let release = () => undefined as void;
  const tool = (name: string, out: string): ToolSpec => ({
    doc: { Name: name, function: `${name} of a city`, input: { city: "string, the city" } },
    run: async () => {
      runs.push(name);
      if (name === "time_for_clock" && gate) await gate;
      return out;
    },
  });
  return {
    list: [tool("weather_for_meteo", '{"sky": "sunny"}'), tool("time_for_clock", '{"time": "10:00", "tag": "CLOCK-OK"}')],
    runs,
    hold: () => (gate = new Promise<void>((r) => (release = r))),
    release: () => ((gate = undefined), release()),
  };
}

const shape = (tree: SearchNode[]) => tree.map(({ checkpointId: _id, ...n }) => n);
const QUESTION = "What time is it in Lisbon?";

describe("the dfsdt search graph (Studio, serve)", () => {
  it("builds the same tree as run --search dfsdt, streaming each node as a custom event", async () => {
    const t1 = tools();
    const direct = await searchAgent({ instruction: QUESTION, tools: t1.list, models: roles(), checkpointer: new MemorySaver(), threadId: "direct" });

    const t2 = tools();
    const graph = createSearchGraph({ tools: t2.list, models: roles() });
    const streamed: unknown[] = [];
    let final: Partial<SearchStateType> = {};
    for await (const [mode, chunk] of await graph.stream({ instruction: QUESTION }, { configurable: { thread_id: "g" }, streamMode: ["custom", "values"] })) {
      if (mode === "custom") streamed.push(chunk);
      else final = chunk as SearchStateType;
    }
    expect(final.answer).toBe("It is 10:00 in Lisbon.");
    expect(final.finishType).toBe("give_answer");
    expect(final.searchThread).toBe("g:dfsdt");
    expect(shape(final.tree!)).toEqual(shape(direct.search.tree));
    expect(final.tree!.map((n) => n.kind)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect(final.turns!.at(-1)).toEqual({ from: "conclusion", value: "It is 10:00 in Lisbon." });
    expect(t2.runs).toEqual(t1.runs);
    // One event per tree node as it was added, then the summary.
    expect(streamed.map((e) => (e as { kind: string }).kind)).toEqual(["search", "search", "search", "search", "search", "search_end"]);
    expect((streamed[3] as { node: SearchNode }).node.action).toBe("time_for_clock");
  });

  it("takes the search settings from the run's configuration", async () => {
    const graph = createSearchGraph({ tools: tools().list, models: roles() });
    // One child per node: the give-up ends the only branch.
    const out = await graph.invoke({ instruction: QUESTION }, { configurable: { thread_id: "narrow", beam: 1 } });
    expect(out.finishType).toBe("give_up");
    expect(out.tree.map((n) => n.kind)).toEqual(["root", "step", "give_up"]);
    await expect(graph.invoke({ instruction: QUESTION }, { configurable: { thread_id: "bad", beam: "two" } })).rejects.toThrow('configuration beam: expected a positive integer, got "two"');
  });

  it("a run stopped during a tool call resumes on its thread: the tree is replayed, no completed call runs again", async () => {
    const t = tools();
    const checkpointer = new MemorySaver();
    const graph = createSearchGraph({ tools: t.list, models: roles(), checkpointer });
    const config = { configurable: { thread_id: "r" } };
    t.hold();
    const stop = new AbortController();
    const stopped = graph.invoke({ instruction: QUESTION }, { ...config, signal: stop.signal });
    while (!t.runs.includes("time_for_clock")) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await expect(stopped).rejects.toThrow();
    t.release();
    expect((await graph.getState(config)).next).toEqual(["search"]);

    const out = await graph.invoke(null, config);
    expect(out.answer).toBe("It is 10:00 in Lisbon.");
    // The stopped call is not run again blindly (the crash policy): its observation says it may or may not have run,
    // and the chain goes on from there.
    expect(out.tree.map((n) => n.kind)).toEqual(["root", "step", "give_up", "step", "step", "answer"]);
    expect(out.tree[3]!.observation).toContain("time_for_clock was running when its run stopped");
    // The weather call completed before the stop: replayed from the search thread, not run again.
    expect(t.runs).toEqual(["weather_for_meteo", "time_for_clock", "time_for_clock"]);
  });

  it("approval: a call waiting in the search is this run's interrupt (the same request); each answer resumes the same tree", async () => {
    const t = tools();
    const graph = createSearchGraph({ tools: t.list, models: roles(), checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "a", approve: "all" } };
    await graph.invoke({ instruction: QUESTION }, config);
    let state = await graph.getState(config);
    // What the α-UMi graph asks for the same first call.
    const alphaUmi = createAlphaUmiGraph({ tools: tools().list, models: roles() });
    await alphaUmi.invoke({ instruction: QUESTION }, config);
    const request = pendingInterrupt(await alphaUmi.getState(config))!.value;
    expect(request).toMatchObject({ action_requests: [expect.objectContaining({ name: "weather_for_meteo" })] });
    expect(state.tasks.map((task) => [task.name, task.interrupts.map((i) => i.value)])).toEqual([["ask", [request]]]);
    expect(t.runs).toEqual([]);
    const first = state.values.waiting!;

    await graph.invoke(new Command({ resume: { action: "approve" } }), config);
    state = await graph.getState(config);
    expect(state.tasks[0]!.interrupts[0]!.value).toMatchObject({ action_requests: [expect.objectContaining({ name: "time_for_clock" })] });
    expect(state.values.tree.map((n: SearchNode) => n.kind)).toEqual(["root", "step", "give_up"]);
    expect(t.runs).toEqual(["weather_for_meteo"]);

    // An answer kept for the first question (as after a crash between the search and its step) answers no other.
    await graph.updateState(config, new Command({ update: { reply: { interruptId: first.interruptId, value: { action: "approve" } } }, goto: "search" }), "ask");
    await graph.invoke(null, config);
    expect((await graph.getState(config)).tasks[0]!.interrupts[0]!.value).toMatchObject({ action_requests: [expect.objectContaining({ name: "time_for_clock" })] });
    expect(t.runs).toEqual(["weather_for_meteo"]);

    const out = await graph.invoke(new Command({ resume: { action: "approve" } }), config);
    expect(out.answer).toBe("It is 10:00 in Lisbon.");
    expect(out.tree.map((n) => n.kind)).toEqual(["root", "step", "give_up", "step", "answer"]);
    expect((await graph.getState(config)).tasks).toEqual([]);
    // Each call ran once: the answers went on from the checkpoints, the search was not started over.
    expect(t.runs).toEqual(["weather_for_meteo", "time_for_clock"]);
  });

  it("approval bound by the operator (createSearchGraph's approve) applies; a rejection is the call's observation", async () => {
    const t = tools();
    const graph = createSearchGraph({ tools: t.list, models: roles(), approve: ["weather_for_meteo"], checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "o" } };
    await graph.invoke({ instruction: QUESTION }, config);
    expect((await graph.getState(config)).tasks[0]!.interrupts[0]!.value).toMatchObject({ action_requests: [expect.objectContaining({ name: "weather_for_meteo" })] });
    const out = await graph.invoke(new Command({ resume: { action: "reject", reason: "no weather" } }), config);
    expect(out.tree[1]!.observation).toContain("The user rejected this call to weather_for_meteo: no weather");
    expect(out.answer).toBe("It is 10:00 in Lisbon.");
    expect(t.runs).toEqual(["time_for_clock"]);
  });
});
