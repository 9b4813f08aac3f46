import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAlphaUmiGraph } from "../../src/graph.js";
import { ScriptedModel, scriptedRoles } from "../../src/models/scripted.js";
import type { AgentStateType } from "../../src/state.js";
import { judgeAnswerPrompt, judgeProcessPrompt, renderTrajectory } from "../../src/protocol/judgesAndSimulator.js";
import { executeCall } from "../../src/tools/executor.js";
import { ToolEnv } from "../../src/tools/toolenv.js";
import { startFakeOllama, type FakeOllama, type GenerateCall } from "../helpers/fakeOllama.js";
import { runCli } from "../helpers/cli.js";
import { call, plan } from "../helpers/scenario.js";
import { freePort } from "../../src/models/llamaServer.js";

/** ToolBench's tool environment: `<Category>/<tool>.json` files as StableToolBench ships them. */
const TOOL_FILES = {
  "Finance/currency_exchange.json": {
    tool_name: "Currency Exchange",
    tool_description: "Exchange rates of world currencies.",
    home_url: "https://rapidapi.com/example/api/currency-exchange",
    host: "currency-exchange.p.rapidapi.com",
    api_list: [
      {
        name: "Get Rate",
        url: "https://currency-exchange.p.rapidapi.com/rate",
        description: "The exchange rate between two currencies.",
        method: "GET",
        required_parameters: [
          { name: "from", type: "STRING", description: "Base currency code", default: "USD" },
          { name: "to", type: "STRING", description: "Target currency code", default: "EUR" },
        ],
        optional_parameters: [{ name: "amount", type: "NUMBER", description: "Amount to convert", default: "1" }],
        test_endpoint: "",
      },
      { name: "List Currencies", url: "https://currency-exchange.p.rapidapi.com/list", description: "Every currency code.", method: "GET", required_parameters: [], optional_parameters: [] },
    ],
  },
  "Weather/weather_now.json": {
    tool_name: "Weather Now",
    tool_description: "Current weather.",
    api_list: [
      {
        name: "Current",
        description: "Current weather of a city.",
        method: "GET",
        required_parameters: [{ name: "city", type: "STRING", description: "City name", default: "" }],
        optional_parameters: [],
      },
    ],
  },
};

/** A ToolBench/StableToolBench query file (G1 form): each query names its own APIs. */
const QUERIES = [
  {
    query: "What is the USD to EUR exchange rate?",
    query_id: 11,
    api_list: [
      { category_name: "Finance", tool_name: "Currency Exchange", api_name: "Get Rate", api_description: "The exchange rate between two currencies.", required_parameters: [], optional_parameters: [], method: "GET" },
      { category_name: "Finance", tool_name: "Currency Exchange", api_name: "List Currencies", api_description: "Every currency code.", method: "GET" },
    ],
    "relevant APIs": [["Currency Exchange", "Get Rate"]],
  },
  {
    query: "What is the weather in Lisbon now?",
    query_id: 12,
    api_list: [{ category_name: "Weather", tool_name: "Weather Now", api_name: "Current" }],
    "relevant APIs": [["Weather Now", "Current"]],
  },
];

/** StableToolBench's tool_response_cache: `<category>/<tool>_for_<category>/<api>.json`, keyed by str(tool_input). */
const CACHE_FILES = {
  "Finance/currency_exchange_for_Finance/get_rate.json": {
    "{'from': 'USD', 'to': 'EUR'}": { error: "", response: "{'rate': 0.93}" },
    "{'from': 'USD', 'to': 'EUR', 'amount': 1.0}": { error: "", response: "{'rate': 0.93, 'value': 0.93}" },
  },
  "Weather/weather_now_for_Weather/current.json": { "{'city': 'Lisbon'}": { error: "", response: "Sunny, 21 C" } },
};

const SECRET = "tbk-secret-0042";

interface VirtualCall {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A loopback server speaking StableToolBench's `/virtual` protocol; the first weather call fails with a 500. */
async function startVirtualServer(): Promise<{ url: string; calls: VirtualCall[]; mode: { next?: "malformed" | "slow" }; close(): Promise<void> }> {
  const calls: VirtualCall[] = [];
  const mode: { next?: "malformed" | "slow" } = {};
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/virtual") {
        res.writeHead(405, { "content-type": "application/json" }).end('{"detail":"Method Not Allowed"}');
        return;
      }
      const body = JSON.parse(text) as Record<string, unknown>;
      calls.push({ headers: req.headers, body });
      const reply = (status: number, payload: string) => res.writeHead(status, { "content-type": "application/json" }).end(payload);
      const next = mode.next;
      mode.next = undefined;
      if (next === "malformed") return reply(200, "<html>oops</html>");
      if (next === "slow") return void timers.add(setTimeout(() => reply(200, '{"error": "", "response": "late"}'), 2_000));
      if (body.api_name === "get_rate") return reply(200, JSON.stringify({ error: "", response: "{'rate': 0.92}" }));
      if (body.api_name === "current") {
        const weatherCalls = calls.filter((c) => c.body.api_name === "current").length;
        return weatherCalls === 1 ? reply(500, "Internal Server Error") : reply(200, JSON.stringify({ error: "", response: "Sunny, 20 C" }));
      }
      reply(200, JSON.stringify({ error: "Message error...", response: "" }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, mode, close: () => new Promise((r) => (timers.forEach(clearTimeout), server.close(() => r()), server.closeAllConnections())) };
}

/** The α-UMi roles behind an Ollama API, deciding from the history and the tools they are shown. */
function models({ model, prompt }: GenerateCall): string {
  const history = prompt.split("The conversation history is:")[1] ?? prompt;
  const rate = prompt.includes("get_rate_for_currency_exchange");
  if (model === "P") {
    if (/'rate': 0\.9\d/.test(history) || history.includes("Sunny")) return "I have what was asked.\n Next: conclusion.";
    if (history.includes("status_code=500")) return "The weather service failed; try once more.\n Next: caller.";
    return rate ? "Look up the rate.\n Next: caller." : "Check the weather.\n Next: caller.";
  }
  if (model === "C") return rate ? 'Action: get_rate_for_currency_exchange\nAction Input: {"from": "USD", "to": "EUR"}' : 'Action: current_for_weather_now\nAction Input: {"city": "Lisbon"}';
  const rateSeen = /'rate': (0\.9\d)/.exec(history);
  return rateSeen ? `1 USD is ${rateSeen[1]} EUR.` : `It is ${/Sunny, \d+ C/.exec(history)?.[0] ?? "unknown"} in Lisbon.`;
}

let work: string;
let tools: string;
let cache: string;
let fake: FakeOllama;
let virtual: Awaited<ReturnType<typeof startVirtualServer>>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "stabletoolbench-"));
  tools = join(work, "toolenv", "tools");
  cache = join(work, "tool_response_cache");
  const write = (root: string, files: Record<string, unknown>) => {
    for (const [path, value] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), JSON.stringify(value, null, 4));
    }
  };
  write(tools, TOOL_FILES);
  write(cache, CACHE_FILES);
  writeFileSync(join(work, "G1_query.json"), JSON.stringify(QUERIES, null, 2));
  writeFileSync(join(work, "G1_instruction.json"), JSON.stringify(QUERIES, null, 2));
  fake = await startFakeOllama({ models: { P: {}, C: {}, S: {} }, respond: models });
  virtual = await startVirtualServer();
});
afterAll(async () => {
  await fake?.close();
  await virtual?.close();
  rmSync(work, { recursive: true, force: true });
});

const roleArgs = () => ["--planner", `ollama:P@${fake.url}`, "--caller", `ollama:C@${fake.url}`, "--summarizer", `ollama:S@${fake.url}`];
const answer = (dir: string, id: number) => JSON.parse(readFileSync(join(dir, `${id}.json`), "utf8"));
const line = (prompt: string, output: string) => JSON.stringify({ prompt_sha256: createHash("sha256").update(prompt, "utf8").digest("hex"), output });

describe("alpha-umi eval realtime on ToolBench's tool environment → eval pass (StableToolBench SoPR)", () => {
  const online = () => join(work, "G1_query");
  const offline = () => join(work, "G1_instruction");

  it("runs each query of a G1 query file on its own APIs through a /virtual server with DFSDT, and writes answer files", async () => {
    const r = await runCli(
      ["eval", "realtime", "--data", join(work, "G1_query.json"), "--tools", `toolenv:${tools}@${virtual.url}`, "--search", "dfsdt", ...roleArgs(), "--out", online()],
      { TOOLBENCH_KEY: SECRET },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2 answer file(s)");

    // Every call as StableToolBench's client sends it: the standard tool name, ToolBench's pure API name, the Action
    // Input as written, the key from TOOLBENCH_KEY in the body and the header.
    expect(virtual.calls[0]!.body).toEqual({
      category: "Finance",
      tool_name: "currency_exchange",
      api_name: "get_rate",
      tool_input: '{"from": "USD", "to": "EUR"}',
      strip: "truncate",
      toolbench_key: SECRET,
    });
    expect(virtual.calls[0]!.headers.toolbench_key).toBe(SECRET);
    expect(virtual.calls.map((c) => c.body.api_name)).toEqual(["get_rate", "current", "current"]);

    const rate = answer(online(), 11);
    expect(rate).toMatchObject({ query_id: "11", group: "G1_query", answer_generation: { method: "DFS_woFilter_w2", finish_type: "give_answer", final_answer: "1 USD is 0.92 EUR." } });
    // The query saw its api_list's two APIs, in ToolBench's trained document form; not the other query's.
    expect(rate.available_tools.map((t: { Name: string }) => t.Name)).toEqual(["get_rate_for_currency_exchange", "list_currencies_for_currency_exchange"]);
    const planner = fake.generations().find((g) => g.model === "P" && String(g.prompt).includes("USD to EUR"))!;
    expect(String(planner.prompt)).toContain(
      '{"Name": "get_rate_for_currency_exchange", "function": "This is the subfunction for tool \\"currency_exchange\\", you can use this tool.The description of this function is: \\"The exchange rate between two currencies.\\"", "input": {"is_from": "string, Base currency code", "to": "string, Target currency code", "amount": "integer, Amount to convert"}}\n',
    );
    expect(String(planner.prompt)).not.toContain("current_for_weather_now");
    // The reply {"error", "response"} is the observation, as the client's json.dumps writes it.
    expect(rate.answer_generation.chain).toContainEqual({ from: "observation", value: '{"error": "", "response": "{\'rate\': 0.92}"}' });

    // The 500 was an error observation the chain recovered from.
    const weather = answer(online(), 12);
    expect(weather.answer_generation.chain.filter((t: { from: string }) => t.from === "observation").map((t: { value: string }) => t.value)).toEqual([
      '{"error": "request invalid, data error. status_code=500", "response": ""}',
      '{"error": "", "response": "Sunny, 20 C"}',
    ]);
    expect(weather.answer_generation.final_answer).toBe("It is Sunny, 20 C in Lisbon.");

    // The key never reaches the answers or the checkpoints.
    for (const f of readdirSync(online())) expect(readFileSync(join(online(), f)).includes(SECRET)).toBe(false);
  }, 120_000);

  it("runs the same offline from StableToolBench's tool_response_cache", async () => {
    const before = virtual.calls.length;
    const r = await runCli(["eval", "realtime", "--data", join(work, "G1_instruction.json"), "--tools", `toolenv:${tools}+cache:${cache}`, "--search", "dfsdt", ...roleArgs(), "--out", offline()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(virtual.calls.length).toBe(before);
    expect(answer(offline(), 11).answer_generation).toMatchObject({ finish_type: "give_answer", final_answer: "1 USD is 0.93 EUR." });
    expect(answer(offline(), 12).answer_generation.chain).toContainEqual({ from: "observation", value: '{"error": "", "response": "Sunny, 21 C"}' });
    expect(answer(offline(), 12).group).toBe("G1_instruction");
  }, 120_000);

  it("eval pass judges both directories and reports SoPR per query file, Unsure counting half", async () => {
    const judge = join(work, "judge.jsonl");
    const online12 = answer(online(), 12).answer_generation;
    const offline12 = answer(offline(), 12).answer_generation;
    writeFileSync(
      judge,
      [
        line(judgeAnswerPrompt(QUERIES[0]!.query, "1 USD is 0.92 EUR."), '{"reason": "gives the rate", "answer_status": "Solved"}'),
        line(judgeAnswerPrompt(QUERIES[0]!.query, "1 USD is 0.93 EUR."), '{"reason": "gives the rate", "answer_status": "Solved"}'),
        line(judgeAnswerPrompt(QUERIES[1]!.query, online12.final_answer), '{"reason": "vague", "answer_status": "Unsure"}'),
        line(judgeProcessPrompt(QUERIES[1]!.query, online12.final_answer, renderTrajectory(online12.chain)), '{"reason": "the call succeeded", "answer_status": "Solved"}'),
        line(judgeAnswerPrompt(QUERIES[1]!.query, offline12.final_answer), '{"reason": "gives the weather", "answer_status": "Solved"}'),
      ].join("\n") + "\n",
    );
    const p = await runCli(["eval", "pass", online(), offline(), "--judge", `replay:${judge}`, "--times", "2"]);
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("SoPR per query file (mean ± std over 2 judge runs, %):");
    expect(p.stdout).toMatch(/G1_query\s+2\s+75\.0 ± 0\.0/);
    expect(p.stdout).toMatch(/G1_instruction\s+2\s+100\.0 ± 0\.0/);
    expect(p.stdout).toMatch(/average\s+87\.5/);
    const pass = JSON.parse(readFileSync(join(online(), "pass.json"), "utf8"));
    expect(pass.groups).toEqual([{ group: "G1_query", queries: 2, passRate: 1, solvablePassRate: { mean: 0.75, std: 0, runs: [0.75, 0.75] } }]);
  }, 60_000);

  it("a server that does not answer fails the eval in one line before any model call", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const before = fake.generations().length;
    const r = await runCli(["eval", "realtime", "--data", join(work, "G1_query.json"), "--tools", `toolenv:${tools}@${dead}`, ...roleArgs(), "--out", join(work, "dead")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([`alpha-umi: toolenv:${tools}@${dead}: no StableToolBench server answers at ${dead}/virtual (ECONNREFUSED)`]);
    expect(fake.generations().length).toBe(before);
  }, 60_000);
});

describe("toolenv: sources in the other drivers", () => {
  it("alpha-umi run --tools toolenv:DIR+cache:CACHE_DIR documents every API of the environment and answers from the cache", async () => {
    const r = await runCli(["run", "What is the USD to EUR exchange rate?", "--tools", `toolenv:${tools}+cache:${cache}`, ...roleArgs(), "--checkpoints", "memory"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[answer] 1 USD is 0.93 EUR.");
    const planner = fake.generations().filter((g) => g.model === "P").at(-1)!;
    for (const name of ["get_rate_for_currency_exchange", "list_currencies_for_currency_exchange", "current_for_weather_now"]) expect(String(planner.prompt)).toContain(`{"Name": "${name}"`);
  }, 60_000);

  it("a run's configuration names a toolenv: source (Studio, serve)", async () => {
    const models = scriptedRoles({
      planner: [plan("Check the weather.", "caller"), plan("Sunny.", "conclusion")],
      caller: [call("current_for_weather_now", { city: "Lisbon" })],
      summarizer: ["Sunny, 21 C."],
    });
    const graph = createAlphaUmiGraph({ models });
    const state = (await graph.invoke({ instruction: "Weather in Lisbon?" }, { configurable: { thread_id: "cfg", toolSources: `toolenv:${tools}+cache:${cache}` } })) as AgentStateType;
    expect(state.status.status).toBe("finished");
    expect(state.turns[3]).toEqual({ from: "observation", value: '{"error": "", "response": "Sunny, 21 C"}' });
  });
});


describe("toolenv calls through the executor", () => {
  const ref = { category_name: "Finance", tool_name: "Currency Exchange", api_name: "Get Rate" };
  const call = (env: ToolEnv, input: string, timeoutMs = 5_000) => executeCall(env.forApiList([ref], "test"), "get_rate_for_currency_exchange", input, { timeoutMs, maxObservationChars: 4096 });

  it("a malformed reply and a timeout are error observations", async () => {
    const env = new ToolEnv(tools, { kind: "server", url: `${virtual.url}/virtual` });
    virtual.mode.next = "malformed";
    expect((await call(env, '{"from": "USD", "to": "EUR"}')).observation).toBe('{"error": "request invalid, data error", "response": ""}');
    virtual.mode.next = "slow";
    const slow = await call(env, '{"from": "USD", "to": "EUR"}', 300);
    expect(slow).toMatchObject({ ok: false, error: "timeout" });
    expect(JSON.parse(slow.observation).error).toContain("did not answer within 300 ms");
  });

  it("the cache is keyed by Python's str() of the parsed input: key order, spacing and 1 vs 1.0 as Python sees them", async () => {
    const env = new ToolEnv(tools, { kind: "cache", dir: cache });
    expect((await call(env, '{"from":"USD","to":"EUR"}')).observation).toBe('{"error": "", "response": "{\'rate\': 0.93}"}');
    // 1.0 is a float for Python: only the float key answers it.
    expect((await call(env, '{"from": "USD", "to": "EUR", "amount": 1.0}')).observation).toBe('{"error": "", "response": "{\'rate\': 0.93, \'value\': 0.93}"}');
    expect((await call(env, '{"from": "USD", "to": "EUR", "amount": 1}')).ok).toBe(false);
    // Another key order is another str(): a miss, reported with the file and the key it looked for.
    const miss = await call(env, '{"to": "EUR", "from": "USD"}');
    expect(miss.ok).toBe(false);
    expect(JSON.parse(miss.observation).error).toContain(`no cached response in ${join(cache, "Finance/currency_exchange_for_Finance/get_rate.json")} for {'to': 'EUR', 'from': 'USD'}`);
  });

  it("a miss under simulate:SPEC is answered by the simulator and written to our cache, never to StableToolBench's", async () => {
    const ours = join(work, "our-cache");
    const simulator = new ScriptedModel(['{"error": "", "response": "{\'rate\': 1.1}"}']);
    const env = new ToolEnv(tools, { kind: "cache", dir: cache }, { kind: "simulate", model: simulator, cacheDir: ours });
    const input = '{"from": "GBP", "to": "EUR"}';
    expect((await call(env, input)).observation).toBe('{"error": "", "response": "{\'rate\': 1.1}"}');
    // The simulator saw the cached real response as an example.
    expect(simulator.prompts[0]).toContain("{'from': 'USD', 'to': 'EUR'}");
    // Asked again: from our cache, no model call (the script has no second step).
    expect((await call(env, input)).observation).toBe('{"error": "", "response": "{\'rate\': 1.1}"}');
    expect(existsSync(join(ours, "currency_exchange", "get_rate.json"))).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(join(cache, "Finance/currency_exchange_for_Finance/get_rate.json"), "utf8")))).toHaveLength(2);
  });
});
