/**
 * The README's library install in an empty app, side by side with a bare LangGraph app (the same command without
 * `alpha-umi`): its installed size and wall time. What alpha-umi adds is the ratio; the optional peers (node-llama-cpp's
 * GPU binaries, @langchain/community) are not in it. Installs the packed checkout with install scripts, as a user gets it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { packageRoot } from "../src/paths.js";
import type { BenchRow } from "./index.js";

const SIZE_TARGET = 4;
const TIME_TARGET = 4;

/** The README's `npm install alpha-umi …` words after `npm install`. */
function readmeCommand(): string[] {
  const m = /```sh\n(npm install alpha-umi [^\n]*)\n```/.exec(readFileSync(join(packageRoot(), "README.md"), "utf8"));
  if (!m) throw new Error("bench install: README.md has no ```sh npm install alpha-umi …``` block");
  return m[1]!.split(/\s+/).slice(2);
}

function install(dir: string, args: string[]): { ms: number; mb: number } {
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-app", private: true, type: "module" }));
  const t0 = performance.now();
  const r = spawnSync("npm", ["install", ...args, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench install: npm install exited ${r.status}: ${r.stderr.slice(-500)}`);
  const kb = Number(execFileSync("du", ["-sk", join(dir, "node_modules")], { encoding: "utf8" }).split("\t")[0]);
  return { ms, mb: kb / 1024 };
}

export async function runInstallBench(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), "alpha-umi-install-bench-"));
  try {
    const tarball = join(work, execFileSync("npm", ["pack", "--pack-destination", work, "--silent"], { cwd: packageRoot(), encoding: "utf8" }).trim().split("\n").pop()!);
    const args = readmeCommand();
    const ours = install(join(work, "ours"), args.map((a) => (a === "alpha-umi" ? tarball : a)));
    const peer = install(join(work, "peer"), args.filter((a) => a !== "alpha-umi"));
    const row = (name: string, o: number, p: number, unit: string, target: number): BenchRow => ({
      section: "install", name, ours: o, peer: p, unit, ratio: o / p, target: `≤ ${target}× a bare LangGraph app`, pass: o / p <= target,
    });
    return [
      row("README library install: node_modules size", ours.mb, peer.mb, "MB", SIZE_TARGET),
      row("README library install: wall time", ours.ms / 1000, peer.ms / 1000, "s", TIME_TARGET),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
