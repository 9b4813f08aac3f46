export * from "./spec.js";
export * from "./executor.js";
export * from "./adapters.js";
export * from "./sources.js";
