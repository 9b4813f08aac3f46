import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { defineTool, fromLangChainTool, toolDoc } from "../../src/tools/adapters.js";
import { executeCall } from "../../src/tools/executor.js";
import { loadToolSources } from "../../src/tools/sources.js";
import { calculate } from "../../tools/demo/calculator.js";
import { toolbenchReplayTools } from "../../src/tools/toolbenchReplay.js";
import type { ToolBenchDialog } from "../../src/toolbenchDialogs.js";

const opts = { timeoutMs: 1000, maxObservationChars: 1000 };

describe("tool documents from schemas", () => {
  it("zod schemas become ToolBench `input` docs: TYPE, DESCRIPTION", () => {
    const doc = toolDoc(
      "search_for_books",
      "Find books.",
      z.object({ q: z.string().describe("query text"), limit: z.number().int().optional(), tags: z.array(z.string()) }),
    );
    // Required arguments first, then optional ones marked the way ToolBench's RapidAPI documents mark them.
    expect(doc).toEqual({ Name: "search_for_books", function: "Find books.", input: { q: "string, query text", tags: "array, Items: string.", limit: "integer, (Optional) " } });
  });
  it("cuts names to their last 64 and descriptions to their first 256 characters, as ToolBench did", () => {
    const doc = toolDoc("n".repeat(70) + "_end", "d".repeat(300), z.object({}));
    expect(doc.Name).toBe("n".repeat(60) + "_end");
    expect(doc.function).toBe("d".repeat(256));
  });
});

describe("LangChain tools", () => {
  const add = tool(({ a, b }: { a: number; b: number }) => String(a + b), {
    name: "add_for_math",
    description: "Adds two numbers.",
    schema: z.object({ a: z.number().describe("first"), b: z.number().describe("second") }),
  });
  it("adapt to the ToolBench document and run through the executor, LangChain validating the input", async () => {
    const spec = fromLangChainTool(add);
    expect(spec.doc).toEqual({ Name: "add_for_math", function: "Adds two numbers.", input: { a: "number, first", b: "number, second" } });
    expect(await executeCall([spec], "add_for_math", '{"a": 2, "b": 3}', opts)).toEqual({ ok: true, observation: "5" });
    const bad = await executeCall([spec], "add_for_math", '{"a": "x"}', opts);
    expect(bad.ok).toBe(false);
    expect(bad.error).toBe("tool_error");
  });
  it("load from module: sources, and duplicate names are refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alpha-umi-tools-"));
    try {
      const mod = join(dir, "tools.mjs");
      writeFileSync(mod, `import { tool } from "@langchain/core/tools";\nexport default [tool(() => "hi", { name: "hello_for_greeter", description: "Greets.", schema: { type: "object", properties: {} } })];\n`);
      // The module resolves @langchain/core from the project's node_modules through a symlink beside it.
      const { symlinkSync } = await import("node:fs");
      symlinkSync(join(process.cwd(), "node_modules"), join(dir, "node_modules"));
      const { tools } = await loadToolSources([`module:${mod}`, "demo"]);
      expect(tools.map((t) => t.doc.Name)).toEqual(["hello_for_greeter", "country_facts_for_atlas", "exchange_rate_for_fx", "calculate_for_calculator"]);
      await expect(loadToolSources(["demo", "demo"])).rejects.toThrow(/two tools are named "country_facts_for_atlas"/);
      await expect(loadToolSources([`module:${join(dir, "nope.mjs")}`])).rejects.toThrow(/no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("executor", () => {
  const echo = defineTool({ name: "echo", description: "echo", schema: z.object({ s: z.string() }), run: ({ s }) => s });
  it("an empty Action Input means no arguments; a non-object is refused", async () => {
    const none = defineTool({ name: "none", description: "", schema: z.object({}), run: () => "ran" });
    expect(await executeCall([none], "none", "", opts)).toEqual({ ok: true, observation: "ran" });
    const arr = await executeCall([echo], "echo", "[1]", opts);
    expect([arr.error, JSON.parse(arr.observation).error]).toEqual(["invalid_json", "Action Input for echo must be a JSON object"]);
  });
  it("aborting the run aborts the tool's signal", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const waiter = { doc: { Name: "wait", function: "", input: {} }, run: (_: unknown, ctx: { signal: AbortSignal }) => ((seen = ctx.signal), new Promise(() => undefined)) };
    const pending = executeCall([waiter], "wait", "{}", { ...opts, timeoutMs: 200, signal: controller.signal });
    controller.abort();
    await pending;
    expect(seen?.aborted).toBe(true);
  });
});

describe("ToolBench replay pack", () => {
  const dialogs: ToolBenchDialog[] = [
    {
      tools: [{ Name: "weather_for_meteo", function: "weather", input: { city: "string, " } }],
      instruction: "q",
      conversations: [
        { from: "user", value: "q" },
        { from: "assistant", value: "x\n Next: caller." },
        { from: "caller", value: 'Action: weather_for_meteo\nAction Input: {\n  "city": "Oslo",\n  "units": {"t": "C", "w": "ms"}\n}' },
        { from: "observation", value: "cold" },
      ],
    },
  ];
  it("answers equal JSON arguments (any key order or spacing) with the recorded observation", async () => {
    const tools = toolbenchReplayTools(dialogs);
    expect(await executeCall(tools, "weather_for_meteo", '{"units":{"w":"ms","t":"C"},"city":"Oslo"}', opts)).toEqual({ ok: true, observation: "cold" });
  });
  it("anything else is a clear 'no recorded response' error observation", async () => {
    const r = await executeCall(toolbenchReplayTools(dialogs, "test.json"), "weather_for_meteo", '{"city": "Rome"}', opts);
    expect(JSON.parse(r.observation).error).toBe('weather_for_meteo failed: no recorded response in test.json for weather_for_meteo with arguments {"city":"Rome"}');
  });
});

describe("demo calculator (mathjs)", () => {
  it("evaluates arithmetic; what parses, imports or defines things is disabled, and JavaScript is out of reach", () => {
    expect(calculate("250 * 162.5")).toBe(40625);
    expect(calculate("-(2 + 3) * 2 ^ 3 / 4")).toBe(-10);
    expect(calculate("sqrt(16) + 2^0.5 * 0")).toBe(4);
    expect(() => calculate("1 / 0")).toThrow(/has no finite value \(division by zero\?\)/);
    expect(() => calculate("process.exit()")).toThrow(/cannot evaluate "process.exit\(\)": Undefined symbol process/);
    expect(() => calculate('evaluate("1+1")')).toThrow(/evaluate is disabled/);
    expect(() => calculate('import({x: 1})')).toThrow(/import is disabled/);
    expect(() => calculate("[1, 2]")).toThrow(/is not a number expression/);
  });
});
