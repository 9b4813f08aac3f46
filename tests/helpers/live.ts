/**
 * Whether `npm run test:live` can run here: an Ollama answering at the host and the role models on it. When not, one
 * line says what is missing and how to get it (a skipped suite alone does not say why).
 */
import { Ollama } from "ollama";

export interface LiveTarget {
  host: string;
  /** The models the live tests use (the three role models, or one instruct model). */
  models: readonly string[];
  /** The models are one off-the-shelf instruct model (ALPHA_UMI_INSTRUCT_MODEL) rather than α-UMi's. */
  instruct: boolean;
}

/** Why the live tests are skipped, in one line; undefined when they can run. */
export async function liveSkipReason(target: LiveTarget, fetchImpl?: typeof fetch): Promise<string | undefined> {
  const client = new Ollama({ host: target.host, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  const listed = await client.list().then(
    (r) => r.models.map((m) => m.name),
    () => undefined,
  );
  if (!listed) return `live Ollama tests skipped: no Ollama at ${target.host} (OLLAMA_HOST) — start \`ollama serve\` or set OLLAMA_HOST to one`;
  const has = (name: string) => listed.includes(name) || listed.includes(`${name}:latest`) || listed.some((l) => l === name.replace(/:latest$/, ""));
  const missing = target.models.filter((m) => !has(m));
  if (!missing.length) return undefined;
  const how = target.instruct
    ? `\`ollama pull ${missing[0]}\``
    : "`npx alpha-umi models create --planner P.gguf --caller C.gguf --summarizer S.gguf` (or --base with --ROLE-adapter GGUFs), or set ALPHA_UMI_INSTRUCT_MODEL to a pulled instruct model";
  return `live Ollama tests skipped: ${missing.join(", ")} not on the Ollama at ${target.host} — create ${missing.length > 1 ? "them" : "it"} with ${how}`;
}
