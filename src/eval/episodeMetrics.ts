/** Aggregates of `eval episodes`: outcome rates, steps and model calls per episode, tokens and latency per role. */
import type { Role } from "../models/index.js";
import type { Turn } from "../state.js";
import type { Usage } from "./usage.js";

export type EpisodeStatus = "finished" | "gave_up" | "failed";

export interface EpisodeRow {
  /** The dialog's index in the test set (the resume key). */
  index: number;
  status: EpisodeStatus;
  /** Why it gave up or failed (step budget, the planner's give up, a model error…); null when it finished. */
  reason: string | null;
  /** Planner (or backbone) steps taken. */
  steps: number;
  /** Model calls, tokens and latency per role. */
  roles: Usage;
  /** Wall time of the whole episode, tools included. */
  ms: number;
  /** Prompts whose oldest turns were elided to fit the model's context window. */
  elided: number;
  answer: string | null;
  turns: Turn[];
}

export interface RoleMetrics {
  calls: number;
  calls_per_episode: number;
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_per_call: number;
  completion_tokens_per_call: number;
  ms_per_call: number;
}

export interface EpisodeMetrics {
  episodes: number;
  finished: number;
  gave_up: number;
  failed: number;
  finish_rate: number;
  give_up_rate: number;
  failure_rate: number;
  mean_steps: number;
  mean_model_calls: number;
  mean_ms: number;
  roles: Partial<Record<Role, RoleMetrics>>;
}

/** a / b, and 0 when there is nothing to divide (no episodes, or a role never called). */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);

export function episodeMetrics(rows: readonly EpisodeRow[], roles: readonly Role[]): EpisodeMetrics {
  const n = rows.length;
  const count = (status: EpisodeRow["status"]) => rows.filter((r) => r.status === status).length;
  const calls = (r: EpisodeRow) => sum(Object.values(r.roles).map((u) => u.calls));
  const perRole: Partial<Record<Role, RoleMetrics>> = {};
  for (const role of roles) {
    const total = (k: "calls" | "prompt_tokens" | "completion_tokens" | "ms") => sum(rows.map((r) => r.roles[role]?.[k] ?? 0));
    const c = total("calls");
    perRole[role] = {
      calls: c,
      calls_per_episode: ratio(c, n),
      prompt_tokens: total("prompt_tokens"),
      completion_tokens: total("completion_tokens"),
      prompt_tokens_per_call: ratio(total("prompt_tokens"), c),
      completion_tokens_per_call: ratio(total("completion_tokens"), c),
      ms_per_call: ratio(total("ms"), c),
    };
  }
  const [finished, gaveUp, failed] = [count("finished"), count("gave_up"), count("failed")];
  return {
    episodes: n,
    finished,
    gave_up: gaveUp,
    failed,
    finish_rate: ratio(finished, n),
    give_up_rate: ratio(gaveUp, n),
    failure_rate: ratio(failed, n),
    mean_steps: ratio(sum(rows.map((r) => r.steps)), n),
    mean_model_calls: ratio(sum(rows.map(calls)), n),
    mean_ms: ratio(sum(rows.map((r) => r.ms)), n),
    roles: perRole,
  };
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** The terminal summary: outcomes, then per-role usage. */
export function episodesReport(m: EpisodeMetrics): string {
  const pct = (x: number) => (100 * x).toFixed(1) + "%";
  const outcomes = table(
    ["outcome", "episodes", "rate"],
    [
      ["finished", String(m.finished), pct(m.finish_rate)],
      ["gave up", String(m.gave_up), pct(m.give_up_rate)],
      ["failed", String(m.failed), pct(m.failure_rate)],
    ],
  );
  const roles = table(
    ["role", "calls/episode", "prompt tok/call", "output tok/call", "ms/call"],
    Object.entries(m.roles).map(([role, r]) => [
      role,
      r.calls_per_episode.toFixed(2),
      r.prompt_tokens_per_call.toFixed(1),
      r.completion_tokens_per_call.toFixed(1),
      r.ms_per_call.toFixed(1),
    ]),
  );
  return [
    ...outcomes,
    "",
    `${m.episodes} episodes: ${m.mean_steps.toFixed(2)} steps and ${m.mean_model_calls.toFixed(2)} model calls per episode, ${(m.mean_ms / 1000).toFixed(2)} s each`,
    "",
    ...roles,
  ].join("\n");
}
