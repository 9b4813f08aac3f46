/**
 * Contract: what alpha-umi relies on from LangGraph's checkpointing — durability "sync" (src/graph.ts, the crash
 * policy of src/nodes/calls.ts), forks by checkpoint id, history order and parent links, `updateState` as a node routed
 * by the node's conditional edge (src/search/dfsdt.ts, state edits in Studio and serve). LangGraph's public API only,
 * on MemorySaver.
 */
import { Annotation, END, MemorySaver, START, StateGraph, type StateSnapshot } from "@langchain/langgraph";

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

const thread = (id: string) => ({ configurable: { thread_id: id } });
const idOf = (s: StateSnapshot) => s.config.configurable!.checkpoint_id as string;
const parentOf = (s: StateSnapshot) => s.parentConfig?.configurable?.checkpoint_id as string | undefined;

/** a → b → c, each appending its name. */
function chain(saver = new MemorySaver()) {
  return new StateGraph(State)
    .addNode("a", () => ({ log: ["a"] }))
    .addNode("b", () => ({ log: ["b"] }))
    .addNode("c", () => ({ log: ["c"] }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addEdge("b", "c")
    .addEdge("c", END)
    .compile({ checkpointer: saver });
}

async function history(graph: ReturnType<typeof chain>, id: string): Promise<StateSnapshot[]> {
  const all: StateSnapshot[] = [];
  for await (const s of graph.getStateHistory(thread(id))) all.push(s);
  return all;
}

describe("LangGraph contract: durability", () => {
  /** a, then b blocks until released: what the saver holds meanwhile is what a crash during b would leave. */
  async function whileBBlocks(durability: "sync" | "exit") {
    const saver = new MemorySaver();
    let release!: () => void;
    let entered!: () => void;
    const inB = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (release = r));
    const graph = new StateGraph(State)
      .addNode("a", () => ({ log: ["a"] }))
      .addNode("b", async () => {
        entered();
        await gate;
        return { log: ["b"] };
      })
      .addEdge(START, "a")
      .addEdge("a", "b")
      .compile({ checkpointer: saver })
      // As src/graph.ts sets it: bound on the graph, not passed per call.
      .withConfig({ durability });
    const run = graph.invoke({ log: ["in"] }, thread(durability));
    await inB;
    const stored = await saver.getTuple(thread(durability));
    release();
    await run;
    return stored;
  }

  it('durability "sync" (bound with withConfig) stores a step\'s checkpoint before the next node starts', async () => {
    const stored = await whileBBlocks("sync");
    expect(stored?.config.configurable?.thread_id).toBe("sync");
    // The checkpoint after a: its step, its values (a plain channel's value is in channel_values) and b to run next.
    expect(stored!.metadata?.step).toBe(1);
    expect(stored!.checkpoint.channel_values.log).toEqual(["in", "a"]);
    expect(Object.keys(stored!.checkpoint.channel_values)).toContain("branch:to:b"); // b is scheduled, not yet run
  });

  it('durability is read from withConfig: with "exit" nothing is stored while b runs (so "sync" above is the option\'s doing)', async () => {
    expect(await whileBBlocks("exit")).toBeUndefined();
  });
});

describe("LangGraph contract: history and forks", () => {
  it("getStateHistory lists a thread newest first, each snapshot's parentConfig naming the next one's checkpoint", async () => {
    const graph = chain();
    await graph.invoke({ log: ["in"] }, thread("h"));
    const all = await history(graph, "h");
    expect(all.map((s) => s.metadata?.step)).toEqual([3, 2, 1, 0, -1]);
    expect(all.map((s) => s.next)).toEqual([[], ["c"], ["b"], ["a"], ["__start__"]]);
    expect(all.map((s) => s.metadata?.source)).toEqual(["loop", "loop", "loop", "loop", "input"]);
    for (let i = 0; i + 1 < all.length; i++) expect(parentOf(all[i]!)).toBe(idOf(all[i + 1]!));
    expect(parentOf(all.at(-1)!)).toBeUndefined();
    // Checkpoint ids sort in creation order (alpha-umi's savers order by them).
    expect(all.map(idOf)).toEqual(all.map(idOf).sort().reverse());
  });

  it("invoke(null) with an older loop checkpoint's id forks there: a copy of it (source fork), then the run; the fork descends from it, the main line is kept, and the thread's latest is the fork's", async () => {
    const graph = chain();
    await graph.invoke({ log: ["in"] }, thread("f"));
    const main = await history(graph, "f");
    const afterA = main.find((s) => s.next[0] === "b")!;
    await graph.invoke(null, afterA.config);

    const all = await history(graph, "f");
    const fork = all.filter((s) => !main.some((m) => idOf(m) === idOf(s)));
    // First a copy of the checkpoint (source "fork", same step and next), then the run from it.
    expect(fork.map((s) => [s.metadata?.source, s.next])).toEqual([["loop", []], ["loop", ["c"]], ["fork", ["b"]]]);
    expect(parentOf(fork.at(-1)!)).toBe(idOf(afterA));
    expect(fork.at(-1)!.values).toEqual(afterA.values);
    // The fork ran from a's checkpoint: b and c once more on top of ["in", "a"].
    expect(fork[0]!.values.log).toEqual(["in", "a", "b", "c"]);
    // The thread's current state is the newest checkpoint, the fork's end; the main line's end is still readable by id.
    expect(idOf(await graph.getState(thread("f")))).toBe(idOf(fork[0]!));
    expect((await graph.getState(main[0]!.config)).values.log).toEqual(["in", "a", "b", "c"]);
    expect(idOf(await graph.getState(main[0]!.config))).toBe(idOf(main[0]!));
  });

  it("getState(config with checkpoint_id) reads that checkpoint, not the thread's latest", async () => {
    const graph = chain();
    await graph.invoke({ log: ["in"] }, thread("g"));
    const afterB = (await history(graph, "g")).find((s) => s.next[0] === "c")!;
    const read = await graph.getState(afterB.config);
    expect([read.values.log, read.next, idOf(read)]).toEqual([["in", "a", "b"], ["c"], idOf(afterB)]);
  });
});

describe("LangGraph contract: updateState", () => {
  it("updateState(config, values, asNode) writes a checkpoint as if the node had run: source update, parent the given checkpoint, next from the node's edges", async () => {
    const graph = chain();
    await graph.invoke({ log: ["in"] }, thread("u"));
    const afterA = (await history(graph, "u")).find((s) => s.next[0] === "b")!;
    const written = await graph.updateState(afterA.config, { log: ["edited"] }, "a");
    const s = await graph.getState(written);
    expect(s.metadata?.source).toBe("update");
    expect(parentOf(s)).toBe(idOf(afterA));
    expect(s.values.log).toEqual(["in", "a", "edited"]);
    expect(s.next).toEqual(["b"]);
    // A run continues from it directly (no fork copy: the update has no children yet).
    expect((await graph.invoke(null, written)).log).toEqual(["in", "a", "edited", "b", "c"]);
    const next = (await history(graph, "u")).find((h) => parentOf(h) === idOf(s))!;
    expect([next.metadata?.source, next.next]).toEqual(["loop", ["c"]]);
  });

  it("updateState as a node whose successor is a conditional edge routes by the edge on the state the update left (src/graph.ts)", async () => {
    const graph = new StateGraph(State)
      .addNode("tool", () => ({ log: ["tool"] }))
      .addNode("planner", () => ({ log: ["planner"] }))
      .addNode("summarizer", () => ({ log: ["summarizer"] }))
      .addEdge(START, "tool")
      .addConditionalEdges("tool", (st) => (st.log.at(-1) === "conclude" ? "summarizer" : "planner"), ["planner", "summarizer"])
      .addEdge("planner", END)
      .addEdge("summarizer", END)
      .compile({ checkpointer: new MemorySaver() });
    await graph.invoke({}, thread("c"));
    const first = (await history(graph as never, "c")).find((s) => s.next[0] === "tool")!;
    const plain = await graph.getState(await graph.updateState(first.config, { log: ["x"] }, "tool"));
    expect(plain.next).toEqual(["planner"]);
    const concluded = await graph.getState(await graph.updateState(first.config, { log: ["conclude"] }, "tool"));
    expect(concluded.next).toEqual(["summarizer"]);
  });
});
