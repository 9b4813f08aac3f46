import { UserError } from "../errors.js";
import { formatCall, withDecision } from "../protocol/index.js";
import { isPyDict, pyJsonLoads } from "../protocol/pyjson-loads.js";
import { pyStrip } from "../protocol/pystr.js";
import type { Turn } from "../state.js";
import { describeWhere, readJsonFile, type Where } from "./io.js";
import { checkArray, checkRecord, Stage1RecordSchema, type ChainMessage, type Stage1Record, type Stage2Record } from "./records.js";

/**
 * A stage-1 file's records as stage-2 dialogs, one at a time.
 *
 * @example
 * for (const dialog of readStage1AsConversations("stage1.json")) console.log(dialog.instruction);
 */
export function* readStage1AsConversations(path: string): Generator<Stage2Record> {
  const records = checkArray(readJsonFile(path), path, "stage-1 records ({tools, instruction, chains})");
  for (let i = 0; i < records.length; i++) {
    const where = { file: path, record: i };
    yield toConversation(checkRecord<Stage1Record>(Stage1RecordSchema, records[i], where), where);
  }
}

/**
 * Stage 1 → stage 2: a ToolBench chain (system prompt, first user turn, then the rest) becomes τ, a list of
 * `{from, value}` turns, by the reference rules (glpft-data.md). The first two chain messages are the system prompt and
 * the instruction, which τ starts with instead.
 */
export function toConversation(record: Stage1Record, where: Where): Stage2Record {
  const conversations: Turn[] = [{ from: "user", value: record.instruction }];
  for (let i = 2; i < record.chains.length; i++) {
    const m = record.chains[i]!;
    const field = (name: string) => describeWhere(where, `chains[${i}]${name}`);
    switch (m.role) {
      case "assistant":
        conversations.push(...assistantTurns(m, field));
        break;
      case "user":
        conversations.push({ from: "user", value: text(m.content, field(".content")) });
        break;
      case "function":
        conversations.push({ from: "observation", value: observation(text(m.content, field(".content")), field(".content")) });
        break;
      case "system":
        // Not part of τ; the reference passes over it too.
        break;
      default:
        throw new UserError(`${field(".role")}: unknown role ${JSON.stringify(m.role)} (expected system, user, assistant or function)`);
    }
  }
  return { tools: record.tools, instruction: record.instruction, conversations };
}

function text(v: string | null | undefined, at: string): string {
  if (typeof v !== "string") throw new UserError(`${at}: expected a string, got ${v === null ? "null" : typeof v}`);
  return v;
}

function assistantTurns(m: ChainMessage, field: (name: string) => string): Turn[] {
  const span = typeof m.content === "string" ? m.content + "\n" : "";
  const call = m.function_call;
  if (!call) return [];
  if (call.name !== "Finish") {
    if (typeof call.arguments !== "string") throw new UserError(`${field(".function_call.arguments")}: expected a JSON string for a tool call`);
    return [
      { from: "assistant", value: withDecision(span, "caller") },
      { from: "caller", value: formatCall(call.name, call.arguments) },
    ];
  }
  const finish = readFinish(call.arguments, m.content);
  if (finish === "give up") return [{ from: "assistant", value: withDecision(span, "give up") }];
  if (typeof finish.answer !== "string") throw new UserError(`${field(".function_call.arguments")}: final_answer must be a string`);
  return [
    { from: "assistant", value: withDecision(span, "conclusion") },
    { from: "conclusion", value: finish.answer },
  ];
}

const GIVE_UP = "give_up_and_restart";

/** A Finish call's arguments (parsed as Python's json.loads would): a give up, or the final answer (`none` when absent). */
function readFinish(args: string | Record<string, unknown>, content: string | null | undefined): "give up" | { answer: unknown } {
  if (typeof args !== "string") return args.return_type === GIVE_UP ? "give up" : { answer: "final_answer" in args ? args.final_answer : "none" };
  const parsed = pyJsonLoads(args);
  // The reference falls back to reading the raw text whenever `return_type` cannot be read from parsed JSON.
  if (parsed.ok && isPyDict(parsed.value) && parsed.value.has("return_type")) {
    if (parsed.value.get("return_type") === GIVE_UP) return "give up";
    return { answer: parsed.value.has("final_answer") ? parsed.value.get("final_answer") : "none" };
  }
  if (args.includes(GIVE_UP)) return "give up";
  const key = '"final_answer": ';
  const at = args.indexOf(key);
  if (at !== -1) return { answer: stripChar(stripChar(pyStrip(args.slice(at + key.length)), "}"), '"') };
  return { answer: typeof content === "string" ? content : "none" };
}

/** The `response` of a function message's JSON, else the raw text after `"response":`, else empty. */
function observation(content: string, at: string): string {
  const parsed = pyJsonLoads(content);
  if (parsed.ok && isPyDict(parsed.value) && parsed.value.has("response")) {
    const response = parsed.value.get("response");
    if (typeof response !== "string") throw new UserError(`${at}: "response" must be a string`);
    return response;
  }
  const key = '"response":';
  const i = content.indexOf(key);
  return i === -1 ? "" : content.slice(i + key.length);
}

/** Python's `s.strip(ch)`. */
function stripChar(s: string, ch: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === ch) a++;
  while (b > a && s[b - 1] === ch) b--;
  return s.slice(a, b);
}
