/** The α-UMi text protocol: the only module that builds prompt text or reads model text. */
export * from "./pyjson.js";
export * from "./templates.js";
export * from "./render.js";
export * from "./parse.js";
export * from "./pystr.js";
export * from "./pyjson-loads.js";
export * from "./step.js";
export * from "./instruct.js";
export * from "./budget.js";
export * from "./diversity.js";
export * from "./realtime.js";
export * from "./math.js";
export * from "./pyrepr.js";
export * from "./toolalpaca.js";
