import { callerPrompt, plannerPrompt, summarizerPrompt } from "../../src/protocol/render.js";
import { call, plan, roles, runScenario } from "../helpers/scenario.js";

describe("α-UMi scripted scenarios through the real graph", () => {
  it("multi-step success: two calls, then conclusion", async () => {
    const { state, models } = await runScenario({
      planner: [plan("Look up Japan.", "caller"), plan("Now convert.", "caller"), plan("I have both.", "conclusion")],
      caller: [call("country_facts_for_atlas", { country: "Japan" }), call("exchange_rate_for_fx", { from: "EUR", to: "JPY" })],
      summarizer: ["Tokyo; 1 EUR = 162.5 JPY."],
    });
    expect(roles(state)).toEqual(["user", "assistant", "caller", "observation", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(state.status).toEqual({ status: "finished" });
    expect(state.answer).toBe("Tokyo; 1 EUR = 162.5 JPY.");
    expect(JSON.parse(state.turns[3]!.value)).toMatchObject({ capital: "Tokyo" });
    expect(JSON.parse(state.turns[6]!.value)).toEqual({ from: "EUR", to: "JPY", rate: 162.5 });
    // Every prompt the models saw is the protocol rendering of τ at that point.
    const t = state.turns;
    expect(models.planner.prompts).toEqual([0, 3, 6].map((i) => plannerPrompt({ tools: state.tools, history: t.slice(0, i + 1) })));
    expect(models.caller.prompts).toEqual([1, 4].map((i) => callerPrompt({ tools: state.tools, history: t.slice(0, i + 1) })));
    expect(models.summarizer.prompts).toEqual([summarizerPrompt({ tools: state.tools, history: t.slice(0, 8) })]);
    // The chat view: one AI message per step carrying the rationale and its tool call, then the tool's answer.
    expect(state.messages.map((m) => m.getType())).toEqual(["human", "ai", "tool", "ai", "tool", "ai", "ai"]);
    const step = state.messages[1] as import("@langchain/core/messages").AIMessage;
    expect(step.content).toBe("Look up Japan.");
    expect(step.tool_calls).toEqual([{ id: "call_2", name: "country_facts_for_atlas", args: { country: "Japan" }, type: "tool_call" }]);
    expect((state.messages[2] as import("@langchain/core/messages").ToolMessage).tool_call_id).toBe("call_2");
  });

  it("immediate conclusion", async () => {
    const { state, models } = await runScenario({ planner: [plan("I know this.", "conclusion")], summarizer: ["Tokyo."] });
    expect(roles(state)).toEqual(["user", "assistant", "conclusion"]);
    expect(state.status.status).toBe("finished");
    expect(models.caller.prompts).toHaveLength(0);
  });

  it("give up ends the run as gave_up without a summary", async () => {
    const { state, models } = await runScenario({ planner: [plan("No tool can answer this.", "give up")] });
    expect(roles(state)).toEqual(["user", "assistant"]);
    expect(state.status).toEqual({ status: "gave_up", reason: "the planner gave up" });
    expect(models.summarizer.prompts).toHaveLength(0);
  });

  it("hallucinated tool name becomes an observation, then the agent recovers", async () => {
    const { state } = await runScenario({
      planner: [plan("Call the atlas.", "caller"), plan("Wrong name; retry.", "caller"), plan("Done.", "conclusion")],
      caller: [call("get_country_info", { country: "Japan" }), call("country_facts_for_atlas", { country: "Japan" })],
      summarizer: ["Tokyo."],
    });
    const obs = state.turns.filter((t) => t.from === "observation").map((t) => t.value);
    expect(JSON.parse(obs[0]!).error).toMatch(/^No such function name: get_country_info\. Available: country_facts_for_atlas/);
    expect(JSON.parse(obs[1]!).capital).toBe("Tokyo");
    expect(state.status.status).toBe("finished");
  });

  it("invalid JSON and schema-violating input become observations, then the agent recovers", async () => {
    const { state } = await runScenario({
      planner: [plan("a", "caller"), plan("b", "caller"), plan("c", "caller"), plan("d", "conclusion")],
      caller: [call("country_facts_for_atlas", "{country: Japan"), call("country_facts_for_atlas", { country: 7 }), call("country_facts_for_atlas", { country: "Japan" })],
      summarizer: ["Tokyo."],
    });
    const obs = state.turns.filter((t) => t.from === "observation").map((t) => t.value);
    expect(JSON.parse(obs[0]!).error).toMatch(/is not valid JSON/);
    expect(JSON.parse(obs[1]!).error).toMatch(/^Invalid arguments for country_facts_for_atlas: country: /);
    expect(JSON.parse(obs[2]!).capital).toBe("Tokyo");
    expect(state.status.status).toBe("finished");
  });

  it("a tool that throws or times out becomes an error observation", async () => {
    const tools = [
      { doc: { Name: "boom", function: "fails", input: {} }, run: () => { throw new Error("backend down"); } },
      { doc: { Name: "slow", function: "hangs", input: {} }, run: () => new Promise(() => undefined) },
    ];
    const { state } = await runScenario(
      {
        planner: [plan("a", "caller"), plan("b", "caller"), plan("c", "conclusion")],
        caller: [call("boom", {}), call("slow", {})],
        summarizer: ["Could not get data."],
      },
      { tools, toolTimeoutMs: 50 },
    );
    const obs = state.turns.filter((t) => t.from === "observation").map((t) => JSON.parse(t.value).error);
    expect(obs).toEqual(["boom failed: backend down", "Timeout: slow did not answer within 50 ms"]);
    expect(state.status.status).toBe("finished");
  });

  it("long observations are truncated with a marker", async () => {
    const tools = [{ doc: { Name: "big", function: "big", input: {} }, run: () => "x".repeat(500) }];
    const { state } = await runScenario(
      { planner: [plan("a", "caller"), plan("b", "conclusion")], caller: [call("big", {})], summarizer: ["ok"] },
      { tools, maxObservationChars: 100 },
    );
    expect(state.turns[3]!.value).toBe("x".repeat(100) + "...[truncated 400 chars]");
  });

  it("the step budget ends a run as gave_up with a reason, not an exception", async () => {
    const loop = Array.from({ length: 3 }, () => plan("again", "caller"));
    const { state } = await runScenario(
      { planner: loop, caller: Array.from({ length: 3 }, () => call("calculate_for_calculator", { expression: "1+1" })) },
      { maxSteps: 3 },
    );
    expect(state.status).toEqual({ status: "gave_up", reason: "step budget exhausted: 3 planner steps without a conclusion" });
    expect(roles(state).filter((r) => r === "assistant")).toHaveLength(3);
  });

  it("planner output without any Next: is treated as a call (reference rule)", async () => {
    const { state } = await runScenario({
      planner: ["I will look up Japan", plan("done", "conclusion")],
      caller: [call("country_facts_for_atlas", { country: "Japan" })],
      summarizer: ["Tokyo."],
    });
    expect(state.turns[1]).toEqual({ from: "assistant", value: "I will look up Japan Next: caller." });
    expect(roles(state)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
  });

  it("a model failure ends the run as failed; invoking the thread again resumes from τ", async () => {
    const { state, graph, config, models } = await runScenario({
      planner: [plan("Look up Japan.", "caller"), plan("done", "conclusion")],
      caller: [new Error("connection refused"), call("country_facts_for_atlas", { country: "Japan" })],
      summarizer: ["Tokyo."],
    });
    expect(state.status.status).toBe("failed");
    expect(state.status.reason).toMatch(/caller model failed: connection refused/);
    expect(roles(state)).toEqual(["user", "assistant"]);
    const resumed = await graph.invoke({}, config);
    expect(roles(resumed)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(resumed.status.status).toBe("finished");
    expect(models.planner.prompts).toHaveLength(2);
  });

  it("a follow-up question in a finished thread continues τ", async () => {
    const { graph, config } = await runScenario({
      planner: [plan("known", "conclusion"), plan("also known", "conclusion")],
      summarizer: ["Tokyo.", "Paris."],
    });
    const { HumanMessage } = await import("@langchain/core/messages");
    const next = await graph.invoke({ messages: [new HumanMessage("And France?")] }, config);
    expect(roles(next)).toEqual(["user", "assistant", "conclusion", "user", "assistant", "conclusion"]);
    expect(next.answer).toBe("Paris.");
  });
});
