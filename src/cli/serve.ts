import { SUMMARIES } from "./summaries.js";
import type { Command } from "commander";
import { startServer } from "../server/index.js";
import { readServeConfig } from "../server/config.js";
import { DEFAULT_BODY_LIMIT, isLoopback } from "../server/http.js";
import { loadToolSources } from "../tools/sources.js";
import { UsageError } from "../errors.js";
import { approvePolicyOption } from "./approve.js";
import { userErrors } from "./options.js";

/** After SIGINT or SIGTERM, what is still open after this long is cut and the process exits (runs resume from checkpoints). */
const EXIT_DEADLINE_MS = 10_000;

/** Serves until SIGINT or SIGTERM, then stops listening and closes its connections. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(SUMMARIES.serve)
    .requiredOption("--checkpoints <url>", "postgres://…[?schema=NAME]: threads and checkpoints, shared by every serve and worker process")
    .option("--queue <url>", "redis://…[?prefix=NAME]: the runs' queue, event streams and cancellations, shared by every serve process", "redis://127.0.0.1:6379")
    .option("--webhook-hosts <hosts...>", "hosts (name or name:port) a run's webhook may name; the server POSTs finished runs there (docs/security.md)")
    .option("--port <n>", "port (0: any free port)", "2024")
    .option("--host <host>", "interface to listen on (beyond loopback only with auth.path in langgraph.json)", "127.0.0.1")
    .option("--config <file>", "langgraph.json with auth.path and http.cors (default: the working folder's, when there is one)")
    .option("--body-limit <bytes>", "largest request body; larger ones are refused (413)", String(DEFAULT_BODY_LIMIT))
    .option("--allow-unauthenticated", "listen beyond loopback without auth: anyone who reaches the port reads, runs and deletes every thread")
    .option("--tools <sources...>", "tool sources (as for run)", ["demo"])
    .option("--approve [tools...]", "tool calls that wait for approval in every run (a client's configuration can add tools, never remove them)")
    .option("--client-settable <keys...>", "operator settings a client's run configuration may set (e.g. plannerModel); see docs/security.md")
    .action(
      async (o: {
        checkpoints: string;
        queue: string;
        webhookHosts?: string[];
        port: string;
        host: string;
        config?: string;
        bodyLimit: string;
        allowUnauthenticated?: true;
        tools: string[];
        approve?: true | string[];
        clientSettable?: string[];
      }) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0…65535, got "${o.port}"`);
        const bodyLimit = Number(o.bodyLimit);
        if (!Number.isInteger(bodyLimit) || bodyLimit < 1) throw new UsageError(`--body-limit: expected a number of bytes ≥ 1, got "${o.bodyLimit}"`);
        const config = readServeConfig(o.config);
        const allowUnauthenticated = o.allowUnauthenticated === true && !config.auth && !isLoopback(o.host);
        const toolSet = await userErrors(() => loadToolSources(o.tools));
        const tools = toolSet.tools;
        const server = await startServer({
          checkpoints: o.checkpoints,
          queue: o.queue,
          webhookHosts: o.webhookHosts,
          tools,
          approve: approvePolicyOption(o.approve, tools.map((t) => t.doc.Name)),
          clientSettable: o.clientSettable,
          port,
          host: o.host,
          config,
          bodyLimit,
          allowUnauthenticated,
        }).catch(async (e: unknown) => {
          await toolSet.close();
          throw e;
        });
        for (const key of config.ignored ?? []) process.stderr.write(`alpha-umi serve: warning: ${config.file}: ${key} is not applied by serve\n`);
        if (allowUnauthenticated)
          process.stderr.write(`alpha-umi serve: warning: listening on ${o.host} without auth (--allow-unauthenticated): anyone who reaches the port reads, runs and deletes every thread\n`);
        process.stdout.write(`alpha-umi serve: listening on ${server.url} (graphs alphaUmi, singleLlm, dfsdt)${config.auth ? `, auth ${config.auth.path}` : ""}\n`);
        await new Promise<void>((res) => {
          process.once("SIGINT", res);
          process.once("SIGTERM", res);
        });
        setTimeout(() => {
          process.stderr.write(`alpha-umi serve: still closing after ${EXIT_DEADLINE_MS / 1000} s; exiting\n`);
          process.exit(1);
        }, EXIT_DEADLINE_MS).unref();
        await server.close();
        await toolSet.close();
      },
    );
}
