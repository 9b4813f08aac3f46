/**
 * Python's `str()` of a `json.loads` result (`repr` of dicts, lists and strings) and `json.dumps` of one. StableToolBench
 * keys its response cache by `str(json.loads(action_input))` and its client shows `json.dumps(reply)` as the observation,
 * so both must come out byte for byte as CPython writes them: ints exact, floats as `1.0`, `True`/`None`, quotes chosen
 * as `repr` chooses them, non-printable characters escaped.
 */
import { isPyDict, type PyValue } from "./pyjson-loads.js";
import { pyFloatRepr, pyJsonString } from "./pyjson.js";

/** Not printable for `str.isprintable()`: other, separator (but the ASCII space) and unassigned code points. */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** Python's `repr(s)` of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + hex(c, 2);
    else if (c < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (c <= 0xff) out += "\\x" + hex(c, 2);
    else if (c <= 0xffff) out += "\\u" + hex(c, 4);
    else out += "\\U" + hex(c, 8);
  }
  return out + quote;
}

function floatRepr(n: number): string {
  if (Object.is(n, -0)) return "-0.0";
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  return pyFloatRepr(n);
}

/**
 * Python's `str(value)` (= `repr`) of a `json.loads` result.
 *
 * @example pyRepr(new Map([["q", "it's"], ["n", 1n], ["x", 2.0], ["ok", true]])) // `{'q': "it's", 'n': 1, 'x': 2.0, 'ok': True}`
 */
export function pyRepr(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return floatRepr(v);
  if (typeof v === "string") return pyStrRepr(v);
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  return "{" + [...v].map(([k, x]) => pyStrRepr(k) + ": " + pyRepr(x)).join(", ") + "}";
}

/** Python's `json.dumps(value)` with default settings of a `json.loads` result (floats stay floats: `1.0`). */
export function pyDumps(v: PyValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Object.is(v, -0) ? "-0.0" : pyFloatRepr(v);
  if (typeof v === "string") return pyJsonString(v);
  if (Array.isArray(v)) return "[" + v.map(pyDumps).join(", ") + "]";
  if (isPyDict(v)) return "{" + [...v].map(([k, x]) => pyJsonString(k) + ": " + pyDumps(x)).join(", ") + "}";
  throw new TypeError("pyDumps: not a json.loads result");
}
