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
