import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeCall } from "../../src/tools/executor.js";
import { openLangChainTools } from "../../src/tools/langchain.js";
import { loadToolSources } from "../../src/tools/sources.js";
import { standardize, toolbenchName, uniqueNames } from "../../src/tools/schema.js";

const opts = { timeoutMs: 5000, maxObservationChars: 1000 };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-lc-"));
  // The module resolves @langchain/core from the project's node_modules through a symlink beside it.
  symlinkSync(join(process.cwd(), "node_modules"), join(dir, "node_modules"));
  writeFileSync(
    join(dir, "tools.mjs"),
    `import { tool } from "@langchain/core/tools";
import { z } from "zod";
const echo = tool(({ text, times }) => text.repeat(times), { name: "echoText", description: "Repeat a text.", schema: z.object({ text: z.string().describe("what to say"), times: z.number().int().default(1).describe("how often") }) });
export const pair = [echo, tool(() => "pong", { name: "ping", description: "Ping.", schema: z.object({}) })];
export async function makeTools() { return [echo]; }
export const notATool = 42;
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ToolBench naming", () => {
  it("snake case, api_for_tool, cut to the last 64 characters, unique", () => {
    expect(standardize("getPetById")).toBe("get_pet_by_id");
    expect(standardize("  List -- all  the Things!! ")).toBe("list_all_the_things");
    expect(standardize("3d-render")).toBe("get_3d_render");
    expect(toolbenchName("getPetById", "Pet Store")).toBe("get_pet_by_id_for_pet_store");
    expect(toolbenchName("add_for_calc", "calc")).toBe("add_for_calc");
    expect(toolbenchName("a".repeat(80), "svc")).toBe("a".repeat(56) + "_for_svc");
    expect(uniqueNames(["get_for_x", "get_for_x", "get_for_x"], ["get_for_x"])).toEqual(["get_2_for_x", "get_3_for_x", "get_4_for_x"]);
  });
});

describe("langchain:MODULE#Export", () => {
  it("the community Calculator by package name (a tool class)", async () => {
    const { tools } = await loadToolSources(["langchain:@langchain/community/tools/calculator#Calculator"]);
    expect(tools.map((t) => t.doc)).toEqual([
      {
        Name: "calculator_for_calculator",
        function: expect.stringMatching(/^This is the subfunction for tool "calculator", you can use this tool\.The description of this function is: "Useful for getting the result of a math expression/),
        input: { input: "string, (Optional) " },
      },
    ]);
    expect(await executeCall(tools, "calculator_for_calculator", '{"input": "2 * (3 + 4)"}', opts)).toEqual({ ok: true, observation: "14" });
  });

  it("an array export, a factory, or every tool export of a module path; defaults documented; arguments validated", async () => {
    const pair = await openLangChainTools(`${join(dir, "tools.mjs")}#pair`);
    expect(pair.map((t) => t.doc.Name)).toEqual(["echo_text_for_pair", "ping_for_pair"]);
    expect(pair[0]!.doc.input).toEqual({ text: "string, what to say", times: "integer, (Optional) how often Default value is `1`." });
    expect(await executeCall(pair, "echo_text_for_pair", '{"text": "ab", "times": 2}', opts)).toEqual({ ok: true, observation: "abab" });
    const bad = await executeCall(pair, "echo_text_for_pair", '{"times": 1.5}', opts);
    expect([bad.error, JSON.parse(bad.observation).error]).toEqual(["invalid_arguments", 'Invalid arguments for echo_text_for_pair: text: required; times: Instance type "number" is invalid. Expected "integer".']);
    expect((await openLangChainTools(`${join(dir, "tools.mjs")}#makeTools`)).map((t) => t.doc.Name)).toEqual(["echo_text_for_make_tools"]);
    expect((await openLangChainTools(join(dir, "tools.mjs"))).map((t) => t.doc.Name)).toEqual(["echo_text_for_pair", "ping_for_pair"]);
  });

  it("a missing export, a non-tool or an unknown package is one clear error", async () => {
    const mod = join(dir, "tools.mjs");
    await expect(openLangChainTools(`${mod}#nope`)).rejects.toThrow(`tool source langchain:${mod}#nope: the module has no export "nope" (it has makeTools, notATool, pair)`);
    await expect(openLangChainTools(`${mod}#notATool`)).rejects.toThrow(`"notATool" is not a LangChain tool, an array of tools, a tool class or a factory of tools`);
    await expect(openLangChainTools("no-such-package-xyz#T")).rejects.toThrow('tool source langchain:no-such-package-xyz#T: cannot find the package or module "no-such-package-xyz"');
    await expect(openLangChainTools("./missing.mjs#T")).rejects.toThrow("tool source langchain:./missing.mjs#T: no such file");
  });
});
