/**
 * The call invariant (src/nodes/calls.ts): approval fixed at proposal from both policies, and which starts of a settled
 * call run — this process's first start, a start after the tool's own interrupt, an idempotent tool — and which are in
 * flight: a start in another process, or again here after a start that did not finish.
 */
import { askedCall, finished, proposedCall, settledCall, startCall } from "../../src/nodes/calls.js";
import type { AgentStateType } from "../../src/state.js";
import type { ToolSpec } from "../../src/tools/spec.js";

const tool = (idempotent = false): ToolSpec => ({ doc: { Name: "pay_for_bank", function: "Pays.", input: {} }, idempotent, run: () => "paid" });
const state = (approve: AgentStateType["approve"]) => ({ approve }) as AgentStateType;
const inFlight = (t: ToolSpec) => JSON.stringify({
  error: `${t.doc.Name} was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
  response: "",
});
/** The same call as another process settled it: its checkpoint names that process. */
const fromAnotherProcess = (call: ReturnType<typeof settledCall>) => ({ ...call, run: { ...call.run!, attempt: `another-process/${call.run!.attempt.split("/")[1]}` } });

describe("the call invariant", () => {
  it("a call proposed waits for a person when the thread's policy or the run's names its tool, else it is settled to run as proposed", () => {
    const call = { turn: 2, action: "pay_for_bank", actionInput: "{}" };
    expect(proposedCall(state(["pay_for_bank"]), { approve: "none" }, call)).toEqual({ turn: 2, approve: true });
    expect(proposedCall(state("none"), { approve: "all" }, call)).toEqual({ turn: 2, approve: true });
    expect(proposedCall(state(["other"]), { approve: "none" }, call)).toMatchObject({ turn: 2, approve: false, run: { actionInput: "{}" } });
  });

  it("settled here: the first start runs; a start after one that did not finish (an aborted run) is in flight; after it finished, runs", () => {
    const t = tool();
    const call = settledCall(2, false, { run: true, actionInput: "{}" });
    expect(startCall(call, t)).toBeUndefined();
    expect(startCall(call, t)).toBe(inFlight(t));
    const next = settledCall(2, false, { run: true, actionInput: "{}" });
    expect(startCall(next, t)).toBeUndefined();
    finished(next);
    expect(startCall(next, t)).toBeUndefined();
  });

  it("settled by another process: in flight, unless its tool is idempotent or it stopped at an interrupt of its own", () => {
    const call = fromAnotherProcess(settledCall(2, false, { run: true, actionInput: "{}" }));
    expect(startCall(call, tool())).toBe(inFlight(tool()));
    expect(startCall(call, tool(true))).toBeUndefined();
    expect(startCall(askedCall(call), tool())).toBeUndefined();
  });

  it("a rejected call is settled with its observation and nothing to run", () => {
    expect(settledCall(2, true, { run: false, observation: "no" })).toEqual({ turn: 2, approve: true, observation: "no" });
  });
});
