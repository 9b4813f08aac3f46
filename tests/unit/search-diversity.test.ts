import { cutObservation, renderDiversityTurn, DIVERSITY_PROMPT } from "../../src/protocol/diversity.js";
import { pyJsonDumps, pyJsonDumpsIndent, PyFloat } from "../../src/protocol/pyjson.js";

const HEAD =
  "This is not the first time you try this task, all previous trails failed.\n" +
  "Before you generate my thought for this state, I will first show you your previous actions for this state, and then you must generate actions that is different from all of them. Here are some previous actions candidates:\n";
const TAIL =
  "\nRemember you are now in the intermediate state of a trail, you will first analyze the now state and previous action candidates, then make actions that is different from all the previous.";

describe("DFSDT diversity turn (byte-exact with ToolBench's Python)", () => {
  it("renders json.dumps(candidates, indent=2) with ASCII escapes, without a former observation", () => {
    const text = renderDiversityTurn(
      [
        { name: "weather_for_météo", arguments: '{"city": "Zürich"}', functionOutput: '{"temp": "21 °C", "icon": "☀"}' },
        { name: "Finish", arguments: '{"return_type": "give_up_and_restart"}', functionOutput: '{"response":"chose to give up and restart"}' },
      ],
      "",
    );
    // Written by hand from Python 3: json.dumps([...], indent=2) + "\n"
    const expected =
      HEAD +
      "[\n" +
      "  {\n" +
      '    "name": "weather_for_m\\u00e9t\\u00e9o",\n' +
      '    "arguments": "{\\"city\\": \\"Z\\u00fcrich\\"}",\n' +
      '    "function_output": "{\\"temp\\": \\"21 \\u00b0C\\", \\"icon\\": \\"\\u2600\\"}",\n' +
      '    "mento-carlo-action-value": 0.0\n' +
      "  },\n" +
      "  {\n" +
      '    "name": "Finish",\n' +
      '    "arguments": "{\\"return_type\\": \\"give_up_and_restart\\"}",\n' +
      '    "function_output": "{\\"response\\":\\"chose to give up and restart\\"}",\n' +
      '    "mento-carlo-action-value": 0.0\n' +
      "  }\n" +
      "]\n" +
      TAIL;
    expect(text).toBe(expected);
  });

  it("adds `again, your former observation` and a newline when the node has an observation", () => {
    const text = renderDiversityTurn([{ name: "a_for_b", arguments: "{}", functionOutput: "ok\n😀" }], '{"x": "ñ"}');
    const expected =
      HEAD +
      '[\n  {\n    "name": "a_for_b",\n    "arguments": "{}",\n    "function_output": "ok\\n\\ud83d\\ude00",\n    "mento-carlo-action-value": 0.0\n  }\n]\n' +
      'again, your former observation: {"x": "ñ"}\n' +
      TAIL;
    expect(text).toBe(expected);
    expect(DIVERSITY_PROMPT.split("{previous_candidate}")).toEqual([HEAD, TAIL]);
  });

  it("pyJsonDumpsIndent follows Python's indent layout; pyJsonDumps is unchanged", () => {
    expect(pyJsonDumpsIndent({ a: [], b: {}, c: [1, { d: null }], e: new PyFloat(2.5), f: new PyFloat(1e-5), g: true }, 2)).toBe(
      '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    {\n      "d": null\n    }\n  ],\n  "e": 2.5,\n  "f": 1e-05,\n  "g": true\n}',
    );
    expect(pyJsonDumpsIndent([], 4)).toBe("[]");
    expect(pyJsonDumps({ a: [1, "é"] })).toBe('{"a": [1, "\\u00e9"]}');
  });

  it("cuts observations at 1024 characters plus ...", () => {
    expect(cutObservation("x".repeat(1030), 1024)).toBe("x".repeat(1024) + "...");
    expect(cutObservation("short", 1024)).toBe("short");
  });
});
