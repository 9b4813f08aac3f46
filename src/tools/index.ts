/**
 * Tools (`alpha-umi/tools`): a tool is a `ToolSpec` (its ToolBench document, a zod schema, `run`); adapters make one
 * from a zod schema, a LangChain tool or JSON-schema tools; sources open MCP servers, OpenAPI services, LangChain
 * modules, the Python sandbox and ToolBench tool environments; the executor runs a caller's call against them.
 */
export { defineTool, fromLangChainTool } from "./adapters.js";
export type { ToolSpec, ToolSet } from "./spec.js";
export { fromJsonSchemaTools, type JsonSchema, type JsonSchemaTool } from "./schema.js";
export { executeCall, type ExecutorOptions, type ToolCallResult } from "./executor.js";
export { loadToolSources, type ToolSourceOptions } from "./sources.js";
export { openMcpTools, type McpConfig, type McpServerConfig, type McpToolFilter, type McpRestart } from "./mcp.js";
export { openOpenApiTools, type OpenApiConfig } from "./openapi.js";
export { openLangChainTools } from "./langchain.js";
export { openPythonTool, type PythonSandboxOptions } from "./python.js";
export { openToolEnvTools, type ToolEnvBackend } from "./toolenv.js";
