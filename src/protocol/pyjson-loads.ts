/**
 * Python's `json.loads` and `==` over its results, for scoring model-written action inputs exactly as the reference
 * scorer does. Differences from `JSON.parse` that change scores: `NaN`, `Infinity` and `-Infinity` are accepted;
 * integers are exact (`bigint`: 2**64 and 2**64+1 differ) while numbers with a fraction or exponent are floats.
 */
import { AlphaUmiError, UserError } from "../errors.js";
export type PyValue = null | boolean | bigint | number | string | PyValue[] | PyDict;
/** A Python dict (duplicate keys: the last value wins, as in Python). */
export type PyDict = Map<string, PyValue>;

export type PyLoadsResult = { ok: true; value: PyValue } | { ok: false; error: string };

/** Python's C decoder gives up with RecursionError near its default recursion limit (1000 frames). */
const MAX_DEPTH = 990;

class DecodeError extends AlphaUmiError {
  constructor(message: string) {
    super("decode", message);
  }
}

class Decoder {
  private i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new DecodeError(`${what} at char ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = s.charCodeAt(++this.i);
  }

  document(): PyValue {
    if (this.s.charCodeAt(0) === 0xfeff) this.fail("Unexpected UTF-8 BOM");
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail("Extra data");
    return v;
  }

  value(depth: number): PyValue {
    const s = this.s;
    const c = s[this.i];
    switch (c) {
      case '"':
        return this.string();
      case "{":
        return this.object(depth + 1);
      case "[":
        return this.array(depth + 1);
      case "n":
        return this.literal("null", null);
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "N":
        return this.literal("NaN", NaN);
      case "I":
        return this.literal("Infinity", Infinity);
      case "-":
        if (s.startsWith("-Infinity", this.i)) return this.literal("-Infinity", -Infinity);
        return this.number();
      default:
        if (c !== undefined && c >= "0" && c <= "9") return this.number();
        return this.fail("Expecting value");
    }
  }

  literal<T extends PyValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail("Expecting value");
    this.i += word.length;
    return v;
  }

  digits(): number {
    const start = this.i;
    let c = this.s.charCodeAt(this.i);
    while (c >= 0x30 && c <= 0x39) c = this.s.charCodeAt(++this.i);
    return this.i - start;
  }

  /** `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, ASCII digits only (the C scanner's rule). */
  number(): bigint | number {
    const s = this.s;
    const start = this.i;
    if (s[this.i] === "-") this.i++;
    const c = s[this.i];
    if (c === "0") this.i++;
    else if (c !== undefined && c >= "1" && c <= "9") this.digits();
    else this.fail("Expecting value");
    let float = false;
    const d = s.charCodeAt(this.i + 1);
    if (s[this.i] === "." && d >= 0x30 && d <= 0x39) {
      this.i++;
      this.digits();
      float = true;
    }
    if (s[this.i] === "e" || s[this.i] === "E") {
      const eAt = this.i++;
      if (s[this.i] === "+" || s[this.i] === "-") this.i++;
      if (this.digits() > 0) float = true;
      else this.i = eAt;
    }
    const text = s.slice(start, this.i);
    return float ? Number(text) : BigInt(text);
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = "";
    let chunk = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) {
        this.i = i;
        this.fail("Unterminated string");
      }
      if (c === 0x22) break;
      if (c < 0x20) {
        this.i = i;
        this.fail("Invalid control character");
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(chunk, i);
      const e = s[i + 1];
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === "u") {
        const hex = s.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.i = i;
          this.fail("Invalid \\uXXXX escape");
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        this.i = i;
        this.fail("Invalid \\escape");
      }
      chunk = i;
    }
    out += s.slice(chunk, i);
    this.i = i + 1;
    return out;
  }

  object(depth: number): PyDict {
    if (depth > MAX_DEPTH) this.fail("RecursionError: nested too deeply");
    const map: PyDict = new Map();
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return map;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail("Expecting property name enclosed in double quotes");
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ":") this.fail("Expecting ':' delimiter");
      this.i++;
      this.ws();
      map.set(key, this.value(depth));
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return map;
      if (c !== ",") {
        this.i--;
        this.fail("Expecting ',' delimiter");
      }
      this.ws();
    }
  }

  array(depth: number): PyValue[] {
    if (depth > MAX_DEPTH) this.fail("RecursionError: nested too deeply");
    const out: PyValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") {
        this.i--;
        this.fail("Expecting ',' delimiter");
      }
      this.ws();
    }
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Python's `json.loads(text)`: never throws; a failure (trailing garbage included) comes back as `ok: false`. */
export function pyJsonLoads(text: string): PyLoadsResult {
  try {
    return { ok: true, value: new Decoder(text).document() };
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, error: err.message };
    throw err;
  }
}

export function isPyDict(v: PyValue): v is PyDict {
  return v instanceof Map;
}

function asNumber(v: PyValue): bigint | number | null {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "bigint" || typeof v === "number") return v;
  return null;
}

/**
 * Python's `a == b` on two `json.loads` results. `True == 1 == 1.0`; an int and a float compare exactly.
 * `nested` reproduces CPython's identity shortcut inside lists and dicts: every `NaN` json.loads returns is the same
 * float object, so `[NaN] == [NaN]` is True while `NaN == NaN` is False.
 */
export function pyEquals(a: PyValue, b: PyValue, nested = false): boolean {
  if (a === null || b === null) return a === b;
  const na = asNumber(a);
  if (na !== null) {
    const nb = asNumber(b);
    if (nb === null) return false;
    if (typeof na === "number" && typeof nb === "number") return na === nb || (nested && Number.isNaN(na) && Number.isNaN(nb));
    if (typeof na === "bigint" && typeof nb === "bigint") return na === nb;
    const [i, f] = typeof na === "bigint" ? [na, nb as number] : [nb as bigint, na];
    return Number.isInteger(f) && BigInt(f) === i;
  }
  if (typeof a === "string") return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (!pyEquals(a[k]!, b[k]!, true)) return false;
    return true;
  }
  const da = a as PyDict;
  if (!(b instanceof Map) || da.size !== b.size) return false;
  for (const [k, v] of da) {
    if (!b.has(k) || !pyEquals(v, b.get(k)!, true)) return false;
  }
  return true;
}

/** A json.loads result as plain JavaScript (dicts as objects, ints as numbers), e.g. for validating a file's shape. */
export function pyToPlain(v: PyValue): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(pyToPlain);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, k, { value: pyToPlain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

/** Parse JSON text as Python's json.load would accept it (NaN/Infinity included); the error names the file. */
export function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const py = pyJsonLoads(text);
    if (!py.ok) throw new UserError(`${path}: not JSON (${py.error})`);
    return pyToPlain(py.value);
  }
}
