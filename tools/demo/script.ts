import { DEMO_INSTRUCTION } from "./index.js";

/**
 * What the demo's models "say": written for this project and recorded into cassette.jsonl by record.ts, so the demo
 * runs the real graph, tool executor and checkpointer with no model installed.
 */
export const DEMO_SCRIPT = {
  instruction: DEMO_INSTRUCTION,
  planner: [
    "The user wants the capital of Japan and the value of 250 euros in yen. I will first look up Japan in the atlas.\n Next: caller.",
    "The atlas says the capital of Japan is Tokyo and its currency is JPY. Now I need the exchange rate from EUR to JPY.\n Next: caller.",
    "One euro buys 162.5 yen. I will multiply 250 by 162.5 to get the amount in yen.\n Next: caller.",
    "250 euros are 40625 yen, and the capital is Tokyo. I have everything I need to answer.\n Next: conclusion.",
  ],
  caller: [
    'Action: country_facts_for_atlas\nAction Input: {"country": "Japan"}',
    'Action: exchange_rate_for_fx\nAction Input: {"from": "EUR", "to": "JPY"}',
    'Action: calculate_for_calculator\nAction Input: {"expression": "250 * 162.5"}',
  ],
  summarizer: ["The capital of Japan is Tokyo. At the bundled rate of 162.5 yen per euro, 250 euros buy 40,625 Japanese yen."],
  backbone: [
    'I will first look up Japan in the atlas.\nAction: country_facts_for_atlas\nAction Input: {"country": "Japan"}',
    'The capital is Tokyo and the currency JPY. Now the EUR to JPY rate.\nAction: exchange_rate_for_fx\nAction Input: {"from": "EUR", "to": "JPY"}',
    'One euro buys 162.5 yen; multiply by 250.\nAction: calculate_for_calculator\nAction Input: {"expression": "250 * 162.5"}',
    "I have everything I need.\nconclusion: The capital of Japan is Tokyo, and 250 euros buy 40,625 Japanese yen at the bundled rate.",
  ],
};
