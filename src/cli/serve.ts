import { SUMMARIES } from "./summaries.js";
import type { Command } from "commander";
import { startServer } from "../server/index.js";
import { loadToolSources } from "../tools/sources.js";
import { UsageError } from "../errors.js";
import { approvePolicyOption } from "./approve.js";
import { userErrors } from "./options.js";

/** Serves until SIGINT or SIGTERM, then stops listening and closes its connections. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(SUMMARIES.serve)
    .requiredOption("--checkpoints <url>", "postgres://…[?schema=NAME]: threads and checkpoints, shared by every serve and worker process")
    .option("--port <n>", "port (0: any free port)", "2024")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--tools <sources...>", "tool sources (as for run)", ["demo"])
    .option("--approve [tools...]", "tool calls that wait for approval in every run (a client's configuration can add tools, never remove them)")
    .option("--client-settable <keys...>", "operator settings a client's run configuration may set (e.g. plannerModel); see docs/security.md")
    .action(async (o: { checkpoints: string; port: string; host: string; tools: string[]; approve?: true | string[]; clientSettable?: string[] }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0…65535, got "${o.port}"`);
      const toolSet = await userErrors(() => loadToolSources(o.tools));
      const tools = toolSet.tools;
      const server = await startServer({ checkpoints: o.checkpoints, tools, approve: approvePolicyOption(o.approve, tools.map((t) => t.doc.Name)), clientSettable: o.clientSettable, port, host: o.host });
      process.stdout.write(`alpha-umi serve: listening on ${server.url} (graphs alphaUmi, singleLlm)\n`);
      await new Promise<void>((res) => {
        process.once("SIGINT", res);
        process.once("SIGTERM", res);
      });
      await server.close();
      await toolSet.close();
    });
}
