import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { parseModelfile, shippedModelfile } from "../../src/models/modelfiles.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fakeOllama.js";

let fake: FakeOllama;
let dir: string;
let output: string[];
const write = process.stdout.write.bind(process.stdout);
const writeErr = process.stderr.write.bind(process.stderr);

beforeEach(async () => {
  fake = await startFakeOllama();
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-models-"));
  output = [];
  process.exitCode = undefined;
  process.stdout.write = ((s: string) => (output.push(s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (output.push(s), true)) as typeof process.stderr.write;
});
afterEach(async () => {
  process.stdout.write = write;
  process.stderr.write = writeErr;
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
  await fake.close();
});

/** Small stand-in files: the server only sees their digests and bytes. */
function gguf(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const digest = (s: string) => "sha256:" + createHash("sha256").update(s).digest("hex");
const cli = (...args: string[]) => main(["node", "alpha-umi", ...args]);

test("the shipped Modelfiles: raw template, stop </s>, num_ctx 4096", () => {
  for (const kind of ["planner", "caller", "summarizer", "lora"] as const) {
    const mf = shippedModelfile(kind);
    expect(mf).toMatchObject({ template: "{{ .Prompt }}", parameters: { stop: ["</s>"], num_ctx: 4096 } });
    expect(mf.adapters).toHaveLength(kind === "lora" ? 1 : 0);
  }
  expect(() => parseModelfile('FROM x\nTEMPLATE """open', "M")).toThrow(/M, line 2: unterminated """ block/);
  expect(() => parseModelfile("FROM x\nPARAMETER stop", "M")).toThrow(/M, line 2: PARAMETER needs a name and a value/);
});

test("models create: three GGUFs become three models through blobs and the create API", async () => {
  const files = { planner: gguf("p.gguf", "P"), caller: gguf("c.gguf", "C"), summarizer: gguf("s.gguf", "S") };
  const code = await cli("models", "create", "--planner", files.planner, "--caller", files.caller, "--summarizer", files.summarizer, "--host", fake.url);
  expect(code).toBe(0);
  const creates = fake.requests.filter((r) => r.path === "/api/create").map((r) => r.body);
  expect(creates).toEqual([
    { model: "alpha-umi-planner", files: { "p.gguf": digest("P") }, template: "{{ .Prompt }}", parameters: { stop: ["</s>"], num_ctx: 4096 }, stream: false },
    { model: "alpha-umi-caller", files: { "c.gguf": digest("C") }, template: "{{ .Prompt }}", parameters: { stop: ["</s>"], num_ctx: 4096 }, stream: false },
    { model: "alpha-umi-summarizer", files: { "s.gguf": digest("S") }, template: "{{ .Prompt }}", parameters: { stop: ["</s>"], num_ctx: 4096 }, stream: false },
  ]);
  expect(output.join("")).toContain(`created alpha-umi-planner, alpha-umi-caller, alpha-umi-summarizer at ${fake.url}`);
  // A checked setup: every model there, raw template, stop and context.
  output = [];
  expect(await cli("models", "check", "--host", fake.url)).toBe(0);
  expect(output.join("")).toMatch(/^ok planner: alpha-umi-planner at http:\/\/127\.0\.0\.1:\d+\nok caller/);
});

test("models create --base: one base blob uploaded once, three adapters", async () => {
  const base = gguf("base.gguf", "BASE");
  const a = { planner: gguf("pl.gguf", "a1"), caller: gguf("ca.gguf", "a2"), summarizer: gguf("su.gguf", "a3") };
  const code = await cli("models", "create", "--base", base, "--planner-adapter", a.planner, "--caller-adapter", a.caller, "--summarizer-adapter", a.summarizer, "--prefix", "umi", "--host", fake.url);
  expect(code).toBe(0);
  const uploads = fake.requests.filter((r) => r.path.startsWith("/api/blobs/") && r.method === "POST").map((r) => r.path);
  expect(uploads).toEqual([digest("BASE"), digest("a1"), digest("a2"), digest("a3")].map((d) => `/api/blobs/${d}`));
  const creates = fake.requests.filter((r) => r.path === "/api/create").map((r) => r.body!);
  expect(creates.map((c) => [c.model, c.files, c.adapters])).toEqual([
    ["umi-planner", { "base.gguf": digest("BASE") }, { "pl.gguf": digest("a1") }],
    ["umi-caller", { "base.gguf": digest("BASE") }, { "ca.gguf": digest("a2") }],
    ["umi-summarizer", { "base.gguf": digest("BASE") }, { "su.gguf": digest("a3") }],
  ]);
});

test("models create: a missing file or role is one clear line", async () => {
  expect(await cli("models", "create", "--planner", join(dir, "nope.gguf"), "--caller", "x", "--summarizer", "y", "--host", fake.url)).toBe(2);
  expect(output.join("")).toBe(`alpha-umi: ${join(dir, "nope.gguf")}: no such file\n`);
  output = [];
  expect(await cli("models", "create", "--planner", "x", "--host", fake.url)).toBe(2);
  expect(output.join("")).toBe("alpha-umi: models create: --ROLE GGUF missing for caller, summarizer\n");
});

test("models check: one line per problem", async () => {
  fake.models["alpha-umi-planner"] = {};
  fake.models["alpha-umi-caller"] = { template: "{{ .System }} USER: {{ .Prompt }}", parameters: "num_ctx 2048" };
  fake.models["alpha-umi-summarizer"] = { contextLength: 2048 };
  expect(await cli("models", "check", "--host", fake.url)).toBe(1);
  const lines = output.join("").trim().split("\n");
  expect(lines).toEqual([
    expect.stringMatching(/^caller: Ollama at .*, model alpha-umi-caller: template is not \{\{ \.Prompt \}\}/),
    expect.stringMatching(/^caller: .*: no stop "<\/s>" parameter/),
    expect.stringMatching(/^summarizer: .*: context length 2048 is below the 4096 tokens/),
  ]);
  output = [];
  await fake.close();
  expect(await cli("models", "check", "--host", fake.url)).toBe(1);
  expect(output.join("")).toBe(`Ollama at ${fake.url}: not reachable — start \`ollama serve\` or set OLLAMA_HOST\n`);
});
