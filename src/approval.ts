/**
 * Human approval of tool calls. With `approve: all` or a list of tool names, the tool node stops the graph with
 * LangGraph's `interrupt()` before such a call runs, showing LangChain's human-in-the-loop request
 * ({@link ApprovalRequest}: what Agent Chat UI and Agent Inbox render with approve / edit / reject buttons); the thread
 * (checkpointed) waits until it is resumed with `new Command({ resume: answer })`, in this process or any other.
 *
 * Answers ({@link ApprovalAnswer}), one decision per action request, in order: `{decisions: [{type: "approve"}]}` runs
 * the call as proposed; `{type: "edit", edited_action: {name, args}}` runs it with new arguments, checked against the
 * tool's schema first — arguments that do not fit are not run: the same call is asked again, the reason leading its
 * description (a person's typo should not cost the agent a step); `{type: "reject", message}` does not run it, and the
 * planner reads the message as the call's observation. The older `{action: "approve" | "edit" | "reject"}` answers
 * (threads asked before, the CLI) and Agent Inbox's `[{type: "accept" | "edit" | "response" | "ignore", args}]` are
 * read the same way. Anything else is asked again likewise.
 */
import { interrupt, type StateSnapshot } from "@langchain/langgraph";
import { z } from "zod";
import { UserError } from "./errors.js";
import { planRationale } from "./protocol/parse.js";
import type { ApprovePolicy, Turn } from "./state.js";
import type { ToolSpec } from "./tools/spec.js";

export { unionApprove, type ApprovePolicy } from "./state.js";

export type ReviewDecisionType = "approve" | "edit" | "reject";

/** One call waiting for review (LangChain's `ActionRequest`). */
export interface ActionRequest {
  name: string;
  args: Record<string, unknown>;
  /** The planner's rationale for the call; led by why the previous answer was not taken, when one was not. */
  description?: string;
}

/** What a reviewer may answer for one action (LangChain's `ReviewConfig`), under both casings (see ApprovalRequest). */
export interface ReviewConfig {
  action_name: string;
  allowed_decisions: ReviewDecisionType[];
  /** The tool's arguments as JSON Schema, when it has a schema: what an edit is checked against. */
  args_schema?: Record<string, unknown>;
  actionName: string;
  allowedDecisions: ReviewDecisionType[];
  argsSchema?: Record<string, unknown>;
}

/**
 * LangChain's human-in-the-loop request (humanInTheLoopMiddleware's `HITLRequest`). Python LangChain writes it in
 * snake_case, which Agent Chat UI and Agent Inbox read; LangChain JS in camelCase: both are written, as the LangGraph
 * SDK's own normaliser (normalizeHitlInterruptPayload) exposes them, so either reader finds its keys.
 */
export interface ApprovalRequest {
  action_requests: ActionRequest[];
  review_configs: ReviewConfig[];
  actionRequests: ActionRequest[];
  reviewConfigs: ReviewConfig[];
}

/** LangChain's `Decision` (named apart from the planner's); an edit's action may come camelCased (`editedAction`) from LangChain JS clients. */
export type ReviewDecision =
  | { type: "approve" }
  | { type: "edit"; edited_action: { name: string; args: Record<string, unknown> } }
  | { type: "reject"; message?: string };

/** LangChain's `HITLResponse`, one decision per action request in order; or the older alpha-umi answer. */
export type ApprovalAnswer =
  | { decisions: ReviewDecision[] }
  | { action: "approve" }
  | { action: "edit"; args: Record<string, unknown> }
  | { action: "reject"; reason?: string };

const DECISIONS: ReviewDecisionType[] = ["approve", "edit", "reject"];

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

/** The call under review, as its chat view shows it (`args`) and as the caller wrote it (`actionInput`). */
export interface ProposedCall {
  args: Record<string, unknown>;
  actionInput: string;
}

type Answered = { type: "approve" } | { type: "edit"; name?: unknown; args: unknown } | { type: "reject"; message?: unknown };

const EXPECTED =
  'expected {decisions: [{type: "approve"} | {type: "edit", edited_action: {name, args}} | {type: "reject", message}]} (or {action: "approve" | "edit" | "reject"})';

const record = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The one decision an answer gives for a single action request, in any of the formats read, or why there is none. */
function decisionOf(answer: unknown): Answered | { error: string } {
  const list = record(answer) && "decisions" in answer ? answer.decisions : Array.isArray(answer) ? answer : undefined;
  if (list !== undefined) {
    if (!Array.isArray(list) || list.length !== 1) return { error: `decisions: expected one decision per action request (1), got ${JSON.stringify(list)}` };
    const d = list[0] as unknown;
    if (!record(d)) return { error: `${EXPECTED}, got ${JSON.stringify(answer)}` };
    if (d.type === "approve" || d.type === "accept") return { type: "approve" };
    if (d.type === "reject" || d.type === "response") return { type: "reject", message: d.type === "reject" ? d.message : d.args };
    if (d.type === "ignore") return { type: "reject", message: "ignored by the user" };
    if (d.type === "edit") {
      // LangChain's edited_action / editedAction {name, args}; Agent Inbox's args {action, args}.
      const edited = d.edited_action ?? d.editedAction ?? d.args;
      if (!record(edited)) return { error: "edit: edited_action must be an object {name, args}" };
      return { type: "edit", name: edited.name ?? edited.action, args: edited.args };
    }
    return { error: `${EXPECTED}, got ${JSON.stringify(answer)}` };
  }
  const a = record(answer) ? answer : {};
  if (a.action === "approve") return { type: "approve" };
  if (a.action === "reject") return { type: "reject", message: a.reason };
  if (a.action === "edit") return { type: "edit", args: a.args };
  return { error: `${EXPECTED}, got ${JSON.stringify(answer)}` };
}

/** An answer about the call to `tool` as an outcome, or why it cannot be taken. */
export function readAnswer(answer: unknown, tool: ToolSpec, actionInput: string): ApprovalOutcome | { error: string } {
  const d = decisionOf(answer);
  if ("error" in d) return d;
  if (d.type === "approve") return { run: true, actionInput };
  if (d.type === "reject") {
    if (d.message !== undefined && d.message !== null && typeof d.message !== "string") return { error: `reject: message must be text, got ${JSON.stringify(d.message)}` };
    const reason = typeof d.message === "string" && d.message.trim() ? d.message.trim() : "no reason given";
    return { run: false, observation: JSON.stringify({ error: `The user rejected this call to ${tool.doc.Name}: ${reason}`, response: "" }) };
  }
  // τ keeps the proposed call, whose observation this is: the tool cannot change, only its arguments.
  if (d.name !== undefined && d.name !== tool.doc.Name) return { error: `edit: the tool cannot be changed: edited_action.name must be "${tool.doc.Name}", got ${JSON.stringify(d.name)}` };
  if (!record(d.args)) return { error: "edit: args must be a JSON object" };
  if (tool.schema) {
    const parsed = tool.schema.safeParse(d.args);
    if (!parsed.success)
      return { error: `edit: invalid arguments for ${tool.doc.Name}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ")}` };
  }
  return { run: true, actionInput: JSON.stringify(d.args) };
}

/** The tool's arguments as JSON Schema for an editing UI, when its schema has one. */
function argsSchema(tool: ToolSpec): Record<string, unknown> | undefined {
  if (!tool.schema) return undefined;
  try {
    return z.toJSONSchema(tool.schema, { unrepresentable: "any", io: "input" }) as Record<string, unknown>;
  } catch {
    return undefined; // e.g. a schema from another zod major: edits are still checked, the UI just gets no form hints
  }
}

const NOT_TAKEN = "Not taken: ";

/** A description: the rationale, led by why the previous answer was not taken (its first paragraph), if one was not. */
const describe = (rationale: string, notTaken?: string) => (notTaken ? `${NOT_TAKEN}${notTaken}\n\n${rationale}` : rationale);

/** Why the previous answer about this call was not taken, if it was not. */
export function notTakenOf(call: ActionRequest): string | undefined {
  return call.description?.startsWith(NOT_TAKEN) ? call.description.slice(NOT_TAKEN.length).split("\n\n")[0] : undefined;
}

/** The request for one call; `notTaken` says why the previous answer (or message) was not taken. */
export function approvalRequest(tool: ToolSpec, args: Record<string, unknown>, rationale: string, notTaken?: string): ApprovalRequest {
  const description = describe(rationale, notTaken);
  const schema = argsSchema(tool);
  const actions: ActionRequest[] = [{ name: tool.doc.Name, args, description }];
  const configs: ReviewConfig[] = [
    { action_name: tool.doc.Name, allowed_decisions: DECISIONS, ...(schema ? { args_schema: schema } : {}), actionName: tool.doc.Name, allowedDecisions: DECISIONS, ...(schema ? { argsSchema: schema } : {}) },
  ];
  return { action_requests: actions, review_configs: configs, actionRequests: actions, reviewConfigs: configs };
}

/**
 * Ask for approval of one call from inside a graph node (LangGraph `interrupt()`), until a valid answer comes back.
 * Every question asked is one interrupt; on resume LangGraph replays the earlier answers in order. `notTaken` leads
 * the first question's description (a message that came instead of an answer).
 */
export function askApproval(tool: ToolSpec, call: ProposedCall, turns: readonly Turn[], notTaken?: string): ApprovalOutcome {
  const plan = [...turns].reverse().find((t) => t.from === "assistant")?.value;
  const rationale = plan === undefined ? "" : planRationale(plan);
  for (let error = notTaken; ; ) {
    const outcome = readAnswer(interrupt<ApprovalRequest, unknown>(approvalRequest(tool, call.args, rationale, error)), tool, call.actionInput);
    if (!("error" in outcome)) return outcome;
    error = outcome.error;
  }
}

/** The calls an interrupt value asks a person to review: LangChain's request, or the older `{kind: "tool_approval"}` one of threads asked before. */
export function reviewedCalls(v: unknown): ActionRequest[] | undefined {
  if (!record(v)) return undefined;
  const list = v.action_requests ?? v.actionRequests;
  if (Array.isArray(list)) return list as ActionRequest[];
  if (v.kind !== "tool_approval") return undefined;
  const rationale = typeof v.rationale === "string" ? v.rationale : "";
  return [{ name: String(v.tool), args: record(v.args) ? v.args : { input: v.args }, description: describe(rationale, typeof v.error === "string" ? v.error : undefined) }];
}

export function isApprovalRequest(v: unknown): boolean {
  return reviewedCalls(v) !== undefined;
}

/**
 * The value of the first interrupt a thread waits on (an approval request or a tool's own question), if any.
 *
 * @example
 * const asked = pendingInterrupt(await graph.getState(config));
 * if (isApprovalRequest(asked?.value)) await graph.invoke(new Command({ resume: { decisions: [{ type: "approve" }] } }), config);
 */
export function pendingInterrupt(snapshot: Pick<StateSnapshot, "tasks">): { value: unknown } | undefined {
  for (const task of snapshot.tasks) for (const i of task.interrupts ?? []) return { value: i.value };
  return undefined;
}
