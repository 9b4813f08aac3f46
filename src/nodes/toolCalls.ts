import type { ToolCall } from "@langchain/core/messages/tool";
import { unsafeForCheckpoint } from "../stringify.js";

/** Chat-view ids pairing a call with its observation: the position of the caller turn in τ makes them stable across resumes. */
export function toolCallId(turnIndex: number): string {
  return `call_${turnIndex}`;
}

/** The chat-view message of a planner step; the caller completes the same message (by id) with its tool call. */
export function stepMessageId(plannerTurnIndex: number): string {
  return `step_${plannerTurnIndex}`;
}

/**
 * The call as a chat-view tool call. Arguments that are not a JSON object are shown raw, and so are objects the
 * checkpoint cannot store faithfully: nested deeper than its serializer's stack, or with a `__proto__` key it drops.
 */
export function toolCallOf(turnIndex: number, action: string, actionInput: string): ToolCall {
  let args: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(actionInput);
    const object = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && !unsafeForCheckpoint(parsed);
    args = object ? (parsed as Record<string, unknown>) : { input: actionInput };
  } catch {
    args = { input: actionInput };
  }
  return { id: toolCallId(turnIndex), name: action, args, type: "tool_call" };
}
