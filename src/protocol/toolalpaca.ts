/**
 * ToolAlpaca's texts (tangqiaoyu/ToolAlpaca, Apache-2.0): its API simulator's prompt and reply, its judge's prompt and
 * verdicts (`evaluation.py`), and the Python spellings they depend on. Templates: `prompts/simulate_toolalpaca.txt`
 * (`prompts/Simulator.txt`) and `prompts/judge_toolalpaca.txt` (`prompts/Evaluation.txt`), byte for byte.
 */
import { isPyDict, pyJsonLoads, type PyValue } from "./pyjson-loads.js";
import { pyFloatRepr } from "./pyjson.js";
import { pyDumps } from "./pyrepr.js";
import { loadPrompt } from "./templates.js";

/**
 * Python's `string.Template`: `$$` is `$`, `$name` and `${name}` are filled. `substitute` fails on a name it has no
 * value for; `safe_substitute` (`safe`) leaves it.
 */
export function pyTemplate(template: string, values: Record<string, string>, safe = false): string {
  return template.replace(/\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})/gi, (m, dollar: string | undefined, name?: string, braced?: string) => {
    if (dollar) return "$";
    const key = (name ?? braced)!;
    if (Object.hasOwn(values, key)) return values[key]!;
    if (safe) return m;
    throw new Error(`bug: template: no value for $${key}`);
  });
}

/** One step of ToolAlpaca's golden answers. */
export interface GoldenStep {
  Action: string;
  Action_Input: string;
}

/** One step of an instance: `[[tool, tool_input, log], observation]` (LangChain's AgentAction as json.dump writes it). */
export type InstanceStep = [[string, string, string], string];

/**
 * The judge's prompt exactly as `evaluation.py` builds it: the standard answer as `N. Function: …\nParameters: …\n`
 * lines, the solution as `N. Function: …\nParameters: …\nRetruns: …\n` lines (its spelling) then
 * `N+1. Final Response: …`, filled into Evaluation.txt with `Template.substitute`.
 */
export function toolalpacaJudgePrompt(o: { documentation: string; instruction: string; golden: readonly GoldenStep[]; steps: readonly InstanceStep[]; output: string }): string {
  const standard = o.golden.map((a, i) => `${i + 1}. Function: ${a.Action}\nParameters: ${a.Action_Input}\n`).join("");
  const solution =
    o.steps.map((s, i) => `${i + 1}. Function: ${s[0][0]}\nParameters: ${s[0][1]}\nRetruns: ${s[1]}\n`).join("") + `${o.steps.length + 1}. Final Response: ${o.output}`;
  return pyTemplate(loadPrompt("judge_toolalpaca"), { documentation: o.documentation, instruction: o.instruction, standard, solution });
}

/** The verdicts `evaluation.py` reads after `## Results`; "" where its pattern finds none (Python's `\w` is Unicode). */
export function parseToolAlpacaVerdicts(reply: string): { process: string; response: string } {
  const at = reply.indexOf("## Results");
  const results = at >= 0 ? reply.slice(at + "## Results".length) : reply;
  const word = (label: string) => new RegExp(`${label}: ([\\p{L}\\p{N}\\p{Mn}\\p{Pc}]+)`, "u").exec(results)?.[1] ?? "";
  return { process: word("Process Correctness"), response: word("Final Response Correctness") };
}

/** The verdicts `evaluation.py` counts; any other word would stop it (a KeyError). */
export const TOOLALPACA_VERDICTS = ["Yes", "No", "Uncertain"] as const;

/** The simulator's prompt (`safe_substitute`): the API's name, its OpenAPI spec as `json.dumps(json.loads(spec))`, the request. */
export function toolalpacaSimulatorPrompt(name: string, documentation: string, request: string): string {
  const spec = pyJsonLoads(documentation);
  return pyTemplate(loadPrompt("simulate_toolalpaca"), { Name: name, Documentation: spec.ok ? pyDumps(spec.value) : documentation, Request: request }, true);
}

/** ToolAlpaca's `parse_json_string`: the text from the first `{` or `[` to the last `}` or `]`, parsed; null when that fails. */
export function parseJsonString(text: string): PyValue | null {
  const starts = [text.indexOf("{"), text.indexOf("[")].filter((i) => i >= 0);
  const ends = [text.lastIndexOf("}"), text.lastIndexOf("]")].filter((i) => i >= 0);
  if (starts.length === 0 || ends.length === 0) return null;
  const r = pyJsonLoads(text.slice(Math.min(...starts), Math.max(...ends) + 1));
  return r.ok ? r.value : null;
}

/**
 * A simulator reply read as ToolAlpaca's simulator reads it: the integer after `Status Code:`, and the JSON after
 * `Response:` (up to `Explanation:`), or `{"response": TEXT}` when that is not JSON. Null when there is no status code.
 */
export function parseSimulatorReply(reply: string): { status: number; response: PyValue } | null {
  const parts = reply.split("Status Code:");
  if (parts.length < 2) return null;
  const code = parts[1]!.split("Response:")[0]!.trim();
  // Python's int(): optional sign, digits, underscores between digits.
  if (!/^[+-]?\d+(_\d+)*$/.test(code)) return null;
  const status = Number(code.replace(/_/g, ""));
  const rest = reply.split("Response:");
  if (rest.length < 2) return null;
  const text = rest[1]!.split("Explanation:")[0]!.trim();
  return { status, response: parseJsonString(text) ?? new Map([["response", text]]) };
}

/** FastAPI's `JSONResponse` body: `json.dumps(content, ensure_ascii=False, separators=(",", ":"))`. */
export function compactJson(v: PyValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Object.is(v, -0) ? "-0.0" : pyFloatRepr(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(compactJson).join(",") + "]";
  if (isPyDict(v)) return "{" + [...v].map(([k, x]) => JSON.stringify(k) + ":" + compactJson(x)).join(",") + "}";
  throw new TypeError("compactJson: not a json.loads result");
}

/** What ToolAlpaca's tool appends to an observation whose status is not 2xx. */
export const TOOLALPACA_ERROR_HINT =
  ". You should choose one of: (1) change the input and retry; (2) return the 'Final Answer' and explain what happened; (You must choose this one when the error occurs more than 3 times.) (3) call another function.";
