/**
 * `alpha-umi eval toolalpaca` end to end on ToolAlpaca's shared simulated test set, with scripted role, simulator and
 * judge models behind a local Ollama API: the instances, the judge prompts against evaluation.py's construction (byte
 * for byte, rebuilt here from the shared file), the statistics, the resume after a SIGKILL, and the report rows.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { finishedRows } from "../helpers/evalRows.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOllama, type FakeOllama, type GenerateCall } from "../helpers/fakeOllama.js";
import { runCli, startCli, waitFor } from "../helpers/cli.js";
import { TOOLALPACA_DIR } from "../helpers/shared.js";

const DATA = join(TOOLALPACA_DIR, "eval_simulated.json");
const present = existsSync(DATA);

interface Api {
  Name: string;
  NLDocumentation: string;
  Instructions: string[];
  Golden_Answers: Array<Array<{ Action: string; Action_Input: string }>>;
  Instances?: Array<{ input: string; output: string; intermediate_steps: Array<[[string, string, string], string]> }>;
}

const LIMIT = 20; // Axolotl's 10 instructions, AniAPI's 9 and AbuseIPDB's first
const apis: Api[] = present ? JSON.parse(readFileSync(DATA, "utf8")) : [];
const byInstruction = new Map(apis.flatMap((a) => a.Instructions.map((q, i) => [q, { api: a, id: i }] as const)));
// Two instructions the roles answer without a call (instances without steps: errors), one with a bad enum value.
const NO_CALL = new Set([apis[0]?.Instructions[3], apis[1]?.Instructions[5]]);
const BAD_ENUM = apis[0]?.Instructions[2];

/** The instruction of a role prompt: its first `user:` turn. */
const instructionOf = (prompt: string) => /user: ([\s\S]*?)<\/s>/.exec(prompt)?.[1] ?? "";

function roles({ model, prompt }: GenerateCall): string {
  const q = instructionOf(prompt);
  const golden = byInstruction.get(q)?.api.Golden_Answers[byInstruction.get(q)!.id]![0];
  const history = prompt.split("The conversation history is:")[1] ?? prompt;
  const called = history.includes("observation: ");
  const action = q === BAD_ENUM ? 'Action: getAxolotlFacts\nAction Input: {"category": "habitats", "limit": 3}' : `Action: ${golden?.Action}\nAction Input: ${golden?.Action_Input}`;
  if (model === "P") return called || NO_CALL.has(q) ? "I can answer now.\n Next: conclusion." : "Call the API.\n Next: caller.";
  if (model === "C") return action;
  if (model === "S") return `Here is what I found for: ${q}`;
  // The single-LLM backbone.
  return called || NO_CALL.has(q) ? `I can answer now.\nconclusion: Found it for: ${q}` : `Call the API.\n${action}`;
}

/** ToolAlpaca's simulator output format: status, JSON response (a float, a non-ASCII string), explanation. */
const simulator = () => 'Status Code: 200\nResponse: {"results": [{"name": "Ämber", "score": 1.0}], "ok": true}\nExplanation: a realistic answer.';

/** The judge: process No when the solution met a parameter error, final response Uncertain for AniAPI, else Yes. */
function judge({ prompt }: GenerateCall): string {
  const process = prompt.includes("Retruns: Parameter type error") ? "No" : "Yes";
  const response = prompt.includes("## Documentation\ngetRandomAxolotlImage") ? "Yes" : "Uncertain";
  return `## Analysis \nThe solution was checked.\n## Results \nProcess Correctness: ${process} \nFinal Response Correctness: ${response}`;
}

let fake: FakeOllama;
let work: string;
let delayMs = 0;

const suite = present ? describe : describe.skip;
suite(`alpha-umi eval toolalpaca on ToolAlpaca's simulated test set${present ? "" : " (skipped: ../shared/data/toolalpaca/eval_simulated.json is absent)"}`, () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolalpaca-"));
    fake = await startFakeOllama({
      models: { P: {}, C: {}, S: {}, B: {}, SIM: {}, J: {} },
      respond: async (c) => {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        return c.model === "SIM" ? simulator() : c.model === "J" ? judge(c) : roles(c);
      },
    });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const common = () => ["eval", "toolalpaca", "--data", DATA, "--simulator", `ollama:SIM@${fake.url}`, "--limit", String(LIMIT), "--concurrency", "2"];
  const aumi = () => join(work, "alpha-umi");
  const single = () => join(work, "single-llm");
  const roleArgs = () => ["--planner", `ollama:P@${fake.url}`, "--caller", `ollama:C@${fake.url}`, "--summarizer", `ollama:S@${fake.url}`];
  const calls = (model: string) => fake.generations().filter((g) => g.model === model);
  const rowsNow = (dir: string) => finishedRows(join(dir, "toolalpaca.sqlite"));

  test("a SIGKILLed run resumes without redoing a finished instruction, then judges as evaluation.py", async () => {
    delayMs = 40;
    const first = startCli([...common(), ...roleArgs(), "--out", aumi()]);
    await waitFor(() => rowsNow(aumi()).size >= 4, 60_000, "4 finished instructions");
    first.kill("SIGKILL");
    await first.done;
    delayMs = 0;
    const atKill = rowsNow(aumi());
    expect(atKill.size).toBeLessThan(LIMIT);

    const r = await runCli([...common(), ...roleArgs(), "--judge", `ollama:J@${fake.url}`, "--out", aumi()]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/failed|alpha-umi:/) });
    const after = rowsNow(aumi());
    expect(after.size).toBe(LIMIT);
    // A redone instruction would have been stored again: every row from before the kill is unchanged.
    for (const [id, row] of atKill) expect(after.get(id)).toBe(row);

    // ToolAlpaca's generation output: the API entries with their Instances.
    const written: Api[] = JSON.parse(readFileSync(join(aumi(), "instances.json"), "utf8"));
    expect(written.map((a) => [a.Name, a.Instances!.length])).toEqual(apis.map((a, i) => [a.Name, [10, 9, 1][i] ?? 0]));
    const axolotl = written[0]!.Instances!;
    expect(axolotl[0]).toEqual({
      input: apis[0]!.Instructions[0],
      output: `Here is what I found for: ${apis[0]!.Instructions[0]}`,
      intermediate_steps: [[["getRandomAxolotlImage", "{}", "Call the API.\n Next: caller.\nAction: getRandomAxolotlImage\nAction Input: {}"], 'Status Code: 200. Response: {"results":[{"name":"Ämber","score":1.0}],"ok":true}']],
    });
    // convert_request.py's check: the bad enum value never reaches the simulator.
    expect(axolotl[2]!.intermediate_steps[0]![1]).toBe(
      `Parameter type error: "category", expected one of ['habits', 'habitat', 'physical characteristics'], but got "habitats". You need to change the input and try again.`,
    );
    expect(axolotl[3]!.intermediate_steps).toEqual([]);

    // The simulator got ToolAlpaca's template as one user message: the API's name, its spec, the request as curl.
    const sim = calls("SIM");
    expect(sim.every((g) => g.raw === false)).toBe(true);
    const simTemplate = readFileSync(join(TOOLALPACA_DIR, "prompts/Simulator.txt"), "utf8");
    const search = sim.find((g) => String(g.prompt).includes("/search?"))!;
    expect(String(search.prompt).startsWith(simTemplate.split("${Name}")[0]! + "Axolotl\nOpenAPI Spec: {\"openapi\": \"3.0.0\"")).toBe(true);
    expect(String(search.prompt)).toContain('Request Details:\ncurl -X GET -H "content-type: application/json"  https://theaxolotlapi.netlify.app/search?color=wild&gender=&size=medium&page=1');

    // The judge prompts, rebuilt here as evaluation.py builds them from the shared file and the written instances.
    const template = readFileSync(join(TOOLALPACA_DIR, "prompts/Evaluation.txt"), "utf8");
    const expected: string[] = [];
    const stats = { num: 0, error_num: 0, process: { Yes: 0, No: 0, Uncertain: 0 } as Record<string, number>, response: { Yes: 0, No: 0, Uncertain: 0 } as Record<string, number>, both: 0 };
    for (const [k, api] of written.entries()) {
      for (const [id, inst] of (api.Instances ?? []).entries()) {
        stats.num++;
        if (inst.intermediate_steps.length === 0) {
          stats.error_num++;
          continue;
        }
        let standard = "";
        apis[k]!.Golden_Answers[id]!.forEach((a, n) => (standard += `${n + 1}. Function: ${a.Action}\nParameters: ${a.Action_Input}\n`));
        let solution = "";
        inst.intermediate_steps.forEach((s, n) => (solution += `${n + 1}. Function: ${s[0][0]}\nParameters: ${s[0][1]}\nRetruns: ${s[1]}\n`));
        solution += `${inst.intermediate_steps.length + 1}. Final Response: ${inst.output}`;
        const values: Record<string, string> = { documentation: apis[k]!.NLDocumentation, instruction: apis[k]!.Instructions[id]!, standard, solution };
        const prompt = template.replace(/\$\{(\w+)\}/g, (_, name: string) => values[name]!);
        expected.push(prompt);
        const v = /Process Correctness: (\w+)[\s\S]*Final Response Correctness: (\w+)/.exec(judge({ model: "J", prompt, body: {} }))!;
        stats.process[v[1]!]!++;
        stats.response[v[2]!]!++;
        if (v[1] === "Yes" && v[2] === "Yes") stats.both++;
      }
    }
    const asked = calls("J");
    expect(asked.map((g) => g.prompt)).toEqual(expected);
    expect(asked.every((g) => g.raw === false)).toBe(true); // one user message
    expect(expected[0]).toContain("## AI Assistant's Solution\n1. Function: getRandomAxolotlImage\nParameters: {}\nRetruns: Status Code: 200. Response: ");

    const evaluation = JSON.parse(readFileSync(join(aumi(), "evaluation.json"), "utf8"));
    expect(Object.keys(evaluation)).toEqual(["statistics", ...apis.map((a) => a.Name)]);
    expect(evaluation.statistics).toEqual(stats);
    expect(stats).toMatchObject({ num: 20, error_num: 2, process: { Yes: 17, No: 1, Uncertain: 0 }, response: { Yes: 9, No: 0, Uncertain: 9 }, both: 8 });
    expect(evaluation.Axolotl[3]).toEqual({ id: 3, input: "", output: "" });
    expect(evaluation.Axolotl[0]).toEqual({ id: 0, input: [{ role: "user", content: expected[0] }], output: judge({ model: "J", prompt: expected[0]!, body: {} }), process_correctness: "Yes", final_response_correctness: "Yes" });
    expect(r.stdout).toContain("process correctness 85.00%, final-answer correctness 45.00%, both 40.00% over 20 instructions (2 without steps)");

    // A rerun resumes both halves: no role, simulator or judge call.
    const before = fake.generations().length;
    const again = await runCli([...common(), ...roleArgs(), "--judge", `ollama:J@${fake.url}`, "--out", aumi(), "--json"]);
    expect(again.code).toBe(0);
    expect(fake.generations().length).toBe(before);
    expect(JSON.parse(again.stdout)).toMatchObject({ instances: 20, process: 0.85, answer: 0.45, both: 0.4 });
  });

  test("the single-LLM baseline beside α-UMi in eval report; the simulator cache answers its calls", async () => {
    const simBefore = calls("SIM").length;
    const r = await runCli([...common(), "--single-llm", "--backbone", `ollama:B@${fake.url}`, "--judge", `ollama:J@${fake.url}`, "--cache", join(aumi(), "simulator-cache"), "--out", single()]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/failed|alpha-umi:/) });
    // Same requests as the α-UMi run: every one is in its cache, so the simulator is not asked again.
    expect(calls("SIM").length).toBe(simBefore);
    const rep = await runCli(["eval", "report", aumi(), single(), "--out", join(work, "report.html")]);
    expect(rep.code).toBe(0);
    const md = readFileSync(join(work, "report.md"), "utf8");
    expect(md).toContain("| run | system | instances | without steps | process correctness | answer correctness | both |");
    expect(md).toContain("| alpha-umi | α-UMi | 20 | 2 | 85.00 | 45.00 | 40.00 |");
    expect(md).toMatch(/\| single-llm \| single-LLM \| 20 \| 2 \| 85\.00 \| 45\.00 \| 40\.00 \|/);
    expect(readFileSync(join(work, "report.html"), "utf8")).toContain("<td>single-LLM</td>");
  });

  test("a bad --data file or an unknown API is one line, exit 2", async () => {
    const missing = await runCli(["eval", "toolalpaca", "--data", join(work, "none.json"), "--simulator", `ollama:SIM@${fake.url}`, "--out", join(work, "x")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`alpha-umi: ${join(work, "none.json")}: no such file`);
    const unknown = await runCli([...common(), ...roleArgs(), "--api", "Nope", "--out", join(work, "y")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^alpha-umi: --api "Nope": no such API in .*eval_simulated\.json \(Axolotl, AniAPI, /);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
  });
});
