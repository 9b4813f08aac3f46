/**
 * Python `str` whitespace semantics. The reference scorer reads model text with `str.strip()` and `str.split()`,
 * whose whitespace set differs from JavaScript's `\s` (Python adds U+001C–U+001F and U+0085, and excludes U+FEFF).
 */
export function isPySpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Python's `s.split()` (no separator): the pieces between whitespace runs, no empty pieces. */
export function pySplitWhitespace(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isPySpace(s.charCodeAt(i))) {
      if (start >= 0) out.push(s.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

// Python slices count code points, JavaScript's count UTF-16 units: they differ only when a surrogate pair is present.
const SURROGATE = /[\ud800-\udfff]/;

/** Python's `s[:n]`. */
export function pyHead(s: string, n: number): string {
  return SURROGATE.test(s) ? Array.from(s).slice(0, n).join("") : s.slice(0, n);
}

/** Python's `s[-n:]`. */
export function pyTail(s: string, n: number): string {
  return SURROGATE.test(s) ? Array.from(s).slice(-n).join("") : s.slice(-n);
}
