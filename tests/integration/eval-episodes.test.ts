import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeReferenceCassette } from "../../src/eval/cassette.js";
import { evalEpisodes } from "../../src/eval/episodes.js";
import type { EpisodeRow } from "../../src/eval/episodeMetrics.js";
import { extractSteps } from "../../src/eval/steps.js";
import { readToolBenchFile, type ToolBenchDialog } from "../../src/toolbenchDialogs.js";
import { ScriptedModel } from "../../src/models/scripted.js";
import { countTokens } from "../../src/protocol/tokens.js";
import { hasAnyDecision } from "../../src/protocol/parse.js";
import { runCli, startCli, waitFor } from "../helpers/cli.js";
import { finishedRows } from "../helpers/evalRows.js";
import { DEMO_TEST_SET, describeShared, OUT_OF_DOMAIN } from "../helpers/shared.js";

const dir = mkdtempSync(join(tmpdir(), "eval-episodes-it-"));
let dialogs: ToolBenchDialog[];
/** Reference outputs of the first 8 dialogs (the replay episodes) and of the first 60 (the kill/resume run). */
const cassette = join(dir, "reference8.jsonl");
const cassette60 = join(dir, "reference60.jsonl");
const replay = (c: string) => ({ planner: `replay:${c}`, caller: `replay:${c}`, summarizer: `replay:${c}` });
const base = { data: OUT_OF_DOMAIN, singleLlm: false, settings: { templates: "toolbench" as const }, concurrency: 1 };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("episodes over the project's demo test set reproduce its dialogs", () => {
  test("five finish with τ equal to the reference conversation, the sixth gives up where the reference does", async () => {
    const demo = readToolBenchFile(DEMO_TEST_SET);
    const demoCassette = join(dir, "demo.jsonl");
    await writeReferenceCassette(extractSteps(demo), demoCassette, { templates: "toolbench" });
    const out = join(dir, "demo");
    const r = await evalEpisodes({ ...base, data: DEMO_TEST_SET, models: replay(demoCassette), out });
    expect(r.rows.map((x) => x.status)).toEqual(["finished", "finished", "finished", "finished", "gave_up", "finished"]);
    for (const row of r.rows.filter((x) => x.status === "finished")) {
      const ref = demo[row.index]!.conversations;
      expect(row.turns).toEqual(ref);
      expect(row.answer).toBe(ref[ref.length - 1]!.value);
      expect(row.steps).toBe(ref.filter((t) => t.from === "assistant").length);
    }
    expect(r.rows[4]).toMatchObject({ reason: "the planner gave up", turns: demo[4]!.conversations });
    expect(JSON.parse(readFileSync(join(out, "episodes-metrics.json"), "utf8"))).toMatchObject({ episodes: 6, finished: 5, gave_up: 1, failed: 0 });
  });
});

describeShared(OUT_OF_DOMAIN, "eval episodes on the out-of-domain set", () => {
  beforeAll(async () => {
    dialogs = readToolBenchFile(OUT_OF_DOMAIN);
    await writeReferenceCassette(extractSteps(dialogs.slice(0, 8)), cassette, { templates: "toolbench" });
    await writeReferenceCassette(extractSteps(dialogs.slice(0, 60)), cassette60, { templates: "toolbench" });
  });

  describe("episodes over the reference cassette reproduce the reference dialogs", () => {
    let rows: EpisodeRow[];
    const out = join(dir, "replay8");
    beforeAll(async () => {
      rows = (await evalEpisodes({ ...base, models: replay(cassette), limit: 8, out })).rows;
    });

    test("dialogs 1, 2 and 4 (one user turn, one assistant turn per step) finish with τ equal to the reference conversation", () => {
      expect(rows.map((r) => r.status)).toEqual(["failed", "finished", "finished", "failed", "finished", "failed", "failed", "failed"]);
      for (const i of [1, 2, 4]) {
        const ref = dialogs[i]!.conversations;
        expect(rows[i]!.turns).toEqual(ref);
        expect(rows[i]!.answer).toBe(ref[ref.length - 1]!.value);
        expect(rows[i]!.reason).toBeNull();
        expect(rows[i]!.steps).toBe(ref.filter((t) => t.from === "assistant").length);
      }
    });

    test("the others follow the reference exactly up to a turn no agent run can write: an injected user turn or a second assistant turn in a row", () => {
      // 0, 3, 6, 7: ToolBench's DFS retries put "This is not the first time you try this task…" user turns into τ;
      // 3 and 5: a planner turn without a decision marker followed by another planner turn (not a step; never in the
      // cassette). The episode's next planner prompt is then one the reference never had: a replay miss.
      const why = new Map<number, string>();
      for (const r of rows.filter((r) => r.status === "failed")) {
        const ref = dialogs[r.index]!.conversations;
        expect(r.turns).toEqual(ref.slice(0, r.turns.length));
        expect(r.reason).toMatch(/^planner model failed: replay cassette .* has no output for the planner prompt/);
        const next = ref[r.turns.length]!;
        why.set(r.index, next.from === "user" ? "user turn" : next.from === "assistant" && !hasAnyDecision(next.value) ? "unmarked assistant turn" : next.from);
      }
      expect(Object.fromEntries(why)).toEqual({
        0: "user turn",
        3: "unmarked assistant turn",
        5: "unmarked assistant turn",
        6: "user turn",
        7: "user turn",
      });
    });

    test("per-role calls, LLaMA-2 tokens and latency are counted from the nodes' tagged model calls", async () => {
      const r = rows[2]!;
      const ref = dialogs[2]!.conversations;
      expect(Object.keys(r.roles).sort()).toEqual(["caller", "planner", "summarizer"]);
      expect(r.roles.planner!.calls).toBe(2);
      expect(r.roles.caller!.calls).toBe(1);
      expect(r.roles.summarizer!.calls).toBe(1);
      // An output has no BOS; the counter adds one to whole texts.
      expect(r.roles.summarizer!.completion_tokens).toBe((await countTokens(ref[ref.length - 1]!.value)) - 1);
      for (const u of Object.values(r.roles)) {
        expect(u.prompt_tokens).toBeGreaterThan(300 * u.calls);
        expect(u.ms).toBeGreaterThanOrEqual(0);
      }
    });

    test("episodes.json and episodes-metrics.json hold the rows and the rates and means", () => {
      const written = JSON.parse(readFileSync(join(out, "episodes.json"), "utf8")) as EpisodeRow[];
      expect(written.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(written[1]!.turns).toEqual(dialogs[1]!.conversations);
      const m = JSON.parse(readFileSync(join(out, "episodes-metrics.json"), "utf8"));
      expect(m).toMatchObject({ episodes: 8, finished: 3, gave_up: 0, failed: 5, finish_rate: 3 / 8, give_up_rate: 0, failure_rate: 5 / 8 });
      const steps = rows.reduce((a, r) => a + r.steps, 0);
      expect(m.mean_steps).toBeCloseTo(steps / 8, 12);
      const plannerCalls = rows.reduce((a, r) => a + (r.roles.planner?.calls ?? 0), 0);
      expect(m.roles.planner.calls).toBe(plannerCalls);
      expect(m.roles.summarizer.calls_per_episode).toBeCloseTo(3 / 8, 12);
      expect(m.settings.maxSteps).toBe(12);
    });
  });

  describe("give-up and failure outcomes", () => {
    test("a planner that gives up ends the episode as gave_up after one step", async () => {
      const planner = new ScriptedModel(["I cannot help with this. Next: give up.", "Still no. Next: give up."], "planner");
      const r = await evalEpisodes({ ...base, models: { planner, caller: "replay:" + cassette, summarizer: "replay:" + cassette }, limit: 2, out: join(dir, "giveup") });
      expect(r.rows.map((x) => [x.status, x.reason, x.steps, x.roles.planner?.calls, x.roles.caller])).toEqual([
        ["gave_up", "the planner gave up", 1, 1, undefined],
        ["gave_up", "the planner gave up", 1, 1, undefined],
      ]);
      expect(r.rows[0]!.turns.map((t) => t.from)).toEqual(["user", "assistant"]);
      expect(r.metrics.give_up_rate).toBe(1);
    });

    test("the step budget (--max-steps) turns a longer reference trajectory into a give-up", async () => {
      const r = await evalEpisodes({ ...base, models: replay(cassette), limit: 3, maxSteps: 1, out: join(dir, "budget") });
      // Dialog 1 needs 3 planner steps; dialog 2 needs 2.
      expect(r.rows[1]).toMatchObject({ status: "gave_up", steps: 1, reason: "step budget exhausted: 1 planner steps without a conclusion" });
      expect(r.rows[2]).toMatchObject({ status: "gave_up", steps: 1 });
    });

    test("a model spec that fails (an empty cassette) makes every episode a listed failure, never an aborted run", async () => {
      const empty = join(dir, "empty.jsonl");
      writeFileSync(empty, "");
      const r = await evalEpisodes({ ...base, models: replay(empty), limit: 3, out: join(dir, "failing") });
      expect(r.rows.map((x) => x.status)).toEqual(["failed", "failed", "failed"]);
      for (const x of r.rows) {
        expect(x.reason).toMatch(/^planner model failed: replay cassette .*empty\.jsonl has no output/);
        expect(x.turns).toEqual([{ from: "user", value: dialogs[x.index]!.instruction }]);
        expect(x.roles.planner!.calls).toBe(1);
      }
      expect(r.metrics).toMatchObject({ failed: 3, failure_rate: 1, mean_steps: 0 });
    });
  });

  describe("alpha-umi eval episodes (CLI)", () => {
    const args = (out: string, extra: string[] = []) => [
      "eval", "episodes", "--data", OUT_OF_DOMAIN, "--planner", `replay:${cassette60}`, "--caller", `replay:${cassette60}`,
      "--summarizer", `replay:${cassette60}`, "--limit", "60", "--out", out, ...extra,
    ];

    test("a SIGKILLed run resumes without redoing a finished episode", async () => {
      const out = join(dir, "killed");
      const db = join(out, "episodes.sqlite");
      const rowsNow = () => finishedRows(db);
      const first = startCli(args(out));
      await waitFor(() => rowsNow().size >= 5, 60_000, "5 finished episodes");
      first.kill("SIGKILL");
      await first.done;
      const atKill = rowsNow();
      expect(atKill.size).toBeLessThan(60); // killed mid-run

      const second = await runCli(args(out, ["--json"]));
      expect(second.code).toBe(0);
      const after = rowsNow();
      expect(after.size).toBe(60);
      // A redone episode would have been stored again, with a new wall time: every row from before the kill is unchanged.
      for (const [id, row] of atKill) expect(after.get(id)).toBe(row);
      const metrics = JSON.parse(second.stdout);
      expect(metrics.episodes).toBe(60);
      expect(metrics.finished + metrics.gave_up + metrics.failed).toBe(60);
    });

    test("prints the outcome table and per-role usage; bad input is one line naming the file", async () => {
      const r = await runCli(args(join(dir, "killed"))); // finished above: everything resumes
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^finished\s+\d+\s+[\d.]+%$/m);
      expect(r.stdout).toMatch(/^planner\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$/m);
      expect(r.stdout).toContain("60 episodes (60 from an earlier run)");
      const bad = await runCli(["eval", "episodes", "--data", join(dir, "missing.json"), "--planner", "replay:x", "--caller", "replay:x", "--summarizer", "replay:x"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe(`alpha-umi: ${join(dir, "missing.json")}: no such file`);
    });
  });
});
