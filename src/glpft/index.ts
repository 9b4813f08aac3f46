/** GLPFT training data: ToolBench answers → stage 1 → stage 2 (τ) → the backbone, planner, caller and summarizer sets. */
export * from "./records.js";
export { readToolBench, answerToStage1 } from "./stage1.js";
export { readStage1AsConversations, toConversation } from "./stage2.js";
export { DATASETS, glpftRecords, type Dataset } from "./roles.js";
export * from "./datasets.js";
export { exportCheckpoints, type ExportOptions, type ExportResult } from "./export.js";
export { SkipLog, writeJsonArray, pyJsonIndent } from "./io.js";
