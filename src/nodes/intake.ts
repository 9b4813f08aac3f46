import { HumanMessage, RemoveMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { ensureConfiguration } from "../configurable.js";
import { toolsOf } from "../runCache.js";
import { contentText } from "../models/generate.js";
import { toolDocs } from "../tools/spec.js";
import type { AgentStateType, AgentUpdate, PendingCall } from "../state.js";
import { toolCallId } from "./toolCalls.js";

/** Whether a thread's run ended: only then does it take a new question. */
export function takesNewQuestion(status: AgentStateType["status"]["status"]): boolean {
  return status === "finished" || status === "gave_up";
}

/**
 * The questions this invocation brings that τ does not hold yet. Every user turn of τ comes from one human message
 * (intake writes the message of an `instruction`), so the human messages past that count are new; counting, rather
 * than looking at the last message, keeps a thread whose first step failed from reading its own instruction as new.
 * An `instruction` is new when no user turn asked it: passing the same input again resumes.
 */
function newQuestions(state: AgentStateType): { texts: string[]; fresh: BaseMessage[]; instruction?: string } {
  const asked = state.turns.filter((t) => t.from === "user").map((t) => t.value);
  const fresh = state.messages.filter((m) => HumanMessage.isInstance(m)).slice(asked.length);
  const texts = fresh.map((m) => contentText(m));
  const instruction = state.instruction !== "" && !asked.includes(state.instruction) && !texts.includes(state.instruction) ? state.instruction : undefined;
  return { texts: instruction === undefined ? texts : [instruction, ...texts], fresh, instruction };
}

/** The call τ ends with when it waits for a person's decision (asked, not yet answered). */
function awaitingApproval(state: AgentStateType): PendingCall | null {
  const call = state.call;
  return call && call.approve && !call.run && call.observation === undefined && call.turn === state.turns.length - 1 ? call : null;
}

const removed = (messages: BaseMessage[]) => messages.flatMap((m) => (m.id ? [new RemoveMessage({ id: m.id })] : []));

/**
 * Entry of every invocation. Starts τ from `instruction` or human messages, takes a new question in a thread whose
 * run ended (finished or gave up), and re-opens a failed run so that invoking the thread again — with no input or the
 * same input — retries from where τ stands, never appending the instruction again. A new question while the run is
 * unfinished (failed or interrupted) is refused: the run ends `failed` saying so, the question is left out of the
 * thread, and the run can still be resumed. A message that comes while a call waits for approval (a person typing
 * "approve" in a chat) is not an answer: it is left out and the same approval is asked again, saying why.
 */
export async function intakeNode(state: AgentStateType, config: RunnableConfig): Promise<AgentUpdate> {
  const cfg = ensureConfiguration(config);
  // The thread keeps every approval policy it ran under: a later fork or resume without configuration still asks.
  const update: AgentUpdate = cfg.approve === "none" ? {} : { approve: cfg.approve };
  if (state.tools.length === 0) {
    try {
      update.tools = toolDocs(await toolsOf(cfg));
    } catch (err) {
      return { status: { status: "failed", reason: `tools: ${err instanceof Error ? err.message : String(err)}` } };
    }
  }
  const started = state.turns.length > 0;
  const { texts, fresh, instruction } = newQuestions(state);
  if (texts.length === 0) {
    if (!started) return { ...update, status: { status: "failed", reason: "no instruction: pass `instruction` or a human message" } };
    return state.status.status === "failed" ? { ...update, status: { status: "running" } } : update;
  }
  const first = state.turns.find((t) => t.from === "user")?.value ?? "";
  const waiting = started ? awaitingApproval(state) : null;
  if (waiting) {
    // Chat clients answer a tool call they see unanswered with a placeholder tool message (Agent Chat UI): not its result.
    const placeholders = state.messages.filter((m) => ToolMessage.isInstance(m) && m.tool_call_id === toolCallId(waiting.turn));
    const said = texts.join(" ");
    return {
      ...update,
      ...(instruction !== undefined ? { instruction: first } : {}),
      messages: removed([...fresh, ...placeholders]),
      call: {
        ...waiting,
        notTaken: `a message (${JSON.stringify(said.length > 80 ? said.slice(0, 80) + "…" : said)}) came instead of an answer: answer this call with a decision — approve, edit or reject (a reject's message is what the planner reads)`,
      },
    };
  }
  if (started && !takesNewQuestion(state.status.status)) {
    const was = state.status.reason ? `${state.status.status}: ${state.status.reason}` : state.status.status;
    return {
      ...update,
      // The refused question leaves no trace that a later resume could read as new.
      ...(instruction !== undefined ? { instruction: first } : {}),
      messages: removed(fresh),
      status: {
        status: "failed",
        reason: `a new question arrived while the thread's run is unfinished (${was}); resume it first (invoke with no new input), then ask`,
      },
      decision: null,
    };
  }
  return {
    ...update,
    // The thread's instruction stays its first question (what the training export writes); follow-ups are user turns.
    instruction: started ? first : texts[0],
    turns: texts.map((value) => ({ from: "user" as const, value })),
    status: { status: "running" },
    ...(instruction !== undefined ? { messages: [new HumanMessage(instruction)] } : {}),
    ...(started ? { answer: null, decision: null, steps: 0 } : {}),
  };
}
