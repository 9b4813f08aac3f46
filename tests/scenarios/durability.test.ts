/**
 * Durability in every entry point: a checkpointer whose writes take a while (as over a network) shows whether a step's
 * checkpoint is on disk before the next step starts. When a tool starts, the settled call (the caller's turn) must be
 * in the stored checkpoint, and so must the previous call's observation — otherwise a crash then would run a completed
 * call again, or lose that a call was in flight. Through graph.invoke, streamEvents (what `serve` calls), runAgent
 * (`run`, `eval`) and searchAgent (`--search dfsdt`), none of which asks for durability itself. (LangGraph's default,
 * `async`, fails the first three.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import { runAgent } from "../../src/runAgent.js";
import { searchAgent } from "../../src/search/dfsdt.js";
import type { Turn } from "../../src/state.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { call, plan } from "../helpers/scenario.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

/** SQLite whose every checkpoint write lands 100 ms late. */
class SlowSaver extends SqliteSaver {
  override async put(...args: Parameters<SqliteSaver["put"]>): Promise<RunnableConfig> {
    await new Promise((r) => setTimeout(r, 100));
    return super.put(...args);
  }
}

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-durability-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tool that, each time it starts, reads τ as stored: it must end with this very call. */
function probe(saver: SqliteSaver, thread: string) {
  const stored: Turn[][] = [];
  const tool: ToolSpec = {
    doc: { Name: "probe_for_test", function: "reads its own checkpoint", input: { n: "number" } },
    run: async (args) => {
      stored.push((await storedState(saver, { configurable: { thread_id: thread } })).turns ?? []);
      return `probe ${String(args.n)}`;
    },
  };
  return { tool, stored };
}

const script = () =>
  scriptedRoles({
    planner: [plan("One.", "caller"), plan("Two.", "caller"), plan("Done.", "conclusion")],
    caller: [call("probe_for_test", { n: 1 }), call("probe_for_test", { n: 2 })],
    summarizer: ["ok"],
  });

const drivers: Array<[string, (saver: SqliteSaver, tool: ToolSpec, thread: string) => Promise<unknown>]> = [
  ["graph.invoke", (saver, tool, thread) => createAlphaUmiGraph({ tools: [tool], models: script(), checkpointer: saver }).invoke({ instruction: "Probe." }, { configurable: { thread_id: thread } })],
  [
    "streamEvents (serve)",
    async (saver, tool, thread) => {
      const graph = createAlphaUmiGraph({ tools: [tool], models: script(), checkpointer: saver });
      for await (const _ of graph.streamEvents({ instruction: "Probe." }, { version: "v2", configurable: { thread_id: thread }, streamMode: ["values"] }));
    },
  ],
  ["runAgent (run, eval)", (saver, tool, thread) => runAgent({ instruction: "Probe.", tools: [tool], models: script(), checkpointer: saver, threadId: thread })],
  ["searchAgent (dfsdt)", (saver, tool, thread) => searchAgent({ instruction: "Probe.", tools: [tool], models: script(), checkpointer: saver, threadId: thread })],
];

describe("every step's checkpoint is stored before the next step starts, in every entry point", () => {
  it.each(drivers)("%s: when a tool starts, its call and the previous call's observation are stored", async (name, drive) => {
    const saver = new SlowSaver(new Database(join(dir, `${name.replace(/\W+/g, "_")}.sqlite`)));
    const { tool, stored } = probe(saver, "T");
    await drive(saver, tool, "T");
    expect(stored.map((turns) => turns.slice(-2))).toEqual([
      [{ from: "assistant", value: plan("One.", "caller") }, { from: "caller", value: call("probe_for_test", { n: 1 }) }],
      [{ from: "assistant", value: plan("Two.", "caller") }, { from: "caller", value: call("probe_for_test", { n: 2 }) }],
    ]);
    expect(stored[1]).toContainEqual({ from: "observation", value: "probe 1" });
  });
});
