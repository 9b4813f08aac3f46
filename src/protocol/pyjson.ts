/**
 * Serialise a JSON value the way Python's `json.dumps(obj)` does with default settings:
 * separators ", " and ": ", insertion key order, ensure_ascii (every non-ASCII UTF-16 unit as \uXXXX, which yields
 * surrogate pairs above U+FFFF), "/" unescaped. The α-UMi checkpoints saw tool documents in exactly these bytes.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return pyString(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return pyNumber(value);
    case "object":
      if (Array.isArray(value)) return "[" + value.map(pyJsonDumps).join(", ") + "]";
      return (
        "{" +
        Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => pyString(k) + ": " + pyJsonDumps(v))
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

const ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const esc = ESCAPES[ch];
    if (esc) out += esc;
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}
