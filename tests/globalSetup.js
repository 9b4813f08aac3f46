/**
 * Jest globalSetup: prepares what the suite needs, so `npm install && npm test` passes on a fresh machine.
 *
 * The llama-server tests run the real llama.cpp server built from the source node-llama-cpp ships. A missing build is
 * made here, once per llama.cpp version, into the cache outside the repo (scripts/llama-server.sh: about 9 minutes on
 * 2 cores, its progress on stderr; later runs find it in a second), and only when this run includes a suite that
 * needs it, so `jest tests/unit/x.test.ts` never waits for it. A failed build does not stop the run: the llama-server
 * suites then fail with the script's line and its kept log.
 */
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";

/** The suites that start llama-server (relative to the root dir). */
const NEEDS_LLAMA_SERVER = ["tests/integration/llama-server.test.ts"];

/** Whether a suite path falls in this run's roots and matches its path patterns (the CLI's `jest PATTERN`). */
function selected(globalConfig, projectConfig, path) {
  const abs = join(projectConfig.rootDir, path);
  if (!projectConfig.roots.some((root) => !relative(root, abs).startsWith(".."))) return false;
  if ((projectConfig.testPathIgnorePatterns ?? []).some((p) => new RegExp(p).test(abs))) return false;
  const patterns = globalConfig.testPathPatterns?.patterns ?? [];
  return patterns.length === 0 || patterns.some((p) => new RegExp(p, "i").test(abs));
}

export default function globalSetup(globalConfig, projectConfig) {
  if (!NEEDS_LLAMA_SERVER.some((p) => selected(globalConfig, projectConfig, p))) return;
  const script = join(projectConfig.rootDir, "scripts", "llama-server.sh");
  // stdout is the binary's path (unused here); stderr carries the progress lines straight to the terminal/CI log.
  const r = spawnSync("bash", [script], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) process.stderr.write(`jest globalSetup: ${script} failed (exit ${r.status ?? r.signal}); the llama-server suites will fail\n`);
}
