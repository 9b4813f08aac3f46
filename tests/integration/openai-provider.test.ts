/**
 * `openai:` role models against a loopback server written here that speaks the OpenAI completions API as vLLM and
 * llama-server do (SSE streaming, `/v1/models` with vLLM's `max_model_len`, llama-server's `/props`), recording every
 * request byte for byte. The real llama-server is tested in llama-server.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { RoleCodec } from "../../src/codec/index.js";
import { loadContextWindow } from "../../src/models/window.js";
import { generate, type Role } from "../../src/models/generate.js";
import { OpenAICompatModel, openaiModelFromSpec, parseOpenAISpec } from "../../src/models/openai.js";
import { modelFromSpec } from "../../src/models/spec.js";
import { renderRolePrompt } from "../../src/protocol/index.js";
import { instructFormat } from "../../src/protocol/instruct.js";
import type { AgentStateType, ToolDoc, Turn } from "../../src/state.js";
import { runCli } from "../helpers/cli.js";
import { cliInProcess } from "../helpers/inProcessCli.js";
import { storedState } from "../../src/checkpoint/checkpointers.js";

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | null;
}

type Fault = { status: number; message?: string } | { delayMs: number };

interface FakeServer {
  url: string;
  port: number;
  requests: Recorded[];
  completions(): Recorded[];
  faults: Fault[];
  /** Served model ids (a request for another one is a 404, as vLLM answers). */
  models: string[];
  /** The key the server wants (`--api-key`); unset: none. */
  key?: string;
  close(): Promise<void>;
}

interface FakeOptions {
  kind?: "vllm" | "llama.cpp" | "bare";
  models?: string[];
  key?: string;
  maxModelLen?: number;
  nCtx?: number;
  version?: string;
  port?: number;
  respond?: (body: Record<string, unknown>) => string;
}

/** The protocol's replies for the demo task "What is 2 + 2?", chosen by the role the model name says. */
function demoReply(body: Record<string, unknown>): string {
  const prompt = String(body.prompt ?? "");
  switch (body.model) {
    case "planner":
      return prompt.includes('"result"') ? "I have the result.\n Next: conclusion." : "I should calculate 2 + 2.\n Next: caller.";
    case "caller":
      return 'Action: calculate_for_calculator\nAction Input: {"expression": "2 + 2"}';
    default:
      return "2 + 2 is 4.";
  }
}

async function startFake(opts: FakeOptions = {}): Promise<FakeServer> {
  const kind = opts.kind ?? "vllm";
  const respond = opts.respond ?? demoReply;
  const fake: FakeServer = {
    url: "",
    port: 0,
    requests: [],
    completions: () => fake.requests.filter((r) => r.method === "POST"),
    faults: [],
    models: opts.models ?? ["planner", "caller", "summarizer", "backbone"],
    ...(opts.key ? { key: opts.key } : {}),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
      const path = (req.url ?? "").split("?")[0]!;
      fake.requests.push({ method: req.method ?? "", path, headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (fake.key && req.headers.authorization !== `Bearer ${fake.key}`)
        return json(401, { error: { message: "Invalid API key", type: "invalid_request_error", code: 401 } });
      if (req.method === "GET") {
        if (path === "/v1/models" && kind === "vllm")
          return json(200, { object: "list", data: fake.models.map((id) => ({ id, object: "model", owned_by: "vllm", max_model_len: opts.maxModelLen ?? 4096 })) });
        if (path === "/v1/models" && kind === "llama.cpp") return json(200, { object: "list", data: [{ id: "base.gguf", object: "model", owned_by: "llamacpp", meta: { n_ctx_train: 4096 } }] });
        if (path === "/version" && kind === "vllm") return json(200, { version: opts.version ?? "0.11.0" });
        if (path === "/props" && kind === "llama.cpp") return json(200, { default_generation_settings: { n_ctx: opts.nCtx ?? 2048 } });
        return json(404, { error: { message: "Not Found" } });
      }
      const chat = path === "/v1/chat/completions";
      if (path !== "/v1/completions" && !chat) return json(404, { error: { message: "Not Found" } });
      const fault = fake.faults.shift();
      const reply = () => {
        if (fault && "status" in fault) return json(fault.status, { error: { message: fault.message ?? "internal error", type: "InternalServerError", code: fault.status } });
        if (kind === "vllm" && !fake.models.includes(String(body!.model)))
          return json(404, { error: { message: `The model \`${String(body!.model)}\` does not exist.`, type: "NotFoundError", code: 404 } });
        const text = respond(body!);
        const choice = (piece: string, finish: string | null) => (chat ? { index: 0, delta: { content: piece }, finish_reason: finish } : { index: 0, text: piece, finish_reason: finish });
        if (!body!.stream) return json(200, { id: "c", object: "text_completion", choices: [{ ...choice(text, "stop"), ...(chat ? { message: { role: "assistant", content: text } } : {}) }] });
        res.writeHead(200, { "content-type": "text/event-stream" });
        // Pieces of a few characters, as a server streams tokens.
        for (let i = 0; i < text.length; i += 5) res.write(`data: ${JSON.stringify({ id: "c", choices: [choice(text.slice(i, i + 5), null)] })}\n\n`);
        res.write(`data: ${JSON.stringify({ id: "c", choices: [choice("", "stop")], ...(kind === "llama.cpp" ? { timings: { cache_n: 0, prompt_n: 10 } } : {}) })}\n\n`);
        res.end("data: [DONE]\n\n");
      };
      if (fault && "delayMs" in fault) setTimeout(reply, fault.delayMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  fake.port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  fake.close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return fake;
}

const tools: ToolDoc[] = [
  { Name: "get_weather_for_demo", function: "Weather of a city. Température en °C.", input: { city: "string, the city name" } },
  { Name: "get_time_for_demo", function: "Local time of a city.", input: {} },
];
const history: Turn[] = [
  { from: "user", value: "Weather in Paris? 🌦" },
  { from: "assistant", value: "I should look up the weather in Paris.\n Next: caller." },
  { from: "caller", value: 'Action: get_weather_for_demo\nAction Input: {"city": "Paris"}' },
  { from: "observation", value: '{"temp": 21}' },
  { from: "assistant", value: "I have the weather.\n Next: conclusion." },
];
const ROLE_INPUTS: Record<Role, Turn[]> = { planner: history.slice(0, 4), caller: history.slice(0, 2), summarizer: history, backbone: history.slice(0, 4) };

const KEY = "sk-alpha-umi-test-7f3c9d1e5b";
let dir: string;
const savedKey = process.env.OPENAI_API_KEY;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "alpha-umi-openai-"))));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = savedKey;
});
beforeEach(() => (process.env.OPENAI_API_KEY = KEY));

describe("specs", () => {
  test("model, base URL, LoRA adapter and key variable", () => {
    expect(parseOpenAISpec("planner@http://gpu-box:8000/v1")).toEqual({ model: "planner", baseURL: "http://gpu-box:8000/v1", keyEnv: "OPENAI_API_KEY" });
    expect(parseOpenAISpec("base@http://127.0.0.1:8080/v1/#lora=2:0.5&key_env=LLAMA_KEY")).toEqual({
      model: "base",
      baseURL: "http://127.0.0.1:8080/v1",
      lora: { id: 2, scale: 0.5 },
      keyEnv: "LLAMA_KEY",
    });
    expect(parseOpenAISpec("meta-llama/Llama-2-7b@https://h/v1#lora=0").lora).toEqual({ id: 0, scale: 1 });
  });

  test.each([
    ["openai:@http://h/v1", /no model name after openai:/],
    ["openai:planner", /no server URL \(write openai:planner@http:\/\/HOST:PORT\/v1 or set OPENAI_BASE_URL\)/],
    ["openai:planner@ftp://h/v1", /must be http:\/\/ or https:\/\//],
    ["openai:planner@http://user:secret@h/v1", /no credentials in the URL/],
    ["openai:planner@http://h/v1#lora=x", /lora=x: expected lora=ID or lora=ID:SCALE/],
    ["openai:planner@http://h/v1#adapter=1", /unknown option "adapter" after # \(known: lora, slot, key_env\)/],
    ["openai:planner@http://h/v1#key_env=NOT_SET_ANYWHERE_42", /key_env=NOT_SET_ANYWHERE_42 but NOT_SET_ANYWHERE_42 is not set/],
  ])("%s is one clear line", (spec, message) => {
    const saved = process.env.OPENAI_BASE_URL;
    delete process.env.OPENAI_BASE_URL;
    try {
      expect(() => modelFromSpec(spec, "planner")).toThrow(message);
    } finally {
      if (saved !== undefined) process.env.OPENAI_BASE_URL = saved;
    }
  });

  test("without @BASE_URL the server is OPENAI_BASE_URL", () => {
    process.env.OPENAI_BASE_URL = "http://10.0.0.7:8000/v1";
    try {
      expect((modelFromSpec("openai:planner", "planner") as OpenAICompatModel).baseURL).toBe("http://10.0.0.7:8000/v1");
    } finally {
      delete process.env.OPENAI_BASE_URL;
    }
  });
});

describe("requests", () => {
  let fake: FakeServer;
  beforeEach(async () => (fake = await startFake({ key: KEY, respond: () => "ok" })));
  afterEach(() => fake.close());

  test.each(["planner", "caller", "summarizer", "backbone"] as const)(
    "%s: the raw prompt is the codec's rendering byte for byte, with stop, max tokens, sampling and the bearer key",
    async (role) => {
      const m = openaiModelFromSpec(`${role}@${fake.url}/v1`, role, { temperature: 0.5, topP: 0.9, seed: 7, numPredict: 256 });
      await loadContextWindow(m);
      const rendered = await new RoleCodec(role, { templates: "toolbench", window: m.contextWindow }).render({ tools, turns: ROLE_INPUTS[role] });
      const prompt = renderRolePrompt(role, { tools, history: ROLE_INPUTS[role] });
      expect(rendered.prompt).toBe(prompt);
      const tokens: string[] = [];
      const text = await generate(role, m, rendered, { callbacks: [{ handleLLMNewToken: (t: string) => void tokens.push(t) }] });
      expect(text).toBe("ok");
      const [post] = fake.completions();
      expect(post!.path).toBe("/v1/completions");
      expect(post!.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(Buffer.from(String(post!.body!.prompt), "utf8").equals(Buffer.from(prompt, "utf8"))).toBe(true);
      expect(post!.body).toEqual({ model: role, prompt, max_tokens: 256, stop: ["</s>"], temperature: 0.5, top_p: 0.9, seed: 7, stream: true });
    },
  );

  test("streamed tokens reach LangChain callbacks as they arrive; the defaults are greedy with 512 tokens", async () => {
    await fake.close();
    const reply = "I should look up the weather.\n Next: caller.";
    fake = await startFake({ respond: () => reply });
    const m = modelFromSpec(`openai:planner@${fake.url}/v1`, "planner");
    const tokens: string[] = [];
    const text = await generate("planner", m, { prompt: "p", callOptions: { stop: ["</s>"], raw: true } }, { callbacks: [{ handleLLMNewToken: (t: string) => void tokens.push(t) }] });
    expect(text).toBe(reply);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join("")).toBe(reply);
    expect(fake.completions()[0]!.body).toMatchObject({ max_tokens: 512, temperature: 0, stream: true });
  });

  test("key_env=VAR sends that variable's key, and no key means no Authorization header", async () => {
    process.env.ALPHA_UMI_TEST_GPU_KEY = "sk-other-key-3141";
    fake.key = "sk-other-key-3141";
    try {
      await generate("planner", modelFromSpec(`openai:planner@${fake.url}/v1#key_env=ALPHA_UMI_TEST_GPU_KEY`, "planner"), { prompt: "p", callOptions: { raw: true } });
      expect(fake.completions()[0]!.headers.authorization).toBe("Bearer sk-other-key-3141");
    } finally {
      delete process.env.ALPHA_UMI_TEST_GPU_KEY;
    }
    delete fake.key;
    delete process.env.OPENAI_API_KEY;
    await generate("planner", modelFromSpec(`openai:planner@${fake.url}/v1`, "planner"), { prompt: "p", callOptions: { raw: true } });
    expect(fake.completions()[1]!.headers.authorization).toBeUndefined();
  });
});

describe("context window", () => {
  const servers: FakeServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const start = async (o: FakeOptions) => {
    const s = await startFake(o);
    servers.push(s);
    return s;
  };

  test("vLLM's max_model_len, bounded by numCtx", async () => {
    const s = await start({ kind: "vllm", maxModelLen: 2048 });
    const m = openaiModelFromSpec(`planner@${s.url}/v1`, "planner");
    await m.load();
    expect(m.contextWindow).toEqual({ numCtx: 2048, numPredict: 512 });
    const bounded = openaiModelFromSpec(`planner@${s.url}/v1`, "planner", { numCtx: 1024, numPredict: 128 });
    await bounded.load();
    expect(bounded.contextWindow).toEqual({ numCtx: 1024, numPredict: 128 });
  });

  test("llama-server's per-slot n_ctx from /props (its /v1/models states only the training context)", async () => {
    const s = await start({ kind: "llama.cpp", nCtx: 1536 });
    const m = openaiModelFromSpec(`base@${s.url}/v1`, "planner");
    expect(await m.loadContextWindow()).toEqual({ numCtx: 1536, numPredict: 512 });
  });

  test("a server that states none: --num-ctx, else 4096", async () => {
    const s = await start({ kind: "bare" });
    const m = openaiModelFromSpec(`planner@${s.url}/v1`, "planner", { numCtx: 3000 });
    await m.load();
    expect(m.contextWindow.numCtx).toBe(3000);
    const d = openaiModelFromSpec(`planner@${s.url}/v1`, "planner");
    await d.load();
    expect(d.contextWindow.numCtx).toBe(4096);
  });

  test("the graph fits prompts to the server's window: a small max_model_len elides old steps", async () => {
    const s = await start({ kind: "vllm", maxModelLen: 700 });
    const { createAlphaUmiGraph } = await import("../../src/graph.js");
    const { demoTools } = await import("../../tools/demo/index.js");
    const spec = (r: string) => `openai:${r}@${s.url}/v1`;
    let calls = 0;
    s.faults = [];
    const graph = createAlphaUmiGraph({ tools: demoTools(), models: { planner: spec("planner"), caller: spec("caller"), summarizer: spec("summarizer") }, maxSteps: 4 });
    const events: unknown[] = [];
    for await (const [mode, chunk] of await graph.stream({ instruction: "What is 2 + 2? " + "Please explain every step carefully. ".repeat(8) }, { configurable: { thread_id: "w" }, streamMode: ["custom", "values"] })) {
      if (mode === "custom") events.push(chunk);
      calls++;
    }
    expect(calls).toBeGreaterThan(0);
    // The codec's budget is the server's window less the reply tokens; nothing told it 700 but the server.
    const elisions = events.filter((e) => (e as { kind?: string }).kind === "elision") as Array<{ budget: number }>;
    expect(elisions.length).toBeGreaterThan(0);
    expect(elisions.every((e) => e.budget === 700 - 512)).toBe(true);
  });
});

describe("JSON schema in the server's field (instruct templates)", () => {
  const format = instructFormat("caller", tools)!;
  const call = async (o: FakeOptions, spec: string) => {
    const s = await startFake({ ...o, respond: () => '{"action": "get_time_for_demo", "action_input": {}}' });
    try {
      const m = modelFromSpec(`openai:${spec.replace("URL", `${s.url}/v1`)}`, "caller");
      const codec = new RoleCodec("caller", { templates: "instruct" });
      const rendered = await codec.render({ tools, turns: ROLE_INPUTS.caller });
      expect(rendered.callOptions).toMatchObject({ raw: false, format });
      const text = await generate("caller", m, rendered);
      expect(codec.read(text).call?.action).toBe("get_time_for_demo");
      const [post] = s.completions();
      expect(post!.path).toBe("/v1/chat/completions");
      expect(post!.body!.messages).toEqual([{ role: "user", content: rendered.prompt }]);
      return post!.body!;
    } finally {
      await s.close();
    }
  };

  test("vLLM before 0.12: guided_json", async () => {
    const body = await call({ kind: "vllm", version: "0.11.2" }, "caller@URL");
    expect(body.guided_json).toEqual(format);
    expect(body).not.toHaveProperty("structured_outputs");
  });

  test("vLLM 0.12 and later: structured_outputs.json", async () => {
    const body = await call({ kind: "vllm", version: "0.12.0" }, "caller@URL");
    expect(body.structured_outputs).toEqual({ json: format });
    expect(body).not.toHaveProperty("guided_json");
  });

  test("llama-server: json_schema, the role's adapter per request and the prompt cache", async () => {
    const body = await call({ kind: "llama.cpp" }, "base.gguf@URL#lora=1&slot=2");
    expect(body).toMatchObject({ json_schema: format, lora: [{ id: 1, scale: 1 }], cache_prompt: true, id_slot: 2 });
  });
});

describe("alpha-umi run with openai: models", () => {
  test("finishes; every role's prompt arrives byte-exact with the key, and the key is written nowhere", async () => {
    const fake = await startFake({ kind: "vllm", key: KEY });
    try {
      const db = join(dir, "run.sqlite");
      const cassette = join(dir, "run.jsonl");
      const spec = (r: string) => `openai:${r}@${fake.url}/v1`;
      const r = await runCli(
        ["run", "What is 2 + 2?", "--tools", "demo", "--planner", spec("planner"), "--caller", spec("caller"), "--summarizer", spec("summarizer"), "--checkpoints", db, "--thread", "T", "--record", cassette],
        { OPENAI_API_KEY: KEY },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("[answer] 2 + 2 is 4.");
      expect(r.stdout).toMatch(/finished in 2 planner step\(s\)/);
      const state = (await storedState(SqliteSaver.fromConnString(db), { configurable: { thread_id: "T" } })) as AgentStateType;
      // What each role's model received is the protocol rendering of τ at that point.
      const expected = state.turns.flatMap((t, i) => {
        const role = t.from === "assistant" ? "planner" : t.from === "caller" ? "caller" : t.from === "conclusion" ? "summarizer" : undefined;
        return role ? [{ model: role, prompt: renderRolePrompt(role, { tools: state.tools, history: state.turns.slice(0, i) }) }] : [];
      });
      expect(fake.completions().map((c) => ({ model: c.body!.model, prompt: c.body!.prompt }))).toEqual(expected);
      expect(fake.requests.every((q) => q.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      for (const [what, text] of [["stdout", r.stdout], ["stderr", r.stderr], ["checkpoints", readFileSync(db).toString("latin1")], ["cassette", readFileSync(cassette, "utf8")]])
        expect({ what, leaks: text.includes(KEY) || text.includes(KEY.slice(3)) }).toEqual({ what, leaks: false });
    } finally {
      await fake.close();
    }
  }, 60_000);

  test("eval steps takes openai: specs too; its outputs hold no key", async () => {
    const fake = await startFake({ kind: "vllm", key: KEY });
    try {
      const out = join(dir, "eval-steps");
      const spec = (r: string) => `openai:${r}@${fake.url}/v1`;
      const r = await cliInProcess(["eval", "steps", "--data", "tests/fixtures/toolbench-demo.json", "--limit", "3", "--out", out, "--planner", spec("planner"), "--caller", spec("caller"), "--summarizer", spec("summarizer")]);
      expect(r.code).toBe(0);
      const posts = fake.completions();
      expect(posts.length).toBeGreaterThanOrEqual(3);
      expect(posts.every((p) => p.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      const { readdirSync } = await import("node:fs");
      for (const f of readdirSync(out)) expect({ f, leaks: readFileSync(join(out, f)).toString("latin1").includes(KEY) }).toEqual({ f, leaks: false });
      expect(r.stdout + r.stderr).not.toContain(KEY);
    } finally {
      await fake.close();
    }
  }, 60_000);

  test("--judge and --miss simulate:SPEC build openai: models that reach the server", async () => {
    const fake = await startFake({ kind: "vllm", models: ["judge", "sim"], respond: (b) => `${String(b.model)} says ok` });
    try {
      const { missPolicy, userModel } = await import("../../src/cli/options.js");
      const judge = userModel(`openai:judge@${fake.url}/v1`, "--judge");
      expect(await judge.invoke("Is it solved?")).toBe("judge says ok");
      const miss = missPolicy(`simulate:openai:sim@${fake.url}/v1`, undefined);
      expect(miss.kind === "simulate" && (await miss.model.invoke("GET /weather"))).toBe("sim says ok");
      expect(fake.completions().map((c) => c.body!.model)).toEqual(["judge", "sim"]);
    } finally {
      await fake.close();
    }
  });

  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });

  type Case = [string, RegExp, (fake: FakeServer) => void, (fake: FakeServer) => void];
  const cases: Case[] = [
    ["401", /: 401 the key in OPENAI_API_KEY was refused \(.*Invalid API key.*\)$/, (f) => (f.key = "sk-the-right-one"), (f) => (f.key = KEY)],
    ["404", /: 404 not found \(.*does not exist.*\) — check the model name/, (f) => (f.models = ["caller", "summarizer"]), (f) => (f.models = ["planner", "caller", "summarizer"])],
    ["500", /: server error 500: engine crashed$/, (f) => f.faults.push(...[1, 2, 3].map(() => ({ status: 500, message: "engine crashed" }))), (f) => (f.faults = [])],
    ["timeout", /: no reply within 1\.5 s \(modelTimeoutMs\)$/, (f) => f.faults.push({ delayMs: 5000 }), (f) => (f.faults = [])],
  ];

  test.each(cases)("%s: the run fails with one line naming the role and the server, then resumes", async (name, message, breakIt, fixIt) => {
    const fake = await startFake({ kind: "vllm", key: KEY });
    try {
      const db = join(dir, `fault-${name}.sqlite`);
      const spec = (r: string) => `openai:${r}@${fake.url}/v1`;
      const args = ["--tools", "demo", "--planner", spec("planner"), "--caller", spec("caller"), "--summarizer", spec("summarizer"), "--checkpoints", db, "--thread", "T", "--model-timeout-ms", "1500"];
      breakIt(fake);
      const failed = await cliInProcess(["run", "What is 2 + 2?", ...args]);
      expect(failed.code).toBe(1);
      const [line, hint, ...more] = failed.stderr.trim().split("\n");
      expect(more).toEqual([]);
      expect(hint).toMatch(/^resume with: npx alpha-umi run --thread T/);
      expect(line).toMatch(new RegExp(`^failed: planner model failed: OpenAI-compatible server at ${fake.url}/v1, model planner`));
      expect(line).toMatch(message);
      expect(line).not.toContain(KEY);
      fixIt(fake);
      const resumed = await cliInProcess(["run", ...args]);
      expect(resumed.stderr).toBe("");
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/^resuming thread T/);
      expect(resumed.stdout).toContain("[answer] 2 + 2 is 4.");
    } finally {
      await fake.close();
    }
  }, 60_000);

  test("refused connection: fails naming the role and the server, resumes once the server is up", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1`;
    const db = join(dir, "refused.sqlite");
    const spec = (r: string) => `openai:${r}@${url}`;
    const args = ["--tools", "demo", "--planner", spec("planner"), "--caller", spec("caller"), "--summarizer", spec("summarizer"), "--checkpoints", db, "--thread", "T"];
    const failed = await cliInProcess(["run", "What is 2 + 2?", ...args]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.split("\n")[0]).toBe(
      `failed: planner model failed: OpenAI-compatible server at ${url}, model planner: cannot connect (ECONNREFUSED) — is the server running? (\`alpha-umi models serve\` starts a llama-server)`,
    );
    const fake = await startFake({ kind: "vllm", port });
    try {
      const resumed = await cliInProcess(["run", ...args]);
      expect(resumed.stderr).toBe("");
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain("[answer] 2 + 2 is 4.");
    } finally {
      await fake.close();
    }
  }, 60_000);

  test("a per-attempt timeout names the server", async () => {
    const fake = await startFake({ kind: "bare" });
    try {
      fake.faults.push({ delayMs: 3000 });
      const m = modelFromSpec(`openai:planner@${fake.url}/v1`, "planner", { timeoutMs: 300, retries: 1 });
      await expect(generate("planner", m, { prompt: "p", callOptions: { raw: true } })).rejects.toThrow(
        `planner model failed: OpenAI-compatible server at ${fake.url}/v1, model planner: no reply within 0.3 s — the server may be overloaded or still loading; raise timeoutMs`,
      );
    } finally {
      await fake.close();
    }
  });
});
