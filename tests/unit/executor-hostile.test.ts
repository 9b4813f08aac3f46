import { Command, interrupt } from "@langchain/langgraph";
import type { AIMessage } from "@langchain/core/messages";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { z } from "zod";
import { defineTool } from "../../src/tools/adapters.js";
import { executeCall, type ExecutorOptions } from "../../src/tools/executor.js";
import { capReason, errorMessage, safeJson, toolResultText, truncate, unsafeForCheckpoint, wellFormed } from "../../src/stringify.js";
import { toolCallOf } from "../../src/nodes/toolCalls.js";
import { EXACT_PIECE_CHARS, countTokens, tokenUpperBound } from "../../src/protocol/tokens.js";
import type { ToolSpec } from "../../src/tools/spec.js";
import { createAlphaUmiGraph } from "../../src/graph.js";
import type { RoleModel } from "../../src/models/generate.js";
import type { AgentStateType } from "../../src/state.js";
import { call, plan, roles, runScenario } from "../helpers/scenario.js";
import { deepJson, hostileValues } from "../fuzz/hostile.js";

const opts: ExecutorOptions = { timeoutMs: 1000, maxObservationChars: 1000 };
const returning = (name: string, value: () => unknown): ToolSpec => ({ doc: { Name: name, function: name, input: {} }, run: async () => value() });
const throwing = (name: string, value: () => unknown): ToolSpec => ({
  doc: { Name: name, function: name, input: {} },
  run: async () => {
    throw value();
  },
});

describe("safe stringification", () => {
  it("is JSON.stringify for plain data", () => {
    const plain = { a: [1, "x", null, true, { b: 2.5 }], c: "é😀", d: undefined, e: () => 1, f: new Date(0) };
    expect(safeJson(plain)).toBe(JSON.stringify(plain));
    expect(toolResultText("as is")).toBe("as is");
  });

  it.each(Object.entries(hostileValues()))("never throws and yields well-formed text: %s", (_name, make) => {
    const text = toolResultText(make(), 5000);
    expect(typeof text).toBe("string");
    expect(typeof errorMessage(make())).toBe("string");
    expect(wellFormed(text)).toBe(wellFormed(wellFormed(text)));
  });

  it("describes cycles, depth, BigInt and throwing getters instead of throwing", () => {
    const v = hostileValues();
    expect(safeJson(v.circular!())).toBe('{"name":"loop","self":"[circular]"}');
    expect(safeJson(v.bigint!())).toBe('{"n":"1000000000000000000000000000000"}');
    expect(safeJson(v.getterThrows!())).toBe('{"x":"[throws: getter]"}');
    expect(safeJson(v.deep!())).toContain('"[depth limit]"');
    expect(errorMessage(v.messageThrows!())).toBe("unreadable error message [throws: message getter]");
    expect(errorMessage(v.nullProto!())).toBe('{"a":1}');
    expect(wellFormed("a\ud800b\u0000c\ud83d\ude00")).toBe("a\ufffdb\ufffdc\ud83d\ude00");
  });

  it("stops walking a huge value at the character budget", () => {
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(safeJson(huge, { maxChars: 100 }).length).toBeLessThan(120);
  });

  it("caps a failure reason", () => {
    expect(capReason(new Error("x".repeat(1_000_000))).length).toBeLessThanOrEqual(2000 + 40);
    expect(capReason(Object.create(null))).toBe("{}");
    expect(truncate("ab\ud83d\ude00", 3)).toBe("ab...[truncated 2 chars]");
  });
});

describe("executor under hostile tools", () => {
  it.each(Object.entries(hostileValues()))("a tool returning or throwing %s gives an observation", async (name, make) => {
    for (const tool of [returning(name, make), throwing(name, make)]) {
      const r = await executeCall([tool], name, "{}", opts);
      expect(typeof r.observation).toBe("string");
      expect(r.observation.length).toBeLessThanOrEqual(1000 + 40);
      expect(wellFormed(r.observation)).toBe(r.observation);
    }
  });

  it("caps every observation, error observations included, and keeps error observations JSON", async () => {
    const small = { ...opts, maxObservationChars: 100 };
    const atlas = returning("atlas", () => "ok");
    const cases = [
      await executeCall([atlas], "n".repeat(100_000), "{}", small), // unknown tool
      await executeCall([atlas], "atlas", "{" + "x".repeat(100_000), small), // invalid JSON
      await executeCall([throwing("boom", () => new Error("\u0000".repeat(100_000)))], "boom", "{}", small), // escapes grow the JSON
      await executeCall([returning("big", () => "y".repeat(10_000_000))], "big", "{}", small),
    ];
    for (const r of cases) expect(r.observation.length).toBeLessThanOrEqual(100 + 40);
    for (const r of cases.slice(0, 3)) expect(JSON.parse(r.observation).error).toMatch(/truncated \d+ chars/);
    expect(cases[0]!.error).toBe("unknown_tool");
  });

  it("a deep Action Input is an observation, whatever the schema does with it", async () => {
    type Deep = { a?: Deep };
    const recursive: z.ZodType<Deep> = z.lazy(() => z.object({ a: recursive.optional() }));
    const tool = defineTool({ name: "deep", description: "", schema: recursive as z.ZodObject<z.ZodRawShape>, run: () => "ran" });
    const r = await executeCall([tool], "deep", deepJson(100_000), opts);
    expect(r.ok).toBe(false);
    expect(r.error).toBe("invalid_arguments");
  });

  it("an aborted run stops waiting for a tool that ignores its signal", async () => {
    const controller = new AbortController();
    const stuck = returning("stuck", () => new Promise(() => undefined));
    const pending = executeCall([stuck], "stuck", "{}", { ...opts, timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    expect((await pending).error).toBe("aborted");
  });
});

describe("chat-view tool calls", () => {
  it("arguments the checkpoint cannot store faithfully are shown raw", () => {
    expect(toolCallOf(2, "t", '{"city":"Oslo"}').args).toEqual({ city: "Oslo" });
    expect(toolCallOf(2, "t", deepJson(7000)).args).toEqual({ input: deepJson(7000) });
    const proto = '{"__proto__": {"x": 1}, "a": 1}';
    expect(toolCallOf(2, "t", proto).args).toEqual({ input: proto });
    expect(unsafeForCheckpoint(JSON.parse('[{"b": {"__proto__": 1}}]'))).toBe(true);
    expect(unsafeForCheckpoint({ a: [1, { b: 2 }] })).toBe(false);
  });
});

describe("regressions through the real graph (each threw out of invoke before)", () => {
  it("a depth-7000 Action Input and a __proto__ key: the run finishes, the checkpoint holds the message as sent", async () => {
    const proto = '{"__proto__": {"polluted": true}, "country": "Japan"}';
    const { state, graph, config } = await runScenario(
      {
        planner: [plan("a", "caller"), plan("b", "caller"), plan("c", "conclusion")],
        caller: [call("country_facts_for_atlas", deepJson(7000)), call("country_facts_for_atlas", proto)],
        summarizer: ["done"],
      },
      { checkpointer: SqliteSaver.fromConnString(":memory:") },
    );
    expect(state.status.status).toBe("finished");
    expect(roles(state)).toEqual(["user", "assistant", "caller", "observation", "assistant", "caller", "observation", "assistant", "conclusion"]);
    const calls = (s: AgentStateType) => s.messages.flatMap((m) => (m as AIMessage).tool_calls ?? []).map((c) => c.args);
    const stored = (await graph.getState(config)).values as AgentStateType;
    expect(calls(stored)).toEqual(calls(state));
    expect(calls(stored)[1]).toEqual({ input: proto });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("tools that throw unprintable values or return unserializable ones: every call is an observation", async () => {
    const values = hostileValues();
    const tools = Object.entries(values).flatMap(([name, make]) => [returning(`r_${name}`, make), throwing(`t_${name}`, make)]);
    const names = tools.map((t) => t.doc.Name);
    const { state } = await runScenario(
      {
        planner: [...names.map(() => plan("try", "caller")), plan("done", "conclusion")],
        caller: names.map((n) => call(n, {})),
        summarizer: ["ok"],
      },
      { tools, checkpointer: SqliteSaver.fromConnString(":memory:"), maxSteps: 100 },
    );
    expect(state.status.status).toBe("finished");
    expect(state.turns.filter((t) => t.from === "observation")).toHaveLength(names.length);
  });

  it("a model whose promise never settles, with no abort signal: the run fails at the model timeout and resumes", async () => {
    const never = { invoke: () => new Promise(() => undefined) } as unknown as RoleModel;
    const models = { planner: never, caller: never, summarizer: never };
    const graph = createAlphaUmiGraph({ tools: [], models, modelTimeoutMs: 50 });
    const config = { configurable: { thread_id: "never" } };
    const state = (await graph.invoke({ instruction: "q" }, config)) as AgentStateType;
    expect(state.status).toEqual({ status: "failed", reason: expect.stringMatching(/planner model failed: no reply within 0\.05 s/) });
    expect(roles((await graph.invoke({ instruction: "q" }, config)) as AgentStateType)).toEqual(["user"]);
  });

  it("a failed model's reason is capped", async () => {
    const { state } = await runScenario({ planner: [new Error("server said: " + "z".repeat(1_000_000))] });
    expect(state.status.status).toBe("failed");
    expect(state.status.reason!.length).toBeLessThanOrEqual(2000 + 40);
  });
});

describe("LangGraph interrupts inside a user's tool", () => {
  it("pass through the executor; the run resumes with Command({ resume })", async () => {
    const asked: unknown[] = [];
    const approve: ToolSpec = {
      doc: { Name: "transfer_for_bank", function: "moves money", input: {} },
      run: async () => {
        const answer = interrupt({ question: "approve?" });
        asked.push(answer);
        return `approved: ${String(answer)}`;
      },
    };
    const { state, graph, config } = await runScenario(
      { planner: [plan("pay", "caller"), plan("paid", "conclusion")], caller: [call("transfer_for_bank", {})], summarizer: ["done"] },
      { tools: [approve] },
    );
    expect(state.status.status).toBe("running");
    expect(roles(state)).toEqual(["user", "assistant", "caller"]);
    const pending = await graph.getState(config);
    expect(pending.tasks.flatMap((t) => t.interrupts).map((i) => i.value)).toEqual([{ question: "approve?" }]);
    const done = (await graph.invoke(new Command({ resume: "yes" }), config)) as AgentStateType;
    expect(asked).toEqual(["yes"]);
    expect(done.status.status).toBe("finished");
    expect(done.turns.find((t) => t.from === "observation")!.value).toBe("approved: yes");
  });
});

describe("token counting of huge text", () => {
  it("is exact for ordinary prompts and an upper bound past the exact window, never below the truth", async () => {
    const line = "The exchange rate of the euro to the yen is 162.5 today. ";
    const text = line.repeat(100);
    expect(await countTokens(text)).toBeLessThanOrEqual(tokenUpperBound(text, true) + 1);
    // A multi-megabyte observation: counted once, bounded, over any context window.
    const huge = (line + "\n").repeat(Math.ceil((4 * EXACT_PIECE_CHARS) / line.length));
    const n = await countTokens(huge);
    expect(n).toBeGreaterThan(EXACT_PIECE_CHARS / 8);
    expect(await countTokens(huge)).toBe(n);
    const oneLine = "x".repeat(4_000_000);
    expect(await countTokens(oneLine)).toBeGreaterThan(4096);
  });
});
