/**
 * Masking secrets as `***` in text bound for τ, errors, logs, cassettes or checkpoints. A service that echoes a secret
 * echoes whatever form it took on the wire, so a secret is found in every form a URL or a body gives it:
 * percent-encoded (any mix of encoded and plain characters, either hex case, `+` for space, encoded again),
 * JSON-escaped (`\"`, `\/`, `\uXXXX`, escaped again inside another JSON string), HTML character references, and
 * base64 / base64url of the secret and of its encoded forms at each of the three byte alignments, so a secret inside a
 * longer encoded value (a Basic credential, a token wrapping it) is masked too.
 *
 * How: text and secrets are brought to one canonical byte form (escapes decoded, each byte remembering the span of
 * text it came from), the secrets' canonical forms are searched there, and the spans they cover are replaced. One
 * linear pass and native searches, so a 1 MiB response costs milliseconds.
 */

export const MASK = "***";

/** Shorter base64 runs would mask unrelated text: a secret under about 6 bytes is masked in its other forms only. */
const MIN_BASE64_CHARS = 8;

const HTML_NAMED: Record<string, number> = { amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27, sol: 0x2f, plus: 0x2b, equals: 0x3d, percnt: 0x25, num: 0x23, quest: 0x3f, colon: 0x3a };
const JSON_SHORT: Record<string, number> = { '"': 0x22, "/": 0x2f, "'": 0x27, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
const HTML_REF = /&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,6}));/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const hexPairAt = (s: string, i: number) => i + 1 < s.length && isHex(s.charCodeAt(i)) && isHex(s.charCodeAt(i + 1));

/**
 * Bytes where the forms of one text agree: escapes decoded, space, `-` and `_` written as base64's `+` and `/` (so
 * base64url, form-encoded spaces and plain text meet). `from`/`to` give each byte's span in the text.
 */
class Canonical {
  bytes: Buffer;
  from: Int32Array;
  to: Int32Array;
  length = 0;

  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
    this.from = new Int32Array(size);
    this.to = new Int32Array(size);
  }

  private push(byte: number, from: number, to: number): void {
    if (this.length === this.bytes.length) {
      const grow = <T extends Buffer | Int32Array>(a: T, b: T) => (b.set(a), b);
      this.bytes = grow(this.bytes, Buffer.alloc(this.length * 2));
      this.from = grow(this.from, new Int32Array(this.length * 2));
      this.to = grow(this.to, new Int32Array(this.length * 2));
    }
    this.bytes[this.length] = byte === 0x20 || byte === 0x2d ? 0x2b : byte === 0x5f ? 0x2f : byte;
    this.from[this.length] = from;
    this.to[this.length++] = to;
  }

  pushCodePoint(cp: number, from: number, to: number): void {
    if (cp < 0x80) return this.push(cp, from, to);
    for (const b of Buffer.from(String.fromCodePoint(cp))) this.push(b, from, to);
  }

  static of(text: string): Canonical {
    const c = new Canonical(text.length + 16);
    let i = 0;
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      // Plain ASCII, most of any text, without the token's checks.
      if (ch < 0x80 && ch !== 0x25 && ch !== 0x5c && ch !== 0x26) c.push(ch, i, ++i);
      else i = c.token(text, i);
    }
    return c;
  }

  /** Decode the one token at `i`; returns where the next begins. */
  private token(s: string, i: number): number {
    const ch = s.charCodeAt(i);
    if (ch === 0x25 /* % */) {
      // `%2541` is `%41` encoded again: both are `A`.
      let j = i + 1;
      while (s.startsWith("25", j) && hexPairAt(s, j + 2)) j += 2;
      if (hexPairAt(s, j)) {
        this.push(parseInt(s.slice(j, j + 2), 16), i, j + 2);
        return j + 2;
      }
    } else if (ch === 0x5c /* \ */) {
      let j = i;
      while (s.charCodeAt(j) === 0x5c) j++;
      // An odd run escapes what follows (once, or again inside another JSON string); an even run is backslashes.
      if ((j - i) % 2 === 1) {
        const unit = this.jsonUnit(s, j);
        if (unit !== undefined) {
          const [cp, end] = unit;
          this.pushCodePoint(cp, i, end);
          return end;
        }
      }
      this.push(0x5c, i, j);
      return j;
    } else if (ch === 0x26 /* & */) {
      HTML_REF.lastIndex = i;
      const m = HTML_REF.exec(s);
      const cp = m && (m[1] ? parseInt(m[1], 10) : m[2] ? parseInt(m[2], 16) : HTML_NAMED[m[3]!.toLowerCase()]);
      if (m && cp !== undefined && cp !== null && cp <= 0x10ffff) {
        this.pushCodePoint(cp, i, i + m[0].length);
        return i + m[0].length;
      }
    }
    const cp = s.codePointAt(i)!;
    const end = i + (cp > 0xffff ? 2 : 1);
    this.pushCodePoint(cp, i, end);
    return end;
  }

  /** After the backslashes at `j`: a JSON escape's code point (a surrogate pair of `\u` escapes joined) and its end. */
  private jsonUnit(s: string, j: number): [number, number] | undefined {
    const c = s[j];
    if (c !== undefined && c in JSON_SHORT) return [JSON_SHORT[c]!, j + 1];
    if (c !== "u") return undefined;
    HEX4.lastIndex = j + 1;
    if (!HEX4.test(s)) return undefined;
    const unit = parseInt(s.slice(j + 1, j + 5), 16);
    if (unit >= 0xd800 && unit < 0xdc00) {
      const low = /^\\+u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(s.slice(j + 5, j + 20));
      if (low) return [0x10000 + ((unit - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00), j + 5 + low[0].length];
    }
    return [unit, j + 5];
  }
}

/** The base64 characters that depend only on `bytes` wherever they start in a longer value, for each alignment. */
function base64Runs(bytes: Buffer): string[] {
  const whole = bytes.toString("base64");
  const runs = [whole, whole.replace(/=+$/, "")];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    runs.push(encoded.slice(Math.ceil((pad * 8) / 6), Math.floor(((pad + bytes.length) * 8) / 6)));
  }
  return runs.filter((r) => r.length >= MIN_BASE64_CHARS);
}

/** The canonical byte strings to search for one secret, longest first. */
function needlesOf(secret: string): Buffer[] {
  const json = (s: string) => JSON.stringify(s).slice(1, -1);
  // Forms that canonical decoding cannot bring back to the secret itself: a backslash before a letter the JSON
  // escapes, written raw or escaped; and the bytes base64 was applied to (raw, escaped or percent-encoded).
  const written = [secret, json(secret), json(json(secret))];
  const wire = [...written, new URLSearchParams({ s: secret }).toString().slice(2)];
  try {
    wire.push(encodeURIComponent(secret));
  } catch {
    // A lone surrogate has no percent-encoding: nothing can have sent it that way.
  }
  const forms = [...written, ...new Set(wire)].flatMap((w, i) => (i < written.length ? [w] : base64Runs(Buffer.from(w))));
  const needles = new Map<string, Buffer>();
  for (const f of forms) {
    const c = Canonical.of(f);
    const b = c.bytes.subarray(0, c.length);
    if (b.length > 0) needles.set(b.toString("latin1"), b);
  }
  return [...needles.values()].sort((a, b) => b.length - a.length);
}

const compiled = new Map<string, Buffer[]>();

function needles(secrets: readonly string[]): Buffer[] {
  const distinct = [...new Set(secrets.filter((s) => s !== ""))];
  const key = distinct.join("\0");
  let found = compiled.get(key);
  if (!found) {
    found = distinct.flatMap(needlesOf);
    // Secrets are read per call and may rotate: keep a handful of sets, not every set ever seen.
    if (compiled.size >= 32) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, found);
  }
  return found;
}

/**
 * `text` with every form of every secret replaced by `***`.
 *
 * @example maskSecrets('{"echo":"a\\/b+c"}', ["a/b+c"]) // '{"echo":"***"}'
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const wanted = needles(secrets);
  if (wanted.length === 0 || text === "") return text;
  const c = Canonical.of(text);
  const hay = c.bytes.subarray(0, c.length);
  const spans: [number, number][] = [];
  for (const n of wanted)
    for (let at = hay.indexOf(n); at >= 0; at = hay.indexOf(n, at + 1)) spans.push([c.from[at]!, c.to[at + n.length - 1]!]);
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let done = 0;
  for (const [from, to] of spans) {
    // A span that touches or overlaps the one masked last extends it.
    if (from > done || out === "") out += text.slice(done, from) + MASK;
    done = Math.max(done, to);
  }
  return out + text.slice(done);
}

/**
 * A location URL (postgres://, redis://) with its userinfo password masked, for messages and logs. Only that span: a
 * short password also spelled elsewhere in the location (the database name) would otherwise hide it.
 *
 * @example maskLocation("postgres://ann:s3cret@db/test") // "postgres://ann:***@db/test"
 */
export function maskLocation(location: string): string {
  return location.replace(/(\/\/[^:/@]*:)[^@]*@/, `$1${MASK}@`);
}
