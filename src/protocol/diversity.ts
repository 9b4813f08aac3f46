import { PyFloat, pyJsonDumpsIndent } from "./pyjson.js";

/** ToolBench's DFSDT diversity prompt (`Tree_search_prompts.py`), byte for byte. */
export const DIVERSITY_PROMPT =
  "This is not the first time you try this task, all previous trails failed.\n" +
  "Before you generate my thought for this state, I will first show you your previous actions for this state, and then you must generate actions that is different from all of them. Here are some previous actions candidates:\n" +
  "{previous_candidate}\n" +
  "Remember you are now in the intermediate state of a trail, you will first analyze the now state and previous action candidates, then make actions that is different from all the previous.";

/** One earlier child of a search node, as the diversity turn shows it. */
export interface DiversityCandidate {
  /** The action (tool name; `Finish` for a give-up). */
  name: string;
  /** The action input, as the caller wrote it (a string, as in ToolBench). */
  arguments: string;
  /** The child's observation. */
  functionOutput: string;
}

/**
 * The `user` turn DFSDT adds before expanding a search node that already has children: the previous candidates as
 * Python `json.dumps(candidates, indent=2)` (ASCII escapes, `"mento-carlo-action-value": 0.0`) and a newline, then,
 * when the node has an observation, `again, your former observation: OBS` and a newline.
 *
 * @example renderDiversityTurn([{ name: "a_for_b", arguments: "{}", functionOutput: "ok" }], "") // contains '"mento-carlo-action-value": 0.0'
 */
export function renderDiversityTurn(candidates: readonly DiversityCandidate[], formerObservation: string): string {
  const list = candidates.map((c) => ({
    name: c.name,
    arguments: c.arguments,
    function_output: c.functionOutput,
    "mento-carlo-action-value": new PyFloat(0),
  }));
  let previous = pyJsonDumpsIndent(list, 2) + "\n";
  if (formerObservation !== "") previous += `again, your former observation: ${formerObservation}\n`;
  return DIVERSITY_PROMPT.replace("{previous_candidate}", previous);
}

/** ToolBench's Finish call and its observation for a give-up, as an earlier candidate shows it. */
export const GIVE_UP_CANDIDATE: Omit<DiversityCandidate, never> = {
  name: "Finish",
  arguments: '{"return_type": "give_up_and_restart"}',
  functionOutput: '{"response":"chose to give up and restart"}',
};

/** Cut an observation as ToolBench's DFSDT does: the first `max` characters plus `...`. */
export function cutObservation(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + "...";
}
