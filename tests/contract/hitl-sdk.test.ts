/**
 * Contract: the LangGraph SDK's human-in-the-loop normalisers (`@langchain/langgraph-sdk/ui`), which useStream and
 * Agent Chat UI apply to what alpha-umi's approval (src/approval.ts, an adapter to LangChain's HITL format) asks and
 * to what they answer: a request survives the SDK's reading with every key alpha-umi wrote, and a JS client's edit
 * decision reaches the server in a form readAnswer takes.
 */
import { normalizeHitlInterruptPayload, normalizeHitlResponseForServer } from "@langchain/langgraph-sdk/ui";
import { z } from "zod";
import { approvalRequest, readAnswer } from "../../src/approval.js";
import type { ToolSpec } from "../../src/tools/spec.js";

const convert: ToolSpec = {
  doc: { Name: "convert", function: "Convert an amount between currencies.", input: { amount: "number", to: "string" } },
  schema: z.object({ amount: z.number(), to: z.string() }),
  run: () => "{}",
};

describe("LangGraph SDK contract: human-in-the-loop payloads", () => {
  it("normalizeHitlInterruptPayload keeps every key of alpha-umi's approval request, with its value, in both casings", () => {
    const asked = approvalRequest(convert, { amount: 250, to: "JPY" }, "The user wants yen.");
    const read = normalizeHitlInterruptPayload(asked) as Record<string, unknown>;
    expect(read).toMatchObject(JSON.parse(JSON.stringify(asked)));
    expect(read.actionRequests).toEqual(read.action_requests);
    expect(read.reviewConfigs).toEqual(read.review_configs);
    expect((read.actionRequests as { name: string }[])[0]!.name).toBe("convert");
  });

  it("normalizeHitlResponseForServer turns a JS client's camelCase edit into one readAnswer runs with the edited arguments", () => {
    const sent = normalizeHitlResponseForServer({ decisions: [{ type: "edit", editedAction: { name: "convert", args: { amount: 300, to: "JPY" } } }] });
    expect(readAnswer(sent, convert, '{"amount": 250, "to": "JPY"}')).toEqual({ run: true, actionInput: '{"amount":300,"to":"JPY"}' });
    const approved = normalizeHitlResponseForServer({ decisions: [{ type: "approve" }] });
    expect(readAnswer(approved, convert, '{"amount": 250, "to": "JPY"}')).toEqual({ run: true, actionInput: '{"amount": 250, "to": "JPY"}' });
  });
});
