/**
 * Rouge-L F exactly as the Python package `rouge` 1.0.1 (pltrdy) computes it with its defaults
 * (`rouge_l_summary_level`, exclusive mode): see metrics.md.
 */
import { AlphaUmiError } from "../errors.js";
import { pySplitWhitespace } from "../protocol/pystr.js";

export interface RougeL {
  f: number;
  p: number;
  r: number;
}

/** The package raises ValueError on a side with no sentence; the message is the package's own. */
export class RougeEmptyError extends AlphaUmiError {
  constructor(message: string) {
    super("rouge_empty", message);
  }
}

/** `[" ".join(_.split()) for _ in text.split(".") if len(_) > 0]` */
export function rougeSentences(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(".")) if (piece.length > 0) out.push(pySplitWhitespace(piece).join(" "));
  return out;
}

/** The words of one LCS of x and y, in the package's reconstruction order (ties step to (i, j-1)). */
function lcsWords(x: readonly string[], y: readonly string[], into: Set<string>): void {
  const n = x.length;
  const m = y.length;
  const w = m + 1;
  const table = new Int32Array((n + 1) * w);
  for (let i = 1; i <= n; i++) {
    const xi = x[i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= m; j++) {
      table[row + j] = xi === y[j - 1] ? table[prev + j - 1]! + 1 : Math.max(table[prev + j]!, table[row + j - 1]!);
    }
  }
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      into.add(x[i - 1]!);
      i--;
      j--;
    } else if (table[(i - 1) * w + j]! > table[i * w + j - 1]!) i--;
    else j--;
  }
}

/**
 * Rouge-L F of a hypothesis against a reference (each a whole text). Throws RougeEmptyError where the package raises
 * (its rouge-1 is computed first, so an empty hypothesis is reported before an empty reference).
 */
export function rougeL(hyp: string, ref: string): RougeL {
  const hs = rougeSentences(hyp);
  const rs = rougeSentences(ref);
  if (hs.length === 0) throw new RougeEmptyError("Hypothesis is empty.");
  if (rs.length === 0) throw new RougeEmptyError("Reference is empty.");
  const hypWords = hs.map((s) => s.split(" "));
  const refWords = rs.map((s) => s.split(" "));
  const m = new Set(refWords.flat()).size;
  const n = new Set(hypWords.flat()).size;
  // Each reference sentence adds the growth of one running set of LCS words, so the sum is the final set's size.
  const union = new Set<string>();
  for (const r of refWords) for (const h of hypWords) lcsWords(r, h, union);
  const llcs = union.size;
  const r = llcs / m;
  const p = llcs / n;
  return { f: 2.0 * ((p * r) / (p + r + 1e-8)), p, r };
}
