import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import type { AgentStateType } from "../../src/state.js";
import { call, plan } from "../helpers/scenario.js";

// Studio and `serve` name tool sources in a run's configuration (a graph built with no tools of its own).
test("configuration toolSources: the named sources' tools are documented and called", async () => {
  const models = scriptedRoles({
    planner: [plan("Look Japan up.", "caller"), plan("Tokyo.", "conclusion")],
    caller: [call("country_facts_for_atlas", { country: "Japan" })],
    summarizer: ["Tokyo."],
  });
  const graph = createAlphaUmiGraph({ models });
  const state = (await graph.invoke({ instruction: "Capital of Japan?" }, { configurable: { thread_id: "s", toolSources: "demo" } })) as AgentStateType;
  expect(state.status.status).toBe("finished");
  expect(state.tools.map((t) => t.Name)).toContain("country_facts_for_atlas");
  expect(state.turns[3]!.value).toContain("Tokyo");
});

test("configuration toolSources: a source that cannot open fails the run with one line naming it", async () => {
  const graph = createAlphaUmiGraph({ models: scriptedRoles({}) });
  const state = (await graph.invoke({ instruction: "Hi" }, { configurable: { thread_id: "bad", toolSources: "demo ftp:nowhere" } })) as AgentStateType;
  expect(state.status.status).toBe("failed");
  expect(state.status.reason).toMatch(/^tools: tool source "ftp:nowhere": expected demo, python/);
  expect(state.status.reason).not.toContain("\n");
});
