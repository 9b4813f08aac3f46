/**
 * Scripted scenarios for apps' own tests (`alpha-umi/testing`): role models that answer from a script and record every
 * prompt, and the helpers that write their replies in the protocol's format. The graph under test is the real one.
 *
 * @example
 * import { createAlphaUmiGraph } from "alpha-umi";
 * import { scriptedRoles, plan, call, turnRoles } from "alpha-umi/testing";
 *
 * const models = scriptedRoles({
 *   planner: [plan("Check the weather.", "caller"), plan("Warm enough.", "conclusion")],
 *   caller: [call("current_weather_for_meteo", { city: "Lisbon" })],
 *   summarizer: ["Yes, 21 °C."],
 * });
 * const state = await createAlphaUmiGraph({ tools: [weather], models }).invoke({ instruction: "Is it warm in Lisbon?" }, { configurable: { thread_id: "s" } });
 * expect(turnRoles(state)).toEqual(["user", "assistant", "caller", "observation", "assistant", "conclusion"]);
 * expect(models.caller.prompts[0]).toContain("Is it warm in Lisbon?");
 */
import { formatCall, withDecision } from "./protocol/parse.js";
import type { Decision, Turn } from "./state.js";

export { ScriptedModel, scriptedRoles, type ScriptStep, type ScriptedRoles } from "./models/scripted.js";

/**
 * A planner (or backbone) reply: the rationale, then the decision line the planner ends with.
 *
 * @example plan("Look up Japan.", "caller") // "Look up Japan.\n Next: caller."
 */
export const plan = (rationale: string, next: Decision): string => withDecision(`${rationale}\n`, next);

/**
 * A caller reply: the tool to call and its input (an object is written as JSON; a string is written as given, so a
 * test can script malformed input).
 *
 * @example call("country_facts_for_atlas", { country: "Japan" }) // 'Action: country_facts_for_atlas\nAction Input: {"country":"Japan"}'
 */
export const call = (name: string, input: unknown): string => formatCall(name, typeof input === "string" ? input : JSON.stringify(input));

/**
 * Who wrote each turn of τ, in order: the shape of a run.
 *
 * @example turnRoles(state) // ["user", "assistant", "caller", "observation", "assistant", "conclusion"]
 */
export const turnRoles = (state: { turns: readonly Turn[] }): Turn["from"][] => state.turns.map((t) => t.from);
