/** An error caused by the user's input or environment: printed as one clear line, no stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A command-line option out of its range or form: one line, exit 2 (the usual code for bad usage). */
export class UsageError extends UserError {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
