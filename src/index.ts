/** alpha-umi as a library: embed the α-UMi graph in an app, test it with scripted models, score and build training data. */
export { createAlphaUmiGraph, createSingleLlmGraph, type GraphOptions, type AlphaUmiGraph } from "./graph.js";
export { AgentState, ToolDocSchema, TurnSchema, type AgentStateType, type AgentUpdate, type ToolDoc, type Turn, type RunStatus, type Decision } from "./state.js";
export { ConfigurationSchema, ensureConfiguration, DEFAULTS, type AgentConfiguration } from "./configuration.js";
export { runAgent, type RunOptions, type RunEvent, type RunResult } from "./run.js";
export { checkpointerFrom, DEFAULT_CHECKPOINTS } from "./checkpoint.js";
export * from "./nodes/index.js";
export * from "./models/index.js";
export * from "./tools/index.js";
export * as protocol from "./protocol/index.js";
export { demoTools, DEMO_INSTRUCTION } from "../tools/demo/index.js";
export { toolbenchReplayTools } from "./tools/toolbench.js";
export { readToolBenchFile, ToolBenchDialogSchema, type ToolBenchDialog } from "./toolbench.js";
export { scoreRecords, METRIC_KEYS, type Metrics, type ScoreRecord, type ScoreResult } from "./eval/score.js";
export { evalSteps, type EvalStepsOptions, type EvalStepsResult } from "./eval/evaluate.js";
export { evalEpisodes } from "./eval/episodes.js";
export * as glpft from "./glpft/index.js";
