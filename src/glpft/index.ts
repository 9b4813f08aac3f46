/** GLPFT training data (`alpha-umi/glpft`): ToolBench answers → stage 1 → stage 2 (τ) → the backbone, planner, caller and summarizer sets. */
export type { Stage1Record, Stage2Record, ChainMessage, RoleRecord } from "./records.js";
export { readToolBench } from "./stage1.js";
export { readStage1AsConversations } from "./stage2.js";
export { DATASETS, glpftRecords, type Dataset } from "./roles.js";
export { writeGlpft, readStage2File, type GlpftOptions, type GlpftSummary, type OutputFormat, type WrittenFile } from "./datasets.js";
export { exportCheckpoints, type ExportOptions, type ExportResult } from "./export.js";
export { SkipLog } from "./io.js";
