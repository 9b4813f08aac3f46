/**
 * The crash policy, the same for every driver (run, eval, search, serve, worker, library): a call is settled — by the
 * caller when it needs no approval, else by the person's answer — in one step and run in the next, and the graph's
 * `durability: "sync"` puts the settled call on disk before it starts. Its run is then either the try that settled it,
 * in this process, or a resume of a thread whose earlier try may have been running when its process died or its run
 * was aborted. That earlier try may have taken effect: the call runs again only if its tool is idempotent; otherwise
 * its observation says so. (A process that dies after the checkpoint but before the call starts — a few milliseconds —
 * is counted as in flight too: never running a call twice costs that.)
 */
import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ToolSpec } from "../tools/spec.js";

/** Attempts settled by this process and not started yet. Bounded: one left by a run aborted between the two steps. */
const settled = new Set<string>();
const SETTLED_LIMIT = 10_000;

/** A new attempt to run a settled call, known to this process until it starts. */
export function newAttempt(): string {
  if (settled.size >= SETTLED_LIMIT) settled.delete(settled.values().next().value!);
  const id = randomUUID();
  settled.add(id);
  return id;
}

/** Whether this is the first start of the attempt in this process (true once); any later start is a resume. */
function startAttempt(attempt: string): boolean {
  return settled.delete(attempt);
}

/** The attempt stopped at an interrupt of its own tool, cleanly: its next start in this process is a first one again. */
export function suspendAttempt(attempt: string): void {
  settled.add(attempt);
}

/**
 * Whether the task is being resumed with an answer to an interrupt of its own (a tool that asked the user something,
 * in this process or another): it stopped cleanly then, so it runs again as LangGraph's interrupt() expects. Read from
 * LangGraph's per-task scratchpad, where interrupt() itself finds its resume values.
 */
function resumedAfterInterrupt(config: RunnableConfig): boolean {
  const pad = (config.configurable as Record<string, unknown> | undefined)?.__pregel_scratchpad as { resume?: unknown[]; nullResume?: unknown } | undefined;
  return (pad?.resume?.length ?? 0) > 0 || pad?.nullResume !== undefined;
}

/**
 * The observation of a settled call that may have been in flight and is not run again, or undefined when it runs:
 * this process's first start of it, a resume after its own interrupt, or a tool marked idempotent.
 *
 * @example const uncertain = inFlightObservation(config, attempt, tool); // undefined: run the call
 */
export function inFlightObservation(config: RunnableConfig, attempt: string, tool: ToolSpec | undefined): string | undefined {
  if (startAttempt(attempt) || resumedAfterInterrupt(config) || !tool || tool.idempotent) return undefined;
  return JSON.stringify({
    error: `${tool.doc.Name} was running when its run stopped (the process ended or the run was aborted); it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
    response: "",
  });
}
