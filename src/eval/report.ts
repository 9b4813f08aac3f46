/**
 * `eval report`: runs side by side as one static offline HTML file (inline CSS and SVG, no scripts or network) plus
 * Markdown: every metric in a table, a bar chart per metric, and the failing steps with their prompt and output.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readScoreRecords } from "./records.js";
import { METRIC_LABELS } from "./format.js";
import { METRIC_KEYS, scoreRecords, type MetricKey, type ScoreRecord, type ScoreResult, type StepDetail } from "./score.js";
import type { PassResult, PreferResult } from "./judge.js";
import { readAnswerDir, type AnswerFile } from "./realtime.js";
import type { SearchNode } from "../search/index.js";
import { isToolAlpacaDir, loadToolAlpacaRun, scoreOf, type ToolAlpacaRun } from "./toolalpaca.js";
import { UserError } from "../errors.js";

export interface ReportRun {
  name: string;
  dir: string;
  score: ScoreResult;
  records: Array<ScoreRecord & { model_input?: string; error?: string }>;
}

export type FailureKind = "hallucinated" | "wrong-action" | "wrong-plan" | "model-error";

export const FAILURE_TITLES: Record<FailureKind, string> = {
  hallucinated: "Hallucinated tool names",
  "wrong-action": "Wrong actions",
  "wrong-plan": "Wrong plans",
  "model-error": "Model call failures",
};

/** How many failures per kind and run the report shows in full. */
const SHOWN = 50;

/** Read a run directory written by `eval steps` (or any dir holding a predictions.json in the reference format). */
export function loadRun(dir: string): ReportRun {
  const file = join(dir, "predictions.json");
  if (!existsSync(file)) throw new UserError(`${dir}: no predictions.json (write one with alpha-umi eval steps --out ${dir})`);
  const records = readScoreRecords(file) as ReportRun["records"];
  return { name: basename(resolve(dir)), dir, score: scoreRecords(records), records };
}

export function failuresOf(run: ReportRun, kind: FailureKind): StepDetail[] {
  return run.score.steps.filter((s) => {
    if (kind === "model-error") return !!run.records[s.index]!.error;
    if (run.records[s.index]!.error) return false;
    if (kind === "hallucinated") return s.hallucinated;
    if (kind === "wrong-action") return s.actionOk === false && s.planOk && !s.hallucinated;
    return !s.planOk;
  });
}

const KINDS: FailureKind[] = ["hallucinated", "wrong-action", "wrong-plan", "model-error"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const pct = (x: number) => (x * 100).toFixed(2);
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"];

/** A legend entry per bar: the run's colour and its whole name. */
function legendOf(names: readonly string[]): string {
  return `<p class="legend">${names.map((name, i) => `<span><i class="swatch" style="background:${COLORS[i % COLORS.length]}"></i>${esc(name)}</span>`).join("")}</p>`;
}

// Bar labels are slanted under the axis, so that names of any length stay apart; past this many characters a name is
// cut (the legend and the bar's tooltip hold it whole).
const LABEL_CHARS = 32;
const CHAR_W = 6;

/** A bar chart of values in [0, 1], one bar per run, labelled in percent, with its runs' names and a legend. */
function valueBars(label: string, bars: ReadonlyArray<{ name: string; value: number }>): string {
  const barW = 46;
  const gap = 14;
  const h = 140;
  const top = 22;
  const names = bars.map(({ name }) => (name.length > LABEL_CHARS ? name.slice(0, LABEL_CHARS - 1) + "…" : name));
  // A label slanted at 35° takes sin(35°) of its length below the axis, cos(35°) of it to the left of its bar.
  const longest = Math.max(0, ...names.map((n) => n.length)) * CHAR_W;
  const below = Math.ceil(longest * 0.58) + 18;
  const left = Math.max(gap, Math.ceil(longest * 0.82) - barW / 2);
  const w = Math.max(180, left + bars.length * (barW + gap));
  const rects = bars
    .map(({ name, value: v }, i) => {
      const bh = Math.max(0, Math.min(1, v)) * h;
      const x = left + i * (barW + gap);
      const lx = x + barW / 2;
      const ly = top + h + 12;
      return (
        `<rect class="bar" x="${x}" y="${top + h - bh}" width="${barW}" height="${bh}" fill="${COLORS[i % COLORS.length]}"><title>${esc(name)}: ${pct(v)}%</title></rect>` +
        `<text x="${lx}" y="${top + h - bh - 4}" text-anchor="middle">${pct(v)}</text>` +
        `<text class="bar-label" x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-35 ${lx} ${ly})">${esc(names[i]!)}<title>${esc(name)}</title></text>`
      );
    })
    .join("");
  return (
    `<figure><svg role="img" aria-label="${esc(label)}" width="${w}" height="${top + h + below}" viewBox="0 0 ${w} ${top + h + below}">` +
    `<line x1="0" y1="${top + h}" x2="${w}" y2="${top + h}" stroke="#999"/>${rects}</svg>` +
    `<figcaption>${esc(label)} (%)</figcaption>${legendOf(bars.map((b) => b.name))}</figure>`
  );
}

function barChart(metric: MetricKey, runs: readonly ReportRun[]): string {
  return valueBars(METRIC_LABELS[metric], runs.map((r) => ({ name: r.name, value: r.score.metrics[metric] })));
}

function failureHtml(run: ReportRun, s: StepDetail): string {
  const rec = run.records[s.index]!;
  const what = rec.error
    ? `model error: ${rec.error}`
    : s.hallucinated
      ? `called ${s.predAction}, not a tool of this step`
      : s.planOk
        ? `action ${s.predAction} instead of ${s.refAction}`
        : `plan ${s.predPlan} instead of ${s.refPlan}`;
  return (
    `<details><summary>step ${s.index}: ${esc(what)}</summary>` +
    `<h4>Output</h4><pre>${esc(rec.predictions)}</pre><h4>Reference</h4><pre>${esc(rec.reference)}</pre>` +
    (rec.model_input ? `<details><summary>Prompt (${rec.model_input.length} chars)</summary><pre>${esc(rec.model_input)}</pre></details>` : "") +
    `</details>`
  );
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0;border:1px solid #eee;padding:6px}figcaption{text-align:center;font-weight:600}
svg text{font-size:11px;fill:#333}pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:8px;max-height:360px;overflow:auto}
details{margin:4px 0}summary{cursor:pointer}h4{margin:6px 0 2px}.legend span{display:inline-block;margin-right:14px}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}`;

export function renderHtml(runs: readonly ReportRun[], realtime: readonly RealtimeRun[] = [], toolalpaca: readonly ToolAlpacaRun[] = []): string {
  const head = `<tr><th>metric</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join("")}</tr>`;
  const rows = METRIC_KEYS.map((k) => `<tr><td>${esc(METRIC_LABELS[k])} <code>${k}</code></td>${runs.map((r) => `<td>${pct(r.score.metrics[k])}</td>`).join("")}</tr>`).join("");
  const counts = `<tr><td>steps</td>${runs.map((r) => `<td>${r.score.counts.steps}</td>`).join("")}</tr>`;
  const legend = runs.map((r, i) => `<span><i class="swatch" style="background:${COLORS[i % COLORS.length]}"></i>${esc(r.name)} <small>(${esc(r.dir)})</small></span>`).join("");
  const failures = runs
    .map((r) => {
      const sections = KINDS.map((kind) => {
        const list = failuresOf(r, kind);
        const more = list.length > SHOWN ? `<p>… and ${list.length - SHOWN} more in ${esc(join(r.dir, "predictions.json"))}</p>` : "";
        return `<h3>${FAILURE_TITLES[kind]} (${list.length})</h3>${list.slice(0, SHOWN).map((s) => failureHtml(r, s)).join("")}${more}`;
      }).join("");
      const warnings = r.score.warnings.map((w) => `<li>${esc(w.message)} (${w.count}×)</li>`).join("");
      return `<section><h2>Failures: ${esc(r.name)}</h2>${warnings ? `<ul>${warnings}</ul>` : ""}${sections}</section>`;
    })
    .join("");
  const steps = runs.length
    ? `<h1>Step-level evaluation</h1><p class="legend">${legend}</p>
<table><thead>${head}</thead><tbody>${rows}${counts}</tbody></table>
<h2>Metrics</h2><div class="charts">${METRIC_KEYS.map((k) => barChart(k, runs)).join("")}</div>
${failures}`
    : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>alpha-umi eval report</title><style>${CSS}</style></head><body>
${steps}${toolalpaca.length ? toolalpacaHtml(toolalpaca) : ""}${realtime.length ? realtimeHtml(realtime) : ""}</body></html>
`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderMarkdown(runs: readonly ReportRun[], realtime: readonly RealtimeRun[] = [], toolalpaca: readonly ToolAlpacaRun[] = []): string {
  const ta = toolalpaca.length ? toolalpacaMarkdown(toolalpaca) + "\n" : "";
  if (runs.length === 0) return ta + realtimeMarkdown(realtime);
  const lines = [
    "# Step-level evaluation",
    "",
    `| metric | ${runs.map((r) => mdCell(r.name)).join(" | ")} |`,
    `| --- | ${runs.map(() => "---:").join(" | ")} |`,
    ...METRIC_KEYS.map((k) => `| ${METRIC_LABELS[k]} (\`${k}\`) | ${runs.map((r) => pct(r.score.metrics[k])).join(" | ")} |`),
    `| steps | ${runs.map((r) => r.score.counts.steps).join(" | ")} |`,
    "",
  ];
  for (const r of runs) {
    lines.push(`## Failures: ${r.name}`, "");
    for (const kind of KINDS) {
      const list = failuresOf(r, kind);
      lines.push(`- ${FAILURE_TITLES[kind]}: ${list.length}${list.length ? ` (steps ${list.slice(0, 20).map((s) => s.index).join(", ")}${list.length > 20 ? ", …" : ""})` : ""}`);
    }
    lines.push("");
  }
  return lines.join("\n") + (ta ? "\n" + ta : "") + (realtime.length ? "\n" + realtimeMarkdown(realtime) : "");
}

/** A directory written by `eval realtime` (answer files, plus `pass.json` / `prefer-*.json` from the judges). */
export interface RealtimeRun {
  name: string;
  dir: string;
  answers: AnswerFile[];
  pass?: PassResult;
  prefer: PreferResult[];
}

export function loadRealtimeRun(dir: string): RealtimeRun {
  const read = <T>(f: string) => JSON.parse(readFileSync(join(dir, f), "utf8")) as T;
  return {
    name: basename(resolve(dir)),
    dir,
    answers: readAnswerDir(dir),
    pass: existsSync(join(dir, "pass.json")) ? read<PassResult>("pass.json") : undefined,
    prefer: readdirSync(dir)
      .filter((f) => /^prefer-.*\.json$/.test(f))
      .sort()
      .map((f) => read<PreferResult>(f)),
  };
}

/** Step runs (a predictions.json), ToolAlpaca runs and real-time runs (answer files), each directory read as what it holds. */
export function loadReport(dirs: readonly string[]): { runs: ReportRun[]; realtime: RealtimeRun[]; toolalpaca: ToolAlpacaRun[] } {
  const runs: ReportRun[] = [];
  const realtime: RealtimeRun[] = [];
  const toolalpaca: ToolAlpacaRun[] = [];
  for (const d of dirs) {
    if (isToolAlpacaDir(d)) toolalpaca.push(loadToolAlpacaRun(d, basename(resolve(d))));
    else if (!existsSync(join(d, "predictions.json")) && existsSync(d) && readdirSync(d).some((f) => f.endsWith(".json"))) realtime.push(loadRealtimeRun(d));
    else runs.push(loadRun(d));
  }
  return { runs, realtime, toolalpaca };
}

const NODE_COLORS: Record<SearchNode["kind"], string> = { root: "#333", step: "#4e79a7", answer: "#59a14f", give_up: "#e15759", failed: "#999" };

/** A search tree as an SVG: depth left to right, one row per leaf in depth-first order; the answering path in bold. */
export function treeSvg(tree: readonly SearchNode[], answerNode: number | null): string {
  if (tree.length === 0) return "";
  const row = new Map<number, number>();
  let leaves = 0;
  const place = (i: number): number => {
    const n = tree[i]!;
    const y = n.children.length === 0 ? leaves++ : n.children.map(place).reduce((a, b) => a + b, 0) / n.children.length;
    row.set(i, y);
    return y;
  };
  place(0);
  const onPath = new Set<number>();
  for (let i: number | null = answerNode; i !== null; i = tree[i]!.parent) onPath.add(i);
  const X = (n: SearchNode) => 24 + n.depth * 90;
  const Y = (n: SearchNode) => 20 + row.get(n.index)! * 34;
  const depth = Math.max(...tree.map((n) => n.depth));
  const w = 24 + depth * 90 + 80;
  const h = 20 + Math.max(leaves - 1, 0) * 34 + 24;
  const edges = tree
    .filter((n) => n.parent !== null)
    .map((n) => {
      const p = tree[n.parent!]!;
      const bold = onPath.has(n.index);
      return `<line x1="${X(p)}" y1="${Y(p)}" x2="${X(n)}" y2="${Y(n)}" stroke="${bold ? "#59a14f" : "#bbb"}" stroke-width="${bold ? 3 : 1.5}"/>`;
    })
    .join("");
  const nodes = tree
    .map((n) => {
      const what = n.kind === "step" || n.kind === "root" ? `${n.action ?? ""} ${n.actionInput ?? ""}` : n.kind;
      const tip = `n${n.index} branch ${n.branch} depth ${n.depth}: ${what}${n.diversity ? " (diversity turn)" : ""}${n.pruned ? " (pruned)" : ""}`;
      return (
        `<g><title>${esc(tip)}</title><circle cx="${X(n)}" cy="${Y(n)}" r="9" fill="${NODE_COLORS[n.kind]}"${n.pruned ? ' stroke="#000" stroke-dasharray="2 2"' : ""}/>` +
        `<text x="${X(n) + 12}" y="${Y(n) + 4}">n${n.index}${n.kind === "answer" ? " ✓" : n.kind === "give_up" ? " ✗" : ""}</text></g>`
      );
    })
    .join("");
  return `<svg class="tree" role="img" aria-label="search tree" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${edges}${nodes}</svg>`;
}

function realtimeHtml(runs: readonly RealtimeRun[]): string {
  const judged = runs.filter((r) => r.pass);
  const head = `<tr><th>run</th><th>queries</th><th>answered</th><th>pass rate</th><th>solvable pass rate</th><th>queries / task</th><th>model calls / task</th></tr>`;
  const rows = runs
    .map((r) => {
      const n = r.answers.length;
      const answered = r.answers.filter((a) => a.answer_generation.finish_type === "give_answer").length;
      const avg = (f: (a: AnswerFile) => number) => (r.answers.reduce((s, a) => s + f(a), 0) / n).toFixed(1);
      const sopr = r.pass ? `${pct(r.pass.solvablePassRate.mean)} ± ${pct(r.pass.solvablePassRate.std)}` : "-";
      return `<tr><td>${esc(r.name)}</td><td>${n}</td><td>${answered}</td><td>${r.pass ? pct(r.pass.passRate) : "-"}</td><td>${sopr}</td><td>${avg((a) => a.answer_generation.query_count)}</td><td>${avg((a) => a.answer_generation.model_calls)}</td></tr>`;
    })
    .join("");
  const prefer = runs.flatMap((r) => r.prefer.map((p) => ({ name: `${r.name} vs ${basename(resolve(p.reference))}`, p })));
  const preferRows = prefer.map(({ name, p }) => `<tr><td>${esc(name)}</td><td>${p.wins}</td><td>${p.ties}</td><td>${p.losses}</td><td>${pct(p.winRate)}</td></tr>`).join("");
  const charts = [
    judged.length ? valueBars("Pass rate", judged.map((r) => ({ name: r.name, value: r.pass!.passRate }))) : "",
    judged.length ? valueBars("Solvable pass rate", judged.map((r) => ({ name: r.name, value: r.pass!.solvablePassRate.mean }))) : "",
    prefer.length ? valueBars("Win rate", prefer.map(({ name, p }) => ({ name, value: p.winRate }))) : "",
  ].join("");
  const trees = runs
    .map((r) => {
      const items = r.answers
        .map((a) => {
          const verdict = r.pass?.queries.find((q) => q.query_id === a.query_id);
          const label = `${a.query_id}: ${a.answer_generation.finish_type}${verdict ? (verdict.passed ? ", passed" : ", failed") : ""} — ${a.query}`;
          const body = a.tree ? treeSvg(a.tree, a.answer_node) : `<p>one chain of ${a.answer_generation.query_count} step(s)</p>`;
          return `<details><summary>${esc(label)}</summary>${body}<h4>Answer</h4><pre>${esc(a.answer_generation.final_answer || "(none)")}</pre></details>`;
        })
        .join("");
      return `<section><h3>${esc(r.name)}</h3>${items}</section>`;
    })
    .join("");
  return `<h1>Real-time evaluation</h1>
<table><thead>${head}</thead><tbody>${rows}</tbody></table>
${preferRows ? `<table><thead><tr><th>comparison</th><th>wins</th><th>ties</th><th>losses</th><th>win rate</th></tr></thead><tbody>${preferRows}</tbody></table>` : ""}
<div class="charts">${charts}</div>
<h2>Queries and search trees</h2>${trees}`;
}

function realtimeMarkdown(runs: readonly RealtimeRun[]): string {
  const lines = ["# Real-time evaluation", "", "| run | queries | answered | pass rate | solvable pass rate |", "| --- | ---: | ---: | ---: | ---: |"];
  for (const r of runs) {
    const answered = r.answers.filter((a) => a.answer_generation.finish_type === "give_answer").length;
    const sopr = r.pass ? `${pct(r.pass.solvablePassRate.mean)} ± ${pct(r.pass.solvablePassRate.std)}` : "-";
    lines.push(`| ${mdCell(r.name)} | ${r.answers.length} | ${answered} | ${r.pass ? pct(r.pass.passRate) : "-"} | ${sopr} |`);
  }
  const prefer = runs.flatMap((r) => r.prefer.map((p) => `| ${mdCell(r.name)} vs ${mdCell(basename(resolve(p.reference)))} | ${p.wins} | ${p.ties} | ${p.losses} | ${pct(p.winRate)} |`));
  if (prefer.length) lines.push("", "| comparison | wins | ties | losses | win rate |", "| --- | ---: | ---: | ---: | ---: |", ...prefer);
  return lines.join("\n") + "\n";
}

/** The paper's Table 1 ToolAlpaca columns: process and final-answer correctness (Yes over instructions judged). */
function toolalpacaRows(runs: readonly ToolAlpacaRun[]): string[][] {
  return runs.map((r) => {
    const s = r.statistics && scoreOf(r.statistics);
    return [r.name, r.system, String(r.instances), r.statistics ? String(r.statistics.error_num) : "-", s ? pct(s.process) : "-", s ? pct(s.answer) : "-", s ? pct(s.both) : "-"];
  });
}

const TOOLALPACA_HEAD = ["run", "system", "instances", "without steps", "process correctness", "answer correctness", "both"];

function toolalpacaHtml(runs: readonly ToolAlpacaRun[]): string {
  const rows = toolalpacaRows(runs).map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("");
  return `<h1>ToolAlpaca (simulated APIs, ToolAlpaca's judge)</h1>
<table><thead><tr>${TOOLALPACA_HEAD.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>`;
}

function toolalpacaMarkdown(runs: readonly ToolAlpacaRun[]): string {
  const lines = ["# ToolAlpaca (simulated APIs, ToolAlpaca's judge)", "", `| ${TOOLALPACA_HEAD.join(" | ")} |`, `| --- | --- | ${TOOLALPACA_HEAD.slice(2).map(() => "---:").join(" | ")} |`];
  for (const r of toolalpacaRows(runs)) lines.push(`| ${r.map(mdCell).join(" | ")} |`);
  return lines.join("\n") + "\n";
}
