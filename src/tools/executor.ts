import type { ToolSpec } from "./spec.js";

export interface ExecutorOptions {
  timeoutMs: number;
  /** Observations longer than this are cut and end with `truncationMarker`. */
  maxObservationChars: number;
  truncationMarker?: string;
  signal?: AbortSignal;
}

export interface ToolCallResult {
  observation: string;
  ok: boolean;
  /** Why the call failed, for logs; the observation already tells the agent. */
  error?: "unknown_tool" | "invalid_json" | "invalid_arguments" | "tool_error" | "timeout";
}

/** An error observation in ToolBench's shape, so the planner sees what it was trained to recover from. */
function errorObservation(message: string): string {
  return JSON.stringify({ error: message, response: "" });
}

export function truncate(text: string, max: number, marker = "...[truncated {n} chars]"): string {
  if (text.length <= max) return text;
  return text.slice(0, max) + marker.replace("{n}", String(text.length - max));
}

function stringify(result: unknown): string {
  if (typeof result === "string") return result;
  if (result === undefined) return "";
  return JSON.stringify(result);
}

/**
 * Run one call the caller wrote. Every failure (unknown name, bad JSON, schema mismatch, exception, timeout) is an
 * observation the planner can react to, never an exception.
 */
export async function executeCall(tools: readonly ToolSpec[], action: string, actionInput: string, opts: ExecutorOptions): Promise<ToolCallResult> {
  const tool = tools.find((t) => t.doc.Name === action);
  if (!tool)
    return {
      ok: false,
      error: "unknown_tool",
      observation: errorObservation(`No such function name: ${action}. Available: ${tools.map((t) => t.doc.Name).join(", ")}`),
    };
  let args: unknown;
  try {
    args = actionInput.trim() === "" ? {} : JSON.parse(actionInput);
  } catch (e) {
    return { ok: false, error: "invalid_json", observation: errorObservation(`Action Input for ${action} is not valid JSON: ${(e as Error).message}`) };
  }
  if (args === null || typeof args !== "object" || Array.isArray(args))
    return { ok: false, error: "invalid_json", observation: errorObservation(`Action Input for ${action} must be a JSON object`) };
  if (tool.schema) {
    const parsed = tool.schema.safeParse(args);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ");
      return { ok: false, error: "invalid_arguments", observation: errorObservation(`Invalid arguments for ${action}: ${detail}`) };
    }
    args = parsed.data;
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new TimeoutError());
      }, opts.timeoutMs);
    });
    const result = await Promise.race([Promise.resolve().then(() => tool.run(args as Record<string, unknown>, { signal: controller.signal })), timeout]);
    return { ok: true, observation: truncate(stringify(result), opts.maxObservationChars, opts.truncationMarker) };
  } catch (e) {
    if (e instanceof TimeoutError)
      return { ok: false, error: "timeout", observation: errorObservation(`Timeout: ${action} did not answer within ${opts.timeoutMs} ms`) };
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: "tool_error", observation: truncate(errorObservation(`${action} failed: ${msg}`), opts.maxObservationChars, opts.truncationMarker) };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

class TimeoutError extends Error {}
