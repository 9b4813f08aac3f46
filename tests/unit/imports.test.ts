/**
 * Imports point one way (issue 17): no cycle among src/'s files, nor among its top-level folders and root files, type
 * imports and dynamic imports included. Found by reading the import lines, as /work/shared/tools/importgraph.py does.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const SRC = join(process.cwd(), "src");
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g;
const DYNAMIC = /import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [relative(SRC, p)] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = normalize(join(dirname(from), spec));
  return [base.replace(/\.js$/, ".ts"), base + ".ts", join(base, "index.ts")].find((c) => existsSync(join(SRC, c)));
}

/** The cycles of a graph: its strongly connected components with more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const files = new Map<string, Set<string>>();
for (const f of sources(SRC)) {
  const text = readFileSync(join(SRC, f), "utf8");
  const targets = new Set<string>();
  for (const m of [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC)]) {
    const t = resolveImport(f, m[1]!);
    if (t && t !== f) targets.add(t);
  }
  files.set(f, targets);
}
const folderOf = (f: string) => f.split("/")[0]!;
const folders = new Map<string, Set<string>>();
for (const [f, targets] of files) {
  const from = folders.get(folderOf(f)) ?? new Set<string>();
  folders.set(folderOf(f), from);
  for (const t of targets) if (folderOf(t) !== folderOf(f)) from.add(folderOf(t));
}

test("src/ has no import cycle between files", () => {
  expect(files.size).toBeGreaterThan(100);
  expect(cycles(files)).toEqual([]);
});

test("src/ has no import cycle between top-level folders and root files", () => {
  expect(folders.get("cli")?.size).toBeGreaterThan(5);
  expect(cycles(folders)).toEqual([]);
});

test("the cycle finder finds a cycle (so the checks above can fail)", () => {
  const g = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
  expect(cycles(g)).toEqual([["a", "b", "c"]]);
});
