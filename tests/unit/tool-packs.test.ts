/** Named tool packs: the engine finds `tools/NAME/` by name, with no static import of the pack. */
import { readFileSync } from "node:fs";
import { isToolPack, loadToolPack } from "../../src/tools/packs.js";
import { loadToolSource } from "../../src/tools/sources.js";
import { UserError } from "../../src/errors.js";

describe("tool packs", () => {
  it("`demo` resolves to the demo world's tools and its question", async () => {
    const demo = await loadToolPack("demo");
    expect(demo?.tools().map((t) => t.doc.Name)).toEqual(["country_facts_for_atlas", "exchange_rate_for_fx", "calculate_for_calculator"]);
    expect(demo?.instruction).toMatch(/capital of Japan/);
    const { tools } = await loadToolSource("demo");
    expect(tools.map((t) => t.doc.Name)).toEqual(demo!.tools().map((t) => t.doc.Name));
  });

  it("a name that is not a pack folder, or is not a plain name, is no pack and an unknown source", async () => {
    for (const name of ["nope", "../src", "demo/../demo", "Demo", ""]) {
      expect(isToolPack(name)).toBe(false);
      await expect(loadToolPack(name)).resolves.toBeUndefined();
    }
    await expect(loadToolSource("../src")).rejects.toThrow(UserError);
  });

  it("no engine module imports the demo pack", () => {
    for (const file of ["src/tools/sources.ts", "src/runAgent.ts", "src/cli/run.ts"]) expect(readFileSync(file, "utf8")).not.toMatch(/tools\/demo/);
  });
});
