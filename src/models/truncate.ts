/**
 * The official pipeline's context handling, for the `reference` context policy: ToolBench's `generate_stream` (which
 * α-UMi's real-time code calls) tokenizes the whole prompt and keeps its LAST `num_ctx − max_new_tokens − 8` tokens.
 * On a long history that drops the BOS token, the tool documents, the instruction and the oldest turns — the opposite
 * of `elide`. We reproduce it at the text level: the kept tokens are decoded back to text (a `</s>` stays `</s>`), so
 * the model re-tokenizes them with its own BOS; the cut may differ from the reference by the one token at the boundary.
 */
import type { LlamaTokenizer } from "llama-tokenizer-js";

const SPECIAL = /<\/s>|<s>|<unk>/g;
// The reference keeps 8 tokens of slack beyond max_new_tokens.
export const REFERENCE_SLACK = 8;

let tokenizer: Promise<LlamaTokenizer> | undefined;

type Piece = { special: string } | { ids: number[] };

function tokensOf(tok: LlamaTokenizer, text: string): Piece[] {
  const pieces: Piece[] = [];
  let from = 0;
  const plain = (s: string) => s !== "" && pieces.push({ ids: tok.encode(s, false, true) });
  for (const m of text.matchAll(SPECIAL)) {
    plain(text.slice(from, m.index));
    pieces.push({ special: m[0] });
    from = m.index + m[0].length;
  }
  plain(text.slice(from));
  return pieces;
}

export interface Truncation {
  text: string;
  /** Tokens dropped from the left (BOS counted). */
  dropped: number;
}

/** The last `keep` tokens of `text` (BOS first, as the training tokenizer counts) as text. */
export async function truncateLeft(text: string, keep: number): Promise<Truncation> {
  tokenizer ??= import("llama-tokenizer-js").then((m) => m.default);
  const tok = await tokenizer;
  const pieces = tokensOf(tok, text);
  const total = 1 + pieces.reduce((n, p) => n + ("ids" in p ? p.ids.length : 1), 0);
  if (total <= keep) return { text, dropped: 0 };
  let budget = keep;
  let out = "";
  for (let i = pieces.length - 1; i >= 0 && budget > 0; i--) {
    const p = pieces[i]!;
    if ("special" in p) {
      out = p.special + out;
      budget--;
      continue;
    }
    const ids = p.ids.length <= budget ? p.ids : p.ids.slice(p.ids.length - budget);
    // A whole piece loses the leading space SentencePiece added; a cut one keeps the text its tokens spell.
    out = tok.decode(ids, false, ids === p.ids) + out;
    budget -= ids.length;
  }
  return { text: out, dropped: total - keep };
}
