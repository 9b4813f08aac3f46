/**
 * The boundary between the operator and a client (docs/security.md): the one function that takes run settings arriving
 * over HTTP (`alpha-umi serve`) or through the queue (`alpha-umi worker`) and returns those a client may set. Below it
 * everything trusts its input; a value that names code, a file, a host, an environment variable or a secret never
 * passes unless the operator opened its key.
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { parseApprovePolicy } from "./approval.js";
import { UserError } from "./errors.js";
import { SETTING_TRUST, SettingsSchema, type SettingKey } from "./settings.js";
import { unionApprove, type ApprovePolicy } from "./state.js";

/**
 * A client's value the boundary does not take: `status` is what an HTTP server answers (403: the key is the
 * operator's; 422: the value is malformed), `key` where it was found.
 */
export class RefusedSetting extends UserError {
  constructor(
    readonly status: 403 | 422,
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the operator decided, against which a client's settings are read. */
export interface OperatorSettings {
  /** Operator settings the operator opened to clients (serve `--client-settable`, langgraph.json). */
  open?: readonly string[];
  /**
   * The operator's own values (the graphs' bound configuration): a client that sends the same value changes nothing
   * and is not refused (Studio sends back what it was shown).
   */
  values?: Record<string, unknown>;
  /** The operator's approval floor: a client's `approve` adds to it, never removes from it. */
  approve?: ApprovePolicy;
}

const isSettingKey = (k: string): k is SettingKey => Object.hasOwn(SETTING_TRUST, k);
const unset = (v: unknown) => v === undefined || v === null || v === "";

/**
 * Keys a client may name that are not settings: LangGraph's own run keys and a graph's own settings (the search's
 * beam, …) pass as they are; nothing reads them to reach code, files or hosts. LangGraph's internal keys (`__…`)
 * are refused.
 */
function checkOther(key: string, where: string): void {
  if (key.startsWith("__")) throw new RefusedSetting(403, key, `${where}.${key}: LangGraph's internal keys cannot be set by a client`);
  // LangGraph's server writes the authenticated user there; a client's own value would pose as it.
  if (key.startsWith("langgraph_auth_")) throw new RefusedSetting(403, key, `${where}.${key}: the authenticated user is set by the server, not by a client`);
}

/**
 * The run settings a client may set, from `raw` (a request's `config.configurable` or `context`, a job's settings):
 * client settings checked against the schema, the operator's keys refused unless opened or equal to the operator's
 * own value, `approve` joined to the operator's floor. Unset values (null, "") are left out: the operator's default
 * holds.
 *
 * @example
 * clientSettings({ maxSteps: 4, approve: "none" }, "config.configurable", { approve: ["convert"] })
 * // { maxSteps: 4, approve: ["convert"] }
 * clientSettings({ toolSources: "module:/x.mjs" }, "config.configurable", {}) // throws RefusedSetting (403)
 */
export function clientSettings(raw: unknown, where: string, operator: OperatorSettings): Record<string, unknown> {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new RefusedSetting(422, where, `${where}: expected an object, got ${JSON.stringify(raw)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!isSettingKey(key)) {
      checkOther(key, where);
      out[key] = value;
      continue;
    }
    if (unset(value)) continue;
    const trust = SETTING_TRUST[key];
    if (trust.who === "operator" && !operator.open?.includes(key)) {
      if (isDeepStrictEqual(value, operator.values?.[key])) continue;
      throw new RefusedSetting(
        403,
        key,
        `${where}.${key}: set by the operator only (${trust.why}); an operator can open it with \`serve --client-settable ${key}\` or \`alpha_umi.client_settable\` in langgraph.json`,
      );
    }
    if (key === "approve") {
      let policy: ApprovePolicy;
      try {
        policy = parseApprovePolicy(value);
      } catch (e) {
        throw new RefusedSetting(422, key, `${where}.approve: ${(e as Error).message.replace(/^configuration approve: /, "")}`);
      }
      out.approve = policy;
      continue;
    }
    const parsed = (SettingsSchema.shape[key] as z.ZodType).safeParse(value);
    if (!parsed.success) throw new RefusedSetting(422, key, `${where}.${key}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    out[key] = value;
  }
  // The floor holds whether or not the client named `approve` (a run's configurable replaces the graph's bound one).
  if (where.endsWith("configurable")) {
    const approve = unionApprove(operator.approve ?? "none", (out.approve as ApprovePolicy | undefined) ?? "none");
    if (approve !== "none") out.approve = approve;
  }
  return out;
}

/**
 * Check the operator's list of settings opened to clients: each must be an operator setting.
 *
 * @example checkOpenKeys(["plannerModel"], "--client-settable") // ["plannerModel"]
 */
export function checkOpenKeys(keys: readonly string[], where: string): string[] {
  for (const key of keys) {
    if (!isSettingKey(key)) throw new UserError(`${where}: no setting named "${key}" (settings: ${Object.keys(SETTING_TRUST).join(", ")})`);
    if (SETTING_TRUST[key].who === "client") throw new UserError(`${where}: "${key}" is settable by clients already`);
  }
  return [...keys];
}

/** State channels no client writes (a state edit or a run's `command.update`): the settled call and the approval floor. */
export const PROTECTED_CHANNELS = ["call", "approve"] as const;

/**
 * Refuse a client's write to the graph state that would settle a call or lower the approval floor.
 *
 * @example checkStateWrite({ turns: [...] }, "values") // fine
 * checkStateWrite({ call: { approve: false } }, "values") // throws RefusedSetting (403)
 */
export function checkStateWrite(update: unknown, where: string): void {
  const writes = Array.isArray(update) ? update : [update];
  for (const w of writes) {
    if (typeof w !== "object" || w === null) continue;
    // A list of [channel, value] pairs is also a state update (LangGraph's Command.update form).
    const keys = Array.isArray(w) ? (typeof w[0] === "string" ? [w[0]] : []) : Object.keys(w);
    for (const key of keys)
      if ((PROTECTED_CHANNELS as readonly string[]).includes(key))
        throw new RefusedSetting(403, key, `${where}.${key}: the state's ${key === "call" ? "settled tool call" : "approval policy"} is written by the graph only (a client cannot settle a call or lower approval)`);
  }
}
