#!/usr/bin/env node
/**
 * `npm run test:upgrade`: the contract suite (tests/contract) and the typecheck against the newest published LangGraph
 * packages, in a scratch copy of the project, so that upgrading them is a decision made on evidence. Prints, per
 * package, the version installed now and the newest, then pass/fail per contract test; exits 1 when anything fails.
 *
 * The copy holds the project's files (tracked and untracked, not ignored; no node_modules), installed from its lock
 * file, then the newest versions on top (INSTALL_FLAGS); native addons whose version is unchanged are copied from this
 * project's install, others are rebuilt.
 *
 * Options: --keep keeps the scratch copy (it is kept anyway when something fails).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGES = [
  "@langchain/langgraph",
  "@langchain/langgraph-checkpoint",
  "@langchain/langgraph-checkpoint-postgres",
  "@langchain/langgraph-checkpoint-sqlite",
  "@langchain/langgraph-api",
  "@langchain/langgraph-sdk",
  "@langchain/core",
];
/**
 * Install scripts are not run (native builds fetch beyond the registry; see NATIVE); optional packages are left out:
 * they are node-llama-cpp's prebuilt binaries (about 600 MB), which neither the typecheck nor the suite loads.
 */
const INSTALL_FLAGS = ["--ignore-scripts", "--omit=optional", "--prefer-offline", "--loglevel=error"];
/** Packages with a native build made by an install script. */
const NATIVE = ["better-sqlite3"];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** The version of `pkg` installed under `dir`'s node_modules, or "-". */
function installed(dir, pkg) {
  const file = join(dir, "node_modules", pkg, "package.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).version : "-";
}

/** Copies of `pkg` nested under other packages in `dir` (a second LangGraph would not be the one the suite tested). */
function nested(dir, pkg) {
  const found = [];
  const walk = (modules, depth) => {
    if (depth > 6 || !existsSync(modules)) return;
    for (const name of readdirSync(modules)) {
      const scoped = name.startsWith("@") ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`) : [name];
      for (const entry of scoped) {
        if (lstatSync(join(modules, entry)).isSymbolicLink()) continue; // links (alpha-umi's own `file:`) are not copies
        const inner = join(modules, entry, "node_modules");
        const copy = join(inner, pkg, "package.json");
        if (existsSync(copy)) found.push(`${JSON.parse(readFileSync(copy, "utf8")).version} in ${entry}`);
        walk(inner, depth + 1);
      }
    }
  };
  walk(join(dir, "node_modules"), 0);
  return found;
}

function newest(pkg) {
  try {
    return execFileSync(npm, ["view", pkg, "version"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (e) {
    console.error(`test:upgrade: npm view ${pkg} failed: ${String(e.stderr ?? e.message).trim().split("\n")[0]}`);
    process.exit(2);
  }
}

/** Run a step in the scratch copy, output shown; returns whether it succeeded. */
function step(title, cmd, args, cwd) {
  console.log(`\n== ${title}: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit", env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" } });
  return r.status === 0;
}

const versions = PACKAGES.map((pkg) => ({ pkg, now: installed(root, pkg), newest: newest(pkg) }));

const scratch = mkdtempSync(join(tmpdir(), "alpha-umi-upgrade-"));
console.log(`test:upgrade: scratch copy in ${scratch}`);
const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
  .split("\0")
  .filter((f) => f && f !== "node_modules" && !f.startsWith("node_modules/") && existsSync(join(root, f)));
for (const f of files) {
  mkdirSync(dirname(join(scratch, f)), { recursive: true });
  cpSync(join(root, f), join(scratch, f));
}

// `npm install`, not `npm ci`: the lock lists only the optional platform packages of the machine that wrote it.
let ok = step("install the project as locked", npm, ["install", ...INSTALL_FLAGS], scratch);
for (const pkg of NATIVE) {
  if (!ok) break;
  const build = join(root, "node_modules", pkg, "build");
  if (installed(root, pkg) === installed(scratch, pkg) && existsSync(build)) cpSync(build, join(scratch, "node_modules", pkg, "build"), { recursive: true });
  else ok = step(`build ${pkg}`, npm, ["rebuild", pkg], scratch);
}
ok &&= step("install the newest LangGraph packages", npm, ["install", ...INSTALL_FLAGS, ...versions.map((v) => `${v.pkg}@${v.newest}`)], scratch);
for (const v of versions) {
  v.tested = installed(scratch, v.pkg);
  v.nested = nested(scratch, v.pkg).filter((copy) => !copy.startsWith(`${v.tested} `));
}

const typecheck = ok && step("typecheck", process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--noEmit"], scratch);
const resultsFile = join(scratch, "contract-results.json");
const suite = ok && step("contract suite", process.execPath, ["--experimental-vm-modules", "node_modules/jest/bin/jest.js", "tests/contract", "--json", `--outputFile=${resultsFile}`], scratch);

const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : undefined;
const width = Math.max(...PACKAGES.map((p) => p.length));
console.log("\n== test:upgrade report");
console.log(`${"package".padEnd(width)}  installed now  newest    tested`);
for (const v of versions) {
  console.log(`${v.pkg.padEnd(width)}  ${v.now.padEnd(13)}  ${v.newest.padEnd(8)}  ${v.tested}${v.now === v.newest ? "  (newest is installed)" : ""}`);
  for (const copy of v.nested ?? []) console.log(`${"".padEnd(width)}  also ${copy} (a second copy: code there runs untested)`);
}
console.log(`\ninstall: ${ok ? "ok" : "FAILED"}`);
console.log(`typecheck: ${!ok ? "not run" : typecheck ? "pass" : "FAIL"}`);
if (results) {
  console.log(`contract suite: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`);
  for (const file of results.testResults) {
    console.log(`  ${file.name.slice(scratch.length + 1)}${file.status === "failed" && file.assertionResults.length === 0 ? `  FAIL: ${file.message.split("\n").find((l) => l.trim()) ?? ""}` : ""}`);
    for (const t of file.assertionResults) console.log(`    ${t.status === "passed" ? "pass" : t.status === "failed" ? "FAIL" : t.status}  ${t.fullName}`);
  }
} else console.log(`contract suite: ${ok ? "FAILED to report" : "not run"}`);

const passed = ok && typecheck && suite;
if (passed && !keep) rmSync(scratch, { recursive: true, force: true });
else console.log(`\nscratch copy kept: ${scratch}`);
process.exit(passed ? 0 : 1);
