import { z } from "zod";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import type { ToolDoc } from "../state.js";
import type { ToolSpec } from "./spec.js";
import { inputDocFromJsonSchema, type JsonSchema } from "./schema.js";

/**
 * A tool's argument schema as JSON Schema: zod 4 or zod 3 (LangChain's own tools still use it) or JSON Schema as is.
 * Fields with a default count as optional (the caller may leave them out).
 */
export function jsonSchemaOf(schema: unknown): JsonSchema {
  if (!schema || typeof schema !== "object") return {};
  if ("_zod" in schema || "_def" in schema) return toJsonSchema(schema as Parameters<typeof toJsonSchema>[0], { unrepresentable: "any", io: "input" }) as JsonSchema;
  return schema as JsonSchema;
}

/** A ToolBench document for a tool: name cut to its last 64 characters, description to its first 256 (as ToolBench did). */
export function toolDoc(name: string, description: string, schema: unknown): ToolDoc {
  return { Name: name.slice(-64), function: description.slice(0, 256), input: inputDocFromJsonSchema(jsonSchemaOf(schema)) };
}

/**
 * Define a tool from a zod object schema and a function; what it returns (or throws) becomes the call's observation.
 *
 * @example
 * const weather = defineTool({
 *   name: "current_weather_for_meteo",
 *   description: "Current weather for a city.",
 *   schema: z.object({ city: z.string().describe("city name") }),
 *   run: async ({ city }, { signal }) => (await fetch(`https://wttr.in/${city}?format=j1`, { signal })).json(),
 * });
 */
export function defineTool<S extends z.ZodObject>(def: {
  name: string;
  description: string;
  schema: S;
  run: (args: z.infer<S>, ctx: { signal: AbortSignal }) => unknown;
}): ToolSpec {
  return {
    doc: toolDoc(def.name, def.description, def.schema),
    schema: def.schema as unknown as z.ZodType<Record<string, unknown>>,
    run: (args, ctx) => def.run(args as z.infer<S>, ctx),
  };
}

/**
 * Any LangChain tool (tool(), DynamicStructuredTool, a community tool…) as an α-UMi tool; LangChain validates its own input.
 *
 * @example const spec = fromLangChainTool(new Calculator()); // graphs take LangChain tools as they are, too
 */
export function fromLangChainTool(t: StructuredToolInterface): ToolSpec {
  return {
    doc: toolDoc(t.name, t.description, t.schema),
    run: (args, ctx) => t.invoke(args, { signal: ctx.signal }),
  };
}

export function isLangChainTool(x: unknown): x is StructuredToolInterface {
  return !!x && typeof x === "object" && typeof (x as StructuredToolInterface).invoke === "function" && typeof (x as StructuredToolInterface).name === "string" && "schema" in x;
}

export function isToolSpec(x: unknown): x is ToolSpec {
  return !!x && typeof x === "object" && typeof (x as ToolSpec).run === "function" && typeof (x as ToolSpec).doc?.Name === "string";
}
