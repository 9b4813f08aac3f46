/**
 * `eval report`: runs side by side as one static offline HTML file (inline CSS and SVG, no scripts or network) plus
 * Markdown: every metric in a table, a bar chart per metric, and the failing steps with their prompt and output.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readScoreRecords } from "./records.js";
import { METRIC_LABELS } from "./format.js";
import { METRIC_KEYS, scoreRecords, type MetricKey, type ScoreRecord, type ScoreResult, type StepDetail } from "./score.js";

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
  if (!existsSync(file)) throw new Error(`${dir}: no predictions.json (write one with alpha-umi eval steps --out ${dir})`);
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

function barChart(metric: MetricKey, runs: readonly ReportRun[]): string {
  const barW = 46;
  const gap = 14;
  const h = 140;
  const top = 22;
  const w = Math.max(180, runs.length * (barW + gap) + gap);
  const bars = runs
    .map((r, i) => {
      const v = r.score.metrics[metric];
      const bh = Math.max(0, Math.min(1, v)) * h;
      const x = gap + i * (barW + gap);
      return (
        `<rect class="bar" x="${x}" y="${top + h - bh}" width="${barW}" height="${bh}" fill="${COLORS[i % COLORS.length]}"><title>${esc(r.name)}: ${pct(v)}%</title></rect>` +
        `<text x="${x + barW / 2}" y="${top + h - bh - 4}" text-anchor="middle">${pct(v)}</text>` +
        `<text x="${x + barW / 2}" y="${top + h + 14}" text-anchor="middle">${esc(r.name.slice(0, 8))}</text>`
      );
    })
    .join("");
  return (
    `<figure><svg role="img" aria-label="${esc(METRIC_LABELS[metric])}" width="${w}" height="${top + h + 22}" viewBox="0 0 ${w} ${top + h + 22}">` +
    `<line x1="0" y1="${top + h}" x2="${w}" y2="${top + h}" stroke="#999"/>${bars}</svg>` +
    `<figcaption>${esc(METRIC_LABELS[metric])} (%)</figcaption></figure>`
  );
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

export function renderHtml(runs: readonly ReportRun[]): string {
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
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>alpha-umi eval report</title><style>${CSS}</style></head><body>
<h1>Step-level evaluation</h1><p class="legend">${legend}</p>
<table><thead>${head}</thead><tbody>${rows}${counts}</tbody></table>
<h2>Metrics</h2><div class="charts">${METRIC_KEYS.map((k) => barChart(k, runs)).join("")}</div>
${failures}</body></html>
`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderMarkdown(runs: readonly ReportRun[]): string {
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
  return lines.join("\n");
}
