import { parseCaller } from "../protocol/index.js";
import type { ToolDoc } from "../state.js";
import type { ToolBenchDialog } from "../toolbench.js";
import type { ToolSpec } from "./spec.js";

/** Canonical form of call arguments: equal JSON values give equal keys whatever their key order or spacing. */
export function canonicalArgs(input: string): string {
  try {
    return canonical(JSON.parse(input));
  } catch {
    return input.trim();
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object")
    return (
      "{" +
      Object.keys(v)
        .sort()
        .map((k) => JSON.stringify(k) + ":" + canonical((v as Record<string, unknown>)[k]))
        .join(",") +
      "}"
    );
  return JSON.stringify(v);
}

/**
 * The ToolBench replay pack (StableToolBench's cache idea): a call is answered with the observation recorded in the
 * file for the same tool name and equal JSON arguments; anything else is a clear "no recorded response" error.
 * With `inOrder` (one dialog's episode replay), a call recorded several times gets its observations in recorded order,
 * then the last again, as the dialog saw them (e.g. a timeout, then a quota error); otherwise always the first.
 */
export function toolbenchReplayTools(dialogs: readonly ToolBenchDialog[], source = "ToolBench file", opts: { inOrder?: boolean } = {}): ToolSpec[] {
  const responses = new Map<string, string[]>();
  const served = new Map<string, number>();
  const docs = new Map<string, ToolDoc>();
  for (const d of dialogs) {
    for (const t of d.tools) if (!docs.has(t.Name)) docs.set(t.Name, t);
    d.conversations.forEach((turn, i) => {
      const next = d.conversations[i + 1];
      if (turn.from !== "caller" || next?.from !== "observation") return;
      const { action, actionInput } = parseCaller(turn.value);
      const key = action + "\u0000" + canonicalArgs(actionInput);
      responses.set(key, [...(responses.get(key) ?? []), next.value]);
    });
  }
  return [...docs.values()].map((doc) => ({
    doc,
    run: (args: Record<string, unknown>) => {
      const key = doc.Name + "\u0000" + canonical(args);
      const hits = responses.get(key);
      if (hits === undefined) throw new Error(`no recorded response in ${source} for ${doc.Name} with arguments ${JSON.stringify(args)}`);
      const n = opts.inOrder ? (served.get(key) ?? 0) : 0;
      served.set(key, n + 1);
      return hits[Math.min(n, hits.length - 1)]!;
    },
  }));
}
