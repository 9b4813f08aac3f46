/**
 * Setting up the three role models in Ollama from GGUF files, with the settings of the shipped Modelfiles
 * (prompts/ollama/Modelfile.*), and checking an existing setup. Files go to the server as blobs (the API's way to
 * create from local files), so this also works against a remote OLLAMA_HOST.
 */
import { createHash } from "node:crypto";
import { UserError } from "../errors.js";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { Ollama, type CreateRequest } from "ollama";
import { packageRoot } from "../paths.js";
import type { Templates } from "../protocol/index.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import { isTemplateVariant } from "../protocol/templates.js";

export const SETUP_ROLES = ["planner", "caller", "summarizer"] as const;
export type SetupRole = (typeof SETUP_ROLES)[number];

export interface Modelfile {
  from?: string;
  adapters: string[];
  template?: string;
  parameters: Record<string, unknown>;
}

/** The subset of the Modelfile syntax the shipped files use: FROM, ADAPTER, TEMPLATE (""" blocks), PARAMETER. */
export function parseModelfile(text: string, where: string): Modelfile {
  const out: Modelfile = { adapters: [], parameters: {} };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [cmd, ...rest] = line.split(/\s+/);
    let arg = line.slice(cmd!.length).trim();
    if (arg.startsWith('"""')) {
      // A """ block may span lines.
      let block = arg.slice(3);
      while (!block.includes('"""') && i + 1 < lines.length) block += "\n" + lines[++i];
      if (!block.includes('"""')) throw new UserError(`${where}, line ${i + 1}: unterminated """ block`);
      arg = block.slice(0, block.indexOf('"""'));
    }
    switch (cmd!.toUpperCase()) {
      case "FROM":
        out.from = arg;
        break;
      case "ADAPTER":
        out.adapters.push(arg);
        break;
      case "TEMPLATE":
        out.template = arg;
        break;
      case "PARAMETER": {
        const [key, ...value] = rest;
        if (!key || value.length === 0) throw new UserError(`${where}, line ${i + 1}: PARAMETER needs a name and a value`);
        const raw = value.join(" ").replace(/^"(.*)"$/, "$1");
        const v: unknown = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
        if (key === "stop") out.parameters.stop = [...((out.parameters.stop as unknown[]) ?? []), v];
        else out.parameters[key] = v;
        break;
      }
      default:
        throw new UserError(`${where}, line ${i + 1}: unsupported Modelfile command ${cmd}`);
    }
  }
  return out;
}

export function shippedModelfile(kind: SetupRole | "lora"): Modelfile {
  const path = join(packageRoot(), "prompts", "ollama", `Modelfile.${kind}`);
  return parseModelfile(readFileSync(path, "utf8"), path);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return "sha256:" + hash.digest("hex");
}

export interface SetupOptions {
  host: string;
  prefix: string;
  fetch?: typeof fetch;
  /** Progress lines for the user. */
  log?: (line: string) => void;
}

/** Send a local file to the server as a blob unless it already has it; returns its digest. */
export async function pushBlob(path: string, opts: SetupOptions): Promise<string> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`${path}: no such file`);
  const f = opts.fetch ?? fetch;
  const digest = await sha256File(path);
  const url = `${opts.host}/api/blobs/${digest}`;
  const head = await f(url, { method: "HEAD" });
  if (head.ok) return digest;
  opts.log?.(`uploading ${path} (${statSync(path).size} bytes) to ${opts.host}`);
  const body = Readable.toWeb(createReadStream(path)) as unknown as RequestInit["body"];
  const res = await f(url, { method: "POST", body, duplex: "half" } as RequestInit);
  if (!res.ok) throw new UserError(`Ollama at ${opts.host}: uploading ${path} failed (${res.status} ${await res.text()})`);
  return digest;
}

/** The create request of one role model: the shipped Modelfile's template and parameters over uploaded files. */
export function createRequest(name: string, role: SetupRole, files: Record<string, string>, adapters?: Record<string, string>): CreateRequest {
  const mf = adapters ? shippedModelfile("lora") : shippedModelfile(role);
  // `files` is the API's create-from-blobs field; ollama-js 0.6 passes it through but does not declare it.
  return { model: name, files, ...(adapters ? { adapters } : {}), template: mf.template, parameters: mf.parameters, stream: false } as CreateRequest;
}

async function create(req: CreateRequest, opts: SetupOptions): Promise<void> {
  const client = new Ollama({ host: opts.host, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  opts.log?.(`creating ${req.model}`);
  await client.create({ ...req, stream: false });
}

/** Three models from three GGUF files: `{prefix}-planner`, `{prefix}-caller`, `{prefix}-summarizer`. */
export async function createRoleModels(ggufs: Record<SetupRole, string>, opts: SetupOptions): Promise<string[]> {
  const names: string[] = [];
  for (const role of SETUP_ROLES) {
    const digest = await pushBlob(ggufs[role], opts);
    const name = `${opts.prefix}-${role}`;
    await create(createRequest(name, role, { [basename(ggufs[role])]: digest }), opts);
    names.push(name);
  }
  return names;
}

/** Three models sharing one base GGUF, each with its role's LoRA adapter (GGUF): the base is stored once. */
export async function createLoraRoleModels(base: string, adapters: Record<SetupRole, string>, opts: SetupOptions): Promise<string[]> {
  const baseDigest = await pushBlob(base, opts);
  const names: string[] = [];
  for (const role of SETUP_ROLES) {
    const digest = await pushBlob(adapters[role], opts);
    const name = `${opts.prefix}-${role}`;
    await create(createRequest(name, role, { [basename(base)]: baseDigest }, { [basename(adapters[role])]: digest }), opts);
    names.push(name);
  }
  return names;
}

/** Ollama's `parameters` text (`name   value` lines) as a map; repeated names (stop) collect into lists. */
function parseShowParameters(text: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of (text ?? "").split("\n")) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!.replace(/^"(.*)"$/, "$1")]);
  }
  return out;
}

export interface CheckTarget {
  role: string;
  model: string;
  host: string;
  /** Models read with α-UMi templates must pass prompts through; instruct models keep their chat template. */
  templates: Templates;
  numCtx?: number;
}

/** Problems with a setup, one line each (empty when all is well). */
export async function checkModels(targets: readonly CheckTarget[], fetchImpl?: typeof fetch): Promise<string[]> {
  const problems: string[] = [];
  const reachable = new Map<string, boolean>();
  for (const t of targets) {
    const client = new Ollama({ host: t.host, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    if (!reachable.has(t.host)) {
      const ok = await client.list().then(
        () => true,
        () => false,
      );
      reachable.set(t.host, ok);
      if (!ok) problems.push(`Ollama at ${t.host}: not reachable — start \`ollama serve\` or set OLLAMA_HOST`);
    }
    if (!reachable.get(t.host)) continue;
    const where = `${t.role}: Ollama at ${t.host}, model ${t.model}`;
    const info = await client.show({ model: t.model }).catch(() => null);
    if (!info) {
      problems.push(`${where}: not found — create it with \`alpha-umi models create\` (or \`ollama create\` / \`ollama pull\`)`);
      continue;
    }
    const want = t.numCtx ?? DEFAULT_BUDGET.numCtx;
    const modelInfo = (info.model_info ?? {}) as unknown as Record<string, unknown>;
    const trained = Object.entries(modelInfo).find(([k]) => k.endsWith(".context_length"))?.[1];
    if (typeof trained === "number" && trained < want)
      problems.push(`${where}: context length ${trained} is below the ${want} tokens the prompts need — use a model trained for ${want}`);
    if (isTemplateVariant(t.templates)) {
      if ((info.template ?? "").trim() !== "{{ .Prompt }}")
        problems.push(`${where}: template is not {{ .Prompt }} — α-UMi models read the raw training text; recreate it from prompts/ollama/Modelfile.${t.role}`);
      const params = parseShowParameters(info.parameters);
      if (!(params.get("stop") ?? []).includes("</s>"))
        problems.push(`${where}: no stop "</s>" parameter — recreate it from prompts/ollama/Modelfile.${t.role} (alpha-umi sends the stop itself, \`ollama run\` does not)`);
    }
  }
  return problems;
}
