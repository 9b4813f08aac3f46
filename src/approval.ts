/**
 * Human approval of tool calls. With `approve: all` or a list of tool names, the tool node stops the graph with
 * LangGraph's `interrupt()` before such a call runs, showing an {@link ApprovalRequest}; the thread (checkpointed) waits
 * until it is resumed with `new Command({ resume: answer })`, in this process or any other.
 *
 * Answers: `{ action: "approve" }` runs the call as proposed; `{ action: "edit", args }` runs it with new arguments,
 * checked against the tool's schema first — arguments that do not fit are not run: the same call is asked again, with
 * the reason in `error` (a person's typo should not cost the agent a step); `{ action: "reject", reason }` does not run
 * it, and the planner reads the reason as the call's observation. Anything else is asked again likewise.
 */
import { interrupt, type StateSnapshot } from "@langchain/langgraph";
import { UserError } from "./errors.js";
import type { ApprovePolicy, Turn } from "./state.js";
import type { ToolSpec } from "./tools/spec.js";

export { unionApprove, type ApprovePolicy } from "./state.js";

export interface ApprovalRequest {
  kind: "tool_approval";
  tool: string;
  /** The proposed arguments: the caller's JSON object, or its raw text when it is not valid JSON. */
  args: unknown;
  /** The planner's last turn: why it wants this call. */
  rationale: string;
  /** Why the previous answer to this request was not taken (e.g. edited arguments that fail the schema). */
  error?: string;
}

export type ApprovalAnswer = { action: "approve" } | { action: "edit"; args: Record<string, unknown> } | { action: "reject"; reason?: string };

/**
 * Read `approve` from a configuration value: `none`/unset, `all`, a comma-separated string or an array of tool names.
 * A name that is not a tool is an error (a typo must not silently approve everything).
 *
 * @example parseApprovePolicy("get_capital,convert", ["get_capital", "convert", "search"]) // ["get_capital", "convert"]
 */
export function parseApprovePolicy(value: unknown, toolNames?: readonly string[]): ApprovePolicy {
  if (value === undefined || value === null || value === "" || value === "none") return "none";
  if (value === "all" || value === true) return "all";
  const names = typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string"))
    throw new UserError(`configuration approve: expected none, all or tool names, got ${JSON.stringify(value)}`);
  const unknown = toolNames ? (names as string[]).filter((n) => !toolNames.includes(n)) : [];
  if (unknown.length) throw new UserError(`configuration approve: no tool named ${unknown.map((n) => `"${n}"`).join(", ")} (tools: ${toolNames!.join(", ") || "none"})`);
  return names.length ? (names as string[]) : "none";
}

export function needsApproval(policy: ApprovePolicy, tool: string): boolean {
  return policy === "all" || (Array.isArray(policy) && policy.includes(tool));
}

/** What the person decided, once the answer is valid: the Action Input to run, or a rejection's observation. */
export type ApprovalOutcome = { run: true; actionInput: string } | { run: false; observation: string };

function proposedArgs(actionInput: string): unknown {
  try {
    return actionInput.trim() === "" ? {} : JSON.parse(actionInput);
  } catch {
    return actionInput;
  }
}

/** The answer as an outcome, or why it cannot be taken. */
function check(answer: unknown, tool: ToolSpec, actionInput: string): ApprovalOutcome | { error: string } {
  const a = (answer ?? {}) as { action?: unknown; args?: unknown; reason?: unknown };
  if (a.action === "approve") return { run: true, actionInput };
  if (a.action === "reject") {
    const reason = typeof a.reason === "string" && a.reason.trim() ? a.reason.trim() : "no reason given";
    return { run: false, observation: JSON.stringify({ error: `The user rejected this call to ${tool.doc.Name}: ${reason}`, response: "" }) };
  }
  if (a.action === "edit") {
    if (a.args === null || typeof a.args !== "object" || Array.isArray(a.args)) return { error: "edit: args must be a JSON object" };
    if (tool.schema) {
      const parsed = tool.schema.safeParse(a.args);
      if (!parsed.success)
        return { error: `edit: invalid arguments for ${tool.doc.Name}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ")}` };
    }
    return { run: true, actionInput: JSON.stringify(a.args) };
  }
  return { error: `expected {action: "approve"}, {action: "edit", args} or {action: "reject", reason}, got ${JSON.stringify(answer)}` };
}

/**
 * Ask for approval of one call from inside a graph node (LangGraph `interrupt()`), until a valid answer comes back.
 * Every question asked is one interrupt; on resume LangGraph replays the earlier answers in order.
 */
export function askApproval(tool: ToolSpec, actionInput: string, turns: readonly Turn[]): ApprovalOutcome {
  const rationale = [...turns].reverse().find((t) => t.from === "assistant")?.value ?? "";
  const request: ApprovalRequest = { kind: "tool_approval", tool: tool.doc.Name, args: proposedArgs(actionInput), rationale };
  for (;;) {
    const outcome = check(interrupt<ApprovalRequest, unknown>(request), tool, actionInput);
    if (!("error" in outcome)) return outcome;
    request.error = outcome.error;
  }
}

export function isApprovalRequest(v: unknown): v is ApprovalRequest {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "tool_approval";
}

/**
 * The value of the first interrupt a thread waits on (an approval request or a tool's own question), if any.
 *
 * @example
 * const asked = pendingInterrupt(await graph.getState(config));
 * if (isApprovalRequest(asked?.value)) await graph.invoke(new Command({ resume: { action: "approve" } }), config);
 */
export function pendingInterrupt(snapshot: Pick<StateSnapshot, "tasks">): { value: unknown } | undefined {
  for (const task of snapshot.tasks) for (const i of task.interrupts ?? []) return { value: i.value };
  return undefined;
}
