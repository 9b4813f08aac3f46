/**
 * The published package as an app meets it: `npm pack`, the tarball installed with its peers into a fresh ESM app,
 * imported by name (every subpath export too), the README's library, resume and approval snippets type-checked with
 * `skipLibCheck: false` and run, and the README's scripted scenario run by jest with the README's ESM setup. The
 * snippets are read from README.md's `<!-- snippet: NAME -->` blocks, and each subpath's exported names from its API
 * section, so this test proves the README as written.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeFixture } from "../../src/models/gguf.js";

const ROOT = resolve(".");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};
const README = readFileSync(join(ROOT, "README.md"), "utf8");

function snippet(name: string): string {
  const m = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`(?:ts|js)\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (!m) throw new Error(`README.md has no <!-- snippet: ${name} --> code block`);
  return m[1]! + "\n";
}

const CLEAN_SUBPATHS = ["alpha-umi/testing", "alpha-umi/tools", "alpha-umi/protocol", "alpha-umi/codec", "alpha-umi/nodes", "alpha-umi/search", "alpha-umi/glpft"];

let work: string;
let app: string;
let tarball: string;

/** Run a command in the app; returns its output, or throws with it. */
function inApp(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: app, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${out.slice(-4000)}`);
  return out;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "alpha-umi-pack-"));
  app = join(work, "app");
  // npm pack runs `prepare` (the tsc build), so the tarball holds this checkout's dist/.
  tarball = join(work, execFileSync("npm", ["pack", "--pack-destination", work, "--silent"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").pop()!);
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "alpha-umi-app", private: true, type: "module", scripts: { test: "node --experimental-vm-modules node_modules/jest/bin/jest.js" } }, null, 2),
  );
  const peers = Object.entries(pkg.peerDependencies).filter(([n]) => !pkg.peerDependenciesMeta[n]?.optional).map(([n, v]) => `${n}@${v}`);
  const tools = ["typescript", "@types/node", "jest"].map((n) => `${n}@${pkg.devDependencies[n]}`);
  // Install scripts are skipped: here they would build better-sqlite3 from source (its prebuilt binaries are on GitHub,
  // out of reach) and node-llama-cpp would look for a llama.cpp build. The SQLite binding this checkout built is
  // copied in instead when the versions agree, rebuilt otherwise. Optional packages are left out: they are
  // node-llama-cpp's prebuilt binaries (about 600 MB, CUDA and Vulkan builds), which no snippet uses.
  inApp("npm", ["install", tarball, ...peers, ...tools, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=optional", "--loglevel=error"]);
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, "node_modules", "better-sqlite3", "package.json"), "utf8")) as { version: string }).version;
  if (existsSync(join(ROOT, "node_modules", "better-sqlite3", "build")) && version(ROOT) === version(app))
    cpSync(join(ROOT, "node_modules", "better-sqlite3", "build"), join(app, "node_modules", "better-sqlite3", "build"), { recursive: true });
  else inApp("npm", ["rebuild", "better-sqlite3"]);

  for (const name of ["library", "resume", "approval"]) writeFileSync(join(app, `${name}.ts`), snippet(name));
  writeFileSync(join(app, "weather.test.js"), snippet("scenario"));
  // The subpaths whose declarations the README says check with skipLibCheck false (models and eval reach node-llama-cpp's).
  writeFileSync(join(app, "subpaths.ts"), CLEAN_SUBPATHS.map((p, i) => `import type * as m${i} from "${p}";\nexport type T${i} = typeof m${i};\n`).join(""));
  writeFileSync(join(app, "jest.config.js"), "export default { transform: {} };\n");
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, types: ["node"], outDir: "out" },
      include: ["*.ts"],
    }),
  );
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package in a fresh app", () => {
  it("imports by name, every subpath export too; the main entry holds the README's names", () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json").map((k) => k.replace(/^\./, "alpha-umi"));
    const out = inApp(process.execPath, [
      "--input-type=module",
      "-e",
      `const main = await import("alpha-umi");
       for (const p of ${JSON.stringify(subpaths)}) await import(p);
       const names = ["createAlphaUmiGraph", "createSingleLlmGraph", "runAgent", "defineTool", "loadToolSources", "checkpointerFrom", "closeCheckpointer", "Command", "pendingInterrupt", "demoTools"];
       console.log(names.filter((n) => !(n in main)).join(",") || "all there");`,
    ]);
    expect(out.trim()).toBe("all there");
    expect(subpaths).toEqual(expect.arrayContaining(["alpha-umi", "alpha-umi/testing", "alpha-umi/models", "alpha-umi/eval", "alpha-umi/glpft"]));
  });

  it("each subpath exports exactly the names README.md's API section lists: values by import(), types by the declarations", () => {
    const script = join(ROOT, "scripts", "api-names.mjs");
    const listed = JSON.parse(execFileSync(process.execPath, [script, "--readme"], { encoding: "utf8" })) as Record<string, { runtime: string[]; types: string[] }>;
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json").map((k) => k.replace(/^\./, "alpha-umi"));
    expect(Object.keys(listed)).toEqual(subpaths);
    const out = inApp(process.execPath, [
      "--input-type=module",
      "-e",
      `const names = {};
       for (const p of ${JSON.stringify(subpaths)}) names[p] = Object.keys(await import(p)).sort();
       console.log(JSON.stringify(names));`,
    ]);
    const imported = JSON.parse(out.trim().split("\n").pop()!) as Record<string, string[]>;
    const declared = JSON.parse(
      execFileSync(process.execPath, [script, "--json", "--package", join(app, "node_modules", "alpha-umi")], { encoding: "utf8", maxBuffer: 16 << 20 }),
    ) as Record<string, { runtime: string[]; types: string[] }>;
    for (const p of subpaths) {
      expect({ [p]: imported[p] }).toEqual({ [p]: listed[p]!.runtime });
      expect({ [p]: declared[p] }).toEqual({ [p]: listed[p] });
    }
  }, 120_000);

  it("the README's TypeScript snippets and the clean subpaths type-check with skipLibCheck false", () => {
    inApp(process.execPath, [join(app, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
    expect(existsSync(join(app, "out", "library.js"))).toBe(true);
  }, 300_000);

  it("the library snippet runs the demo task offline to its answer", () => {
    const out = inApp(process.execPath, ["out/library.js"]);
    expect(out).toMatch(/^finished The capital of Japan is Tokyo\..*40,625/m);
    expect(out).toContain("[observation]");
  }, 120_000);

  it("the resume snippet stops after the first tool call and resumes the thread from its SQLite checkpoint", () => {
    const out = inApp(process.execPath, ["out/resume.js"]);
    expect(out).toContain("stopped: AbortError");
    expect(out).toMatch(/^finished 12$/m);
    expect(existsSync(join(app, "runs.sqlite"))).toBe(true);
  }, 120_000);

  it("the approval snippet stops before the calculator and a Command resumes it", () => {
    const out = inApp(process.execPath, ["out/approval.js"]);
    expect(out).toMatch(/action_requests: \[[\s\S]*name: 'calculate_for_calculator'/);
    expect(out).toMatch(/^finished The capital of Japan is Tokyo\./m);
  }, 120_000);

  it("a user's scripted scenario passes under jest with the README's ESM setup", () => {
    const out = inApp("npm", ["test", "--silent"]);
    expect(out).toMatch(/Tests:\s+1 passed, 1 total/);
  }, 300_000);
});

/** The README's library command, with this checkout's tarball for `alpha-umi`. */
export function readmeLibraryInstall(): string[] {
  const m = /```sh\n(npm install alpha-umi [^\n]*)\n```/.exec(README);
  if (!m) throw new Error("README.md has no ```sh npm install alpha-umi …``` block");
  return m[1]!.split(/\s+/).slice(2);
}

describe("the README's library command in an empty app", () => {
  let lean: string;
  let printed: string;
  beforeAll(() => {
    lean = join(work, "lean");
    mkdirSync(lean);
    writeFileSync(join(lean, "package.json"), JSON.stringify({ name: "lean-app", private: true, type: "module" }));
    // As a user runs it (install scripts included), with the packed checkout in place of the registry's alpha-umi.
    const args = readmeLibraryInstall().map((a) => (a === "alpha-umi" ? tarball : a));
    const r = spawnSync("npm", ["install", ...args, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: lean, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
    printed = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`npm install exited ${r.status}:\n${printed.slice(-4000)}`);
  }, 600_000);

  it("prints no EBADENGINE or ERESOLVE warning", () => {
    expect(printed).not.toMatch(/EBADENGINE|ERESOLVE/);
  });

  it("installs no node-llama-cpp, nor its GPU binaries (@node-llama-cpp/*)", () => {
    expect(existsSync(join(lean, "node_modules", "node-llama-cpp"))).toBe(false);
    expect(existsSync(join(lean, "node_modules", "@node-llama-cpp"))).toBe(false);
  });

  it("a llama: spec without node-llama-cpp is one line naming the package and the install command", async () => {
    // A real GGUF (the project-written fixture model), so the only thing missing is the runtime.
    const { model } = await writeFixture(join(work, "fixture"));
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `
      const { modelFromSpec } = await import("alpha-umi/models");
      const model = ${JSON.stringify(model)};
      try { await modelFromSpec("llama:" + model, "planner").invoke("hi"); console.log("no error"); } catch (e) { console.log(e.name + ": " + e.message); }`], { cwd: lean, encoding: "utf8" });
    expect({ stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ stderr: "", stdout: "UserError: llama: model specs need the optional package node-llama-cpp, which is not installed: npm install node-llama-cpp" });
  }, 120_000);
});
