import { readFileSync } from "node:fs";
import { cliInProcess } from "../helpers/inProcessCli.js";

describe("alpha-umi --version", () => {
  const version = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

  test.each([["--version"], ["-V"]])("%s prints the package version and exits 0", async (flag) => {
    const r = await cliInProcess([flag]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.trim()).toBe(version);
  });
});
