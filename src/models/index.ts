export * from "./generate.js";
export * from "./cassette.js";
export * from "./replay.js";
export * from "./scripted.js";
export * from "./ollama.js";
export * from "./spec.js";
export * from "./gguf.js";
export * from "./llama.js";
