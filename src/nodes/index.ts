export { intakeNode } from "./intake.js";
export { plannerNode } from "./planner.js";
export { callerNode } from "./caller.js";
export { toolsNode } from "./tools.js";
export { summarizerNode } from "./summarizer.js";
export { backboneNode } from "./backbone.js";
export * from "./routes.js";
