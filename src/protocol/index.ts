/** The α-UMi text protocol: the only module that builds prompt text or reads model text. */
export * from "./pyjson.js";
export * from "./templates.js";
export * from "./render.js";
export * from "./parse.js";
