/**
 * `readServeConfig`: the operator's langgraph.json as serve reads it — LangGraph's `auth.path` resolved against the
 * file's folder, `http.cors` checked key by key, keys it does not apply reported, and every mistake one line naming the
 * file and the key.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../../src/errors.js";
import { readServeConfig } from "../../src/server/config.js";
import { isLoopback } from "../../src/server/http.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "alpha-umi-serve-config-"));
  writeFileSync(join(dir, "auth.mjs"), "export const auth = {};\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, body: unknown) => (writeFileSync(join(dir, name), typeof body === "string" ? body : JSON.stringify(body)), join(dir, name));
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/^[^\n]+$/);
    return (e as Error).message;
  }
  throw new Error("expected a UserError");
};

describe("readServeConfig", () => {
  it("takes alpha_umi.client_settable (operator keys opened to clients); a misspelt key under alpha_umi is one line", () => {
    const file = write("opened.json", { graphs: {}, alpha_umi: { client_settable: ["plannerModel"] } });
    expect(readServeConfig(file, dir)).toEqual({ file, clientSettable: ["plannerModel"] });
    const typo = write("typo.json", { graphs: {}, alpha_umi: { client_setable: ["plannerModel"] } });
    expect(refusal(() => readServeConfig(typo, dir))).toMatch(/typo\.json: alpha_umi: Unrecognized key: "client_setable"/);
  });

  it("takes alpha_umi.webhook_hosts (hosts a run's webhook may name); a host that is not a string is one line", () => {
    const file = write("hooks.json", { alpha_umi: { webhook_hosts: ["hooks.example.com", "127.0.0.1:8080"] } });
    expect(readServeConfig(file, dir)).toEqual({ file, webhookHosts: ["hooks.example.com", "127.0.0.1:8080"] });
    const bad = write("bad-hooks.json", { alpha_umi: { webhook_hosts: [8080] } });
    expect(refusal(() => readServeConfig(bad, dir))).toMatch(/bad-hooks\.json: alpha_umi\.webhook_hosts\.0: /);
  });

  it("is empty without a langgraph.json in the working folder, and refuses a --config that does not exist", () => {
    expect(readServeConfig(undefined, dir)).toEqual({});
    expect(refusal(() => readServeConfig("missing.json", dir))).toBe("--config missing.json: no such file");
  });

  it("resolves auth.path against the file's folder, export kept, and takes http.cors as LangGraph spells it", () => {
    const file = write("langgraph.json", { graphs: {}, auth: { path: "./auth.mjs:auth" }, http: { cors: { allow_origins: ["https://a.example"], max_age: 60 }, app: "./app.ts:app" } });
    expect(readServeConfig(undefined, dir)).toEqual({
      file,
      auth: { path: `${join(dir, "auth.mjs")}:auth` },
      cors: { allow_origins: ["https://a.example"], max_age: 60 },
      ignored: ["http.app"],
    });
  });

  it("names the file and the key of each mistake", () => {
    expect(refusal(() => readServeConfig(write("typo.json", { http: { cors: { allowed_origins: [] } } }), dir))).toMatch(/typo\.json: http\.cors: .*allowed_origins/);
    expect(refusal(() => readServeConfig(write("type.json", { http: { cors: { allow_origins: "https://a.example" } } }), dir))).toMatch(/type\.json: http\.cors\.allow_origins: /);
    expect(refusal(() => readServeConfig(write("regex.json", { http: { cors: { allow_origin_regex: "(" } } }), dir))).toMatch(/regex\.json: http\.cors\.allow_origin_regex: /);
    expect(refusal(() => readServeConfig(write("noauth.json", { auth: { path: "./nope.ts:auth" } }), dir))).toMatch(/noauth\.json: auth\.path: .*nope\.ts not found/);
    expect(refusal(() => readServeConfig(write("bad.json", "{"), dir))).toMatch(/bad\.json: not JSON/);
  });
});

describe("isLoopback", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.5", false],
    ["127.evil.example", false],
  ])("%s → %s", (host, loopback) => expect(isLoopback(host)).toBe(loopback));
});
