import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FactoryFunctionMap, MathJsInstance } from "mathjs";

/** What the calculator offers: the arithmetic operators and a few number functions, nothing that parses or defines. */
const OFFERED = ["evaluate", "add", "subtract", "multiply", "divide", "pow", "mod", "unaryMinus", "unaryPlus", "sqrt", "cbrt", "abs", "round", "floor", "ceil", "exp", "log", "log10", "min", "max"];
/** Disabled as mathjs's security guide advises, so model input can only compute (evaluate is disabled once bound). */
const DISABLED = ["import", "createUnit", "evaluate", "parse", "compile", "simplify", "derivative", "resolve", "reviver"];

type Factory = FactoryFunctionMap[string] & { dependencies?: string[]; fn?: string };

let evaluator: ((expression: string) => unknown) | undefined;

/**
 * The demo's evaluator: mathjs (maintained, no JavaScript eval) built on first use from its number-only factories,
 * with just the functions offered and what they depend on. mathjs's entry points build every function of the library
 * when imported (0.5–1 s); its factory modules build nothing until asked. They are reached by file because mathjs
 * exports no subpath for them.
 */
function mathEvaluator(): (expression: string) => unknown {
  if (evaluator) return evaluator;
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve("mathjs/package.json")), "lib", "cjs");
  const { create } = require(join(lib, "core", "create.js")) as { create: (f: FactoryFunctionMap, config?: object) => MathJsInstance };
  const factories = Object.entries(require(join(lib, "factoriesNumber.js")) as Record<string, Factory>);
  const chosen = new Map<string, Factory>();
  // A name's factories: the function and, where there is one, its expression transform.
  const add = (name: string) => {
    for (const [key, f] of factories) {
      if (typeof f !== "function" || f.fn !== name.replace(/^\?/, "") || chosen.has(key)) continue;
      chosen.set(key, f);
      for (const dep of f.dependencies ?? []) add(dep);
    }
  };
  OFFERED.forEach(add);
  // Arrays evaluate to plain arrays (there is no matrix type here), which calculate reports as not a number.
  const math = create(Object.fromEntries(chosen), { matrix: "Array" });
  const evaluate = math.evaluate.bind(math);
  const disabled = (name: string) => () => {
    throw new Error(`${name} is disabled`);
  };
  math.import(Object.fromEntries(DISABLED.map((n) => [n, disabled(n)])), { override: true });
  return (evaluator = evaluate);
}

/** Evaluate an arithmetic expression (+ - * / ^ %, parentheses, decimals, and functions such as sqrt) to a finite number. */
export function calculate(expression: string): number {
  const evaluate = mathEvaluator();
  let value: unknown;
  try {
    value = evaluate(expression);
  } catch (e) {
    throw new Error(`cannot evaluate "${expression}": ${(e as Error).message}`);
  }
  if (typeof value !== "number") throw new Error(`"${expression}" is not a number expression`);
  if (!Number.isFinite(value)) throw new Error(`"${expression}" has no finite value (division by zero?)`);
  return value;
}
