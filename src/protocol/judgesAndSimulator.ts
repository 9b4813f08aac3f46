/**
 * Prompts and replies of real-time evaluation's helper models: the simulated API (StableToolBench's virtual server)
 * and the judges (ToolEval's criteria). Templates live in `prompts/simulate_api.txt` and `prompts/judge_*.txt`.
 */
import type { ToolDoc } from "../state.js";
import { pyJsonDumps } from "./pyjson.js";
import { loadPrompt } from "./templates.js";

/**
 * Fill `{name}` placeholders in one pass, so a value that contains a placeholder is never filled again (a simulated
 * response or an answer may quote one); the role templates' fill is sequential because the training data's is.
 */
function fill(name: string, values: Record<string, string>): string {
  return loadPrompt(name).replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? values[k]! : m));
}

/** ToolBench names an API `{api}_for_{tool}`: the two halves, the cache's keys. */
export function splitApiName(name: string): { tool: string; api: string } {
  const at = name.lastIndexOf("_for_");
  return at > 0 ? { api: name.slice(0, at), tool: name.slice(at + 5) } : { api: name, tool: name };
}

/** One real (or cached) response shown to the simulator, cut to 2048 characters as StableToolBench does. */
export interface ApiExample {
  arguments: string;
  response: string;
}

const EXAMPLE_CHARS = 2048;

/**
 * The simulated API's prompt: the API's document, up to 5 examples, and the call's arguments.
 *
 * @example simulateApiPrompt({ Name: "rate_for_fx", function: "FX rate", input: {} }, '{"to": "JPY"}', [])
 */
export function simulateApiPrompt(doc: ToolDoc, args: string, examples: readonly ApiExample[]): string {
  const { tool, api } = splitApiName(doc.Name);
  const shown = examples.slice(0, 5).map((e) => `call ${e.arguments}\nresponse ${e.response}`.slice(0, EXAMPLE_CHARS));
  return fill("simulate_api", {
    tool_name: tool,
    api_name: api,
    doc: pyJsonDumps(doc),
    examples: shown.length ? shown.join("\n\n") : "(none)",
    arguments: args,
  });
}

/** The JSON schema a simulated answer must follow (`format` for models that take one). */
export const SIMULATED_ANSWER_SCHEMA = {
  type: "object",
  properties: { error: { type: "string" }, response: { type: "string" } },
  required: ["error", "response"],
} as const;

/** StableToolBench's observation when the simulator gave no usable answer in 3 tries. */
export const SIMULATION_FAILED = JSON.stringify({ error: "Failed to generate fake response", response: "" });

/** The whole reply must be one JSON object; anything else is null. */
function jsonObject(reply: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(reply.trim());
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A simulator reply read strictly: `{"error": string, "response": …}` (a non-string response is kept as its JSON). */
export function parseSimulatedAnswer(reply: string): { error: string; response: string } | null {
  const o = jsonObject(reply);
  if (!o || typeof o.error !== "string" || !("response" in o)) return null;
  const response = typeof o.response === "string" ? o.response : JSON.stringify(o.response);
  return { error: o.error, response };
}

export type AnswerStatus = "Solved" | "Unsolved" | "Unsure";
export type TaskStatus = "Solvable" | "Unsolvable" | "Unsure";
export type Preference = "A" | "B" | "tie";

/** The answer check (`check_answer_status`). */
export function judgeAnswerPrompt(query: string, answer: string): string {
  return fill("judge_answer", { query, answer });
}

/** The trajectory check (`parse_answer_status`), asked when the answer alone is Unsure. */
export function judgeProcessPrompt(query: string, answer: string, trajectory: string): string {
  return fill("judge_process", { query, answer, trajectory });
}

/** The solvability check (`check_task_solvable`). */
export function judgeSolvablePrompt(query: string, tools: readonly ToolDoc[]): string {
  return fill("judge_solvable", { query, tools: tools.map((t) => pyJsonDumps(t)).join("\n") });
}

export function judgePreferPrompt(query: string, a: { answer: string; trajectory: string }, b: { answer: string; trajectory: string }): string {
  return fill("judge_prefer", { query, answer_a: a.answer, trajectory_a: a.trajectory, answer_b: b.answer, trajectory_b: b.trajectory });
}

function field<T extends string>(reply: string, key: string, allowed: readonly T[]): T | null {
  const v = jsonObject(reply)?.[key];
  return typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : null;
}

/** Judge replies read strictly: exactly one JSON object with the field set to one of its values; else null. */
export const parseAnswerStatus = (reply: string) => field<AnswerStatus>(reply, "answer_status", ["Solved", "Unsolved", "Unsure"]);
export const parseTaskStatus = (reply: string) => field<TaskStatus>(reply, "task_status", ["Solvable", "Unsolvable", "Unsure"]);
export const parsePreference = (reply: string) => field<Preference>(reply, "preference", ["A", "B", "tie"]);

/** The JSON schemas of the judges' replies (`format`). */
export const JUDGE_SCHEMAS = {
  answer: { type: "object", properties: { reason: { type: "string" }, answer_status: { enum: ["Solved", "Unsolved", "Unsure"] } }, required: ["reason", "answer_status"] },
  solvable: { type: "object", properties: { reason: { type: "string" }, task_status: { enum: ["Solvable", "Unsolvable", "Unsure"] } }, required: ["reason", "task_status"] },
  prefer: { type: "object", properties: { reason: { type: "string" }, preference: { enum: ["A", "B", "tie"] } }, required: ["reason", "preference"] },
} as const;

/** A trajectory τ as judges read it: one `role: text` block per turn. */
export function renderTrajectory(turns: ReadonlyArray<{ from: string; value: string }>): string {
  return turns.map((t) => `${t.from}: ${t.value}`).join("\n");
}
