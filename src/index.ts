/**
 * alpha-umi as a library — what an app needs to embed the α-UMi agent: the graphs, the run driver, tools and their
 * sources, checkpointers, and LangGraph's `Command` for resuming an interrupted run. Importing it loads LangGraph and
 * alpha-umi's engine only; MCP, OpenAPI, pyodide, mathjs, Postgres and BullMQ load when a run uses them.
 *
 * The rest lives under subpaths: `alpha-umi/testing` (scripted models for jest/vitest scenarios), `alpha-umi/models`
 * (role models, codecs, cassettes, llama.cpp), `alpha-umi/tools` (tool adapters, executor, MCP/OpenAPI/LangChain/Python
 * sources, ToolBench replay), `alpha-umi/protocol` (the text protocol), `alpha-umi/nodes` (graph nodes and routes),
 * `alpha-umi/search` (DFSDT), `alpha-umi/eval` (the paper's evaluations) and `alpha-umi/glpft` (training data).
 *
 * @example
 * import { createAlphaUmiGraph, defineTool } from "alpha-umi";
 * import { z } from "zod";
 *
 * const weather = defineTool({ name: "current_weather_for_meteo", description: "Current weather for a city.",
 *   schema: z.object({ city: z.string() }), run: async ({ city }) => ({ city, tempC: 21 }) });
 * const graph = createAlphaUmiGraph({ tools: [weather], models: { planner: "ollama:alpha-umi-planner",
 *   caller: "ollama:alpha-umi-caller", summarizer: "ollama:alpha-umi-summarizer" } });
 * const state = await graph.invoke({ instruction: "Is it warm in Lisbon?" }, { configurable: { thread_id: "t1" } });
 */
export { createAlphaUmiGraph, createSingleLlmGraph, type GraphOptions, type AlphaUmiGraph } from "./graph.js";
export { runAgent, type RunOptions, type RunEvent, type RunResult } from "./runAgent.js";
export { AgentState, type AgentStateType, type AgentUpdate, type Turn, type TurnRole, type RunStatus, type Decision, type ToolDoc } from "./state.js";
export type { AgentConfiguration } from "./configurable.js";
export type { CodecSettings } from "./codec/index.js";
export type { Role, RoleModel } from "./models/generate.js";
export { defineTool, fromLangChainTool } from "./tools/adapters.js";
export type { ToolSpec, ToolSet } from "./tools/spec.js";
export { loadToolSources, type ToolSourceOptions } from "./tools/sources.js";
// The demo pack's tools for apps and the README (the entry is the package's surface; the engine finds packs by name).
export { demoTools, DEMO_INSTRUCTION } from "../tools/demo/index.js";
export { checkpointerFrom, closeCheckpointer, storedState } from "./checkpoint/checkpointers.js";
export { pendingInterrupt, type ApprovePolicy, type ApprovalRequest, type ApprovalAnswer, type ReviewDecision } from "./approval.js";
export { AlphaUmiError, UserError, ERROR_CODES, type ErrorCode } from "./errors.js";
// LangGraph's resume and interrupt vocabulary, so an app resumes a run without importing LangGraph itself.
/**
 * @example
 * const graph = createAlphaUmiGraph({ tools: demoTools(), checkpointer: new MemorySaver() }); // threads live in memory
 * const state = await graph.invoke(new Command({ resume: answer }), config); // answer a pending interrupt()
 */
export { Command, isInterrupted, MemorySaver, type Interrupt } from "@langchain/langgraph";
