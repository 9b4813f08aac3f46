/** Plain-text rendering of metrics for terminals. */
import { METRIC_KEYS, type Metrics, type ScoreResult } from "./score.js";

export const METRIC_LABELS: Record<(typeof METRIC_KEYS)[number], string> = {
  plan_em: "Plan ACC",
  action_em: "Act. EM",
  hallu_rate: "Hallu.",
  easy_f1: "Arg. F1 (easy)",
  hard_f1: "Arg. F1 (hard)",
  f1: "Arg. F1",
  rouge: "Rouge-L",
};

export function metricsTable(metrics: Metrics): string {
  const rows = METRIC_KEYS.map((k) => [METRIC_LABELS[k], k, (metrics[k] * 100).toFixed(2), metrics[k].toFixed(6)]);
  const header = ["metric", "key", "%", "value"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The table, the counts behind it and one line per warning. */
export function scoreReport(result: ScoreResult): string {
  const c = result.counts;
  const lines = [
    metricsTable(result.metrics),
    "",
    `${c.steps} steps: ${c.calls} calls, ${c.finishes} conclusions, ${c.giveUps} give-ups; argument F1 over ${c.f1} (easy ${c.easy}, hard ${c.hard})`,
  ];
  for (const w of result.warnings) lines.push(`warning: ${w.message} (${w.count}×${w.records.length ? `, records ${w.records.slice(0, 10).join(", ")}${w.records.length > 10 ? ", …" : ""}` : ""})`);
  return lines.join("\n");
}
