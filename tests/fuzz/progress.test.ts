import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** `npm run fuzz` says how far it is while it runs: a line per --every runs on stderr, the counts on stdout at the end. */
test("npm run fuzz prints runs done, rate and failures as it goes", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", resolve("tests/fuzz/run.ts"), "--runs", "4", "--every", "2", "--concurrency", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((res) => child.on("close", res));
  expect(code).toBe(0);
  // Every --every runs, and (on a slow machine) also after 5 s without a line.
  const lines = stderr.trim().split("\n");
  for (const line of lines) expect(line).toMatch(/^fuzz: \d\/4 runs, \d+\.\d runs\/s, 0 failure\(s\)$/);
  expect(lines.map((l) => l.split(" ")[1])).toEqual(expect.arrayContaining(["2/4", "4/4"]));
  expect(JSON.parse(stdout.slice(0, stdout.indexOf("\n}") + 2)).runs).toBe(4);
}, 120_000);
