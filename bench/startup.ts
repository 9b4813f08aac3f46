/**
 * Start-up cost, whole processes side by side (interleaved, best of RUNS): `import "alpha-umi"` against
 * `import { createAgent } from "langchain"` (LangChain's own agent, the same LangGraph underneath); `alpha-umi demo`
 * (the CLI, replayed models, SQLite checkpoint) against a bare `node`; and which heavy packages the main entry loads
 * (none of them should: they load when a run uses them). Measures the built package (`dist/`, built first), as an app
 * gets it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { packageRoot } from "../src/paths.js";
import type { BenchRow } from "./index.js";

const RUNS = 7;
const IMPORT_TARGET = 1.2;
const DEMO_TARGET_MS = 1000;
/** Packages `import "alpha-umi"` must not load unless a run uses them (issue: import only what a path needs). */
const HEAVY = ["@modelcontextprotocol/sdk", "@langchain/mcp-adapters", "@samchon/openapi", "pyodide", "mathjs", "bullmq", "ioredis", "pg", "@langchain/langgraph-checkpoint-postgres", "@langchain/langgraph-api", "node-llama-cpp", "openai"];

interface Cost {
  wallMs: number;
  cpuMs: number;
}

/** Run `node ARGS` in `cwd`; wall time from here, CPU (user + system) as the child reports it at exit. */
function nodeCost(args: string[], cwd: string): Cost {
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-startup-"));
  const cpuFile = join(dir, "cpu");
  const report = `import { writeFileSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); writeFileSync(${JSON.stringify(cpuFile)}, String((u.user + u.system) / 1000)); });`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(report)}`, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const wallMs = performance.now() - t0;
  try {
    if (r.status !== 0) throw new Error(`bench startup: node ${args.join(" ")} exited ${r.status}: ${r.stderr.toString().slice(-500)}`);
    return { wallMs, cpuMs: Number(readFileSync(cpuFile, "utf8")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best of RUNS for each command, the commands interleaved so that machine load falls on all alike. */
function best(cmds: Array<{ args: string[]; cwd: string }>): Cost[] {
  const out = cmds.map(() => ({ wallMs: Infinity, cpuMs: Infinity }));
  for (let i = 0; i < RUNS; i++)
    cmds.forEach((c, j) => {
      const cost = nodeCost(c.args, c.cwd);
      out[j]!.wallMs = Math.min(out[j]!.wallMs, cost.wallMs);
      out[j]!.cpuMs = Math.min(out[j]!.cpuMs, cost.cpuMs);
    });
  return out;
}

/** The packages a process loaded, ESM (a resolve hook) and CommonJS (the require cache) alike. */
function loadedPackages(code: string, cwd: string): Set<string> {
  const dir = mkdtempSync(join(tmpdir(), "alpha-umi-loads-"));
  const log = join(dir, "urls");
  const hooks = `import { appendFileSync } from "node:fs"; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`;
  const register = `import { register } from "node:module"; register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}));`;
  const cjs = `import { createRequire } from "node:module"; import { appendFileSync } from "node:fs"; process.on("exit", () => appendFileSync(${JSON.stringify(log)}, Object.keys(createRequire(process.cwd() + "/").cache).join("\\n") + "\\n"));`;
  try {
    writeFileSync(log, "");
    execFileSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register + cjs)}`, "--input-type=module", "-e", code], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    const names = readFileSync(log, "utf8")
      .split("\n")
      .map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1])
      .filter((n): n is string => !!n);
    return new Set(names);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStartupBench(): Promise<BenchRow[]> {
  const root = packageRoot();
  // What an app imports is the built package; build it so the rows measure this checkout.
  spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "ignore" });
  const importOf = (code: string) => ({ args: ["--input-type=module", "-e", code], cwd: root });
  const [ours, peer, bare] = best([importOf('await import("alpha-umi")'), importOf('const { createAgent } = await import("langchain")'), importOf("0")]);
  const demoDir = mkdtempSync(join(tmpdir(), "alpha-umi-demo-bench-"));
  let demo: Cost;
  try {
    nodeCost([join(root, "bin", "alpha-umi.js"), "demo"], demoDir); // warm: the file cache, and the checkpoint file exists
    [demo] = best([{ args: [join(root, "bin", "alpha-umi.js"), "demo"], cwd: demoDir }]);
  } finally {
    rmSync(demoDir, { recursive: true, force: true });
  }
  const loaded = loadedPackages('await import("alpha-umi")', root);
  const heavy = HEAVY.filter((p) => loaded.has(p));
  const row = (name: string, o: number, p: number, target: number, note?: string): BenchRow => ({
    section: "startup",
    name,
    ours: o,
    peer: p,
    unit: "ms",
    ratio: o / p,
    target: `≤ ${target}×`,
    pass: o / p <= target,
    note,
  });
  return [
    row('import "alpha-umi" vs langchain createAgent (wall)', ours!.wallMs, peer!.wallMs, IMPORT_TARGET, `bare node ${bare!.wallMs.toFixed(0)} ms wall, ${bare!.cpuMs.toFixed(0)} ms CPU`),
    row('import "alpha-umi" vs langchain createAgent (CPU)', ours!.cpuMs, peer!.cpuMs, IMPORT_TARGET),
    {
      section: "startup",
      name: "alpha-umi demo, warm (wall; peer: bare node)",
      ours: demo!.wallMs,
      peer: bare!.wallMs,
      unit: "ms",
      ratio: demo!.wallMs / bare!.wallMs,
      target: `≤ ${DEMO_TARGET_MS} ms`,
      pass: demo!.wallMs <= DEMO_TARGET_MS,
      note: `CPU ${demo!.cpuMs.toFixed(0)} ms`,
    },
    {
      section: "startup",
      name: 'heavy packages loaded by import "alpha-umi"',
      ours: heavy.length,
      peer: null,
      unit: "packages",
      ratio: null,
      target: "0",
      pass: heavy.length === 0,
      note: `${loaded.size} packages loaded${heavy.length ? `; heavy: ${heavy.join(", ")}` : ""}`,
    },
  ];
}
