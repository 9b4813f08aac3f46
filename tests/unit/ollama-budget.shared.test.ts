import { readFileSync } from "node:fs";
import { join } from "node:path";
import llamaTokenizer from "llama-tokenizer-js";
import { renderToolDocs, type PromptRole } from "../../src/protocol/index.js";
import { DEFAULT_BUDGET, fitHistory, promptLimit } from "../../src/protocol/budget.js";
import { elisionTurn } from "../../src/protocol/budget.js";
import { countTokens } from "../../src/protocol/tokens.js";
import type { ToolDoc, Turn } from "../../src/state.js";
import { describeShared, OUT_OF_DOMAIN, TRAIN_EXAMPLE, testShared } from "../helpers/shared.js";

const tools: ToolDoc[] = [
  { Name: "get_weather_for_demo", function: "Weather of a city.", input: { city: "string, the city name" } },
  { Name: "get_time_for_demo", function: "Local time of a city.", input: { city: "string, the city name" } },
];
const doc = renderToolDocs(tools);

/** A long τ: user question, then `steps` rounds of plan, call and a bulky observation. */
function longHistory(steps: number): Turn[] {
  const turns: Turn[] = [{ from: "user", value: "What is the weather and the time in Paris?" }];
  for (let i = 0; i < steps; i++)
    turns.push(
      { from: "assistant", value: `Step ${i}: I will call the weather API.\n Next: caller.` },
      { from: "caller", value: 'Action: get_weather_for_demo\nAction Input: {"city": "Paris"}' },
      { from: "observation", value: `{"step": ${i}, "data": "${"sunny and mild with a light breeze ".repeat(20)}"}` },
    );
  return turns;
}

describe("token counting", () => {
  test("a piece-wise count equals the tokenizer's count of the whole text, </s> counted as one special token", async () => {
    const text = "user: Hi there</s>assistant: Plan it.\n Next: caller.</s>caller: Action: x\nAction Input: {}</s>\nobservation: ok\n\n  indented";
    // llama.cpp: BOS, then each text piece tokenized with SentencePiece's leading space, each </s> one token.
    const pieces = text.split("</s>");
    const expected = 1 + (pieces.length - 1) + pieces.reduce((n, p) => n + llamaTokenizer.encode(p, false, true).length, 0);
    expect(await countTokens(text)).toBe(expected);
  });

  testShared(TRAIN_EXAMPLE, "equals whole-piece tokenization on real training prompts", async () => {
    const records = JSON.parse(readFileSync(join(TRAIN_EXAMPLE, "train_caller.json"), "utf8")) as { input: string }[];
    for (const r of records.slice(0, 5)) {
      const pieces = r.input.split("</s>");
      const expected = pieces.length + pieces.reduce((n, p) => n + (p ? llamaTokenizer.encode(p, false, true).length : 0), 0);
      expect(await countTokens(r.input)).toBe(expected);
    }
  });
});

describe("fitHistory", () => {
  test("a prompt within the budget is the plain rendering", async () => {
    const history = longHistory(1);
    const r = await fitHistory("planner", { tools, doc, history });
    expect(r).toMatchObject({ elided: 0, fits: true });
    expect(r.tokens).toBeLessThanOrEqual(promptLimit(DEFAULT_BUDGET));
  });

  test("drops the oldest steps after the first user turn, marks it, keeps docs, instruction and the current plan", async () => {
    const history = [...longHistory(12), { from: "assistant" as const, value: "Now call the time API.\n Next: caller." }];
    const budget = { numCtx: 2048, numPredict: 512 };
    const r = await fitHistory("caller", { tools, doc, history }, budget);
    expect(r.fits).toBe(true);
    expect(r.elided).toBeGreaterThan(0);
    expect(r.elided % 3).toBe(0); // whole steps: plan, call, observation
    expect(r.tokens).toBeLessThanOrEqual(1536);
    expect(r.prompt).toContain(doc);
    expect(r.prompt).toContain(`user: ${history[0]!.value}</s>user: ${elisionTurn(r.elided).value}</s>assistant: Step ${r.elided / 3}:`);
    expect(r.prompt).not.toContain("Step 0:");
    expect(r.prompt.endsWith("The thought of this step is:\nNow call the time API.\n Next: caller.\nBase on the thought make an api call in the following format:\nAction: the name of api that should be called in this step, should be exactly in [get_weather_for_demo, get_time_for_demo],\nAction Input: the api call request. caller: ")).toBe(true);
    expect(r.tokens).toBe(await countTokens(r.prompt));
  });

  test("says when even the shortest history does not fit", async () => {
    const r = await fitHistory("planner", { tools, doc, history: longHistory(2) }, { numCtx: 200, numPredict: 100 });
    expect(r.fits).toBe(false);
    expect(r.elided).toBe(6);
  });
});

interface Dialog {
  tools: ToolDoc[];
  conversations: Turn[];
}

/** Every out-of-domain step prompt: a planner prompt per step, a caller or summarizer prompt after each plan. */
function* oodPrompts(dialogs: Dialog[]): Generator<{ role: PromptRole; tools: ToolDoc[]; doc: string; history: Turn[] }> {
  for (const d of dialogs) {
    const doc = renderToolDocs(d.tools);
    const turns = d.conversations;
    for (let i = 0; i < turns.length; i++) {
      const t = turns[i]!;
      if (t.from !== "assistant" || !/Next: (caller|conclusion|give up)\./.test(t.value)) continue;
      yield { role: "planner", tools: d.tools, doc, history: turns.slice(0, i) };
      const next = turns[i + 1]?.from;
      if (next === "caller") yield { role: "caller", tools: d.tools, doc, history: turns.slice(0, i + 1) };
      if (next === "conclusion") yield { role: "summarizer", tools: d.tools, doc, history: turns.slice(0, i + 1) };
    }
  }
}

describeShared(OUT_OF_DOMAIN, "out-of-domain step prompts against the 4096-token context", () => {
  test("how many exceed num_ctx − num_predict (3584) and num_ctx (4096), before and after eliding", async () => {
    const dialogs = JSON.parse(readFileSync(OUT_OF_DOMAIN, "utf8")) as Dialog[];
    const limit = promptLimit(DEFAULT_BUDGET);
    const stats = { prompts: 0, over3584Before: 0, over4096Before: 0, over3584After: 0, over4096After: 0, elidedPrompts: 0 };
    const byRole: Record<string, number> = {};
    for (const p of oodPrompts(dialogs)) {
      const unlimited = await fitHistory(p.role, p, { numCtx: Number.MAX_SAFE_INTEGER, numPredict: 0 });
      const fitted = await fitHistory(p.role, p);
      stats.prompts++;
      byRole[p.role] = (byRole[p.role] ?? 0) + 1;
      if (unlimited.tokens > limit) stats.over3584Before++;
      if (unlimited.tokens > DEFAULT_BUDGET.numCtx) stats.over4096Before++;
      if (fitted.tokens > limit) stats.over3584After++;
      if (fitted.tokens > DEFAULT_BUDGET.numCtx) stats.over4096After++;
      if (fitted.elided > 0) stats.elidedPrompts++;
    }
    console.log(`out-of-domain step prompts: ${JSON.stringify(byRole)}; ${JSON.stringify(stats)}`);
    expect(byRole).toEqual({ planner: 1547, caller: 1146, summarizer: 294 });
    // Measured with this counter (BOS + `</s>` as one special token each): 66 of 2987 over 3584, 32 over 4096.
    expect(stats).toEqual({ prompts: 2987, over3584Before: 66, over4096Before: 32, over3584After: 0, over4096After: 0, elidedPrompts: 66 });
  });
});
