/**
 * Text of values we do not control — what a user's tool returns or throws, what a caller's arguments parse to — that
 * never throws and never builds something the checkpointer cannot store: throwing getters and `toString`, proxies,
 * `Object.create(null)`, cycles, BigInt, symbols, functions and depth are all handled by one bounded, non-recursive walk.
 */

/** Nesting kept in a value's JSON text; deeper parts become `"[depth limit]"` (a depth-10k value must not overflow). */
export const MAX_DEPTH = 64;

/** Replace what storage layers reject or mangle: lone UTF-16 surrogates and NUL become U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

const DEFAULT_MARKER = "...[truncated {n} chars]";

/**
 * `text` cut to `max` characters plus a marker saying how many were cut (`{n}` in the marker); never splits a
 * surrogate pair.
 *
 * @example truncate("abcdef", 3) // "abc...[truncated 3 chars]"
 */
export function truncate(text: string, max: number, marker = DEFAULT_MARKER): string {
  if (text.length <= max) return text;
  const keep = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, keep) + marker.replace("{n}", String(text.length - keep));
}

/** Longest failure reason a run's status keeps (a model server's error can carry megabytes of output). */
export const MAX_REASON_CHARS = 2000;

/**
 * The reason a run failed, from anything a model call threw: its message, capped and well-formed; never throws.
 *
 * @example capReason(new Error("planner model failed: " + "x".repeat(5000))).length // 2025
 */
export function capReason(err: unknown, max = MAX_REASON_CHARS): string {
  return wellFormed(truncate(errorMessage(err), max));
}

/** Run `fn`, or describe what it threw (itself described without throwing). */
function attempt<T>(fn: () => T, fallback: (e: unknown) => T): T {
  try {
    return fn();
  } catch (e) {
    return fallback(e);
  }
}

/** What a getter, `toJSON` or `toString` threw, described without reading anything that could throw again. */
const thrown = (e: unknown) =>
  `[throws: ${attempt(
    () => (e instanceof Error ? String(e.message) : String(e)),
    () => "unprintable value",
  )}]`;

/** A leaf's JSON text, or undefined when `v` is an object or array to walk. */
function leaf(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return String(v);
    case "bigint":
      return JSON.stringify(v.toString());
    case "symbol":
      return JSON.stringify(attempt(() => v.toString(), thrown));
    case "function":
      return JSON.stringify(`[function ${attempt(() => String(v.name || "anonymous"), thrown)}]`);
    case "undefined":
      return "null";
    default:
      return v === null ? "null" : undefined;
  }
}

/** An object or array being written: members are read one at a time, so a huge array is never copied. */
interface Frame {
  /** Member names of an object; null for an array. */
  keys: string[] | null;
  length: number;
  next: number;
  value: object;
  read(i: number): unknown;
}

/** `toJSON` (Date, URL, …) and Error fields, as JSON.stringify would see them; never throws. */
function prepared(v: unknown, key: string): unknown {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
  let toJSON: unknown;
  try {
    toJSON = (v as { toJSON?: unknown }).toJSON;
  } catch {
    toJSON = undefined;
  }
  if (typeof toJSON === "function") return attempt(() => (toJSON as (k: string) => unknown).call(v, key), thrown);
  if (attempt(() => v instanceof Error, () => false)) return { name: attempt(() => String((v as Error).name), thrown), message: attempt(() => String((v as Error).message), thrown) };
  return v;
}

/** The frame of an object or array (own enumerable members; a Map as an object, a Set as an array), or the text of what it threw. */
function frameOf(v: object): Frame | string {
  return attempt<Frame | string>(
    () => {
      if (Array.isArray(v)) return { keys: null, length: v.length, next: 0, value: v, read: (i) => v[i] };
      if (v instanceof Set) {
        const members = [...v];
        return { keys: null, length: members.length, next: 0, value: v, read: (i) => members[i] };
      }
      const record: Record<string, unknown> = v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [String(k), x])) : (v as Record<string, unknown>);
      // JSON.stringify leaves out undefined, function and symbol members of objects.
      const keys: string[] = [];
      for (const k of Object.keys(record)) {
        let x: unknown = null; // a throwing getter stays, to be described
        try {
          x = record[k];
        } catch {
          // described when read
        }
        if (x !== undefined && typeof x !== "function" && typeof x !== "symbol") keys.push(k);
      }
      return { keys, length: keys.length, next: 0, value: v, read: (i) => record[keys[i]!] };
    },
    (e) => JSON.stringify(thrown(e)),
  );
}

/**
 * JSON text of any value, like `JSON.stringify` for plain data, without ever throwing: cycles become `"[circular]"`,
 * nesting past `maxDepth` `"[depth limit]"`, BigInt its decimal string, symbols and functions a label, a throwing getter
 * or `toJSON` `"[throws: …]"`. Walks at most `maxChars` characters of output, then stops (the text ends there).
 *
 * @example safeJson({ a: 1n, self: undefined }) // '{"a":"1","self":null}'
 */
export function safeJson(value: unknown, { maxDepth = MAX_DEPTH, maxChars = Infinity }: { maxDepth?: number; maxChars?: number } = {}): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string) => {
    parts.push(s);
    length += s.length;
  };
  const stack: Frame[] = [];
  const open = new Set<object>();
  // Emit one value: a leaf at once, an object by pushing its frame.
  const visit = (raw: unknown, key: string) => {
    const v = prepared(raw, key);
    const text = leaf(v);
    if (text !== undefined) return emit(text);
    const obj = v as object;
    if (open.has(obj)) return emit('"[circular]"');
    if (stack.length >= maxDepth) return emit('"[depth limit]"');
    const frame = frameOf(obj);
    if (typeof frame === "string") return emit(frame);
    open.add(obj);
    stack.push(frame);
    emit(frame.keys ? "{" : "[");
  };
  visit(value, "");
  while (stack.length > 0 && length <= maxChars) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.length) {
      stack.pop();
      open.delete(top.value);
      emit(top.keys ? "}" : "]");
      continue;
    }
    const i = top.next++;
    if (i > 0) emit(",");
    const key = top.keys ? top.keys[i]! : String(i);
    if (top.keys) emit(JSON.stringify(key) + ":");
    let member: unknown;
    try {
      member = top.read(i);
    } catch (e) {
      member = thrown(e);
    }
    visit(member, key);
  }
  return parts.join("");
}

/**
 * The message of anything thrown: an Error's message (its name when the message is empty), a string as is, a value
 * that is not an Error said to be one (`threw null (not an Error)`), an object as safe JSON; never throws.
 *
 * @example errorMessage(null) // "threw null (not an Error)"
 */
export function errorMessage(e: unknown): string {
  if (typeof e === "string") return e === "" ? "threw an empty string" : e;
  // `[object Error]` also recognises an Error of another realm (a vm context, a worker's structured clone).
  if (attempt(() => e instanceof Error || Object.prototype.toString.call(e) === "[object Error]", () => false))
    return attempt(
      () => String((e as Error).message) || String((e as Error).name) || "an Error without a message",
      (x) => `unreadable error message ${thrown(x)}`,
    );
  if (e === null || typeof e !== "object") return `threw ${attempt(() => (typeof e === "function" ? "a function" : String(e)), () => typeof e)} (not an Error)`;
  // Depth 4 is plenty to say what was thrown; the text is bounded before it is described.
  return attempt(
    () => safeJson(e, { maxDepth: 4, maxChars: 2000 }),
    () => "[unprintable value]",
  );
}

/**
 * The observation text of a tool's result: a string as is, anything else as safe JSON, walked no further than the
 * characters an observation keeps (`limit`), and well-formed either way.
 *
 * @example toolResultText({ rate: 162.5 }, 4096) // '{"rate":162.5}'
 */
export function toolResultText(result: unknown, limit = Infinity): string {
  if (typeof result === "string") return result;
  if (result === undefined) return "";
  return safeJson(result, { maxChars: limit });
}

/** Whether a parsed JSON value nests deeper than `maxDepth` or has a key the checkpoint serializer drops (`__proto__`). */
export function unsafeForCheckpoint(value: unknown, maxDepth = MAX_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= maxDepth) return true;
    if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, "__proto__")) return true;
    for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return false;
}
