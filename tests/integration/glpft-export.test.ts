import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { END, START, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { main } from "../../src/cli/main.js";
import { exportCheckpoints, type RoleRecord, type Stage2Record } from "../../src/glpft/index.js";
import { plannerPrompt } from "../../src/protocol/render.js";
import { AgentState, type AgentUpdate, type RunStatus, type ToolDoc, type Turn } from "../../src/state.js";
import { readJson } from "../helpers/shared.js";

const TOOLS: ToolDoc[] = [{ Name: "weather_for_demo", function: "Today's weather in a city.", input: { city: "string, the city" } }];
const plan = (next: string): Turn => ({ from: "assistant", value: `I should act.\n Next: ${next}.` });
const call: Turn = { from: "caller", value: 'Action: weather_for_demo\nAction Input: {"city": "Oslo"}' };
const obs: Turn = { from: "observation", value: '{"sky": "clear"}' };

interface Script {
  first: Turn[];
  rest: Turn[];
  status: RunStatus;
}
const SCRIPTS: Record<string, Script> = {
  "t-finished": { first: [plan("caller"), call, obs], rest: [plan("conclusion"), { from: "conclusion", value: "Clear skies in Oslo." }], status: { status: "finished" } },
  "t-gave-up": { first: [plan("caller"), call, obs], rest: [plan("give up")], status: { status: "gave_up" } },
  // Interrupted before its second step (so `rest` never applies): τ ends on a planner turn, the status stays running.
  "t-running": { first: [plan("caller")], rest: [], status: { status: "running" } },
};

/** A stand-in for `alpha-umi run` until it exists: a two-step graph over the real AgentState, checkpointed to SQLite. */
async function recordRuns(file: string): Promise<void> {
  const script = (config: { configurable?: Record<string, unknown> }) => SCRIPTS[config.configurable!.thread_id as string]!;
  const checkpointer = SqliteSaver.fromConnString(file);
  const graph = (interruptBefore: "rest"[]) =>
    new StateGraph(AgentState)
      .addNode("first", (s, config): AgentUpdate => ({ turns: [{ from: "user", value: s.instruction }, ...script(config).first] }))
      .addNode("rest", (_s, config): AgentUpdate => ({ turns: script(config).rest, status: script(config).status }))
      .addEdge(START, "first")
      .addEdge("first", "rest")
      .addEdge("rest", END)
      .compile({ checkpointer, interruptBefore });
  for (const thread_id of Object.keys(SCRIPTS)) {
    const input = { instruction: `Weather in Oslo? (${thread_id})`, tools: TOOLS };
    await graph(thread_id === "t-running" ? ["rest"] : []).invoke(input, { configurable: { thread_id } });
  }
  checkpointer.db.close();
}

const expected = (id: string): Stage2Record => {
  const s = SCRIPTS[id]!;
  const instruction = `Weather in Oslo? (${id})`;
  return { tools: TOOLS, instruction, conversations: [{ from: "user", value: instruction }, ...s.first, ...s.rest] };
};

let tmp: string;
let db: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "glpft-export-"));
  db = join(tmp, "runs.sqlite");
  await recordRuns(db);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("exportCheckpoints", () => {
  it("turns each thread's latest τ into a stage-2 dialog, filtered by run status", async () => {
    const finished = await exportCheckpoints({ checkpoints: db, status: ["finished"] });
    expect(finished.records).toEqual([expected("t-finished")]);
    expect(finished.threads).toBe(3);
    expect(finished.skips.lines()).toEqual(["thread_status_gave_up: 1", "thread_status_running: 1"]);
    const all = await exportCheckpoints({ checkpoints: db });
    expect(all.records).toEqual([expected("t-finished"), expected("t-gave-up"), expected("t-running")]);
  });

  it("names the file when it is missing or not a checkpoint database", async () => {
    await expect(exportCheckpoints({ checkpoints: join(tmp, "nope.sqlite") })).rejects.toThrow(`${join(tmp, "nope.sqlite")}: no such checkpoint file`);
    const text = join(tmp, "text.sqlite");
    writeFileSync(text, "not a database, just text that is long enough to have a header page ".repeat(10));
    await expect(exportCheckpoints({ checkpoints: text })).rejects.toThrow(`${text}: not a LangGraph SQLite checkpoint file`);
  });
});

describe("data export", () => {
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const out = jest.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    const err = jest.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
    try {
      return { code: await main(["node", "alpha-umi", ...args]), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it("writes the exported dialogs and the four datasets, and says what it left out", async () => {
    const out = join(tmp, "out");
    const r = await cli("data", "export", "--checkpoints", db, "--status", "finished,gave_up", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${db}: 2 of 3 threads exported to ${join(out, "raw_data_stage_2.json")}`);
    expect(r.stdout).toContain("  thread_status_running: 1");
    expect(readJson(join(out, "raw_data_stage_2.json"))).toEqual([expected("t-finished"), expected("t-gave-up")]);
    const planner = readJson<RoleRecord[]>(join(out, "train_planner.json"));
    expect(planner.map((p) => p.target)).toEqual([plan("caller").value, plan("conclusion").value, plan("caller").value, plan("give up").value]);
    const d = expected("t-gave-up");
    expect(planner[3]!.input).toBe(plannerPrompt({ tools: TOOLS, history: d.conversations.slice(0, 4) }));
    for (const [role, n] of [["backbone", 4], ["caller", 2], ["summarizer", 1]] as const) expect(readJson<RoleRecord[]>(join(out, `train_${role}.json`))).toHaveLength(n);
  });

  it("counts the interrupted run's last planner turn as a skip when all threads are exported", async () => {
    const r = await cli("data", "export", "--checkpoints", db, "--out", join(tmp, "all"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  planner: conversation_ends_on_assistant_turn: 1");
  });

  it("rejects an unknown status", async () => {
    const r = await cli("data", "export", "--checkpoints", db, "--status", "done", "--out", join(tmp, "x"));
    expect(r).toMatchObject({ code: 2, stderr: `alpha-umi: --status must be one of running, finished, gave_up, failed, got "done"\n` });
  });
});
