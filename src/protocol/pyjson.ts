/**
 * Serialise a JSON value the way Python's `json.dumps(obj)` does with default settings:
 * separators ", " and ": ", insertion key order, ensure_ascii (every non-ASCII UTF-16 unit as \uXXXX, which yields
 * surrogate pairs above U+FFFF), "/" unescaped. The α-UMi checkpoints saw tool documents in exactly these bytes.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return pyJsonString(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return pyNumber(value);
    case "object":
      if (Array.isArray(value)) return "[" + value.map(pyJsonDumps).join(", ") + "]";
      return (
        "{" +
        Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => pyJsonString(k) + ": " + pyJsonDumps(v))
          .join(", ") +
        "}"
      );
    default:
      throw new TypeError(`pyJsonDumps: cannot serialise a ${typeof value}`);
  }
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return JSON.stringify(n);
}

const NOT_PRINTABLE_ASCII = /[\u007f-\uffff]/;
const NOT_PRINTABLE_ASCII_ALL = new RegExp(NOT_PRINTABLE_ASCII.source, "g");

/**
 * A string as Python's json.dumps writes it: JSON.stringify already escapes quotes, backslashes and control characters
 * as Python does (lowercase \u00XX); then every non-ASCII UTF-16 unit (and DEL) becomes \uXXXX. Much faster than a
 * character loop on the 40 MB training sets.
 */
export function pyJsonString(s: string): string {
  const json = JSON.stringify(s);
  if (!NOT_PRINTABLE_ASCII.test(json)) return json;
  return json.replace(NOT_PRINTABLE_ASCII_ALL, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** A number Python holds as a float: `json.dumps` writes its repr (`0.0`, not `0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python's float repr: the shortest digits (as JS), fixed notation for exponents -4..15, else `d.ddde±XX`. */
export function pyFloatRepr(n: number): string {
  if (!Number.isFinite(n)) return pyNumber(n);
  const [mantissa, exp] = n.toExponential().split("e") as [string, string];
  const e = Number(exp);
  if (e >= -4 && e < 16) return Number.isInteger(n) ? n.toFixed(1) : String(n);
  return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/**
 * Python's `json.dumps(value, indent=N)`: every container item on its own line indented N spaces per level, item
 * separator "," (no trailing space), key separator ": ", empty containers as `[]` / `{}`, ASCII escaping as
 * {@link pyJsonDumps}. Wrap a number in {@link PyFloat} to get Python's float form.
 *
 * @example pyJsonDumpsIndent([{ a: "é", v: new PyFloat(0) }], 2) // '[\n  {\n    "a": "\\u00e9",\n    "v": 0.0\n  }\n]'
 */
export function pyJsonDumpsIndent(value: unknown, indent: number, level = 0): string {
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (value === null || typeof value !== "object") return pyJsonDumps(value);
  const inner = "\n" + " ".repeat(indent * (level + 1));
  const outer = "\n" + " ".repeat(indent * level);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return "[" + inner + value.map((v) => pyJsonDumpsIndent(v, indent, level + 1)).join("," + inner) + outer + "]";
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return "{" + inner + entries.map(([k, v]) => pyJsonString(k) + ": " + pyJsonDumpsIndent(v, indent, level + 1)).join("," + inner) + outer + "}";
}
