import type { RunnableConfig } from "@langchain/core/runnables";
import type { AgentStateType } from "../state.js";
import type { ToolSpec } from "../tools/spec.js";

/**
 * Set by a worker that takes over a job another worker started (BullMQ found it stalled): the index in τ of the caller
 * turn whose call may have been running when that worker died. Its checkpoint was written, its observation was not.
 */
export const IN_FLIGHT_CALL = "inFlightCall";

/** The configurable for a retried job: which call may have been in flight, if τ ends with one. */
export function inFlightConfigurable(state: Partial<AgentStateType>, attemptsStarted: number): Record<string, number> {
  const turns = state.turns ?? [];
  if (attemptsStarted <= 1 || turns[turns.length - 1]?.from !== "caller") return {};
  return { [IN_FLIGHT_CALL]: turns.length - 1 };
}

/**
 * At-least-once delivery, kept safe: the in-flight call of a taken-over thread runs again only if its tool is marked
 * `idempotent`; otherwise it is not repeated and its observation (returned here) says it may or may not have run.
 */
export function callInFlightAtCrash(config: RunnableConfig, at: number, tool: ToolSpec): string | undefined {
  if (tool.idempotent || (config.configurable as Record<string, unknown> | undefined)?.[IN_FLIGHT_CALL] !== at) return undefined;
  return JSON.stringify({
    error: `${tool.doc.Name} was running when the worker stopped; it is not marked idempotent, so it was not run again: it may or may not have taken effect`,
    response: "",
  });
}
