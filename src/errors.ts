/**
 * The one error hierarchy. Every error alpha-umi throws on purpose is an `AlphaUmiError` with a stable `code`;
 * `UserError` is the branch for the user's input or environment (a bad option, file or spec, an unreachable
 * service): the CLI prints its message as one line and exits 2. Any other `AlphaUmiError` is a part that failed as
 * it may (a model call, a model server): one line, exit 1. Anything else is a bug: its stack is printed, exit 1.
 *
 * @example
 * catch (err) { if (err instanceof AlphaUmiError && err.code === "model_call") console.error(err.message); } // code is one of ERROR_CODES
 */
export const ERROR_CODES = [
  "user",
  "usage",
  "model_call",
  "ollama",
  "openai_server",
  "llama_cpp",
  "thread_not_found",
  "thread_busy",
  "run_held",
  "decode",
  "rouge_empty",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The base of every error alpha-umi throws on purpose.
 *
 * @example
 * try { await runAgent(opts); } catch (e) { if (e instanceof AlphaUmiError) console.error(e.code, e.message); else throw e; }
 */
export class AlphaUmiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An error caused by the user's input or environment: printed as one clear line, no stack trace; the CLI exits 2.
 *
 * @example throw new UserError(`${path}: not JSON`);
 */
export class UserError extends AlphaUmiError {
  constructor(message: string, options?: { cause?: unknown }, code: ErrorCode = "user") {
    super(code, message, options);
  }
}

/** A command-line option out of its range or form: one line, exit 2 (the usual code for bad usage). */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, undefined, "usage");
  }
}

/**
 * How the CLI reports an error that ends a command: the exit code, and whether the stack is printed (only for a bug,
 * an error outside the hierarchy).
 *
 * @example exitOf(new UserError("x")) // { code: 2, stack: false }
 */
export function exitOf(err: unknown): { code: 1 | 2; stack: boolean } {
  if (err instanceof UserError) return { code: 2, stack: false };
  if (err instanceof AlphaUmiError) return { code: 1, stack: false };
  return { code: 1, stack: true };
}
