import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { Command, interrupt } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { scriptedRoles } from "../../src/models/scripted.js";
import type { AgentStateType, Turn } from "../../src/state.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { demoTools } from "../../tools/demo/index.js";
import { cliInProcess } from "../helpers/inProcessCli.js";
import { call, DEMO_TURN_ROLES, plan, roles, type Script } from "../helpers/scenario.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

/**
 * Resume semantics (README "Resume"): invoking an unfinished thread (failed, or interrupted) again with no new input or
 * the same input continues τ and never appends the instruction again; a new question is taken only once the run has
 * finished or given up, and refused (the run stays resumable) while it is unfinished.
 */
const Q = "What is the capital of Japan?";
const thread = (id: string) => ({ configurable: { thread_id: id } });

function graphOf(script: Script, tools: ToolSpec[] = demoTools()) {
  const models = scriptedRoles(script);
  return { graph: createAlphaUmiGraph({ tools, models }), models };
}

const userTurns = (s: AgentStateType) => s.turns.filter((t) => t.from === "user").map((t) => t.value);

describe("resuming a failed thread", () => {
  it.each([
    ["the same input", { instruction: Q }],
    ["no new input", {}],
  ])("with %s continues τ without a second user turn (first step failed)", async (_what, input) => {
    const { graph } = graphOf({ planner: [new Error("server down"), new Error("still down"), plan("I know.", "conclusion")], summarizer: ["Tokyo."] });
    const first = (await graph.invoke({ instruction: Q }, thread("f1"))) as AgentStateType;
    expect([first.status.status, roles(first)]).toEqual(["failed", ["user"]]);
    const second = (await graph.invoke(input, thread("f1"))) as AgentStateType;
    expect([second.status.status, roles(second)]).toEqual(["failed", ["user"]]);
    const third = (await graph.invoke(input, thread("f1"))) as AgentStateType;
    expect(third.status.status).toBe("finished");
    expect(roles(third)).toEqual(["user", "assistant", "conclusion"]);
    expect(third.messages.filter((m) => HumanMessage.isInstance(m))).toHaveLength(1);
  });

  it("a failure mid-run resumes at the failed role", async () => {
    const { graph, models } = graphOf({
      planner: [plan("Look it up.", "caller"), plan("Tokyo.", "conclusion")],
      caller: [new Error("caller down"), call("country_facts_for_atlas", { country: "Japan" })],
      summarizer: ["Tokyo."],
    });
    expect(((await graph.invoke({ instruction: Q }, thread("f2"))) as AgentStateType).status.status).toBe("failed");
    const done = (await graph.invoke({ instruction: Q }, thread("f2"))) as AgentStateType;
    expect(roles(done)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(models.planner.prompts).toHaveLength(2);
  });

  it("a new question while the run is unfinished is refused; the thread stays resumable and τ unchanged", async () => {
    const { graph } = graphOf({ planner: [new Error("down"), plan("I know.", "conclusion")], summarizer: ["Tokyo."] });
    await graph.invoke({ instruction: Q }, thread("f3"));
    for (const input of [{ messages: [new HumanMessage("And Korea?")] }, { instruction: "And Korea?" }]) {
      const refused = (await graph.invoke(input, thread("f3"))) as AgentStateType;
      expect(refused.status.status).toBe("failed");
      expect(refused.status.reason).toMatch(/new question arrived while the thread's run is unfinished \(failed: planner model failed: down\)/);
      expect(roles(refused)).toEqual(["user"]);
      expect(refused.instruction).toBe(Q);
      expect(refused.messages.filter((m) => HumanMessage.isInstance(m))).toHaveLength(1);
    }
    const done = (await graph.invoke({}, thread("f3"))) as AgentStateType;
    expect([done.status.status, roles(done)]).toEqual(["finished", ["user", "assistant", "conclusion"]]);
  });
});

describe("threads whose run ended", () => {
  it.each([
    ["finished", plan("I know.", "conclusion"), ["Tokyo."]],
    ["gave_up", plan("No tool can do this.", "give up"), []],
  ])("a %s thread: the same input again changes nothing; a new question (message or instruction) starts a new segment", async (status, ending, answers) => {
    const { graph } = graphOf({ planner: [ending, plan("Seoul.", "conclusion"), plan("Busan?", "conclusion")], summarizer: [...answers, "Seoul.", "Busan."] });
    const id = `e-${status}`;
    const first = (await graph.invoke({ instruction: Q }, thread(id))) as AgentStateType;
    expect(first.status.status).toBe(status);
    const again = (await graph.invoke({ instruction: Q }, thread(id))) as AgentStateType;
    expect(again.turns).toEqual(first.turns);
    const followUp = (await graph.invoke({ messages: [new HumanMessage("And Korea?")] }, thread(id))) as AgentStateType;
    expect(userTurns(followUp)).toEqual([Q, "And Korea?"]);
    expect([followUp.status.status, followUp.answer]).toEqual(["finished", "Seoul."]);
    const byInstruction = (await graph.invoke({ instruction: "And its second city?" }, thread(id))) as AgentStateType;
    expect(userTurns(byInstruction)).toEqual([Q, "And Korea?", "And its second city?"]);
    expect(byInstruction.answer).toBe("Busan.");
    // The thread's instruction stays its first question; a resume with it is still no new question.
    expect(byInstruction.instruction).toBe(Q);
    expect(((await graph.invoke({ instruction: Q }, thread(id))) as AgentStateType).turns).toEqual(byInstruction.turns);
  });
});

describe("interrupted threads", () => {
  it.each([
    ["not idempotent: it is not run again, the planner reads that it may or may not have run", false],
    ["idempotent: it runs again", true],
  ])("a run stopped by its abort signal during a tool call resumes with invoke(null) or the same input; the aborted call, %s", async (_what, idempotent) => {
    let release: (() => void) | undefined;
    let runs = 0;
    const slow: ToolSpec = {
      doc: { Name: "slow_for_test", function: "slow", input: {} },
      idempotent,
      run: () => (++runs === 1 ? new Promise(() => undefined) : new Promise<string>((r) => (release = () => r("ok")))),
    };
    for (const input of [null, { instruction: Q }]) {
      runs = 0;
      const { graph } = graphOf({ planner: [plan("Wait.", "caller"), plan("Done.", "conclusion")], caller: [call("slow_for_test", {})], summarizer: ["ok"] }, [slow]);
      const id = `i-${input === null ? "null" : "same"}-${idempotent}`;
      const controller = new AbortController();
      const stopped = graph.invoke({ instruction: Q }, { ...thread(id), signal: controller.signal });
      while (runs === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort();
      await expect(stopped).rejects.toThrow();
      const mid = (await graph.getState(thread(id))).values as AgentStateType;
      expect([mid.status.status, roles(mid)]).toEqual(["running", ["user", "assistant", "caller"]]);
      const resumed = graph.invoke(input, thread(id));
      if (idempotent) {
        while (!release) await new Promise((r) => setTimeout(r, 5));
        release();
        release = undefined;
      }
      const done = (await resumed) as AgentStateType;
      expect(roles(done)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
      expect(runs).toBe(idempotent ? 2 : 1);
      expect(done.turns[3]!.value).toBe(
        idempotent
          ? "ok"
          : JSON.stringify({
              error: "slow_for_test was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect",
              response: "",
            }),
      );
    }
  });

  it("a run paused by interrupt() inside a tool: the same input again does not duplicate the user turn; Command({ resume }) continues", async () => {
    const approve: ToolSpec = { doc: { Name: "pay_for_bank", function: "pay", input: {} }, run: async () => `paid: ${String(interrupt("approve?"))}` };
    const { graph } = graphOf({ planner: [plan("Pay.", "caller"), plan("Done.", "conclusion")], caller: [call("pay_for_bank", {})], summarizer: ["ok"] }, [approve]);
    await graph.invoke({ instruction: Q }, thread("i3"));
    const again = (await graph.invoke({ instruction: Q }, thread("i3"))) as AgentStateType;
    expect(roles(again)).toEqual(["user", "assistant", "caller"]);
    const done = (await graph.invoke(new Command({ resume: "yes" }), thread("i3"))) as AgentStateType;
    expect(roles(done)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
    expect(done.turns[3]!.value).toBe("paid: yes");
  });
});

describe("alpha-umi run --thread on a failed thread", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-resume-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("twice, then with working models: τ gets one user turn", async () => {
    const { demoCassettePath } = await import("../../src/configurable.js");
    const { DEMO_INSTRUCTION } = await import("../../tools/demo/index.js");
    const db = join(dir, "runs.sqlite");
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const models = (spec: string) => ["--planner", spec, "--caller", spec, "--summarizer", spec];
    const base = ["--tools", "demo", "--checkpoints", db, "--thread", "T"];
    const first = await cliInProcess(["run", DEMO_INSTRUCTION, ...base, ...models(`replay:${empty}`)]);
    expect(first.code).toBe(1);
    const second = await cliInProcess(["run", ...base, ...models(`replay:${empty}`)]);
    expect(second.code).toBe(1);
    const withSame = await cliInProcess(["run", DEMO_INSTRUCTION, ...base, ...models(`replay:${empty}`)]);
    expect(withSame.code).toBe(1);
    const stored = async () => (await storedState(SqliteSaver.fromConnString(db), thread("T"))).turns!;
    expect((await stored()).map((t) => t.from)).toEqual(["user"]);
    const other = await cliInProcess(["run", "Something else?", ...base, ...models(`replay:${empty}`)]);
    expect([other.code, other.stderr.trim().split("\n")]).toEqual([2, [expect.stringMatching(/^alpha-umi: thread T has an unfinished run \(failed\): resume it without an INSTRUCTION/)]]);
    const done = await cliInProcess(["run", ...base, ...models(`replay:${demoCassettePath()}`)]);
    expect(done.code).toBe(0);
    expect((await stored()).map((t) => t.from)).toEqual(DEMO_TURN_ROLES);
  });
});
