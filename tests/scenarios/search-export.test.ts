import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { exportCheckpoints } from "../../src/glpft/export.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { searchAgent } from "../../src/search/index.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { call, plan } from "../helpers/scenario.js";

test("data export turns every branch of a search into a stage-2 dialog (leaf checkpoints), the status filter per leaf", async () => {
  const dir = mkdtempSync(join(tmpdir(), "search-export-"));
  try {
    const file = join(dir, "ck.sqlite");
    const tool: ToolSpec = { doc: { Name: "weather_for_meteo", function: "Weather.", input: { city: "string, the city" } }, run: () => "sunny" };
    const models = scriptedRoles({
      planner: [plan("Weather.", "caller"), plan("No.", "give up"), plan("Weather again.", "caller"), plan("Done.", "conclusion")],
      caller: [call("weather_for_meteo", { city: "A" }), call("weather_for_meteo", { city: "B" })],
      summarizer: ["Sunny."],
    });
    const saver = SqliteSaver.fromConnString(file);
    const r = await searchAgent({ instruction: "Weather?", tools: [tool], models, checkpointer: saver, threadId: "s" });
    saver.db.close();
    expect(r.search.answer).toBe("Sunny.");
    const all = await exportCheckpoints({ checkpoints: file, branches: true });
    // Two branches: the give-up chain and the answering chain (with its diversity turn, as the planner saw it).
    expect(all.records.map((d) => d.conversations.map((t) => t.from))).toEqual([
      ["user", "assistant", "caller", "observation", "assistant"],
      ["user", "user", "assistant", "caller", "observation", "assistant", "conclusion"],
    ]);
    const finished = await exportCheckpoints({ checkpoints: file, branches: true, status: ["finished"] });
    expect(finished.records).toHaveLength(1);
    expect(finished.records[0]!.conversations.at(-1)).toEqual({ from: "conclusion", value: "Sunny." });
    // Without `branches`, the thread's latest checkpoint only (as before).
    expect((await exportCheckpoints({ checkpoints: file })).records).toHaveLength(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
