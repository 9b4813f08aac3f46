import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evalPass, evalPrefer, seededCoin } from "../../src/eval/judge.js";
import type { AnswerFile } from "../../src/eval/realtime.js";
import { ScriptedModel } from "../../src/models/scripted.js";

function answer(id: string, final: string | null): AnswerFile {
  return {
    query_id: id,
    query: `Question ${id}?`,
    available_tools: [{ Name: "facts_for_atlas", function: "Facts.", input: {} }],
    answer_generation: {
      valid_data: true,
      final_answer: final ?? "",
      finish_type: final === null ? "give_up" : "give_answer",
      method: "CoT@1",
      query_count: 1,
      model_calls: 2,
      chain: [{ from: "user", value: `Question ${id}?` }],
    },
    tree: null,
    answer_node: null,
    thread_id: `realtime-${id}`,
  };
}

function writeRun(dir: string, answers: Record<string, string | null>): void {
  mkdirSync(dir, { recursive: true });
  for (const [id, final] of Object.entries(answers)) writeFileSync(join(dir, `${id}.json`), JSON.stringify(answer(id, final)));
}

/** A judge that decides from the prompt, counting how often it saw each one (to vary samples). */
function judgeModel() {
  const seen = new Map<string, number>();
  const reply = (prompt: string): string => {
    const n = seen.get(prompt) ?? 0;
    seen.set(prompt, n + 1);
    const query = /Query:\n(.*)\n/.exec(prompt)![1]!;
    if (prompt.includes("Judge the answer text only")) {
      const text = /Final answer:\n([^\n]*)\n/.exec(prompt)![1]!;
      const status: Record<string, string> = { "Tokyo.": n === 0 ? "Solved" : "Unsure", "Sorry.": "Unsolved", "Maybe 42.": "Unsure", "Nope.": "Unsolved", "Ref ok.": "Solved", "Sorry, no.": "Unsolved", "Ref nope.": "Unsolved" };
      if (text === "Garbled.") return "I think it is solved";
      return JSON.stringify({ reason: "r", answer_status: status[text] });
    }
    if (prompt.includes("whole trajectory")) return JSON.stringify({ reason: "r", answer_status: prompt.includes("Maybe 42.") ? "Unsure" : "Solved" });
    if (prompt.includes("can be solved with the tools")) {
      const task: Record<string, string> = { "Question q3?": "Solvable", "Question q4?": "Unsure", "Question q5?": "Unsolvable" };
      return JSON.stringify({ reason: "r", task_status: task[query] ?? "Solvable" });
    }
    // Preference: q3 prefers the attempt answering "Sorry.", q5 the one answering "Ref nope."; everything else is a tie.
    const a = /Attempt A — final answer:\n([^\n]*)\n/.exec(prompt)![1]!;
    const want = query === "Question q3?" ? "Sorry." : query === "Question q5?" ? "Ref nope." : null;
    return JSON.stringify({ reason: "r", preference: want === null ? "tie" : a === want ? "A" : "B" });
  };
  return new ScriptedModel(Array.from({ length: 500 }, () => reply), "judge");
}

describe("judges: pass rate, solvable pass rate, win rate (hand-computed fixture)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "judge-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("computes ToolEval's pass rate with the seeded Unsure coin and StableToolBench's SoPR with its std", async () => {
    const run = join(dir, "ours");
    writeRun(run, { q1: "Tokyo.", q2: null, q3: "Sorry.", q4: "Maybe 42.", q5: "Nope.", q6: "Garbled." });
    const warnings: string[] = [];
    const r = await evalPass(run, { judge: judgeModel(), times: 2, seed: 7, onWarning: (w) => warnings.push(w) });
    const byId = Object.fromEntries(r.queries.map((q) => [q.query_id, q]));
    // q1: Solved, then Unsure → trajectory Solved: 2 passes. q2 gave up: no judge, 2 fails. q3: Unsolved + Solvable: fails.
    // q4: Unsure → Unsure → solvability Unsure: the coin. q5: Unsolvable: passes. q6: unparsable → Unsure → trajectory Solved.
    expect([byId.q1!.passes, byId.q2!.passes, byId.q3!.passes, byId.q5!.passes, byId.q6!.passes]).toEqual([2, 0, 0, 2, 2]);
    expect(byId.q2!.samples[0]).toEqual({ answerStatus: "Unsolved", passed: false, skipped: "gave up" });
    const coins = [seededCoin(7, "q4#0"), seededCoin(7, "q4#1")];
    expect(byId.q4!.samples.map((s) => s.coin)).toEqual(coins);
    const q4passes = coins.filter(Boolean).length;
    expect(byId.q4!.passed).toBe(q4passes >= 2 - q4passes);
    expect(r.passRate).toBeCloseTo((3 + (q4passes >= 1 ? 1 : 0)) / 6, 12);
    // SoPR: answer scores per run: run 0 = (1 + 0 + 0 + .5 + 0 + .5) / 6, run 1 = (.5 + 0 + 0 + .5 + 0 + .5) / 6.
    expect(r.solvablePassRate.runs[0]).toBeCloseTo(2 / 6, 12);
    expect(r.solvablePassRate.runs[1]).toBeCloseTo(1.5 / 6, 12);
    expect(r.solvablePassRate.mean).toBeCloseTo(1.75 / 6, 12);
    expect(r.solvablePassRate.std).toBeCloseTo(0.25 / 6, 12);
    expect(warnings).toEqual([expect.stringContaining("query q6 sample 0 answer check: 3 unparsable judge replies")].concat([expect.stringContaining("query q6 sample 1")]));
    expect(JSON.parse(readFileSync(join(run, "pass.json"), "utf8")).passRate).toBe(r.passRate);
  });

  it("counts wins, ties and losses: a pass beats a fail without the judge, else the judge decides in a shuffled order", async () => {
    const ours = join(dir, "ours");
    const ref = join(dir, "ref");
    writeRun(ours, { q1: "Tokyo.", q2: null, q3: "Sorry.", q4: "Maybe 42.", q5: "Nope.", q6: "Garbled." });
    writeRun(ref, { q1: null, q2: "Ref ok.", q3: "Sorry, no.", q4: "Maybe 42.", q5: "Ref nope.", q6: "Garbled." });
    const judge = judgeModel();
    const r = await evalPrefer(ours, ref, { judge, times: 2, seed: 7 });
    const outcome = Object.fromEntries(r.queries.map((q) => [q.query_id, [q.outcome, q.by]]));
    // Ref q3 "Sorry, no." is Unsolved/Solvable (fails) like ours; ref q5 "Ref nope." is Unsolved but q5 is Unsolvable: both pass.
    expect(outcome).toEqual({
      q1: ["win", "pass"],
      q2: ["loss", "pass"],
      q3: ["win", "judge"],
      q4: ["tie", "judge"],
      q5: ["loss", "judge"],
      q6: ["tie", "judge"],
    });
    expect([r.wins, r.ties, r.losses]).toEqual([2, 2, 2]);
    expect(r.winRate).toBe(0.5);
    expect(r.judgeCalls).toBe(4);
  });
});
