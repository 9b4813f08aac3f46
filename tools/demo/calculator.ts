import { all, create } from "mathjs";

/**
 * The demo's evaluator: mathjs (maintained, no JavaScript eval), locked down as its security guide advises — the
 * functions that parse, import or define things are disabled, so model input can only compute.
 */
const math = create(all);
const evaluate = math.evaluate.bind(math);
const disabled = (name: string) => () => {
  throw new Error(`${name} is disabled`);
};
math.import(Object.fromEntries(["import", "createUnit", "evaluate", "parse", "compile", "simplify", "derivative", "resolve", "reviver"].map((n) => [n, disabled(n)])), { override: true });

/** Evaluate an arithmetic expression (+ - * / ^, parentheses, decimals, and mathjs functions such as sqrt) to a finite number. */
export function calculate(expression: string): number {
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
