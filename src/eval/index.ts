/**
 * The paper's evaluations as a library (`alpha-umi/eval`): step-level scoring (Table 1), episodes, judged real-time
 * evaluation (Table 2), ToolAlpaca (simulated APIs, its judge) and the math agent.
 *
 * @example
 * import { scoreRecords } from "alpha-umi/eval";
 * const { metrics } = scoreRecords(records); // plan_em, action_em, hallu_rate, easy_f1, hard_f1, f1, rouge
 */
export type { ToolBenchDialog } from "../toolbenchDialogs.js";
export { scoreRecords, type MetricKey, type Metrics, type ScoreRecord, type ScoreResult } from "./score.js";
export { evalSteps, type EvalStepsOptions, type EvalStepsResult } from "./evaluate.js";
export { evalEpisodes, type EvalEpisodesOptions, type EvalEpisodesResult, type EpisodeRunOptions } from "./episodes.js";
export type { EpisodeRow, EpisodeStatus } from "./episodeMetrics.js";
export { evalRealtime, type AnswerFile, type RealtimeOptions, type RealtimeQuery, type RealtimeResult } from "./realtime.js";
export { evalPass, evalPrefer, type JudgeOptions, type PassResult, type PreferResult } from "./judge.js";
export { evalMath, type EvalMathOptions, type EvalMathResult, type MathItem, type MathRow } from "./math.js";
export {
  evalToolAlpaca,
  judgeToolAlpaca,
  type EvalToolAlpacaOptions,
  type EvalToolAlpacaResult,
  type ToolAlpacaInstance,
  type ToolAlpacaScore,
  type ToolAlpacaStatistics,
  type JudgeToolAlpacaOptions,
} from "./toolalpaca.js";
