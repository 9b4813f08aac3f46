/**
 * State edits written as a node: `graph.updateState(config, update, asNode)` routes as the node would, since the routes
 * are conditional edges that read the edited state (src/graph.ts).
 */
import { MemorySaver } from "@langchain/langgraph";
import { createAlphaUmiGraph, createSingleLlmGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { demoTools } from "../../tools/demo/index.js";
import { call, plan, roles } from "../helpers/scenario.js";

const hint = { from: "user" as const, value: "Try the exchange rate first." };

/** A thread stopped right after the planner's first step, as a person editing τ in Studio would find it. */
async function stoppedAfterPlanner(script: Parameters<typeof scriptedRoles>[0]) {
  const models = scriptedRoles(script);
  const graph = createAlphaUmiGraph({ tools: demoTools(), models, checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: "edit" } };
  await graph.invoke({ instruction: "How many yen for 250 euros?" }, { ...config, interruptAfter: ["planner"] });
  return { graph, config, models, snapshot: await graph.getState(config) };
}

describe("state edits as a node", () => {
  it("an edit as the tool routes to the planner, which then sees the edit", async () => {
    const { graph, config, models, snapshot } = await stoppedAfterPlanner({
      planner: [plan("Look it up.", "caller"), plan("I have it.", "conclusion")],
      caller: [call("exchange_rate_for_fx", { from: "EUR", to: "JPY" })],
      summarizer: ["40625 yen."],
    });
    expect(snapshot.next).toEqual(["caller"]);
    // The edit replaces nothing: it adds a user turn as if the tool had just run, so the planner goes next.
    const edited = await graph.getState(await graph.updateState(snapshot.config, { turns: [hint] }, "tool"));
    expect(edited.next).toEqual(["planner"]);
    const state = await graph.invoke(null, config);
    expect(roles(state)).toEqual(["user", "assistant", "user", "assistant", "conclusion"]);
    expect(models.planner.prompts[1]).toContain(hint.value);
  });

  it("an edit as the planner follows the decision in the edit", async () => {
    const { graph, snapshot } = await stoppedAfterPlanner({ planner: [plan("Look it up.", "caller")] });
    const config = await graph.updateState(snapshot.config, { decision: "conclusion" }, "planner");
    expect((await graph.getState(config)).next).toEqual(["summarizer"]);
  });

  it("the single-LLM graph routes by its own table", async () => {
    const models = { backbone: scriptedRoles({}).planner };
    const graph = createSingleLlmGraph({ tools: demoTools(), models, checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "single" } };
    await graph.updateState(config, { instruction: "Hi.", turns: [{ from: "user", value: "Hi." }] }, "__input__");
    const snapshot = await graph.getState(config);
    const edited = await graph.getState(await graph.updateState(snapshot.config, { turns: [hint] }, "tool"));
    expect(edited.next).toEqual(["backbone"]);
  });

  it("an edit as the planner that gives up ends the thread", async () => {
    const { graph, snapshot } = await stoppedAfterPlanner({ planner: [plan("Look it up.", "caller")] });
    const edited = await graph.getState(await graph.updateState(snapshot.config, { status: { status: "gave_up", reason: "edited" } }, "planner"));
    expect([edited.next, edited.values.status]).toEqual([[], { status: "gave_up", reason: "edited" }]);
  });
});
