import { SUMMARIES } from "./summaries.js";
import type { Command } from "commander";
import { checkModels, createLoraRoleModels, createRoleModels, SETUP_ROLES, type CheckTarget, type SetupRole } from "../models/modelfiles.js";
import { ollamaHost } from "../models/ollama.js";
import { parseModelSpec } from "../models/spec.js";
import { DEFAULT_TEMPLATES, isTemplates, TEMPLATES } from "../protocol/index.js";
import { UserError } from "../errors.js";
import { SERVER_ROLES, startLlamaServer } from "../models/llamaServer.js";
import { positiveInt } from "./options.js";

const out = (line: string) => process.stdout.write(line + "\n");

interface CreateFlags {
  planner?: string;
  caller?: string;
  summarizer?: string;
  base?: string;
  plannerAdapter?: string;
  callerAdapter?: string;
  summarizerAdapter?: string;
  prefix: string;
  host?: string;
}

function roleFiles(flags: CreateFlags, key: (r: SetupRole) => keyof CreateFlags, what: string): Record<SetupRole, string> {
  const missing = SETUP_ROLES.filter((r) => !flags[key(r)]);
  if (missing.length) throw new UserError(`models create: ${what} missing for ${missing.join(", ")}`);
  return Object.fromEntries(SETUP_ROLES.map((r) => [r, flags[key(r)]!])) as Record<SetupRole, string>;
}

async function createCommand(flags: CreateFlags): Promise<void> {
  const opts = { host: ollamaHost(flags.host), prefix: flags.prefix, log: out };
  const lora = flags.base !== undefined;
  if (lora && (flags.planner || flags.caller || flags.summarizer))
    throw new UserError("models create: give either --planner/--caller/--summarizer GGUFs or --base with --*-adapter GGUFs, not both");
  try {
    const names = lora
      ? await createLoraRoleModels(flags.base!, roleFiles(flags, (r) => `${r}Adapter` as keyof CreateFlags, "--ROLE-adapter GGUF"), opts)
      : await createRoleModels(roleFiles(flags, (r) => r, "--ROLE GGUF"), opts);
    out(`created ${names.join(", ")} at ${opts.host}`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new UserError(/fetch failed|ECONNREFUSED/.test(msg) ? `cannot reach Ollama at ${opts.host} — start \`ollama serve\` or set OLLAMA_HOST` : msg);
  }
}

interface CheckFlags {
  planner?: string;
  caller?: string;
  summarizer?: string;
  prefix: string;
  host?: string;
  templates: string;
  numCtx?: string;
}

async function checkCommand(flags: CheckFlags): Promise<void> {
  const templates = flags.templates;
  if (!isTemplates(templates)) throw new UserError(`models check --templates: unknown templates "${flags.templates}" (${TEMPLATES.join(", ")})`);
  const numCtx = flags.numCtx === undefined ? undefined : Number(flags.numCtx);
  if (numCtx !== undefined && !(Number.isInteger(numCtx) && numCtx > 0)) throw new UserError(`models check --num-ctx: "${flags.numCtx}" is not a positive integer`);
  const targets: CheckTarget[] = SETUP_ROLES.map((role) => {
    const spec = flags[role] ?? `ollama:${flags.prefix}-${role}`;
    const { provider, rest } = parseModelSpec(spec);
    if (provider !== "ollama") throw new UserError(`models check --${role}: "${spec}" is not an ollama:MODEL[@URL] spec`);
    const at = rest.lastIndexOf("@");
    return {
      role,
      model: at > 0 ? rest.slice(0, at) : rest,
      host: ollamaHost(at > 0 ? rest.slice(at + 1) : flags.host),
      templates,
      numCtx,
    };
  });
  const problems = await checkModels(targets);
  for (const p of problems) out(p);
  if (problems.length) {
    process.exitCode = 1;
    return;
  }
  for (const t of targets) out(`ok ${t.role}: ${t.model} at ${t.host}`);
}

export function registerModels(program: Command): void {
  const models = program.command("models").description(SUMMARIES.models);
  models
    .command("create")
    .description("create the role models in Ollama from GGUF files (three checkpoints, or one base plus three LoRA adapters)")
    .option("--planner <gguf>", "planner GGUF")
    .option("--caller <gguf>", "caller GGUF")
    .option("--summarizer <gguf>", "summarizer GGUF")
    .option("--base <gguf>", "GLPFT backbone GGUF shared by the three roles (with --*-adapter)")
    .option("--planner-adapter <gguf>", "planner LoRA adapter GGUF")
    .option("--caller-adapter <gguf>", "caller LoRA adapter GGUF")
    .option("--summarizer-adapter <gguf>", "summarizer LoRA adapter GGUF")
    .option("--prefix <name>", "model names are PREFIX-planner, PREFIX-caller, PREFIX-summarizer", "alpha-umi")
    .option("--host <url>", "Ollama URL (default OLLAMA_HOST, else http://127.0.0.1:11434)")
    .action((flags: CreateFlags) => createCommand(flags));
  models
    .command("check")
    .description("check server, models, context length and template for the three roles; one line per problem")
    .option("--planner <spec>", "planner model (default ollama:PREFIX-planner)")
    .option("--caller <spec>", "caller model (default ollama:PREFIX-caller)")
    .option("--summarizer <spec>", "summarizer model (default ollama:PREFIX-summarizer)")
    .option("--prefix <name>", "model name prefix", "alpha-umi")
    .option("--host <url>", "Ollama URL (default OLLAMA_HOST, else http://127.0.0.1:11434)")
    .option("--templates <templates>", `the templates the models will read: ${TEMPLATES.join(", ")} (instruct: off-the-shelf chat models)`, DEFAULT_TEMPLATES)
    .option("--num-ctx <n>", "the context the prompts need (default 4096)")
    .action((flags: CheckFlags) => checkCommand(flags));
  models
    .command("serve")
    .description("serve one base GGUF with the three role LoRA adapters from llama.cpp's llama-server (built from the bundled source if missing) and print the roles' openai: specs")
    .requiredOption("--base <gguf>", "base model GGUF")
    .option("--adapters <list>", "role adapters: planner=P.gguf,caller=C.gguf,summarizer=S.gguf (none: every role runs the base)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (default: a free one)", positiveInt("--port"))
    .option("--parallel <n>", "parallel slots: requests decoded at once, each slot with its own prompt cache", positiveInt("--parallel"), 3)
    .option("--ctx-size <n>", "context per slot in tokens", positiveInt("--ctx-size"), 4096)
    .option("--threads <n>", "CPU threads (default: all cores)", positiveInt("--threads"))
    .action((flags: ServeFlags) => serveCommand(flags));
  models
    .command("fixture")
    .description("write a tiny random-weight LLaMA GGUF (LLaMA-2 vocabulary) and one LoRA adapter GGUF per role, for tests and trials")
    .requiredOption("--out <dir>", "directory for tiny-llama.gguf and tiny-lora-{planner,caller,summarizer}.gguf")
    .action((flags: { out: string }) => fixtureCommand(flags.out));
}

async function fixtureCommand(dir: string): Promise<void> {
  const { writeFixture } = await import("../models/gguf.js");
  let fixture: Awaited<ReturnType<typeof writeFixture>>;
  try {
    fixture = await writeFixture(dir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code) throw new UserError(`models fixture --out ${dir}: cannot write there (${code})`);
    throw err;
  }
  out(`wrote ${fixture.model}`);
  for (const path of Object.values(fixture.adapters)) out(`wrote ${path}`);
  out(`try: alpha-umi run "What is 2 + 2?" --tools demo --planner llama:${fixture.model}+${fixture.adapters.planner} --caller llama:${fixture.model}+${fixture.adapters.caller} --summarizer llama:${fixture.model}+${fixture.adapters.summarizer} --max-steps 3`);
}

interface ServeFlags {
  base: string;
  adapters?: string;
  host: string;
  port?: number;
  parallel: number;
  ctxSize: number;
  threads?: number;
}

/** `planner=P.gguf,caller=C.gguf,summarizer=S.gguf` → one path per role, all three. */
function parseAdapters(list: string): Record<string, string> {
  const roles: readonly string[] = SERVER_ROLES;
  const adapters: Record<string, string> = {};
  for (const item of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf("=");
    const role = eq > 0 ? item.slice(0, eq) : "";
    if (!roles.includes(role) || !item.slice(eq + 1)) throw new UserError(`models serve --adapters: "${item}": expected ROLE=ADAPTER.gguf with ROLE one of ${SERVER_ROLES.join(", ")}`);
    if (adapters[role]) throw new UserError(`models serve --adapters: ${role} given twice`);
    adapters[role] = item.slice(eq + 1);
  }
  const missing = SERVER_ROLES.filter((r) => !adapters[r]);
  if (missing.length) throw new UserError(`models serve --adapters: no adapter for ${missing.join(", ")}`);
  return adapters;
}

/** Runs until SIGINT or SIGTERM, then stops the server. */
async function serveCommand(flags: ServeFlags): Promise<void> {
  const adapters = flags.adapters ? parseAdapters(flags.adapters) : undefined;
  const progress = (line: string) => process.stderr.write(line + "\n");
  const server = await startLlamaServer({
    base: flags.base,
    ...(adapters ? { adapters } : {}),
    host: flags.host,
    ...(flags.port ? { port: flags.port } : {}),
    parallel: flags.parallel,
    ctxSize: flags.ctxSize,
    ...(flags.threads ? { threads: flags.threads } : {}),
    progress,
  });
  out(`llama-server ready at ${server.baseURL} (${flags.parallel} slots of ${flags.ctxSize} tokens; pid ${server.process.pid})`);
  for (const [role, spec] of Object.entries(server.specs)) out(`${role}: ${spec}`);
  out(`try: alpha-umi run "What is 2 + 2?" --tools demo --planner '${server.specs.planner}' --caller '${server.specs.caller}' --summarizer '${server.specs.summarizer}' --max-steps 3`);
  out("Ctrl-C stops the server");
  await new Promise<void>((res, rej) => {
    const stop = () => void server.stop().then(res, rej);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    server.process.once("exit", (code, signal) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      if (code === 0 || signal === "SIGTERM") return res();
      rej(new UserError(`llama-server exited (${signal ?? `code ${code}`}): ${server.log().slice(-1)[0] ?? "no output"}`));
    });
  });
}
