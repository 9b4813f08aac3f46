import { createInterface } from "node:readline";
import { notTakenOf, reviewedCalls, type ApprovePolicy, type ReviewDecision } from "../approval.js";
import { UserError } from "../errors.js";

const HELP = "answer y (approve), e {JSON arguments} (edit) or r REASON (reject)";

/** `--approve` alone covers every tool; with names, those tools (each must exist). */
export function approvePolicyOption(value: true | string[] | undefined, toolNames: readonly string[]): ApprovePolicy {
  if (value === undefined) return "none";
  if (value === true) return "all";
  const unknown = value.filter((n) => !toolNames.includes(n));
  if (unknown.length) throw new UserError(`--approve: no tool named ${unknown.join(", ")} (tools: ${toolNames.join(", ")})`);
  return value;
}

/** One answer line about a call to `tool` → LangChain's decision, or why it is not one. */
export function parseAnswer(line: string, tool: string): ReviewDecision | { error: string } {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
  const word = m?.[1]?.toLowerCase() ?? "";
  const rest = m?.[2]?.trim() ?? "";
  if (["y", "yes", "a", "approve"].includes(word) && !rest) return { type: "approve" };
  if (["r", "reject", "n", "no"].includes(word)) return { type: "reject", message: rest || "rejected by the user" };
  if (["e", "edit"].includes(word)) {
    try {
      const args = JSON.parse(rest) as unknown;
      if (args !== null && typeof args === "object" && !Array.isArray(args)) return { type: "edit", edited_action: { name: tool, args: args as Record<string, unknown> } };
    } catch {
      // reported below
    }
    return { error: `edit: give the new arguments as one JSON object, e.g. e {"country": "Japan"}` };
  }
  return { error: HELP };
}

/**
 * Asks on the terminal (or reads piped answers, one per line) what an interrupted run waits for: an approval request
 * (y / e {args} / r reason for each call under review, answered as LangChain's decisions), or a tool's own question (the line, as JSON when it parses). End of input leaves the thread
 * waiting for a later `run --thread ID --approve`.
 */
export function terminalAsk(out: (line: string) => void): { ask: (question: unknown) => Promise<unknown>; close: () => void } {
  let rl: ReturnType<typeof createInterface> | undefined;
  let lines: AsyncIterator<string> | undefined;
  const next = async (): Promise<string | undefined> => {
    rl ??= createInterface({ input: process.stdin, terminal: false });
    lines ??= rl[Symbol.asyncIterator]();
    const r = await lines.next();
    return r.done ? undefined : r.value;
  };
  const leftWaiting = () => {
    out("no answer: the thread waits for one");
    return undefined;
  };
  async function ask(question: unknown): Promise<unknown> {
    const calls = reviewedCalls(question);
    if (!calls) {
      out(`[question] ${JSON.stringify(question)}`);
      const line = await next();
      if (line === undefined) return leftWaiting();
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return line;
      }
    }
    const decisions: ReviewDecision[] = [];
    for (const call of calls) {
      const notTaken = notTakenOf(call);
      if (notTaken) out(`[approve] not taken: ${notTaken}`);
      out(`[approve] ${call.name} ${JSON.stringify(call.args)}`);
      out(`approve? ${HELP}`);
      for (;;) {
        const line = await next();
        if (line === undefined) return leftWaiting();
        const decision = parseAnswer(line, call.name);
        if (!("error" in decision)) {
          decisions.push(decision);
          break;
        }
        out(`[approve] ${decision.error}`);
      }
    }
    return { decisions };
  }
  return { ask, close: () => rl?.close() };
}
