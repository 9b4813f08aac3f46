/**
 * `npm run bench [-- --json] [-- --only NAME]`: every benchmark side by side in one run, as ratios against a peer.
 * Each section lives in its own file and returns rows.
 */
export interface BenchRow {
  section: string;
  name: string;
  ours: number;
  peer: number | null;
  unit: string;
  /** ours / peer (or peer / ours where higher is better), with the target it is held to. */
  ratio: number | null;
  target: string;
  pass: boolean | null;
  note?: string;
}

type Section = { name: string; run: () => Promise<BenchRow[]> };

const sections: Section[] = [
  { name: "startup", run: async () => (await import("./startup.js")).runStartupBench() },
  { name: "engine", run: async () => (await import("./engine.js")).runEngineBench() },
  { name: "throughput", run: async () => (await import("./throughput.js")).runThroughputBench() },
  { name: "serve", run: async () => (await import("./serve.js")).runServeBench() },
  { name: "glpft", run: async () => (await import("./glpft.js")).runGlpftBench() },
  { name: "eval", run: async () => (await import("./eval.js")).runEvalBench() },
  { name: "search", run: async () => (await import("./search.js")).runSearchBench() },
  { name: "tokens", run: async () => (await import("./tokens.js")).runTokensBench() },
  { name: "inference", run: async () => (await import("./inference.js")).runInferenceBench() },
  { name: "threads", run: async () => (await import("./threads.js")).runThreadsBench() },
  { name: "gpu", run: async () => (await import("./gpu.js")).runGpuBench() },
  { name: "install", run: async () => (await import("./install.js")).runInstallBench() },
];

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const onlyAt = process.argv.indexOf("--only");
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
  const rows: BenchRow[] = [];
  for (const s of sections) {
    if (only && s.name !== only) continue;
    if (!json) process.stderr.write(`bench: ${s.name}…\n`);
    rows.push(...(await s.run()));
  }
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    return;
  }
  const fmt = (n: number | null) => (n === null || Number.isNaN(n) ? "-" : n >= 100 ? n.toFixed(0) : n.toPrecision(3));
  const header = ["section", "benchmark", "ours", "peer", "unit", "ratio", "target", "ok"];
  const lines = rows.map((r) => [r.section, r.name, fmt(r.ours), fmt(r.peer), r.unit, fmt(r.ratio), r.target, r.pass === null ? "-" : r.pass ? "yes" : "NO"]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(show(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(show(l));
  for (const r of rows) if (r.note) console.log(`note: ${r.section}/${r.name}: ${r.note}`);
}

await main();
