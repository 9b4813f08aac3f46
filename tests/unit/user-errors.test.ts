/**
 * A user's mistake (a bad file, option, config or environment) is a UserError: one line, exit 2, no stack. A few from
 * each area the plain `Error`s were turned over in; the internal invariants left as Error say `bug:`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../../src/errors.js";
import { readMcpConfig } from "../../src/tools/mcp.js";
import { parseToolEnvSource, readToolFile } from "../../src/tools/toolenv.js";
import { openOpenApiTools } from "../../src/tools/openapi.js";
import { checkUniqueNames } from "../../src/tools/spec.js";
import { defineTool } from "../../src/tools/adapters.js";
import { readQueries, readAnswerDir } from "../../src/eval/realtime.js";
import { readGguf } from "../../src/models/gguf.js";
import { ollamaHost } from "../../src/models/ollama.js";
import { loadToolSource } from "../../src/tools/sources.js";
import { callerPrompt } from "../../src/protocol/render.js";
import { z } from "zod";

const dir = mkdtempSync(join(tmpdir(), "alpha-umi-usererr-"));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

describe("user mistakes are UserErrors naming what is wrong", () => {
  it.each<[string, () => unknown, RegExp]>([
    ["a missing MCP config", () => readMcpConfig(join(dir, "nope.json")), /MCP config .*nope\.json: no such file/],
    ["an MCP config with no servers", () => readMcpConfig(file("mcp.json", "{}")), /with at least one server/],
    ["a bad toolenv: value", () => parseToolEnvSource(""), /expected toolenv:DIR/],
    ["a tool file that is not JSON", () => readToolFile(file("tool.json", "{")), /tool\.json: not JSON/],
    ["an OpenAPI spec given as a remote URL", () => openOpenApiTools("https://example.com/spec.json"), /unsupported URL scheme https:/],
    ["a missing OpenAPI spec", () => openOpenApiTools(join(dir, "spec.json")), /no such file/],
    ["two tools with one name", () => checkUniqueNames([0, 1].map(() => defineTool({ name: "x_for_y", description: "d", schema: z.object({}), run: () => 1 })), "--tools"), /two tools are named "x_for_y"/],
    ["a missing query file", () => readQueries(join(dir, "q.json")), /no such query file/],
    ["a query file that is not an array", () => readQueries(file("q2.json", "{}")), /expected a JSON array/],
    ["a missing answer directory", () => readAnswerDir(join(dir, "answers")), /no such answer directory/],
    ["a file that is not GGUF", () => readGguf(Buffer.from("nope")), /not a GGUF file/],
    ["a bad OLLAMA_HOST", () => ollamaHost("http://[::1"), /is not a URL or host:port/],
  ])("%s", async (_what, run, message) => {
    let err: unknown;
    try {
      await run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
  });

  it("a langchain: module that does not exist", async () => {
    await expect(loadToolSource(`langchain:${join(dir, "missing.js")}#tools`)).rejects.toThrow(UserError);
  });

  it("an internal invariant stays a plain Error that says it is a bug", () => {
    expect(() => callerPrompt({ tools: [], history: [] })).toThrow(/^bug: /);
    expect(() => callerPrompt({ tools: [], history: [] })).not.toThrow(UserError);
  });
});
