/**
 * Writes bench/gpu/demo.json, everything bench/gpu/run.sh needs from the repo on a GPU machine without Node: the
 * LLaMA-2 vocabulary as the project's GGUF writer encodes it (src/models/gguf.ts: tokens, scores, types) and the demo
 * task's calls from tools/demo/cassette.jsonl (role, prompt as the graph sent it, the recorded reply's length in
 * tokens). Run it again when the cassette or the protocol's prompts change: `npx tsx bench/gpu/export.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { llamaVocab } from "../../src/models/gguf.js";
import { countTokens } from "../../src/protocol/tokens.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const vocab = await llamaVocab();
const calls = [];
for (const line of readFileSync(join(HERE, "..", "..", "tools", "demo", "cassette.jsonl"), "utf8").split("\n").filter(Boolean)) {
  const c = JSON.parse(line) as { role: string; prompt: string; output: string };
  calls.push({ role: c.role, prompt: c.prompt, outputTokens: (await countTokens(c.output)) - 1 }); // countTokens counts BOS
}
const out = join(HERE, "demo.json");
writeFileSync(out, JSON.stringify({ source: "tools/demo/cassette.jsonl", calls, vocab }) + "\n");
process.stdout.write(`wrote ${out}: ${calls.length} calls, ${vocab.tokens.length} tokens\n`);
