import { z } from "zod";
import { defineTool } from "../../src/tools/adapters.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import type { ToolPack } from "../../src/tools/packs.js";
import { calculate } from "./calculator.js";
import { COUNTRIES, USD_RATES } from "./tables.js";

/**
 * The demo task the embedded cassette answers.
 *
 * @example
 * await createAlphaUmiGraph({ tools: demoTools() }).invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "t" } });
 */
export const DEMO_INSTRUCTION = "What is the capital of Japan, and how many Japanese yen do I get for 250 euros?";

/**
 * Deterministic tools over bundled tables, in ToolBench's naming style (`function_for_tool`).
 *
 * @example
 * const graph = createAlphaUmiGraph({ tools: demoTools() }); // role models default to the demo cassette (replayed)
 * const state = await graph.invoke({ instruction: DEMO_INSTRUCTION }, { configurable: { thread_id: "t1" } });
 */
export function demoTools(): ToolSpec[] {
  return [
    defineTool({
      name: "country_facts_for_atlas",
      description: "Facts about a country from the bundled atlas: capital, population in millions, currency code and languages.",
      schema: z.object({ country: z.string().describe("English name of the country, e.g. Japan") }),
      run: ({ country }) => {
        const row = COUNTRIES[country.trim().toLowerCase()];
        if (!row) throw new Error(`unknown country "${country}"; known: ${Object.keys(COUNTRIES).join(", ")}`);
        return { country, ...row };
      },
    }),
    defineTool({
      name: "exchange_rate_for_fx",
      description: "Exchange rate between two currencies (ISO codes) from the bundled rate table: how many units of `to` one unit of `from` buys.",
      schema: z.object({
        from: z.string().describe("ISO code of the currency to convert from, e.g. EUR"),
        to: z.string().describe("ISO code of the currency to convert to, e.g. JPY"),
      }),
      run: ({ from, to }) => {
        const f = USD_RATES[from.toUpperCase()];
        const t = USD_RATES[to.toUpperCase()];
        if (f === undefined || t === undefined) throw new Error(`unknown currency; known: ${Object.keys(USD_RATES).join(", ")}`);
        return { from: from.toUpperCase(), to: to.toUpperCase(), rate: Math.round((t / f) * 10000) / 10000 };
      },
    }),
    defineTool({
      name: "calculate_for_calculator",
      description: "Evaluate an arithmetic expression with + - * / ^ and parentheses.",
      schema: z.object({ expression: z.string().describe("the expression, e.g. (2 + 3) * 4") }),
      run: ({ expression }) => ({ expression, result: Math.round(calculate(expression) * 10000) / 10000 }),
    }),
  ];
}

/** The `demo` tool pack (`--tools demo`, `alpha-umi demo`, serve's default), found by name by src/tools/packs.ts. */
export const pack: ToolPack = { tools: demoTools, instruction: DEMO_INSTRUCTION };
