import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The demo tools as a `module:` tool source written into `dir`, each call logged with its arguments (`NAME {json}`), so
 * that a test across processes (serve, worker) can see which calls ran.
 */
export function loggedDemoTools(dir: string): { source: string; ran: () => string[] } {
  const log = join(dir, "calls.log");
  const path = join(dir, "tools.ts");
  writeFileSync(
    path,
    `import { appendFileSync } from "node:fs";
import { demoTools } from ${JSON.stringify(resolve("tools/demo/index.ts"))};
export const tools = demoTools().map((t) => ({ ...t, run: (args: Record<string, unknown>, ctx: { signal: AbortSignal }) => {
  appendFileSync(${JSON.stringify(log)}, t.doc.Name + " " + JSON.stringify(args) + "\\n");
  return t.run(args, ctx);
} }));
`,
  );
  return { source: `module:${path}`, ran: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []) };
}
