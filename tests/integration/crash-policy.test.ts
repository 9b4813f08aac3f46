/**
 * The crash policy through the CLI: `alpha-umi run --thread` SIGKILLed again and again — at the start of a call, at its
 * end, and at seeded random moments — and resumed until it finishes, counting what the tools ran (each logs the start
 * and end of its numbered call). No call that had completed (its observation in the checkpoint) ever starts again; a
 * call of a tool not marked idempotent starts at most once — one that was in flight gets the uncertain observation —
 * while an idempotent one in flight runs again.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { prng } from "../../src/prng.js";
import type { Turn } from "../../src/state.js";
import { startCli, waitFor, type CliResult } from "../helpers/cli.js";
import { startFakeOllama, type FakeOllama, type GenerateCall } from "../helpers/fakeOllama.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

const CALLS = 10;
const TOOL_MS = 400;
/** Odd calls are lookups (idempotent), even ones payments (not). */
const toolOf = (n: number) => (n % 2 ? "look_for_test" : "pay_for_test");
const uncertain = (tool: string) =>
  JSON.stringify({
    error: `${tool} was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
    response: "",
  });

/** Models behind an Ollama API that read τ: one call per observation so far, numbered, then the conclusion. */
function models({ model, prompt }: GenerateCall): string {
  const history = prompt.split("The conversation history is:")[1] ?? prompt;
  const done = history.split("observation: ").length - 1;
  if (model === "P") return done < CALLS ? `Call number ${done + 1}.\n Next: caller.` : "All calls made.\n Next: conclusion.";
  if (model === "C") return `Action: ${toolOf(done + 1)}\nAction Input: {"n": ${done + 1}}`;
  return "All done.";
}

let work: string;
let fake: FakeOllama;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "alpha-umi-crash-"));
  fake = await startFakeOllama({ models: { P: {}, C: {}, S: {} }, respond: models });
});
afterAll(async () => {
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("run --thread, SIGKILLed at any moment and resumed: the crash policy", () => {
  it("no completed call starts again; a non-idempotent call starts at most once (in flight: the uncertain observation); an idempotent one in flight runs again", async () => {
    const log = join(work, "calls.log");
    const mod = join(work, "tools.mjs");
    writeFileSync(
      mod,
      `import { appendFileSync } from "node:fs";
const tool = (name, idempotent) => ({
  doc: { Name: name, function: "a numbered test call", input: { n: "number, the call number" } },
  idempotent,
  run: async ({ n }) => {
    appendFileSync(${JSON.stringify(log)}, "start " + n + "\\n");
    await new Promise((r) => setTimeout(r, ${TOOL_MS}));
    appendFileSync(${JSON.stringify(log)}, "end " + n + "\\n");
    return name + " " + n + " done";
  },
});
export const tools = [tool("look_for_test", true), tool("pay_for_test", false)];
`,
    );
    const db = join(work, "ck.sqlite");
    const models = ["--planner", `ollama:P@${fake.url}`, "--caller", `ollama:C@${fake.url}`, "--summarizer", `ollama:S@${fake.url}`];
    const args = ["--tools", `module:${mod}`, ...models, "--checkpoints", db, "--thread", "T"];
    const lines = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []);
    const stored = async (): Promise<Turn[]> => {
      const saver = SqliteSaver.fromConnString(db);
      return (await storedState(saver, { configurable: { thread_id: "T" } })).turns ?? [];
    };
    const completed = (turns: Turn[]) => turns.filter((t) => t.from === "observation").length;

    // Kill points: a payment and a lookup each at their start (in flight), then at the end of a call (the window between
    // the tool's return and its checkpoint), then at seeded random moments until a run finishes.
    const triggers: Array<(l: string[]) => boolean> = [(l) => l.includes("start 2"), (l) => l.includes("start 3"), (l) => l.includes("end 4")];
    const random = prng(16);
    /** After each kill: how many calls were completed in the checkpoint, and where the log stood. */
    const kills: Array<{ completed: number; at: number }> = [];
    let first = true;
    let final: CliResult | undefined;
    for (let round = 0; round < 20 && !final; round++) {
      const child = startCli(first ? ["run", "Make the calls.", ...args] : ["run", ...args]);
      first = false;
      // Random rounds: once this process has logged something (so every round makes progress), a seeded random wait.
      const trigger = triggers[round];
      const before = lines().length;
      await waitFor(() => child.exitCode !== null || (trigger ? trigger(lines()) : lines().length > before), 60_000, `kill point ${round}`);
      if (!trigger) await new Promise((r) => setTimeout(r, random() * TOOL_MS * 1.5));
      if (child.exitCode !== null) {
        final = await child.done;
        break;
      }
      child.kill("SIGKILL");
      const killed = await child.done;
      expect(killed.signal).toBe("SIGKILL");
      kills.push({ completed: completed(await stored()), at: lines().length });
    }
    expect(final?.stderr).toBe("");
    expect(final?.code).toBe(0);
    expect(kills.length).toBeGreaterThanOrEqual(6);

    const log_ = lines();
    const starts = (n: number, from = 0) => log_.slice(from).filter((l) => l === `start ${n}`).length;
    // No completed call starts again after the kill that found it completed.
    for (const k of kills) for (let n = 1; n <= k.completed; n++) expect([n, starts(n, k.at)]).toEqual([n, 0]);
    // No non-idempotent call starts twice; the lookup killed in flight ran again.
    for (let n = 2; n <= CALLS; n += 2) expect([n, starts(n)]).toEqual([n, 1]);
    expect(starts(3)).toBeGreaterThanOrEqual(2);

    const turns = await stored();
    const calls = turns.filter((t) => t.from === "caller").map((t) => t.value);
    const observations = turns.filter((t) => t.from === "observation").map((t) => t.value);
    expect(calls).toEqual(Array.from({ length: CALLS }, (_, i) => `Action: ${toolOf(i + 1)}\nAction Input: {"n": ${i + 1}}`));
    expect(turns.at(-1)).toEqual({ from: "conclusion", value: "All done." });
    // Call 2 was killed in flight: not run again, the planner read that it may or may not have run.
    expect(observations[1]).toBe(uncertain("pay_for_test"));
    expect(observations[2]).toBe("look_for_test 3 done");
    // Every other observation is the tool's result or, for a payment whose run was cut before its checkpoint, the uncertain one.
    observations.forEach((o, i) => expect([`${toolOf(i + 1)} ${i + 1} done`, uncertain(toolOf(i + 1))]).toContain(o));
    for (let n = 1; n <= CALLS; n += 2) expect(observations[n - 1]).toBe(`look_for_test ${n} done`);
  }, 300_000);
});
