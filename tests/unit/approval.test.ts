/**
 * Approval answers in LangChain's human-in-the-loop format, the older alpha-umi answers and Agent Inbox's, read to
 * the same outcomes; the request is LangChain's HITLRequest (type-checked against langchain's own declaration).
 */
import type { HITLRequest, HITLResponse } from "langchain";
import { z } from "zod";
import { approvalRequest, readAnswer, reviewedCalls } from "../../src/approval.js";
import { parseAnswer } from "../../src/cli/approve.js";
import type { ToolSpec } from "../../src/tools/spec.js";

const FX = "exchange_rate_for_fx";
const tool: ToolSpec = {
  doc: { Name: FX, function: "An exchange rate.", input: { from: "currency", to: "currency" } },
  schema: z.object({ from: z.string().length(3), to: z.string().length(3) }),
  run: () => ({}),
};
const PROPOSED = '{"from": "EUR", "to": "JPY"}';
const read = (answer: unknown) => readAnswer(answer, tool, PROPOSED);
const rejected = (why: string) => ({ run: false, observation: JSON.stringify({ error: `The user rejected this call to ${FX}: ${why}`, response: "" }) });

describe("approval answers", () => {
  it("approve: LangChain's decision, the older answer and Agent Inbox's accept run the call as proposed", () => {
    const decisions: HITLResponse = { decisions: [{ type: "approve" }] };
    for (const answer of [decisions, { action: "approve" }, [{ type: "accept", args: null }]]) expect(read(answer)).toEqual({ run: true, actionInput: PROPOSED });
  });

  it("edit: edited_action (or LangChain JS's editedAction) runs with its args once they pass the tool's schema", () => {
    const args = { from: "EUR", to: "USD" };
    const ran = { run: true, actionInput: JSON.stringify(args) };
    expect(read({ decisions: [{ type: "edit", edited_action: { name: FX, args } }] })).toEqual(ran);
    const camel: HITLResponse = { decisions: [{ type: "edit", editedAction: { name: FX, args } }] };
    expect(read(camel)).toEqual(ran);
    expect(read({ action: "edit", args })).toEqual(ran);
    expect(read([{ type: "edit", args: { action: FX, args } }])).toEqual(ran);
    expect(read({ decisions: [{ type: "edit", edited_action: { name: FX, args: { from: "EURO", to: "USD" } } }] })).toEqual({
      error: expect.stringMatching(/^edit: invalid arguments for exchange_rate_for_fx: from: /),
    });
    expect(read({ decisions: [{ type: "edit", edited_action: { name: FX, args: [1] } }] })).toEqual({ error: "edit: args must be a JSON object" });
    expect(read({ decisions: [{ type: "edit", edited_action: { name: "calculate_for_calculator", args } }] })).toEqual({
      error: `edit: the tool cannot be changed: edited_action.name must be "${FX}", got "calculate_for_calculator"`,
    });
    expect(read({ decisions: [{ type: "edit" }] })).toEqual({ error: "edit: edited_action must be an object {name, args}" });
  });

  it("reject: the message (or the older reason, or Agent Inbox's response) is the observation the planner reads", () => {
    expect(read({ decisions: [{ type: "reject", message: "not today" }] })).toEqual(rejected("not today"));
    expect(read({ action: "reject", reason: "not today" })).toEqual(rejected("not today"));
    expect(read([{ type: "response", args: "not today" }])).toEqual(rejected("not today"));
    expect(read({ decisions: [{ type: "reject" }] })).toEqual(rejected("no reason given"));
    expect(read([{ type: "ignore", args: null }])).toEqual(rejected("ignored by the user"));
    expect(read({ decisions: [{ type: "reject", message: 5 }] })).toEqual({ error: "reject: message must be text, got 5" });
  });

  it("anything else — a word, a decision per call missing or extra, an unknown type — is not taken, saying what is expected", () => {
    for (const answer of ["approve", { decisions: [] }, { decisions: [{ type: "approve" }, { type: "approve" }] }, { decisions: [{ type: "maybe" }] }, null])
      expect(read(answer)).toEqual({ error: expect.stringMatching(/^(expected \{decisions: \[\{type: "approve"\}|decisions: expected one decision per action request)/) });
  });

  it("the CLI's answer lines are LangChain decisions", () => {
    expect(parseAnswer("y", FX)).toEqual({ type: "approve" });
    expect(parseAnswer('e {"from": "EUR", "to": "USD"}', FX)).toEqual({ type: "edit", edited_action: { name: FX, args: { from: "EUR", to: "USD" } } });
    expect(parseAnswer("r too expensive", FX)).toEqual({ type: "reject", message: "too expensive" });
    expect(read({ decisions: [parseAnswer("r too expensive", FX)] })).toEqual(rejected("too expensive"));
  });
});

describe("approval request", () => {
  it("is LangChain's HITLRequest under both casings, with the tool's JSON Schema for edits", () => {
    const request = approvalRequest(tool, { from: "EUR", to: "JPY" }, "I need the rate.");
    const camel: HITLRequest = request; // langchain's own declaration: the type check is the test
    const action = { name: FX, args: { from: "EUR", to: "JPY" }, description: "I need the rate." };
    expect(camel.actionRequests).toEqual([action]);
    expect(request.action_requests).toEqual([action]);
    expect(request.review_configs).toEqual([expect.objectContaining({ action_name: FX, allowed_decisions: ["approve", "edit", "reject"] })]);
    expect(request.reviewConfigs[0]).toMatchObject({ actionName: FX, allowedDecisions: ["approve", "edit", "reject"] });
    expect(request.review_configs[0]!.args_schema).toMatchObject({ type: "object", properties: { from: { type: "string" } }, required: ["from", "to"] });
    expect(approvalRequest(tool, {}, "why", "edit: bad").action_requests[0]!.description).toBe("Not taken: edit: bad\n\nwhy");
  });

  it("the older request of threads asked before is still read as the call under review", () => {
    expect(reviewedCalls({ kind: "tool_approval", tool: FX, args: { from: "EUR" }, rationale: "r", error: "e" })).toEqual([{ name: FX, args: { from: "EUR" }, description: "Not taken: e\n\nr" }]);
    expect(reviewedCalls({ question: "Which city?" })).toBeUndefined();
  });
});
