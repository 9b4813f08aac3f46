import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { generate, ModelCallError, type Role } from "../../src/models/generate.js";
import { normalizeOllamaHost, OllamaRawModel, type OllamaModelParams } from "../../src/models/ollama.js";
import { modelFromSpec } from "../../src/models/spec.js";
import { renderRolePrompt } from "../../src/protocol/index.js";
import { instructFormat } from "../../src/protocol/instruct.js";
import { RoleCodec } from "../../src/codec/index.js";
import type { ToolDoc, Turn } from "../../src/state.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fakeOllama.js";

const tools: ToolDoc[] = [
  { Name: "get_weather_for_demo", function: "Weather of a city. Température en °C.", input: { city: "string, the city name", days: "integer, how many days" } },
  { Name: "get_time_for_demo", function: "Local time of a city.", input: {} },
];
const plan: Turn = { from: "assistant", value: "I should look up the weather in Paris.\n Next: caller." };
const history: Turn[] = [
  { from: "user", value: "Weather in Paris? 🌦" },
  plan,
  { from: "caller", value: 'Action: get_weather_for_demo\nAction Input: {"city": "Paris"}' },
  { from: "observation", value: '{"temp": 21}' },
  { from: "assistant", value: "I have the weather.\n Next: conclusion." },
];

let fake: FakeOllama;
beforeEach(async () => {
  fake = await startFakeOllama({ models: { "alpha-umi-planner": {}, "qwen2.5:latest": {} } });
});
afterEach(() => fake.close());

/** A raw α-UMi request, as an α-UMi codec renders it. */
const raw = (prompt: string) => ({ prompt, callOptions: { stop: ["</s>"], raw: true } });

function model(params: Partial<OllamaModelParams> = {}): OllamaRawModel {
  return new OllamaRawModel({ model: "alpha-umi-planner", host: fake.url, backoffMs: 5, ...params });
}

const ROLE_INPUTS: Record<Role, Turn[]> = {
  planner: history.slice(0, 4),
  caller: history.slice(0, 2),
  summarizer: history,
  backbone: history.slice(0, 4),
};

describe("requests", () => {
  test.each(["planner", "caller", "summarizer", "backbone"] as const)(
    "α-UMi pack, %s: the raw prompt is the protocol rendering byte for byte, with stop, options and keep_alive",
    async (role) => {
      const m = model({ role, temperature: 0.5, seed: 7 });
      const prompt = renderRolePrompt(role, { tools, history: ROLE_INPUTS[role] });
      const rendered = await new RoleCodec(role, { templates: "toolbench", window: m.contextWindow }).render({ tools, turns: ROLE_INPUTS[role] });
      expect(rendered.prompt).toBe(prompt);
      await expect(generate(role, m, rendered)).resolves.toBe("ok");
      const [body] = fake.generations();
      expect(Buffer.from(String(body!.prompt), "utf8").equals(Buffer.from(prompt, "utf8"))).toBe(true);
      expect(body).toEqual({
        model: "alpha-umi-planner",
        prompt,
        raw: true,
        stream: false,
        keep_alive: "30m",
        options: { num_ctx: 4096, num_predict: 512, temperature: 0.5, seed: 7, stop: ["</s>"] },
      });
    },
  );

  test.each(["planner", "caller", "summarizer"] as const)(
    "instruct pack, %s: the chat-form prompt goes through the model's template, with the role's JSON schema",
    async (role) => {
      fake.faults = [];
      const m = model({ model: "qwen2.5", role, keepAlive: -1, numCtx: 8192 });
      const prompt = renderRolePrompt(role, { tools, history: ROLE_INPUTS[role] }, "instruct");
      const format = instructFormat(role, tools);
      const rendered = await new RoleCodec(role, { templates: "instruct", window: m.contextWindow }).render({ tools, turns: ROLE_INPUTS[role] });
      expect(rendered).toMatchObject({ prompt, callOptions: { raw: false, ...(format ? { format } : {}) } });
      await generate(role, m, rendered);
      const [body] = fake.generations();
      expect(body).toEqual({
        model: "qwen2.5",
        prompt,
        raw: false,
        stream: false,
        keep_alive: -1,
        options: { num_ctx: 8192, num_predict: 512, stop: ["</s>"] },
        ...(format ? { format } : {}),
      });
      expect(prompt).not.toContain("</s>");
    },
  );

  test("instruct replies come back as is, and the codec reads them as α-UMi τ text", async () => {
    const replies = ['{"thought": "Check the weather.", "next": "caller"}', '{"action": "get_weather_for_demo", "action_input": {"city": "Paris"}}'];
    const sent = [...replies];
    await fake.close();
    fake = await startFakeOllama({ models: { "qwen2.5": {} }, respond: () => replies.shift()! });
    const m = new OllamaRawModel({ model: "qwen2.5", host: fake.url });
    const read = async (role: Role) => {
      const codec = new RoleCodec(role, { templates: "instruct" });
      const text = await generate(role, m, await codec.render({ tools, turns: ROLE_INPUTS[role] }));
      expect(text).toBe(sent.shift());
      return codec.read(text);
    };
    expect(await read("planner")).toMatchObject({ text: "Check the weather.\n Next: caller.", decision: "caller" });
    expect(await read("caller")).toMatchObject({
      turns: [{ from: "caller", value: 'Action: get_weather_for_demo\nAction Input: {\n  "city": "Paris"\n}' }],
      call: { action: "get_weather_for_demo" },
    });
  });

  test("modelFromSpec passes per-role options and the spec's URL", async () => {
    const m = modelFromSpec(`ollama:alpha-umi-planner@${fake.url}`, "planner", { numPredict: 256, keepAlive: "1h" });
    await generate("planner", m, raw("hello"));
    expect(fake.generations()[0]).toMatchObject({ keep_alive: "1h", options: { num_predict: 256 } });
  });
});

describe("faults", () => {
  test("a 500 is retried and the next reply wins", async () => {
    fake.faults.push({ status: 500, error: "llama runner process has terminated" });
    await expect(generate("planner", model(), raw("p"))).resolves.toBe("ok");
    expect(fake.generations()).toHaveLength(2);
  });

  test("5xx retries are bounded", async () => {
    fake.faults.push({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await expect(generate("planner", model({ retries: 2 }), raw("p"))).rejects.toThrow(/planner model failed: Ollama at http:\/\/127\.0\.0\.1:\d+, model alpha-umi-planner: server error 503/);
    expect(fake.generations()).toHaveLength(3);
  });

  test("a dropped connection is retried", async () => {
    fake.faults.push("reset");
    await expect(generate("planner", model(), raw("p"))).resolves.toBe("ok");
    expect(fake.generations()).toHaveLength(2);
  });

  test("a reply slower than the timeout is a timeout error", async () => {
    fake.faults.push({ delayMs: 3000 });
    const t0 = Date.now();
    await expect(generate("planner", model({ timeoutMs: 200 }), raw("p"))).rejects.toThrow(/model alpha-umi-planner: no reply within 0\.2 s/);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(fake.generations()).toHaveLength(1);
  });

  test("an unknown model says how to create it", async () => {
    const err = await generate("caller", model({ model: "alpha-umi-caller" }), raw("p")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    expect((err as Error).message).toMatch(/Ollama at http:\/\/127\.0\.0\.1:\d+, model alpha-umi-caller: model not found — create it with `alpha-umi models create`/);
    expect(fake.generations()).toHaveLength(1);
  });

  test("a stopped server fails fast with one clear line", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const t0 = Date.now();
    const err = (await generate("planner", new OllamaRawModel({ model: "m", host: `127.0.0.1:${port}` }), raw("p")).catch((e: unknown) => e)) as Error;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.message).toBe(`planner model failed: Ollama at http://127.0.0.1:${port}, model m: cannot connect (ECONNREFUSED) — start \`ollama serve\` or set OLLAMA_HOST`);
    expect(err.message).not.toContain("\n");
  });

  test("aborting the call's signal aborts the HTTP request", async () => {
    fake.faults.push({ delayMs: 5000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await expect(generate("planner", model(), raw("p"), { signal: ac.signal })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.closedEarly).toBe(1);
    expect(fake.generations()).toHaveLength(1);
  });

  test("a prompt longer than num_ctx is refused before it is sent (Ollama would cut the tool docs off)", async () => {
    await expect(generate("planner", model({ numCtx: 20 }), raw("word ".repeat(50)))).rejects.toThrow(
      /model alpha-umi-planner: the prompt has \d+ tokens but num_ctx is 20; context too small/,
    );
    expect(fake.generations()).toHaveLength(0);
  });
});

test("OLLAMA_HOST forms", () => {
  expect(normalizeOllamaHost(undefined)).toBe("http://127.0.0.1:11434");
  expect(normalizeOllamaHost("127.0.0.1:11434")).toBe("http://127.0.0.1:11434");
  expect(normalizeOllamaHost("gpu-box")).toBe("http://gpu-box:11434");
  expect(normalizeOllamaHost(":8080")).toBe("http://127.0.0.1:8080");
  expect(normalizeOllamaHost("https://ollama.example.com/")).toBe("https://ollama.example.com");
  expect(() => normalizeOllamaHost("http://[bad")).toThrow(/OLLAMA_HOST/);
});
