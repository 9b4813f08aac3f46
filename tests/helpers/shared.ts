import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** The read-only shared data beside the project (never copied into it). */
export const SHARED = resolve(process.cwd(), "../shared");
export const TRAIN_EXAMPLE = join(SHARED, "data/toolbench/train-example");
export const OUT_OF_DOMAIN = join(SHARED, "data/toolbench/out_of_domain.json");
export const METRICS_DIR = join(SHARED, "data/metrics");

/**
 * The project's own ToolBench-format test set (written for alpha-umi, on the demo tools' domain): what the suites that
 * need "a test set" run on, so every feature stays covered where ../shared is absent.
 */
export const DEMO_TEST_SET = resolve(process.cwd(), "tests/fixtures/toolbench-demo.json");

/** Where each shared input comes from, for the skip line. */
const SOURCES: Array<[string, string]> = [
  [OUT_OF_DOMAIN, "the α-UMi out-of-domain ToolBench test set, published with the paper's code (X-PLUG/Multi-LLM-Agent, GLPFT/dataset/toolbench/test/)"],
  [TRAIN_EXAMPLE, "the α-UMi GLPFT train example, published with the paper's code (X-PLUG/Multi-LLM-Agent)"],
  [METRICS_DIR, "the reference scorer's prediction files and expected numbers"],
];

export function sharedAvailable(path: string = TRAIN_EXAMPLE): boolean {
  return existsSync(path);
}

/** One line on stderr saying what is skipped, what is missing and where it comes from. */
function skipLine(path: string, name: string): void {
  const source = SOURCES.find(([p]) => path.startsWith(p))?.[1] ?? "shared data";
  process.stderr.write(`skipped "${name}": ${relative(process.cwd(), path)} is missing (${source}; read from ../shared/data beside the project, never shipped with it)\n`);
}

/** `describe` when `path` in the shared data is present, else `describe.skip` with one line saying why. */
export function describeShared(path: string, name: string, fn: () => void): void {
  if (sharedAvailable(path)) return describe(name, fn);
  skipLine(path, name);
  describe.skip(name, fn);
}

/** `test` when `path` in the shared data is present, else `test.skip` with one line saying why. */
export function testShared(path: string, name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (sharedAvailable(path)) return test(name, fn, timeout);
  skipLine(path, name);
  test.skip(name, fn, timeout);
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
export const TOOLALPACA_DIR = join(SHARED, "data/toolalpaca");
