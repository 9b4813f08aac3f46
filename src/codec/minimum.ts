/**
 * The smallest context window a run's templates can work in, so that `--num-ctx` is checked before any model call:
 * below it no prompt fits whatever the context policy, since the tool documents, the instruction and the template's
 * own text always stay.
 */
import { DEFAULT_TEMPLATES } from "../protocol/index.js";
import { DEFAULT_BUDGET } from "../protocol/budget.js";
import type { Role } from "../models/generate.js";
import { countTokens } from "../protocol/tokens.js";
import type { Turn } from "../state.js";
import { RoleCodec, type CodecSettings } from "./index.js";

export interface MinimumWindow {
  /** Tokens: the longest prompt below plus the reply. */
  numCtx: number;
  /** The role whose prompt is the longest, its templates and that prompt's tokens. */
  role: Role;
  templates: string;
  promptTokens: number;
  numPredict: number;
}

/**
 * The window the roles' prompts need with no tools, an empty instruction and (caller, summarizer) an empty plan, each
 * role with its own templates, plus
 * `numPredict` tokens for the reply — counted with the codec's own renderer and tokenizer.
 *
 * @example (await minimumWindow({ templates: "toolbench" }, ["planner", "caller", "summarizer"])).numCtx // e.g. 1027
 */
export async function minimumWindow(s: CodecSettings, roles: readonly Role[], numPredict = DEFAULT_BUDGET.numPredict): Promise<MinimumWindow> {
  let best: MinimumWindow | undefined;
  for (const role of roles) {
    const templates = s.roleTemplates?.[role] ?? s.templates ?? DEFAULT_TEMPLATES;
    // The caller and summarizer act on a planner turn: the shortest history they take has an empty one.
    const history: Turn[] = role === "caller" || role === "summarizer" ? [{ from: "user", value: "" }, { from: "assistant", value: "" }] : [{ from: "user", value: "" }];
    const promptTokens = await countTokens(new RoleCodec(role, { templates }).prompt([], history));
    if (!best || promptTokens > best.promptTokens) best = { numCtx: promptTokens + numPredict, role, templates, promptTokens, numPredict };
  }
  if (!best) throw new Error("bug: minimumWindow: no roles");
  return best;
}
