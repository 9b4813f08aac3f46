import type { Command } from "commander";
import { startWorker } from "../worker/index.js";
import { positiveInt } from "./options.js";

/** Works until SIGINT or SIGTERM, then finishes the jobs in hand and stops (SIGKILL: another worker takes them over). */
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("take run and episode jobs from the queue (BullMQ on Redis); threads checkpointed in Postgres")
    .requiredOption("--queue <url>", "redis://host[:port][/db][?prefix=NAME]")
    .requiredOption("--checkpoints <url>", "postgres://…[?schema=NAME], shared by every worker and server")
    .option("--concurrency <n>", "jobs at once in this process", positiveInt("--concurrency"), 16)
    .option("--lock-duration-ms <n>", "a dead worker's job is taken over after this long", positiveInt("--lock-duration-ms"))
    .option("--stalled-interval-ms <n>", "how often to look for jobs of dead workers", positiveInt("--stalled-interval-ms"))
    .option("--tools <sources...>", "the tool sources jobs may name (as for run); a job naming another fails unrun", ["demo"])
    .option("--models <specs...>", "the role model specs jobs may name (as --planner etc. take them); default: the demo's replay")
    .option("--data <files...>", "the data files episode jobs may read (as eval episodes --data)")
    .action(async (o: { queue: string; checkpoints: string; concurrency: number; lockDurationMs?: number; stalledIntervalMs?: number; tools: string[]; models?: string[]; data?: string[] }) => {
      const { tools, models, data, ...rest } = o;
      const worker = await startWorker({ ...rest, allow: { tools, models, data } });
      process.stdout.write(`alpha-umi worker: ready (pid ${process.pid}, concurrency ${o.concurrency})\n`);
      await new Promise<void>((res) => {
        process.once("SIGINT", res);
        process.once("SIGTERM", res);
      });
      await worker.close();
    });
}
