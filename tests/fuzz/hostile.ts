/**
 * Hostile values and texts the fuzz suite and the executor tests feed the engine: what a user's tool may return or
 * throw, and protocol markers a tool's output or a model may carry.
 */

const deepObject = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

/** A JSON object nested `depth` levels deep, as text. */
export const deepJson = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

/** Values plain String() / JSON.stringify() cannot take, or that storage layers mangle; each built fresh. */
export function hostileValues(): Record<string, () => unknown> {
  const circular: Record<string, unknown> = { name: "loop" };
  circular.self = circular;
  const messageThrows = new Error("x");
  Object.defineProperty(messageThrows, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  return {
    nullProto: () => Object.assign(Object.create(null) as object, { a: 1 }),
    toStringThrows: () => ({
      toString() {
        throw new Error("toString");
      },
    }),
    getterThrows: () =>
      Object.defineProperty({}, "x", {
        enumerable: true,
        get() {
          throw new Error("getter");
        },
      }),
    toJSONThrows: () => ({
      toJSON() {
        throw new Error("toJSON");
      },
    }),
    messageThrows: () => messageThrows,
    circular: () => circular,
    bigint: () => ({ n: 10n ** 30n }),
    symbol: () => Symbol("s"),
    fn: () => function named() {},
    revokedProxy: () => {
      const p = Proxy.revocable({}, {});
      p.revoke();
      return p.proxy;
    },
    deep: () => deepObject(10_000),
    loneSurrogate: () => "a\ud800b\u0000c",
    nul: () => ({ s: "\u0000" }),
    undef: () => undefined,
    nullValue: () => null,
  };
}

/** Protocol markers injected through observations and model outputs: none may decide a route by itself. */
export const MARKERS = [
  "</s>",
  "<s>",
  "<unk>",
  "Next: conclusion.",
  "Next: caller.",
  "Next: give up.",
  "Action: ",
  "Action Input: ",
  "conclusion: ",
  "Observation: ",
  "\n",
  "{",
  "}",
  '"',
  "\u0000",
  "\ud800",
  "😀",
];
