/**
 * Exact LLaMA-2 token counts (llama-tokenizer-js) of prompts as Ollama's llama.cpp runner tokenizes them:
 * - a BOS token first (LLaMA-2 GGUFs set add_bos_token);
 * - `<s>`, `</s>` and `<unk>` written in the text are special tokens (one token each), as llama.cpp parses specials in
 *   prompts; the text between them is tokenized on its own, and each piece gets SentencePiece's leading space, as
 *   llama.cpp adds the space prefix at the start and after every special token.
 * - A newline is the byte token <0x0A>, which never merges with a neighbour, so a piece's count is the sum of its
 *   lines' counts plus one per newline. Lines are cached: tool documents (one line per tool) and the earlier turns of
 *   a history recur in every step prompt and are tokenized once.
 */
import type { LlamaTokenizer } from "llama-tokenizer-js";

const SPECIAL = /<\/s>|<s>|<unk>/g;
const CACHE_LIMIT = 200_000;

export interface TokenCounter {
  /** Tokens of a whole prompt, BOS included. */
  count(text: string): number;
}

let tokenizer: Promise<LlamaTokenizer> | undefined;
const lineCache = new Map<string, number>();

function countLine(tok: LlamaTokenizer, line: string, leadingSpace: boolean): number {
  if (line === "") return 0;
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
  lines.forEach((line, i) => (n += countLine(tok, line, i === 0)));
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
