/** An error caused by the user's input or environment: printed as one clear line, no stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
