/**
 * The embedded llama.cpp runtime on GGUF files written at test time by src/models/gguf.ts:
 * - the random-weight fixture (LLaMA-2 vocabulary) with its three LoRA adapters;
 * - a "scripted" GGUF whose next token depends only on the last one (all block weights zero, so the residual stream is
 *   the last token's embedding), which makes stops, EOS and special-token handling observable under greedy decoding.
 */
import { jest } from "@jest/globals";
import { copyFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import llamaTokenizer from "llama-tokenizer-js";
import { UserError } from "../../src/errors.js";
import { extractSteps } from "../../src/eval/steps.js";
import { llamaModelSpec, TINY_LLAMA, writeFixture, writeGguf, type Fixture } from "../../src/models/gguf.js";
import { LlamaCppModel, LlamaRuntime } from "../../src/models/llama.js";
import { modelFromSpec } from "../../src/models/spec.js";
import { countTokens, tokenCounter } from "../../src/protocol/tokens.js";
import { renderToolDocs } from "../../src/protocol/index.js";
import { callerPrompt, plannerPrompt, summarizerPrompt } from "../../src/protocol/render.js";
import { instructFormat } from "../../src/protocol/instruct.js";
import type { Turn } from "../../src/state.js";
import { readToolBenchFile } from "../../src/toolbenchDialogs.js";
import { toolDocs } from "../../src/tools/spec.js";
import { demoTools } from "../../tools/demo/index.js";
import { runCli } from "../helpers/cli.js";
import { OUT_OF_DOMAIN, testShared } from "../helpers/shared.js";

jest.setTimeout(120_000);

let dir: string;
let fixture: Fixture;
let scripted: string;
const runtime = new LlamaRuntime();

const id = (piece: string) => llamaTokenizer.vocabByString.get(piece)!;
const HELLO = id("▁Hello");
const MORE = id("▁more");
const YES = id("▁Yes");
const LOOP = id("▁loop");

/** next token after each token: ":" → " Hello" → "</" "s" ">" (the text </s>) → " more" → EOS; EOS → " Yes" → EOS. */
function chain(): Map<number, number> {
  return new Map([
    [id(":"), HELLO],
    [HELLO, id("</")],
    [id("</"), id("s")],
    [id("s"), id(">")],
    [id(">"), MORE],
    [MORE, 2],
    [2, YES],
    [YES, 2],
    [LOOP, LOOP],
  ]);
}

async function writeScripted(path: string): Promise<void> {
  const spec = await llamaModelSpec({ seed: 7, name: "scripted" });
  const n = TINY_LLAMA.nEmbd;
  const next = chain();
  const slot = new Map([...new Set([...next.keys()])].map((t, k) => [t, k]));
  const tensors = spec.tensors.map((t) => {
    if (t.name === "token_embd.weight")
      return { ...t, values: () => {
        const v = new Float32Array(n * 32000);
        for (const [tok, k] of slot) v[tok * n + k] = 1;
        return v;
      } };
    if (t.name === "output.weight")
      return { ...t, values: () => {
        const v = new Float32Array(n * 32000);
        for (const [tok, to] of next) v[to * n + slot.get(tok)!] = 10;
        return v;
      } };
    if (t.name.startsWith("blk.") && !t.name.endsWith("norm.weight")) return { ...t, values: () => new Float32Array(t.dims.reduce((a, b) => a * b, 1)) };
    return t;
  });
  writeGguf(path, { ...spec, tensors });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-llama-"));
  fixture = await writeFixture(join(dir, "fixture"));
  scripted = join(dir, "scripted.gguf");
  await writeScripted(scripted);
});

afterAll(async () => {
  await runtime.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const model = (path: string, opts: Partial<ConstructorParameters<typeof LlamaCppModel>[0]> = {}) =>
  new LlamaCppModel({ modelPath: path, runtime, numCtx: 1024, ...opts });

describe("raw completion (scripted GGUF)", () => {
  it("stops at </s> by default, at EOS, at the call's stop strings and at numPredict", async () => {
    const m = model(scripted, { numPredict: 20 });
    expect(await m.invoke("Question: hi\nAnswer:")).toBe("Hello");
    // No </s> stop: the text </s> passes, and the EOS token after " more" ends the reply (not the 20-token limit).
    expect(await m.invoke("Question: hi\nAnswer:", { stop: ["zzz"] })).toBe("Hello</s> more");
    // node-llama-cpp drops the whole token that holds the stop string (here " more", space included).
    expect(await m.invoke("Question: hi\nAnswer:", { stop: ["more"] })).toBe("Hello</s>");
    // A token that predicts itself runs to numPredict.
    const looped = await m.invoke("Say loop");
    expect(looped).toBe("loop" + " loop".repeat(19));
  });

  it("evaluates BOS first and a </s> written in the prompt as the EOS token (id 2), not five characters", async () => {
    const m = model(scripted, { numPredict: 8 });
    // After EOS the script says " Yes"; had </s> been text, the last token would be ">" and the reply " more". (A
    // reply's first token loses its SentencePiece space, as HF decoding does.)
    expect(await m.invoke("Question: hi</s>")).toBe("Yes");
    const seq = (await m.load()).sequences[0]!;
    const prompt = "Thought: a</s>\nAssistant:<s> b</s>";
    await m.invoke(prompt);
    const evaluated = seq.contextTokens.slice(0, seq.contextTokens.length - 1); // the last generated token is not evaluated yet
    const promptTokens = seq.model.tokenize(prompt, true);
    expect(evaluated[0]).toBe(1);
    expect(evaluated.slice(1, 1 + promptTokens.length)).toEqual(promptTokens);
    expect(promptTokens.filter((t) => t === 2)).toHaveLength(2);
    expect(promptTokens.filter((t) => t === 1)).toHaveLength(1);
    expect(promptTokens).not.toContain(id("</"));
    // The same count as the context budget's tokenizer.
    expect(promptTokens.length + 1).toBe(await countTokens(prompt));
  });

  it("raw: false wraps the prompt in a chat template (a fallback one for a GGUF without tokenizer.chat_template)", async () => {
    const m = model(scripted, { numPredict: 4 });
    const raw = await m.promptTokens("hi", true);
    const chat = await m.promptTokens("hi", false);
    expect(chat.length).toBeGreaterThan(raw.length + 2);
    expect(typeof (await m.invoke("hi", { raw: false } as never))).toBe("string");
  });

  it("aborts by signal and by timeout with one clear line", async () => {
    const m = model(scripted, { numPredict: 900, timeoutMs: 60_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(m.invoke("Say loop", { signal: ac.signal })).rejects.toThrow(/call aborted$/);
    const slow = model(scripted, { numPredict: 900, timeoutMs: 30 });
    await expect(slow.invoke("Say loop")).rejects.toThrow(/no reply within 0\.03 s$/);
  });

  it("refuses a prompt longer than the context instead of cutting it", async () => {
    const m = model(scripted, { numCtx: 64 });
    await expect(m.invoke("word ".repeat(100))).rejects.toThrow(/the prompt has 10\d tokens but the context is 64/);
  });
});

describe("random-weight fixture", () => {
  it("one base with three adapters loads the base once; each adapter changes the greedy output", async () => {
    const rt = new LlamaRuntime();
    try {
      const opts = { runtime: rt, numCtx: 512, numPredict: 12, temperature: 0 };
      const prompt = "What is the capital of Japan?\nAssistant:";
      const base = await new LlamaCppModel({ modelPath: fixture.model, ...opts }).invoke(prompt);
      const outs: string[] = [];
      for (const role of ["planner", "caller", "summarizer"] as const) {
        const before = process.memoryUsage().rss;
        outs.push(await new LlamaCppModel({ modelPath: fixture.model, adapterPath: fixture.adapters[role], ...opts }).invoke(prompt));
        process.stdout.write(`llama fixture: ${role} adapter context added ${((process.memoryUsage().rss - before) / 2 ** 20).toFixed(1)} MiB RSS\n`);
      }
      expect(rt.loads).toBe(1);
      expect(base.length).toBeGreaterThan(0);
      for (const o of outs) expect(o).not.toBe(base);
      expect(new Set(outs).size).toBe(3);
      // Greedy is deterministic: the same call again gives the same text.
      expect(await new LlamaCppModel({ modelPath: fixture.model, ...opts }).invoke(prompt)).toBe(base);
    } finally {
      await rt.dispose();
    }
  });

  it("a thread's next call takes the sequence holding its prompt's prefix, so a step evaluates only the new tokens", async () => {
    const m = model(fixture.model, { concurrency: 2, numPredict: 8 });
    const pool = await m.load();
    const evaluated = () => pool.sequences.reduce((sum, s) => sum + s.tokenMeter.usedInputTokens, 0);
    const tools = toolDocs(demoTools());
    const threads = {
      a: plannerPrompt({ tools, history: [{ from: "user", value: "What is the capital of Japan, and which languages are spoken there?" }] }),
      b: plannerPrompt({ tools, history: [{ from: "user", value: `Convert 250 euros to yen, then ${"add seven and ".repeat(12)}tell me the total.` }] }),
    };
    const length = async (prompt: string) => (await m.promptTokens(prompt)).length;
    // Step 1 of both threads at once: each holds one sequence.
    const replies = await Promise.all([m.invoke(threads.a), m.invoke(threads.b)]);
    // Steps 2 and 3, one call at a time, in both orders: each prompt extends its thread's last prompt and reply.
    for (const order of [["b", "a"], ["a", "b"]] as const)
      for (const t of order) {
        const prompt = `${threads[t]}${replies[t === "a" ? 0 : 1]}</s>caller: Action: calculate_for_calculator\n`;
        const fresh = (await length(prompt)) - (await length(threads[t]));
        const before = evaluated();
        const reply = await m.invoke(prompt);
        const step = evaluated() - before;
        process.stdout.write(`llama prefix reuse: thread ${t} evaluated ${step} tokens for a ${await length(prompt)}-token prompt (${fresh} new)\n`);
        // The new prompt tokens (fewer where the generated reply's first tokens are what the prompt re-tokenizes it
        // as), not the thread's τ again nor the other thread's question (each is longer than this bound's slack).
        expect(step).toBeGreaterThanOrEqual(fresh - 8);
        expect(step).toBeLessThanOrEqual(fresh + 2);
        threads[t] = prompt;
        replies[t === "a" ? 0 : 1] = reply;
      }
  });

  it("200 instruct caller calls under a tool-name-enum JSON schema name only real tools (the grammar, not luck)", async () => {
    const tools = toolDocs(demoTools());
    const schema = instructFormat("caller", tools)!;
    const names = tools.map((t) => t.Name);
    const history: Turn[] = [
      { from: "user", value: "What is the capital of Japan?" },
      { from: "assistant", value: "I will look up Japan in the atlas.\nNext: caller." },
    ];
    const prompt = callerPrompt({ tools, history });
    const caller = model(fixture.model, { adapterPath: fixture.adapters.caller, numPredict: 24, concurrency: 2, temperature: 1, numCtx: 2048 });
    const outs = await Promise.all(Array.from({ length: 200 }, () => caller.invoke(prompt, { format: schema } as never)));
    // The name comes first; a reply cut by numPredict inside the name must end with a prefix of a real one.
    const head = /^\s*\{\s*"action"\s*:\s*"([^"]*)("?)/;
    let complete = 0;
    let named = 0;
    for (const out of outs) {
      expect(out).toMatch(head);
      const [, name, closed] = head.exec(out)!;
      if (!closed) {
        expect(out.trimEnd().endsWith(name!)).toBe(true);
        expect(names.some((n) => n.startsWith(name!))).toBe(true);
        continue;
      }
      named++;
      expect(names).toContain(name);
      let parsed: { action: string; action_input: Record<string, unknown> } | undefined;
      try {
        parsed = JSON.parse(out);
      } catch {
        continue; // cut by numPredict inside an argument string; the tool name above is already whole
      }
      complete++;
      const tool = tools.find((t) => t.Name === parsed!.action)!;
      expect(Object.keys(parsed!).sort()).toEqual(["action", "action_input"]);
      for (const [k, v] of Object.entries(parsed!.action_input)) {
        expect(Object.keys(tool.input)).toContain(k);
        expect(typeof v).toBe("string");
      }
    }
    expect(new Set(outs).size).toBeGreaterThan(20);
    expect(named).toBeGreaterThan(100);
    process.stdout.write(`llama fixture: 200 grammar calls: ${named} whole tool names, ${complete} whole JSON replies within 24 tokens, none invalid\n`);
    // Without the grammar the same model names no tool.
    const free = await Promise.all(Array.from({ length: 20 }, () => caller.invoke(prompt)));
    expect(free.filter((o) => /^\s*\{\s*"action"/.test(o))).toHaveLength(0);
  });

  testShared(OUT_OF_DOMAIN, "llama.cpp's token count equals llama-tokenizer-js's on every out-of-domain role prompt", async () => {
    const dialogs = readToolBenchFile(OUT_OF_DOMAIN);
    const steps = extractSteps(dialogs);
    const prompts = new Set<string>();
    const docs = new Map<unknown, string>();
    for (const s of steps) {
      let doc = docs.get(s.tools);
      if (doc === undefined) docs.set(s.tools, (doc = renderToolDocs(s.tools)));
      prompts.add(plannerPrompt({ tools: s.tools, history: s.history, doc }));
      if (!s.next) continue;
      const history: Turn[] = [...s.history, { from: "assistant", value: s.plan }];
      prompts.add(s.next.from === "caller" ? callerPrompt({ tools: s.tools, history, doc }) : summarizerPrompt({ tools: s.tools, history, doc }));
    }
    expect(dialogs).toHaveLength(400);
    expect(prompts.size).toBe(2986); // 2987 role prompts, one repeated
    const counter = await tokenCounter();
    const llamaModel = (await model(fixture.model).load()).context.model;
    const mismatches: string[] = [];
    for (const p of prompts) {
      const cpp = llamaModel.tokenize(p, true).length + 1;
      const js = counter.count(p);
      if (cpp !== js) mismatches.push(`${cpp} vs ${js}: ${p.slice(0, 80)}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe("bad GGUF files", () => {
  it("missing, not a GGUF, truncated data, truncated header: one clear line each", async () => {
    const missing = join(dir, "missing.gguf");
    const text = join(dir, "text.gguf");
    writeFileSync(text, "hello, world\n");
    const cut = join(dir, "cut.gguf");
    copyFileSync(fixture.model, cut);
    truncateSync(cut, 5_000_000);
    const cutHeader = join(dir, "cut-header.gguf");
    copyFileSync(fixture.model, cutHeader);
    truncateSync(cutHeader, 1000);
    const cases: [string, RegExp][] = [
      [missing, /^llama model .*missing\.gguf: no such file$/],
      [text, /^llama model .*text\.gguf: not a GGUF file/],
      [cut, /^llama model .*cut\.gguf: llama\.cpp cannot load it: .*not within the file bounds, model is corrupted or incomplete$/],
      [cutHeader, /^llama model .*cut-header\.gguf: llama\.cpp cannot load it: failed to read key-value pairs$/],
    ];
    for (const [path, re] of cases) {
      const err = await model(path).invoke("x").catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain("\n");
    }
    // Specs check the files up front, adapters included.
    expect(() => modelFromSpec(`llama:${missing}`, "planner")).toThrow(UserError);
    expect(() => modelFromSpec(`llama:${fixture.model}+${text}`, "planner")).toThrow(/^LoRA adapter .*text\.gguf: not a GGUF file/);
    const m = modelFromSpec(`llama:${fixture.model}+${fixture.adapters.caller}`, "caller", { numCtx: 2048, numPredict: 64 });
    expect(m).toBeInstanceOf(LlamaCppModel);
    expect((m as LlamaCppModel).contextWindow).toEqual({ numCtx: 2048, numPredict: 64 });
    expect((m as LlamaCppModel).adapterPath).toBe(fixture.adapters.caller);
  });
});

describe("alpha-umi CLI", () => {
  const noThreads = { ALPHA_UMI_LLAMA_THREADS: undefined };
  const runArgs = (planner: string, caller: string, summarizer: string) =>
    ["run", "What is 2 + 2?", "--tools", "demo", "--planner", planner, "--caller", caller, "--summarizer", summarizer, "--max-steps", "3", "--checkpoints", "memory"];
  const endsWithReason = (r: Awaited<ReturnType<typeof runCli>>) => {
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect([0, 1, 3]).toContain(r.code);
    expect(r.stdout).toMatch(/\[planner\]/);
    expect(r.stdout).toMatch(/^(finished in|gave up:|failed:) /m);
  };

  it("models fixture, then run with llama: models for all three roles, on the default threads, ends with a reason", async () => {
    const out = join(dir, "cli");
    const fx = await runCli(["models", "fixture", "--out", out], noThreads);
    expect(fx.code).toBe(0);
    expect(fx.stdout).toContain(`wrote ${join(out, "tiny-llama.gguf")}`);
    const spec = `llama:${join(out, "tiny-llama.gguf")}`;
    endsWithReason(await runCli(runArgs(spec, spec, spec), noThreads));
  });

  const loraSpecs = () => {
    const out = join(dir, "cli");
    const base = join(out, "tiny-llama.gguf");
    return (["planner", "caller", "summarizer"] as const).map((role) => `llama:${base}+${join(out, `tiny-lora-${role}.gguf`)}`);
  };

  it("the LoRA form, on the default threads, ends with a reason", async () => {
    const [p, c, s] = loraSpecs();
    endsWithReason(await runCli(runArgs(p!, c!, s!), noThreads));
  });

  it("the LoRA form with ALPHA_UMI_LLAMA_THREADS=1 ends with a reason; a bad thread count is one line", async () => {
    const [p, c, s] = loraSpecs();
    endsWithReason(await runCli(runArgs(p!, c!, s!), { ALPHA_UMI_LLAMA_THREADS: "1" }));
    const bad = await runCli(runArgs(p!, c!, s!), { ALPHA_UMI_LLAMA_THREADS: "two" });
    expect(bad.stderr).toMatch(/ALPHA_UMI_LLAMA_THREADS: "two" is not a positive integer/);
    expect(bad.stderr).not.toMatch(/^ {4}at /m);
  });
});
