import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readQueries } from "../../src/eval/realtime.js";
import { pyDumps, pyRepr } from "../../src/protocol/pyrepr.js";
import { pyJsonLoads, type PyValue } from "../../src/protocol/pyjson-loads.js";
import {
  parseToolEnvSource,
  responseCacheKey,
  toolbenchApiName,
  toolbenchCategory,
  toolbenchChangeName,
  toolbenchStandardize,
  ToolEnv,
  toolEnvDoc,
  type ToolFileApi,
} from "../../src/tools/toolenv.js";
import type { ToolDoc } from "../../src/state.js";
import { OUT_OF_DOMAIN, readJson, TRAIN_EXAMPLE, testShared } from "../helpers/shared.js";

const loads = (s: string): PyValue => {
  const r = pyJsonLoads(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("ToolBench's names (toolbench/utils.py standardize, change_name; rapidapi.py api_json_to_openai_json)", () => {
  it("standardize: other characters become _, runs collapse, lower case, edges trimmed, get_ before a digit; CJK and ^ are kept", () => {
    expect(toolbenchStandardize("Get Weather (v2)!")).toBe("get_weather_v2");
    expect(toolbenchStandardize("2Factor SMS")).toBe("get_2factor_sms");
    expect(toolbenchStandardize("__Hello--World__")).toBe("hello_world");
    expect(toolbenchStandardize("a^b")).toBe("a^b");
    expect(toolbenchStandardize("天气 API")).toBe("天气_api");
    expect(toolbenchStandardize("café")).toBe("caf");
    expect(toolbenchStandardize("😀 x")).toBe("x");
    expect(toolbenchStandardize("!!!")).toBe("");
  });

  it("change_name prefixes is_ to from, class, return, false, true, id and and only", () => {
    expect(["from", "class", "return", "false", "true", "id", "and", "ID", "name", ""].map(toolbenchChangeName)).toEqual([
      "is_from",
      "is_class",
      "is_return",
      "is_false",
      "is_true",
      "is_id",
      "is_and",
      "ID",
      "name",
      "",
    ]);
  });

  it("names are {api}_for_{tool}, cut to their last 64 characters; categories as StableToolBench's server folders", () => {
    expect(toolbenchApiName("ID", "users")).toBe("is_id_for_users");
    const long = toolbenchApiName("Get all the simulations of a group by its identifier", "geolocation_simulation_for_mobile_apps");
    expect(long).toHaveLength(64);
    expect(long).toBe("simulations_of_a_group_by_its_identifier_for_geolocation_simulation_for_mobile_apps".slice(-64));
    expect(toolbenchCategory("Business Software")).toBe("Business_Software");
    expect(toolbenchCategory("Travel, Transportation")).toBe("Travel_Transportation");
  });
});

describe("toolEnvDoc: the documents α-UMi was trained on", () => {
  const api = (over: Partial<ToolFileApi>): ToolFileApi => ({ name: "Get Rate", description: "", method: "GET", required_parameters: [], optional_parameters: [], ...over }) as ToolFileApi;

  it("states required then optional parameters as TYPE, DESCRIPTION with RapidAPI's types mapped, names standardised", () => {
    const doc = toolEnvDoc(
      api({
        description: "  Get Rate returns the rate.  ",
        required_parameters: [
          { name: "from", type: "STRING", description: "Base currency", default: "USD" },
          { name: "Amount (units)", type: "NUMBER", description: "", default: "" },
        ],
        optional_parameters: [
          { name: "round", type: "BOOLEAN", description: "Round it", default: "" },
          { name: "when", type: "DATE (YYYY-MM-DD)", description: null, default: "" },
        ],
      }),
      "currency_exchange",
    );
    expect(doc).toEqual({
      Name: "get_rate_for_currency_exchange",
      function:
        'This is the subfunction for tool "currency_exchange", you can use this tool.The description of this function is: "get_rate_for_currency_exchange returns the rate."',
      input: { is_from: "string, Base currency", amount_units: "integer, ", round: "boolean, Round it", when: "string, " },
    });
  });

  it("an API without required parameters lists none of its optional ones, and no description line without a description (as ToolBench built them)", () => {
    const doc = toolEnvDoc(api({ name: "List", optional_parameters: [{ name: "page", type: "NUMBER", description: "Page", default: "1" }] }), "fx");
    expect(doc).toEqual({ Name: "list_for_fx", function: 'This is the subfunction for tool "fx", you can use this tool.', input: {} });
  });

  it("cuts descriptions to 256 characters counted as Python counts them (code points)", () => {
    const description = "😀".repeat(300);
    const doc = toolEnvDoc(api({ description, required_parameters: [{ name: "q", type: "STRING", description, default: "" }] }), "t");
    expect(Array.from(doc.function)).toHaveLength(256);
    expect(Array.from(doc.input.q!)).toHaveLength("string, ".length + 256);
  });

  testShared(OUT_OF_DOMAIN, "rebuilds every real document of the training and out-of-domain sets from a tool file written back from it", () => {
    // From each real document, a tool file entry: its API name (upper case, so the description's mention of the full
    // name is not replaced twice), its description and its parameters as required ones. ToolBench's rules must
    // rebuild the document exactly (the out-of-domain set cut `function` to 150 characters, the training data to 256).
    const TYPE_BACK: Record<string, string> = { integer: "NUMBER", boolean: "BOOLEAN", string: "STRING" };
    const sets: Array<[string, number]> = [
      [OUT_OF_DOMAIN, 150],
      [join(TRAIN_EXAMPLE, "raw_data/raw_data_stage_1.json"), 256],
    ];
    let rebuilt = 0;
    const digitFirst: string[] = [];
    for (const [file, cut] of sets)
      for (const dialog of readJson<Array<{ tools: ToolDoc[] }>>(file))
        for (const real of dialog.tools) {
          const m = /^This is the subfunction for tool "([^"]*)", you can use this tool\.(?:The description of this function is: "([\s\S]*))?$/.exec(real.function);
          expect(m).not.toBeNull();
          const tool = m![1]!;
          let description = m![2] ?? "";
          // A complete description ends with its closing quote; a cut one continues past the cut (the "~").
          if (description.endsWith('"') && real.function.length < cut) description = description.slice(0, -1);
          else if (m![2] !== undefined) description += "~";
          const apiPart = real.Name.slice(0, real.Name.lastIndexOf(`_for_${tool}`));
          // Names at the 64 cut lost their head: any head works, the cut drops it again.
          const name = (real.Name.length === 64 ? "lost head " : "") + apiPart.replace(/_/g, " ").toUpperCase();
          if (/^[0-9]/.test(real.Name)) {
            digitFirst.push(real.Name);
            continue;
          }
          if (description.includes(name)) continue;
          const params = Object.entries(real.input).map(([key, v]) => {
            const comma = v.indexOf(", ");
            return { name: key, type: TYPE_BACK[v.slice(0, comma)] ?? "OBJECT", description: v.slice(comma + 2), default: "" };
          });
          const doc = toolEnvDoc(api({ name, description, required_parameters: params }), tool);
          expect({ ...doc, function: doc.function.slice(0, cut) }).toEqual(real);
          rebuilt++;
        }
    expect(rebuilt).toBeGreaterThan(2000);
    // Four names of older data start with a digit where today's rule (and other records of the same tool) write get_.
    expect([...new Set(digitFirst)].sort()).toEqual(["1_shoot_thumbnail_for_pagepeeker", "22_for_mmm", "2_thumbnail_ready_for_pagepeeker", "5000img_for_random_anime_img"]);
  });
});

describe("Python's str() and json.dumps of json.loads results (the cache key and the observation)", () => {
  // Expected values printed by CPython 3: str(json.loads(s)) and json.dumps(json.loads(s)).
  const cases: Array<[string, string, string]> = [
    ['{"q": "it\'s", "n": 1, "x": 2.0, "ok": true, "none": null}', `{'q': "it's", 'n': 1, 'x': 2.0, 'ok': True, 'none': None}`, '{"q": "it\'s", "n": 1, "x": 2.0, "ok": true, "none": null}'],
    [
      '{"b": 1, "1": 2, "a": [1.5, -0.0, 1e16, 1e-05, 123456789012345678901234567890]}',
      "{'b': 1, '1': 2, 'a': [1.5, -0.0, 1e+16, 1e-05, 123456789012345678901234567890]}",
      '{"b": 1, "1": 2, "a": [1.5, -0.0, 1e+16, 1e-05, 123456789012345678901234567890]}',
    ],
    ['{"s": "both \' and \\"", "t": "tab\\t nl\\n cr\\r bs\\\\ del\\u007f nul\\u0000"}', "{'s': 'both \\' and \"', 't': 'tab\\t nl\\n cr\\r bs\\\\ del\\x7f nul\\x00'}", '{"s": "both \' and \\"", "t": "tab\\t nl\\n cr\\r bs\\\\ del\\u007f nul\\u0000"}'],
    ['{"u": "caf\\u00e9 \\u00a0 \\u2028 \\ud83d\\ude00 \\u200b \\ud800"}', "{'u': 'café \\xa0 \\u2028 😀 \\u200b \\ud800'}", '{"u": "caf\\u00e9 \\u00a0 \\u2028 \\ud83d\\ude00 \\u200b \\ud800"}'],
    ['{"k": "v", "k": "w"}', "{'k': 'w'}", '{"k": "w"}'],
    ['{"nested": {"deep": [{}, [], ""]}, "big": 1E400, "neg": -1e-400}', "{'nested': {'deep': [{}, [], '']}, 'big': inf, 'neg': -0.0}", '{"nested": {"deep": [{}, [], ""]}, "big": Infinity, "neg": -0.0}'],
  ];
  it.each(cases)("%s", (json, str, dumps) => {
    expect(pyRepr(loads(json))).toBe(str);
    expect(pyDumps(loads(json))).toBe(dumps);
  });

  it("the cache key of an Action Input: str(json.loads(input)); an empty input is {}; not JSON is no key", () => {
    expect(responseCacheKey('{"city": "Lisbon", "days": 3}')).toBe("{'city': 'Lisbon', 'days': 3}");
    expect(responseCacheKey("")).toBe("{}");
    expect(responseCacheKey("{city: Lisbon}")).toBeNull();
  });
});

describe("toolenv: sources", () => {
  it("reads DIR, DIR@URL (adding /virtual) and DIR+cache:CACHE_DIR; a malformed value is one clear error", () => {
    expect(parseToolEnvSource("tools")).toEqual({ dir: "tools", backend: { kind: "none" } });
    expect(parseToolEnvSource("tools@http://127.0.0.1:8080/")).toEqual({ dir: "tools", backend: { kind: "server", url: "http://127.0.0.1:8080/virtual" } });
    expect(parseToolEnvSource("tools@http://h:1/virtual")).toEqual({ dir: "tools", backend: { kind: "server", url: "http://h:1/virtual" } });
    expect(parseToolEnvSource("tools+cache:tool_response_cache")).toEqual({ dir: "tools", backend: { kind: "cache", dir: "tool_response_cache" } });
    expect(() => parseToolEnvSource("tools@ftp://x")).toThrow("expected toolenv:DIR, toolenv:DIR@http://HOST:PORT or toolenv:DIR+cache:CACHE_DIR");
  });

  it("a query's api_list picks its APIs; a missing tool file, API or bad field is an error naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "toolenv-unit-"));
    try {
      mkdirSync(join(dir, "Finance"));
      writeFileSync(
        join(dir, "Finance", "fx_rates.json"),
        JSON.stringify({ tool_name: "FX Rates", tool_description: "Rates.", api_list: [{ name: "Latest", description: "", required_parameters: [], optional_parameters: [] }, { name: "History", description: "" }] }),
      );
      writeFileSync(join(dir, "Finance", "broken.json"), JSON.stringify({ tool_name: "Broken", api_list: [{ name: "x", required_parameters: [{ name: "q" }] }] }));
      const env = new ToolEnv(dir, { kind: "none" });
      const ref = (tool_name: string, api_name: string) => ({ category_name: "Finance", tool_name, api_name });
      expect(env.forApiList([ref("FX Rates", "History"), ref("FX Rates", "latest"), ref("FX Rates", "History")], "q1").map((t) => t.doc.Name)).toEqual(["history_for_fx_rates", "latest_for_fx_rates"]);
      expect(() => env.forApiList([ref("FX Rates", "Forecast")], "G1.json: query 7")).toThrow(`G1.json: query 7: ${join(dir, "Finance", "fx_rates.json")} has no API "Forecast"`);
      expect(() => env.forApiList([ref("Nope", "x")], "q")).toThrow(`${join(dir, "Finance", "nope.json")}: no such tool file`);
      expect(() => env.forApiList([ref("Broken", "x")], "q")).toThrow(`${join(dir, "Finance", "broken.json")}: field api_list.0.required_parameters.0.type:`);
      expect(() => new ToolEnv(join(dir, "none"), { kind: "none" })).toThrow("no such tool directory");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ToolBench and StableToolBench query files (eval realtime --data)", () => {
  it("reads query, query_id and api_list (other keys ignored); a record without its api_list fields is one clear error", () => {
    const dir = mkdtempSync(join(tmpdir(), "toolenv-queries-"));
    try {
      const file = join(dir, "G1_instruction.json");
      const api = { category_name: "Data", tool_name: "TheClique", api_name: "Transfermarkt details", api_description: "Player career", required_parameters: [], method: "GET" };
      writeFileSync(file, JSON.stringify([{ query: "Messi's career?", query_id: 588, api_list: [api], "relevant APIs": [["TheClique", "Transfermarkt details"]] }]));
      expect(readQueries(file)).toEqual([{ id: "588", query: "Messi's career?", apis: [{ category_name: "Data", tool_name: "TheClique", api_name: "Transfermarkt details" }] }]);
      writeFileSync(file, JSON.stringify([{ query: "Q", query_id: 1, api_list: [{ category_name: "Data", tool_name: "TheClique" }] }]));
      expect(() => readQueries(file)).toThrow(`${file}: record 0: expected a ToolBench query {query, query_id, api_list: [{category_name, tool_name, api_name}]}; field api_list.0.api_name:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
