import { instructOutputToText } from "../../src/protocol/instruct.js";
import { callerFormat, plannerFormat, toolInputSchema } from "../../src/protocol/instruct.js";
import type { ToolDoc } from "../../src/state.js";

const tool: ToolDoc = { Name: "search_for_demo", function: "Search.", input: { q: "string, the query, with commas", n: "NUMBER", x: "weird" } };

test("a ToolBench tool's arguments as a JSON schema", () => {
  expect(toolInputSchema(tool)).toEqual({
    type: "object",
    properties: { q: { type: "string", description: "the query, with commas" }, n: { type: "number" }, x: {} },
    additionalProperties: false,
  });
  expect(callerFormat([])).toBeUndefined();
  expect(callerFormat([tool])).toEqual({
    anyOf: [{ type: "object", properties: { action: { type: "string", enum: ["search_for_demo"] }, action_input: toolInputSchema(tool) }, required: ["action", "action_input"] }],
  });
  expect((plannerFormat("toolalpaca").properties as { next: { enum: string[] } }).next.enum).toEqual(["caller", "conclusion"]);
});

test("instruct replies to α-UMi text; anything unexpected passes through to the α-UMi parsers", () => {
  expect(instructOutputToText("planner", '{"thought": " Done. ", "next": "give up"}')).toBe("Done.\n Next: give up.");
  expect(instructOutputToText("planner", '{"thought": "x", "next": "maybe"}')).toBe('{"thought": "x", "next": "maybe"}');
  expect(instructOutputToText("planner", "not json")).toBe("not json");
  expect(instructOutputToText("caller", '{"action": "search_for_demo"}')).toBe("Action: search_for_demo\nAction Input: {}");
  expect(instructOutputToText("summarizer", '{"a": 1}')).toBe('{"a": 1}');
});
