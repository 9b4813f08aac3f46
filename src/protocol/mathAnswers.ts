/**
 * Numbers in math answers: GSM8K's reference (after `####`) and the agent's final answer, read the way the math
 * templates ask the summarizer to write it (`The answer is N`, else its last number).
 */
const NUMBER = /-?\$?\d[\d,]*(?:\.\d+)?(?:\/\d+)?|-?\.\d+/g;

function toNumber(token: string): number | null {
  const t = token.replace(/[$,]/g, "");
  const [p, q] = t.split("/");
  const n = q === undefined ? Number(p) : Number(p) / Number(q);
  return Number.isFinite(n) ? n : null;
}

/** GSM8K's reference: the number after `####`. */
export function goldNumber(answer: string): number | null {
  const at = answer.lastIndexOf("####");
  if (at < 0) return null;
  const m = answer.slice(at + 4).match(NUMBER);
  return m ? toNumber(m[0]) : null;
}

/** The agent's number: what follows `The answer is` (the math summarizer's closing phrase), else the last number. */
export function predictedNumber(text: string | null | undefined): number | null {
  if (!text) return null;
  const phrase = /answer is[^\d\-.$]*(-?\$?\d[\d,]*(?:\.\d+)?(?:\/\d+)?|-?\.\d+)/i.exec(text);
  if (phrase) return toNumber(phrase[1]!);
  const all = text.match(NUMBER);
  return all ? toNumber(all.at(-1)!) : null;
}

/** Numeric equality up to float noise (a program's 17.999999999 is 18). */
export function sameNumber(a: number | null, b: number | null): boolean {
  return a !== null && b !== null && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}
