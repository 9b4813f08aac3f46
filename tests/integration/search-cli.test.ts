import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evalPass } from "../../src/eval/judge.js";
import { evalRealtime } from "../../src/eval/realtime.js";
import { OllamaRawModel } from "../../src/models/ollama.js";
import { ReplayModel } from "../../src/models/replay.js";
import { judgeAnswerPrompt, judgePreferPrompt, renderTrajectory } from "../../src/protocol/judgesAndSimulator.js";
import { startFakeOllama, type FakeOllama, type GenerateCall } from "../helpers/fakeOllama.js";
import { killWhenLogged, runCli, runCliWithInput, startCli } from "../helpers/cli.js";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";

const WEATHER = '{"city": "Lisbon", "sky": "sunny"}';
const CLOCK = '{"city": "Lisbon", "time": "10:00", "tag": "CLOCK-OK"}';
const docs = [
  { Name: "weather_for_meteo", function: "Weather of a city.", input: { city: "string, the city" } },
  { Name: "time_for_clock", function: "Local time of a city.", input: { city: "string, the city" } },
];

/**
 * The α-UMi models behind an Ollama API, deciding from the history they are shown: the planner tries the weather,
 * gives up on it, and — once the diversity turn asks for something else — tries the clock and concludes.
 */
function models({ model, prompt }: GenerateCall): string {
  const history = prompt.split("The conversation history is:")[1] ?? prompt;
  if (model === "P") {
    if (history.includes("user: Say hi")) return "Easy.\n Next: conclusion.";
    if (history.includes("CLOCK-OK")) return "I have the time.\n Next: conclusion.";
    if (history.includes("This is not the first time")) return "Try the clock instead.\n Next: caller.";
    if (history.includes("observation: ")) return "The weather does not tell the time.\n Next: give up.";
    return "Try the weather.\n Next: caller.";
  }
  if (model === "C") return `Action: ${history.includes("Try the clock instead.") ? "time_for_clock" : "weather_for_meteo"}\nAction Input: {"city": "Lisbon"}`;
  return history.includes("user: Say hi") ? "Hi!" : "It is 10:00 in Lisbon.";
}

let work: string;
let fake: FakeOllama;
/** The tree lines of an uninterrupted search (the first test), which a killed and resumed search must reproduce. */
let uninterrupted: string[] = [];
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "search-cli-"));
  fake = await startFakeOllama({ models: { P: {}, C: {}, S: {} }, respond: models });
  const call = (name: string) => ({ from: "caller", value: `Action: ${name}\nAction Input: {"city": "Lisbon"}` });
  writeFileSync(
    join(work, "tools.json"),
    JSON.stringify([
      {
        tools: docs,
        instruction: "recorded",
        conversations: [
          { from: "user", value: "recorded" },
          { from: "assistant", value: "x\n Next: caller." },
          call("weather_for_meteo"),
          { from: "observation", value: WEATHER },
          { from: "assistant", value: "y\n Next: caller." },
          call("time_for_clock"),
          { from: "observation", value: CLOCK },
        ],
      },
    ]),
  );
});
afterAll(async () => {
  await fake.close();
  rmSync(work, { recursive: true, force: true });
});

const roleArgs = () => ["--planner", `ollama:P@${fake.url}`, "--caller", `ollama:C@${fake.url}`, "--summarizer", `ollama:S@${fake.url}`];
const treeLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("[tree]"))
    .map((l) => l.replace(" (from checkpoint)", ""));

describe("alpha-umi run --search dfsdt", () => {
  it("finishes on a later branch after the planner gives up on the first, and the diversity prompt reaches the planner", async () => {
    const r = await runCli(["run", "What time is it in Lisbon?", "--tools", `toolbench:${join(work, "tools.json")}`, "--search", "dfsdt", ...roleArgs(), "--checkpoints", "memory"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    uninterrupted = treeLines(r.stdout);
    expect(uninterrupted).toEqual([
      "[tree] n0 (branch 1, depth 0): root",
      '[tree] n1 (branch 1, depth 1) ← n0 decision caller: weather_for_meteo {"city": "Lisbon"}',
      "[tree] n2 (branch 1, depth 2) ← n1 decision give up: give up",
      '[tree] n3 (branch 2, depth 1) ← n0 decision caller: time_for_clock {"city": "Lisbon"} [diversity turn]',
      "[tree] n4 (branch 2, depth 2) ← n3 decision conclusion: answer",
      "[tree] search ended (answer): answered by n4 (branch 2, depth 2); 5 nodes, 4 queries, 7 model calls",
    ]);
    expect(r.stdout).toContain("[diversity] This is not the first time you try this task, all previous trails failed.");
    expect(r.stdout).toContain("[answer] It is 10:00 in Lisbon.");
    // The planner request after the give-up carried the diversity turn, with the first child's call as a candidate.
    const diversityPlans = fake.generations().filter((g) => g.model === "P" && String(g.prompt).includes("user: This is not the first time"));
    expect(diversityPlans.length).toBeGreaterThanOrEqual(1);
    expect(String(diversityPlans[0]!.prompt)).toContain('"name": "weather_for_meteo",\n    "arguments": "{\\"city\\": \\"Lisbon\\"}"');
  }, 60_000);

  it("a search killed during an idempotent tool call resumes from its checkpoints: no completed call runs again, the same final tree", async () => {
    const log = join(work, "calls.log");
    const block = join(work, "block");
    const mod = join(work, "tools.mjs");
    writeFileSync(
      mod,
      `import { appendFileSync, existsSync } from "node:fs";
const log = ${JSON.stringify(log)}, block = ${JSON.stringify(block)};
export const weather = { doc: ${JSON.stringify(docs[0])}, run: () => { appendFileSync(log, "weather\\n"); return ${JSON.stringify(WEATHER)}; } };
export const clock = { doc: ${JSON.stringify(docs[1])}, idempotent: true, run: async () => {
  appendFileSync(log, "clock\\n");
  while (existsSync(block)) await new Promise((r) => setTimeout(r, 20));
  return ${JSON.stringify(CLOCK)};
} };
`,
    );
    const args = (db: string, thread: string) => ["--tools", `module:${mod}`, "--search", "dfsdt", ...roleArgs(), "--checkpoints", db, "--thread", thread];
    writeFileSync(block, "");
    const child = startCli(["run", "What time is it in Lisbon?", ...args(join(work, "kill.sqlite"), "K")]);
    const killed = await killWhenLogged(child, log, "clock", "the clock call to start");
    expect(killed.signal).toBe("SIGKILL");
    expect(treeLines(killed.stdout)).toHaveLength(3);
    rmSync(block);

    const resumed = await runCli(["run", ...args(join(work, "kill.sqlite"), "K")]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming thread K/);
    expect(resumed.stdout).toContain("(from checkpoint)");
    // The weather call completed before the kill and was not run again; the clock call was in flight and, being a
    // lookup marked idempotent, ran again (a call not marked so would get the uncertain observation: crash-policy.test.ts).
    expect(readFileSync(log, "utf8")).toBe("weather\nclock\nclock\n");
    // The same tree as the uninterrupted search of the first test (same models; tree lines show calls, not observations).
    expect(uninterrupted).toHaveLength(6);
    expect(treeLines(resumed.stdout)).toEqual(uninterrupted);
  }, 120_000);
});

describe("alpha-umi run --search dfsdt --approve", () => {
  it("asks on stdin as a run does; end of input leaves the search waiting, and a second process answers and finishes the same tree", async () => {
    // The demo tools and models (the replay cassette, the default): the first chain answers after three approved calls.
    const db = join(work, "approve.sqlite");
    const common = ["--tools", "demo", "--search", "dfsdt", "--checkpoints", db, "--thread", "A"];
    const first = await runCliWithInput(["run", DEMO_INSTRUCTION, ...common, "--approve"], "y\n");
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain('[approve] country_facts_for_atlas {"country":"Japan"}');
    // The step so far comes before its question, as in a plain run.
    expect(first.stdout.indexOf("[caller] Action: exchange_rate_for_fx")).toBeLessThan(first.stdout.indexOf("[approve] exchange_rate_for_fx"));
    expect(first.stdout).toContain("no answer: the thread waits for one\nwaiting for approval of exchange_rate_for_fx (thread A)\n");
    expect(first.stdout).toContain(`resume with: npx alpha-umi run --thread A --tools demo --checkpoints ${db} --approve --search dfsdt\n`);
    expect(first.code).toBe(1);
    const observations = (out: string) => out.split("\n").filter((l) => l.startsWith("[observation]"));
    expect(observations(first.stdout)).toHaveLength(1);

    const second = await runCliWithInput(["run", ...common, "--approve"], "maybe\ny\ny\n");
    expect(second.stderr).toBe("");
    expect(second.stdout).toContain("[approve] answer y (approve), e {JSON arguments} (edit) or r REASON (reject)");
    expect(second.stdout).toContain("finished in 4 planner step(s) (thread A)");
    expect(second.code).toBe(0);
    // The first call was not run again: its node came from the checkpoints, and the tree went on from there.
    expect(second.stdout).toContain('[tree] n1 (branch 1, depth 1) ← n0 decision caller: country_facts_for_atlas {"country": "Japan"} (from checkpoint)');
    expect(observations(second.stdout)).toHaveLength(2);
    expect(treeLines(second.stdout)).toEqual([
      "[tree] n0 (branch 1, depth 0): root",
      '[tree] n1 (branch 1, depth 1) ← n0 decision caller: country_facts_for_atlas {"country": "Japan"}',
      '[tree] n2 (branch 1, depth 2) ← n1 decision caller: exchange_rate_for_fx {"from": "EUR", "to": "JPY"}',
      '[tree] n3 (branch 1, depth 3) ← n2 decision caller: calculate_for_calculator {"expression": "250 * 162.5"}',
      "[tree] n4 (branch 1, depth 4) ← n3 decision conclusion: answer",
      "[tree] search ended (answer): answered by n4 (branch 1, depth 4); 5 nodes, 4 queries, 8 model calls",
    ]);
    expect(second.stdout).toContain("[answer] The capital of Japan is Tokyo.");
  }, 60_000);
});

describe("alpha-umi eval realtime → pass → prefer → report", () => {
  it("runs DFSDT and ReAct on a query file, judges them with a replay judge, and reports rates and trees", async () => {
    const queries = join(work, "queries.json");
    writeFileSync(queries, JSON.stringify([{ query_id: "q1", query: "What time is it in Lisbon?" }, { query_id: "q2", query: "Say hi" }]));
    const base = ["--data", queries, "--tools", `toolbench:${join(work, "tools.json")}`, ...roleArgs()];
    const dfsdt = join(work, "rt-dfsdt");
    const react = join(work, "rt-react");
    const a = await runCli(["eval", "realtime", ...base, "--search", "dfsdt", "--out", dfsdt]);
    expect(a.stderr).toBe("");
    expect(a.stdout).toContain("2 answer file(s)");
    const q1 = JSON.parse(readFileSync(join(dfsdt, "q1.json"), "utf8"));
    expect(q1.answer_generation).toMatchObject({ final_answer: "It is 10:00 in Lisbon.", finish_type: "give_answer", method: "DFS_woFilter_w2", query_count: 4, model_calls: 7 });
    expect(q1.tree).toHaveLength(5);
    // The ReAct reference run through the library (the same code the CLI calls).
    const ollama = (model: string, role: "planner" | "caller" | "summarizer") => new OllamaRawModel({ model, host: fake.url, role });
    const models = { planner: ollama("P", "planner"), caller: ollama("C", "caller"), summarizer: ollama("S", "summarizer") };
    const r = await evalRealtime({ data: queries, tools: `toolbench:${join(work, "tools.json")}`, search: { search: "react" }, models, out: react });
    expect(r.failures).toEqual([]);
    expect(JSON.parse(readFileSync(join(react, "q1.json"), "utf8")).answer_generation.finish_type).toBe("give_up");
    // A rerun skips the answered queries: no model call.
    const before = fake.generations().length;
    const again = await runCli(["eval", "realtime", ...base, "--search", "react", "--out", react]);
    expect(again.stdout).toContain("(2 from an earlier run)");
    expect(fake.generations().length).toBe(before);

    // The replay judge: the answer checks of the two given answers, and the q2 preference in either order (a tie).
    const hi = (dir: string) => JSON.parse(readFileSync(join(dir, "q2.json"), "utf8"));
    const attempt = (x: { answer_generation: { final_answer: string; chain: { from: string; value: string }[] } }) => ({ answer: x.answer_generation.final_answer, trajectory: renderTrajectory(x.answer_generation.chain) });
    const line = (prompt: string, output: string) => JSON.stringify({ prompt_sha256: createHash("sha256").update(prompt, "utf8").digest("hex"), output });
    const judge = join(work, "judge.jsonl");
    writeFileSync(
      judge,
      [
        line(judgeAnswerPrompt("What time is it in Lisbon?", "It is 10:00 in Lisbon."), '{"reason": "gives the time", "answer_status": "Solved"}'),
        line(judgeAnswerPrompt("Say hi", "Hi!"), '{"reason": "greets", "answer_status": "Solved"}'),
        line(judgePreferPrompt("Say hi", attempt(hi(dfsdt)), attempt(hi(react))), '{"reason": "same", "preference": "tie"}'),
        line(judgePreferPrompt("Say hi", attempt(hi(react)), attempt(hi(dfsdt))), '{"reason": "same", "preference": "tie"}'),
      ].join("\n") + "\n",
    );
    const p = await runCli(["eval", "pass", dfsdt, "--judge", `replay:${judge}`, "--times", "2"]);
    expect(p.stderr).toBe("");
    expect(p.stdout).toContain("pass rate 100.00% over 2 queries");
    expect(p.stdout).toContain("solvable pass rate 100.00% ± 0.00");
    const pr = await evalPass(react, { judge: new ReplayModel(judge, "summarizer"), times: 2 });
    expect(pr).toMatchObject({ passRate: 0.5, solvablePassRate: { mean: 0.5, std: 0 }, judgeCalls: 2 });
    const w = await runCli(["eval", "prefer", dfsdt, react, "--judge", `replay:${judge}`]);
    expect(w.stderr).toBe("");
    expect(w.stdout).toContain("1 wins, 1 ties, 0 losses");
    expect(w.stdout).toContain("win rate 75.00%");

    const html = join(work, "report.html");
    const rep = await runCli(["eval", "report", dfsdt, react, "--out", html]);
    expect(rep.stderr).toBe("");
    const page = readFileSync(html, "utf8");
    expect(page).toContain("Real-time evaluation");
    expect(page).toContain('aria-label="Pass rate"');
    expect(page).toContain('aria-label="Win rate"');
    expect(page.match(/<svg class="tree"/g)).toHaveLength(2);
    const md = readFileSync(join(work, "report.md"), "utf8");
    expect(md).toContain("| rt-dfsdt | 2 | 2 | 100.00 | 100.00 ± 0.00 |");
    expect(md).toContain("| rt-react | 2 | 1 | 50.00 | 50.00 ± 0.00 |");
    expect(md).toContain("| rt-dfsdt vs rt-react | 1 | 1 | 0 | 75.00 |");
  }, 120_000);
});
