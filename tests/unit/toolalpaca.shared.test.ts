import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedModel } from "../../src/models/scripted.js";
import { loadPrompt } from "../../src/protocol/templates.js";
import { parseSimulatorReply, parseToolAlpacaVerdicts, pyTemplate, toolalpacaSimulatorPrompt } from "../../src/protocol/toolalpaca.js";
import { readToolAlpacaFile, toolalpacaDoc, toolalpacaRequest, toolalpacaTools, type ToolAlpacaApi } from "../../src/tools/toolalpaca.js";
import { TOOLALPACA_DIR } from "../helpers/shared.js";

const DATA = join(TOOLALPACA_DIR, "eval_simulated.json");
const present = existsSync(DATA);
const signal = new AbortController().signal;

const suite = present ? describe : describe.skip;
suite(`ToolAlpaca's tools and texts${present ? "" : " (skipped: ../shared/data/toolalpaca/eval_simulated.json is absent)"}`, () => {
  const apis = present ? readToolAlpacaFile(DATA) : [];
  const axolotl = apis[0]!;
  const spec = () => JSON.parse(axolotl.Documentation);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ta-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("ships ToolAlpaca's judge and simulator templates byte for byte", () => {
    expect(loadPrompt("judge_toolalpaca")).toBe(readFileSync(join(TOOLALPACA_DIR, "prompts/Evaluation.txt"), "utf8"));
    expect(loadPrompt("simulate_toolalpaca")).toBe(readFileSync(join(TOOLALPACA_DIR, "prompts/Simulator.txt"), "utf8"));
  });

  it("Python's Template: $$, $name, ${name}; substitute refuses a missing name, safe_substitute keeps it", () => {
    expect(pyTemplate("$$a ${b}c $d", { a: "x", b: "B", d: "D" })).toBe("$a Bc D");
    expect(() => pyTemplate("${zz}", {})).toThrow("no value for $zz");
    expect(pyTemplate("${zz} $Name", { Name: "n" }, true)).toBe("${zz} n");
  });

  it("documents each function in the α-UMi form, components after the last function", () => {
    expect(toolalpacaDoc(axolotl, "getAxolotlFacts")).toEqual({
      Name: "getAxolotlFacts",
      function: "Retrieve interesting facts about axolotls such as their habits, habitats, and physical characteristics.\nOutput: Successful response.\n - Format: application/json\n - Structure: Array[Object{fact, source}]",
      input: { category: "string. One of: [habits, habitat, physical characteristics]. The category of facts to retrieve (e.g., 'habits', 'habitat', 'physical characteristics').", limit: "integer. The maximum number of facts to return." },
    });
    const bible = apis.find((a) => a.Name === "A Bíblia Digital")!;
    const last = Object.keys(bible.Function_Projection).at(-1)!;
    expect(toolalpacaDoc(bible, last).function.endsWith(bible.Function_Description.components!)).toBe(true);
  });

  it("checks calls as convert_request.py: enum and type errors, a string that converts, missing required parameters", () => {
    const refused = (input: Record<string, unknown>, api = axolotl, fn = "getAxolotlFacts") => {
      const [path, method] = api.Function_Projection[fn]!;
      try {
        toolalpacaRequest(JSON.parse(api.Documentation), path, method, input);
      } catch (e) {
        return (e as Error).message;
      }
      return null;
    };
    // The observation ToolAlpaca's published 7B evaluation shows for this call.
    expect(refused({ category: "habitats", limit: 3 })).toBe(`Parameter type error: "category", expected one of ['habits', 'habitat', 'physical characteristics'], but got "habitats". You need to change the input and try again.`);
    expect(refused({ category: "habits", limit: "x" })).toBe(`Parameter type error: "limit", expected integer, but got string. You need to change the input and try again.`);
    expect(refused({ category: "habits", limit: "3" })).toBeNull();
    const [path, method] = axolotl.Function_Projection.searchAxolotlImages!;
    expect(toolalpacaRequest(spec(), path, method, { color: "albino", size: "small", page: 2 })).toBe('curl -X GET -H "content-type: application/json"  https://theaxolotlapi.netlify.app/search?color=albino&size=small&page=2');
    const withBody = apis.flatMap((a) => Object.entries(a.Function_Projection).map(([fn, [p, m]]) => ({ a, fn, p, m }))).find(({ a, p, m }) => {
      const op = JSON.parse(a.Documentation).paths[p][m];
      return op.requestBody?.content?.["application/json"]?.schema?.required?.length;
    })!;
    expect(refused({}, withBody.a, withBody.fn)).toMatch(/^Missing required parameters: .+\. You need to change the input and try again\.$/);
  });

  it("reads simulator replies as simulator.py: status, JSON response (or its text), FastAPI's compact body", () => {
    expect(parseSimulatorReply('Status Code: 201\nResponse: {"a": [1, 2.0]}\nExplanation: ok')).toEqual({ status: 201, response: new Map([["a", [1n, 2]]]) });
    expect(parseSimulatorReply("Status Code: 404\nResponse: Not found.\nExplanation: none")).toEqual({ status: 404, response: new Map([["response", "Not found."]]) });
    expect(parseSimulatorReply("I cannot do that")).toBeNull();
    const prompt = toolalpacaSimulatorPrompt(axolotl.Name, axolotl.Documentation, "curl -X GET x");
    expect(prompt.endsWith("Name: Axolotl\nOpenAPI Spec: " + axolotl.Documentation + "\n\nRequest Details:\ncurl -X GET x")).toBe(true);
  });

  it("the judge's verdicts are read after ## Results with evaluation.py's patterns", () => {
    expect(parseToolAlpacaVerdicts("Process Correctness: No\n## Results \nProcess Correctness: Yes \nFinal Response Correctness: Uncertain")).toEqual({ process: "Yes", response: "Uncertain" });
    expect(parseToolAlpacaVerdicts("no verdicts")).toEqual({ process: "", response: "" });
  });

  it("simulates a call (retrying a non-2xx as simulator.py), caches it per request, and a rerun asks no model", async () => {
    const model = new ScriptedModel(["Status Code: 503\nResponse: {}", "Status Code: 200\nResponse: {\"fact\": \"gills\"}\nExplanation: x"], "simulator");
    const tool = toolalpacaTools(axolotl, { model, cacheDir: dir }).find((t) => t.doc.Name === "getAxolotlFacts")!;
    expect(await tool.run({ category: "habits", limit: 1 }, { signal })).toBe('Status Code: 200. Response: {"fact":"gills"}');
    expect(model.prompts).toHaveLength(2);
    expect(model.prompts[0]).toBe(toolalpacaSimulatorPrompt("Axolotl", axolotl.Documentation, 'curl -X GET -H "content-type: application/json"  https://theaxolotlapi.netlify.app/facts?category=habits&limit=1'));
    const silent = new ScriptedModel([], "simulator-2");
    const again = toolalpacaTools(axolotl, { model: silent, cacheDir: dir }).find((t) => t.doc.Name === "getAxolotlFacts")!;
    expect(await again.run({ limit: 1, category: "habits" }, { signal })).toBe('Status Code: 200. Response: {"fact":"gills"}');
    expect(silent.prompts).toHaveLength(0);
  });

  it("an error status gets ToolAlpaca's hint; an observation is cut to 3000 characters", async () => {
    const model = new ScriptedModel([...Array(2).fill('Status Code: 404\nResponse: {"error": "none"}'), `Status Code: 200\nResponse: {"x": "${"a".repeat(4000)}"}`]);
    const tool = toolalpacaTools(axolotl as ToolAlpacaApi, { model }).find((t) => t.doc.Name === "getRandomAxolotlImage")!;
    expect(await tool.run({}, { signal })).toBe(
      `Status Code: 404. Response: {"error":"none"}. You should choose one of: (1) change the input and retry; (2) return the 'Final Answer' and explain what happened; (You must choose this one when the error occurs more than 3 times.) (3) call another function.`,
    );
    expect(model.prompts).toHaveLength(2); // the retry's 404 was seen before: simulator.py returns it
    const long = String(await tool.run({}, { signal }));
    expect(long).toHaveLength(3000);
  });

  it("a bad file is one line naming the file, the API and the field", () => {
    expect(() => readToolAlpacaFile(join(dir, "none.json"))).toThrow(`${join(dir, "none.json")}: no such file`);
    expect(() => readToolAlpacaFile(join(TOOLALPACA_DIR, "prompts/Evaluation.txt"))).toThrow(/Evaluation\.txt: not JSON/);
  });
});
