/**
 * Contract: what alpha-umi relies on from LangGraph's interrupts, Commands and streams — LangGraph's public API only,
 * on tiny graphs, so that an upgrade that changes one of these fails here by name (`npm run test:upgrade`).
 * Relied on by src/approval.ts (askApproval: one interrupt per question, earlier answers replayed in order),
 * src/graph.ts (nodes route with Command({update, goto}) within `ends`), src/threadDriver.ts (stream modes).
 */
import { Annotation, Command, END, interrupt, isInterrupted, MemorySaver, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  route: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
});

const thread = (id: string) => ({ configurable: { thread_id: id } });

describe("LangGraph contract: interrupts and resume", () => {
  it("interrupt() stops the node, its value is the pending task's interrupt, and Command({resume}) resumes that same task with the answer", async () => {
    const graph = new StateGraph(State)
      .addNode("ask", () => ({ log: [`answer:${interrupt<{ q: string }, string>({ q: "ok?" })}`] }))
      .addNode("after", () => ({ log: ["after"] }))
      .addEdge(START, "ask")
      .addEdge("ask", "after")
      .addEdge("after", END)
      .compile({ checkpointer: new MemorySaver() });
    const config = thread("resume");

    const first = await graph.invoke({ log: ["start"] }, config);
    expect(isInterrupted(first)).toBe(true);
    const waiting = await graph.getState(config);
    expect(waiting.next).toEqual(["ask"]);
    expect(waiting.tasks).toHaveLength(1);
    const [task] = waiting.tasks;
    expect(task!.name).toBe("ask");
    expect(task!.interrupts.map((i) => i.value)).toEqual([{ q: "ok?" }]);
    expect(typeof task!.interrupts[0]!.id).toBe("string");

    // The "tasks" stream shows which task runs on resume: the one that was waiting.
    const started: string[] = [];
    for await (const chunk of await graph.stream(new Command({ resume: "yes" }), { ...config, streamMode: "tasks" })) {
      const t = chunk as { id: string; name: string; input?: unknown };
      if ("input" in t) started.push(`${t.name}:${t.id}`);
    }
    expect(started[0]).toBe(`ask:${task!.id}`);
    const done = await graph.getState(config);
    expect(done.next).toEqual([]);
    expect(done.values.log).toEqual(["start", "answer:yes", "after"]);
  });

  it("several interrupts in one node are resumed one at a time, the node re-running with the earlier answers replayed in order", async () => {
    let runs = 0;
    const graph = new StateGraph(State)
      .addNode("ask", () => {
        runs++;
        const a = interrupt<string, string>("first?");
        const b = interrupt<string, string>(`second after ${a}?`);
        const c = interrupt<string, string>(`third after ${a},${b}?`);
        return { log: [a, b, c] };
      })
      .addEdge(START, "ask")
      .compile({ checkpointer: new MemorySaver() });
    const config = thread("many");
    const pending = async () => (await graph.getState(config)).tasks.flatMap((t) => t.interrupts.map((i) => i.value));

    await graph.invoke({}, config);
    expect(await pending()).toEqual(["first?"]);
    await graph.invoke(new Command({ resume: "A" }), config);
    expect(await pending()).toEqual(["second after A?"]);
    await graph.invoke(new Command({ resume: "B" }), config);
    expect(await pending()).toEqual(["third after A,B?"]);
    const out = await graph.invoke(new Command({ resume: "C" }), config);
    expect(out.log).toEqual(["A", "B", "C"]);
    expect(await pending()).toEqual([]);
    // The node's code before an interrupt runs again on every resume: it must be deterministic (askApproval's loop is).
    expect(runs).toBe(4);
  });

  it("a thread waiting on an interrupt is resumed by another graph instance over the same checkpointer (another process)", async () => {
    const saver = new MemorySaver();
    const build = () =>
      new StateGraph(State)
        .addNode("ask", () => ({ log: [interrupt<string, string>("q")] }))
        .addEdge(START, "ask")
        .compile({ checkpointer: saver });
    await build().invoke({}, thread("other"));
    const out = await build().invoke(new Command({ resume: "from elsewhere" }), thread("other"));
    expect(out.log).toEqual(["from elsewhere"]);
  });
});

describe("LangGraph contract: Command routing", () => {
  /** A node that names its successor, as src/graph.ts's `routed` nodes do. */
  function routedGraph() {
    return new StateGraph(State)
      .addNode(
        "decide",
        (s) => new Command({ update: { log: [`decide:${s.route}`] }, goto: s.route === "stop" ? END : s.route }),
        { ends: ["left", "right", END] },
      )
      .addNode("left", () => ({ log: ["left"] }))
      .addNode(
        "right",
        (s) => new Command({ update: { log: ["right"] }, goto: s.log.includes("right") ? END : "right" }),
        { ends: ["right", END] },
      )
      .addEdge(START, "decide")
      .addEdge("left", END)
      .compile({ checkpointer: new MemorySaver() });
  }

  it("Command({update, goto}) from a node declared with `ends` applies the update and runs the named node next", async () => {
    const graph = routedGraph();
    expect((await graph.invoke({ route: "left" }, thread("l"))).log).toEqual(["decide:left", "left"]);
    expect((await graph.invoke({ route: "stop" }, thread("s"))).log).toEqual(["decide:stop"]);
    // A node may name itself (the tool node loops on a call still to answer).
    expect((await graph.invoke({ route: "right" }, thread("r"))).log).toEqual(["decide:right", "right", "right"]);
  });

  it("the graph's drawn edges are the `ends` a Command node declares (what Studio shows)", async () => {
    const edges = (await routedGraph().getGraphAsync()).edges.map((e) => `${e.source}->${e.target}`).sort();
    expect(edges).toEqual(expect.arrayContaining(["decide->left", "decide->right", `decide->${END}`, "right->right", `right->${END}`]));
  });

  it("a node's checkpoint records the Command's goto: the stored `next` is the named node", async () => {
    const graph = routedGraph();
    await graph.invoke({ route: "left" }, { ...thread("n"), interruptAfter: ["decide"] });
    expect((await graph.getState(thread("n"))).next).toEqual(["left"]);
  });
});

describe("LangGraph contract: run options and streams", () => {
  it('stream with streamMode ["updates", "custom"] yields [mode, chunk]: each node\'s update (a Command\'s unwrapped) and config.writer\'s chunks', async () => {
    const graph = new StateGraph(State)
      .addNode("a", (_s, config: LangGraphRunnableConfig) => {
        config.writer?.({ kind: "note", n: 1 });
        return new Command({ update: { log: ["a"] }, goto: "b" });
      }, { ends: ["b"] })
      .addNode("b", () => ({ log: ["b"] }))
      .addEdge(START, "a")
      .compile({ checkpointer: new MemorySaver() });
    const seen: [string, unknown][] = [];
    for await (const chunk of await graph.stream({}, { ...thread("st"), streamMode: ["updates", "custom"] })) seen.push(chunk as [string, unknown]);
    expect(seen).toEqual([
      ["custom", { kind: "note", n: 1 }],
      ["updates", { a: { log: ["a"] } }],
      ["updates", { b: { log: ["b"] } }],
    ]);
  });

  it("interruptAfter as a call option stops after each named node (names the graph lacks are ignored); invoke(null) continues", async () => {
    const graph = new StateGraph(State)
      .addNode("a", () => ({ log: ["a"] }))
      .addNode("b", () => ({ log: ["b"] }))
      .addEdge(START, "a")
      .addEdge("a", "b")
      .compile({ checkpointer: new MemorySaver() });
    const config = { ...thread("ia"), interruptAfter: ["a", "b", "not_in_this_graph"] as never };
    await graph.invoke({}, config);
    expect((await graph.getState(thread("ia"))).next).toEqual(["b"]);
    await graph.invoke(null, config);
    const s = await graph.getState(thread("ia"));
    expect([s.next, s.values.log]).toEqual([[], ["a", "b"]]);
  });

  it("withConfig's recursionLimit bounds a run (alpha-umi lifts it so its own step budget ends runs)", async () => {
    const loop = new StateGraph(State)
      .addNode("again", () => new Command({ update: { log: ["x"] }, goto: "again" }), { ends: ["again"] })
      .addEdge(START, "again")
      .compile();
    await expect(loop.withConfig({ recursionLimit: 5 }).invoke({})).rejects.toThrow(/Recursion limit of 5/);
  });
});
