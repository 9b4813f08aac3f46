import { isGraphBubbleUp } from "@langchain/langgraph";
import type { ToolSpec } from "./spec.js";
import { errorMessage, toolResultText, truncate, wellFormed } from "../stringify.js";

export { truncate };

export interface ExecutorOptions {
  timeoutMs: number;
  /** Observations longer than this are cut and end with `truncationMarker`: results and error observations alike. */
  maxObservationChars: number;
  truncationMarker?: string;
  signal?: AbortSignal;
}

export interface ToolCallResult {
  observation: string;
  ok: boolean;
  /** Why the call failed, for logs; the observation already tells the agent. */
  error?: "unknown_tool" | "invalid_json" | "invalid_arguments" | "tool_error" | "timeout" | "aborted";
}

/** How far past the cap a result is walked to count what was cut; beyond it the count is a lower bound. */
const COUNT_BEYOND_CAP = 1_000_000;

/**
 * An error observation in ToolBench's shape, so the planner sees what it was trained to recover from. Over the cap,
 * the message is cut inside the envelope, so the observation stays JSON.
 */
function errorObservation(message: string, opts: ExecutorOptions): string {
  const json = (m: string) => JSON.stringify({ error: m, response: "" });
  const max = opts.maxObservationChars;
  const full = json(message);
  if (full.length <= max) return full;
  // A character takes 1 to 6 JSON characters: shrink the kept part until its JSON fits (the excess shrinks by ≥ 1/6 a round).
  let keep = Math.min(message.length - 1, max);
  while (keep > 0) {
    const over = json(message.slice(0, keep)).length - max;
    if (over <= 0) return json(truncate(message, keep, opts.truncationMarker));
    keep -= Math.ceil(over / 6);
  }
  // Only a cap shorter than the envelope itself gets here.
  return truncate(full, max, opts.truncationMarker);
}

/** The observation of a result: bounded before it is built, capped, and well-formed for every checkpointer. */
function resultObservation(result: unknown, opts: ExecutorOptions): string {
  const text = toolResultText(result, opts.maxObservationChars + COUNT_BEYOND_CAP);
  return wellFormed(truncate(text, opts.maxObservationChars, opts.truncationMarker));
}

/** LangGraph's interrupt (human approval inside a tool) and parent commands must reach the graph, not become observations. */
function isBubbleUp(e: unknown): boolean {
  try {
    return e !== null && typeof e === "object" && isGraphBubbleUp(e);
  } catch {
    return false;
  }
}

/**
 * Run one call the caller wrote. Every failure (unknown name, bad JSON, schema mismatch, exception, timeout) is an
 * observation the planner can react to, never an exception — whatever the tool returns or throws. Only LangGraph's own
 * control flow (an `interrupt()` inside the tool) and an abort of the run pass through.
 *
 * @example
 * const { observation, ok } = await executeCall(tools, "calculate_for_calculator", '{"expression": "2 * 3"}', { timeoutMs: 10_000, maxObservationChars: 1024 });
 */
export async function executeCall(tools: readonly ToolSpec[], action: string, actionInput: string, opts: ExecutorOptions): Promise<ToolCallResult> {
  const failed = (error: ToolCallResult["error"], message: string): ToolCallResult => ({ ok: false, error, observation: errorObservation(message, opts) });
  const tool = tools.find((t) => t.doc.Name === action);
  if (!tool) return failed("unknown_tool", `No such function name: ${action}. Available: ${tools.map((t) => t.doc.Name).join(", ")}`);
  let args: unknown;
  try {
    args = actionInput.trim() === "" ? {} : JSON.parse(actionInput);
  } catch (e) {
    return failed("invalid_json", `Action Input for ${action} is not valid JSON: ${errorMessage(e)}`);
  }
  if (args === null || typeof args !== "object" || Array.isArray(args)) return failed("invalid_json", `Action Input for ${action} must be a JSON object`);
  if (tool.schema) {
    let parsed: ReturnType<NonNullable<ToolSpec["schema"]>["safeParse"]>;
    try {
      parsed = tool.schema.safeParse(args);
    } catch (e) {
      // A schema can throw on hostile input (a depth-7000 object overflows a recursive one).
      return failed("invalid_arguments", `Invalid arguments for ${action}: ${errorMessage(e)}`);
    }
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ");
      return failed("invalid_arguments", `Invalid arguments for ${action}: ${detail}`);
    }
    args = parsed.data;
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(TIMED_OUT);
      }, opts.timeoutMs);
      // The run was aborted: the tool's signal fires, and the run does not wait for a tool that ignores it.
      onAbort = () => {
        controller.abort();
        reject(ABORTED);
      };
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
    stopped.catch(() => undefined);
    const result = await Promise.race([Promise.resolve().then(() => tool.run(args as Record<string, unknown>, { signal: controller.signal, input: actionInput })), stopped]);
    return { ok: true, observation: resultObservation(result, opts) };
  } catch (e) {
    if (isBubbleUp(e)) throw e;
    if (e === TIMED_OUT) return failed("timeout", `Timeout: ${action} did not answer within ${opts.timeoutMs} ms`);
    if (e === ABORTED) return failed("aborted", `Aborted: the run was stopped while ${action} was running`);
    return failed("tool_error", `${action} failed: ${errorMessage(e)}`);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
  }
}

// Compared by identity: `instanceof` on what a tool threw can itself throw (a revoked proxy).
const TIMED_OUT = new Error("tool timeout");
const ABORTED = new Error("run aborted");
