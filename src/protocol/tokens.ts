/**
 * Exact LLaMA-2 token counts (llama-tokenizer-js) of prompts as Ollama's llama.cpp runner tokenizes them:
 * - a BOS token first (LLaMA-2 GGUFs set add_bos_token);
 * - `<s>`, `</s>` and `<unk>` written in the text are special tokens (one token each), as llama.cpp parses specials in
 *   prompts; the text between them is tokenized on its own, and each piece gets SentencePiece's leading space, as
 *   llama.cpp adds the space prefix at the start and after every special token.
 * - A newline is the byte token <0x0A>, which never merges with a neighbour, so a piece's count is the sum of its
 *   lines' counts plus one per newline. Lines are cached: tool documents (one line per tool) and the earlier turns of
 *   a history recur in every step prompt and are tokenized once.
 * - Tokenizing costs microseconds per character and blocks the event loop, so a huge text (a tool result with the
 *   observation cap raised) is counted exactly only up to EXACT_LINE_CHARS per line and EXACT_PIECE_CHARS per piece;
 *   the rest is counted by an upper bound (each ASCII unit one token, other units their UTF-8 byte tokens). The
 *   count stays a pure function of the text (prompts, and so replay cassettes, stay deterministic), can only be too
 *   high, and a budget only needs to know that such a text is over the limit.
 */
import type { LlamaTokenizer } from "llama-tokenizer-js";

const SPECIAL = /<\/s>|<s>|<unk>/g;
const CACHE_LIMIT = 200_000;
/** Exact counting per line and per piece stops here (about 0.1 s and 1 s of tokenizing), the bound takes over. */
export const EXACT_LINE_CHARS = 16_384;
export const EXACT_PIECE_CHARS = 131_072;

export interface TokenCounter {
  /** Tokens of a whole prompt, BOS included. */
  count(text: string): number;
}

let tokenizer: Promise<LlamaTokenizer> | undefined;
const lineCache = new Map<string, number>();

/** At least as many tokens as `text` can take: an ASCII unit is one piece, other units their UTF-8 bytes (byte fallback). */
export function tokenUpperBound(text: string, leadingSpace = false): number {
  let n = leadingSpace ? 1 : 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return n;
}

function countLine(tok: LlamaTokenizer, line: string, leadingSpace: boolean): number {
  if (line === "") return 0;
  if (line.length > EXACT_LINE_CHARS) {
    // Keep a surrogate pair whole; the exact head is cached like any line, the tail is bounded.
    const cut = /[\ud800-\udbff]/.test(line.charAt(EXACT_LINE_CHARS - 1)) ? EXACT_LINE_CHARS - 1 : EXACT_LINE_CHARS;
    return countLine(tok, line.slice(0, cut), leadingSpace) + tokenUpperBound(line.slice(cut));
  }
  const key = (leadingSpace ? "1" : "0") + line;
  let n = lineCache.get(key);
  if (n === undefined) {
    n = tok.encode(line, false, leadingSpace).length;
    // A long-running server sees unbounded distinct lines; start over rather than grow forever.
    if (lineCache.size >= CACHE_LIMIT) lineCache.clear();
    lineCache.set(key, n);
  }
  return n;
}

function countPiece(tok: LlamaTokenizer, piece: string): number {
  if (piece === "") return 0;
  const lines = piece.split("\n");
  // One token per newline; a piece that starts with a newline still gets its leading space, the lone token "▁".
  let n = lines.length - 1 + (lines[0] === "" ? 1 : 0);
  let exact = 0;
  lines.forEach((line, i) => {
    n += exact < EXACT_PIECE_CHARS ? countLine(tok, line, i === 0) : tokenUpperBound(line, i === 0 && line !== "");
    exact += line.length;
  });
  return n;
}

/** The counter, loading the tokenizer's vocabulary on first use (~0.2 s, so not at import time). */
export async function tokenCounter(): Promise<TokenCounter> {
  tokenizer ??= import("llama-tokenizer-js").then((m) => m.default);
  const tok = await tokenizer;
  return {
    count(text: string): number {
      let n = 1; // BOS
      let from = 0;
      for (const m of text.matchAll(SPECIAL)) {
        n += countPiece(tok, text.slice(from, m.index)) + 1;
        from = m.index + m[0].length;
      }
      return n + countPiece(tok, text.slice(from));
    },
  };
}

/** Token count of one prompt (see the module comment for what is counted). */
export async function countTokens(text: string): Promise<number> {
  return (await tokenCounter()).count(text);
}
