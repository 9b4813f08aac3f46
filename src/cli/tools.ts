import { SUMMARIES } from "./summaries.js";
import type { Command } from "commander";
import { UserError } from "../errors.js";
import { renderToolDocs } from "../protocol/index.js";
import { settingDefault } from "../settings.js";
import { executeCall } from "../tools/executor.js";
import { loadToolSources } from "../tools/sources.js";
import { toolDocs } from "../tools/spec.js";
import { missPolicy, positiveInt, userErrors } from "./options.js";

const out = (line: string) => process.stdout.write(line + "\n");

/**
 * `alpha-umi tools list|call`: a tool source tried without any model — the documents the prompts carry, and a call's
 * observation as the tool node would write it to τ (the same executor, timeout, cut and error observations).
 */
export function registerTools(program: Command): void {
  const tools = program.command("tools").description(SUMMARIES.tools);

  tools
    .command("list")
    .description("print the tool documents of SOURCE(s) as the prompts render them, one per line")
    .argument("<sources...>", "tool sources, as for run --tools")
    .action(async (sources: string[]) => {
      const set = await userErrors(() => loadToolSources(sources));
      try {
        process.stdout.write(renderToolDocs(toolDocs(set.tools)));
      } finally {
        await set.close();
      }
    });

  tools
    .command("call")
    .description("call tool NAME of SOURCE with JSON-ARGS and print the observation as it would enter τ (exit 1 when the call failed)")
    .argument("<source>", "a tool source, as for run --tools")
    .argument("<name>", "the tool's name (see tools list)")
    .argument("[args]", "the Action Input: a JSON object", "{}")
    .option("--miss <policy>", "a toolbench: or toolenv: call with no recorded or cached answer: error, or simulate:SPEC", "error")
    .option("--cache <dir>", "simulated API answers are cached here")
    .option("--tool-timeout-ms <n>", `per-call tool timeout (default ${settingDefault("toolTimeoutMs")})`, positiveInt("--tool-timeout-ms"))
    .option("--max-observation-chars <n>", `observations are cut to this many characters (default ${settingDefault("maxObservationChars")})`, positiveInt("--max-observation-chars"))
    .action(async (source: string, name: string, args: string, o: { miss: string; cache?: string; toolTimeoutMs?: number; maxObservationChars?: number }) => {
      // The user's own mistakes are one line; what the agent would see (bad arguments for the schema, a tool error, a
      // timeout) is the observation, printed as τ would hold it.
      let parsed: unknown;
      try {
        parsed = JSON.parse(args);
      } catch (e) {
        throw new UserError(`tools call ${name}: ARGS is not JSON (${(e as Error).message}); give a JSON object, e.g. '{"country": "Japan"}'`);
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new UserError(`tools call ${name}: ARGS must be a JSON object, got ${args}`);
      const set = await userErrors(() => loadToolSources([source], { miss: missPolicy(o.miss, o.cache) }));
      try {
        const names = set.tools.map((t) => t.doc.Name);
        if (!names.includes(name)) throw new UserError(`tools call: ${source} has no tool "${name}" (it has: ${names.join(", ")})`);
        const result = await executeCall(set.tools, name, args, {
          timeoutMs: o.toolTimeoutMs ?? settingDefault("toolTimeoutMs")!,
          maxObservationChars: o.maxObservationChars ?? settingDefault("maxObservationChars")!,
        });
        out(result.observation);
        if (!result.ok) {
          process.stderr.write(`alpha-umi: the call failed (${result.error}): the observation above is what the planner would read\n`);
          process.exitCode = 1;
        }
      } finally {
        await set.close();
      }
    });
}
