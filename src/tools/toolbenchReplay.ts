import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { contentText, type RoleModel } from "../models/generate.js";
import { parseCaller } from "../protocol/index.js";
import { parseSimulatedAnswer, simulateApiPrompt, SIMULATED_ANSWER_SCHEMA, SIMULATION_FAILED, splitApiName, type ApiExample } from "../protocol/judgesAndSimulator.js";
import type { ToolDoc } from "../state.js";
import type { ToolBenchDialog } from "../toolbenchDialogs.js";
import type { ToolSpec } from "./spec.js";
import { UserError } from "../errors.js";

/** Canonical form of call arguments: equal JSON values give equal keys whatever their key order or spacing. */
export function canonicalArgs(input: string): string {
  try {
    return canonical(JSON.parse(input));
  } catch {
    return input.trim();
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object")
    return (
      "{" +
      Object.keys(v)
        .sort()
        .map((k) => JSON.stringify(k) + ":" + canonical((v as Record<string, unknown>)[k]))
        .join(",") +
      "}"
    );
  return JSON.stringify(v);
}

/**
 * What a call with no recorded response gets: `error` (a clear "no recorded response" error observation), or
 * `simulate` (StableToolBench's virtual API: a model answers from the API's document and recorded examples; with a
 * cache directory, every answer is stored there and a later run replays it without a model call).
 */
export type MissPolicy = { kind: "error" } | { kind: "simulate"; model: RoleModel; cacheDir?: string };

/**
 * A cache of API answers: one JSON file per API, `DIR/{tool}/{api}.json`, mapping canonical arguments to the answer.
 * Files are rewritten whole (temporary file, then rename), so a killed run never leaves half a file.
 */
export class ApiCache {
  /** `split` names an API's tool and API (default: ToolBench's `{api}_for_{tool}`). */
  constructor(
    readonly dir: string,
    private readonly split: (name: string) => { tool: string; api: string } = splitApiName,
  ) {}

  private file(name: string): string {
    const { tool, api } = this.split(name);
    const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 120) || "_";
    return join(this.dir, safe(tool), `${safe(api)}.json`);
  }

  entries(name: string): Record<string, string> {
    const file = this.file(name);
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    } catch (err) {
      throw new UserError(`API cache ${file}: not a JSON object of answers (${(err as Error).message})`);
    }
  }

  get(name: string, args: string): string | undefined {
    return this.entries(name)[args];
  }

  put(name: string, args: string, answer: string): void {
    const file = this.file(name);
    mkdirSync(join(file, ".."), { recursive: true });
    const all = { ...this.entries(name), [args]: answer };
    writeFileSync(file + ".tmp", JSON.stringify(all, null, 1));
    renameSync(file + ".tmp", file);
  }
}

/** Ask the model for the API's answer: temperature 0 where its provider takes one, JSON output, up to 3 tries. */
async function simulate(model: RoleModel, doc: ToolDoc, args: string, examples: ApiExample[], signal: AbortSignal): Promise<string | null> {
  const prompt = simulateApiPrompt(doc, args, examples);
  for (let i = 0; i < 3; i++) {
    const out = await model.invoke(prompt, { format: SIMULATED_ANSWER_SCHEMA, temperature: 0, signal } as never);
    const answer = parseSimulatedAnswer(contentText(out));
    if (answer) return JSON.stringify(answer);
  }
  return null;
}

/**
 * A call no recorded answer covers, under the `simulate` policy: the answer its cache holds for these arguments, else the
 * model's (then cached), else StableToolBench's failure observation.
 */
export async function simulateMiss(
  miss: Extract<MissPolicy, { kind: "simulate" }>,
  doc: ToolDoc,
  argsKey: string,
  examples: readonly ApiExample[],
  signal: AbortSignal,
): Promise<string> {
  const cache = miss.cacheDir ? new ApiCache(miss.cacheDir) : undefined;
  const cached = cache?.get(doc.Name, argsKey);
  if (cached !== undefined) return cached;
  const cachedExamples = Object.entries(cache?.entries(doc.Name) ?? {}).map(([a, r]) => ({ arguments: a, response: r }));
  const answer = await simulate(miss.model, doc, argsKey, [...examples, ...cachedExamples], signal);
  if (answer === null) return SIMULATION_FAILED;
  cache?.put(doc.Name, argsKey, answer);
  return answer;
}

/**
 * The ToolBench replay pack (StableToolBench's cache idea): a call is answered with the observation recorded in the
 * file for the same tool name and equal JSON arguments; a miss follows `miss` (default: a clear error).
 * With `inOrder` (one dialog's episode replay), a call recorded several times gets its observations in recorded order,
 * then the last again, as the dialog saw them (e.g. a timeout, then a quota error); otherwise always the first.
 *
 * @example toolbenchReplayTools(readToolBenchFile("test.json"), "test.json", { miss: { kind: "simulate", model, cacheDir: "api-cache" } })
 */
export function toolbenchReplayTools(
  dialogs: readonly ToolBenchDialog[],
  source = "ToolBench file",
  opts: { inOrder?: boolean; miss?: MissPolicy } = {},
): ToolSpec[] {
  const responses = new Map<string, string[]>();
  const served = new Map<string, number>();
  const docs = new Map<string, ToolDoc>();
  const examples = new Map<string, ApiExample[]>();
  for (const d of dialogs) {
    for (const t of d.tools) if (!docs.has(t.Name)) docs.set(t.Name, t);
    d.conversations.forEach((turn, i) => {
      const next = d.conversations[i + 1];
      if (turn.from !== "caller" || next?.from !== "observation") return;
      const { action, actionInput } = parseCaller(turn.value);
      const key = action + "\u0000" + canonicalArgs(actionInput);
      responses.set(key, [...(responses.get(key) ?? []), next.value]);
      examples.set(action, [...(examples.get(action) ?? []), { arguments: actionInput, response: next.value }]);
    });
  }
  const miss = opts.miss ?? { kind: "error" };
  return [...docs.values()].map((doc) => ({
    doc,
    run: async (args: Record<string, unknown>, ctx: { signal: AbortSignal }) => {
      const argsKey = canonical(args);
      const key = doc.Name + "\u0000" + argsKey;
      const hits = responses.get(key);
      if (hits !== undefined) {
        const n = opts.inOrder ? (served.get(key) ?? 0) : 0;
        served.set(key, n + 1);
        return hits[Math.min(n, hits.length - 1)]!;
      }
      if (miss.kind === "error") throw new Error(`no recorded response in ${source} for ${doc.Name} with arguments ${JSON.stringify(args)}`);
      return simulateMiss(miss, doc, argsKey, examples.get(doc.Name) ?? [], ctx.signal);
    },
  }));
}
