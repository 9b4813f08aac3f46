/**
 * One line per top-level command. Kept apart from the commands' code so that `alpha-umi --help` lists them without
 * loading any of it (see commands.ts).
 */
export const SUMMARIES = {
  run: "run the agent on an instruction (or resume a thread), streaming each step",
  demo: "the offline demo: real graph, tools and SQLite checkpoint, with REPLAYED models (no LLM needed)",
  eval: "the paper's step-level evaluation, reports and episode runs",
  data: "GLPFT training data: ToolBench answers and recorded runs → backbone, planner, caller, summarizer sets",
  tools: "try tool sources without a model: the documents the prompts carry, and a call's observation as τ holds it",
  models: "set up and check the role models (Ollama, llama.cpp GGUF files)",
  serve: "serve the graphs over the LangGraph API (the official SDK and useStream work unchanged), state in Postgres",
  worker: "take run and episode jobs from the queue (BullMQ on Redis); threads checkpointed in Postgres",
} as const;

export type CommandName = keyof typeof SUMMARIES;
