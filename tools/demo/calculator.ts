/** A small arithmetic evaluator (+ - * / ^, parentheses, decimals): no eval(), so model input cannot run code. */
export function calculate(expression: string): number {
  let pos = 0;
  const src = expression.replace(/\s+/g, "");
  const fail = (what: string): never => {
    throw new Error(`cannot parse "${expression}": ${what} at position ${pos}`);
  };
  const peek = () => src[pos];
  function number(): number {
    const m = /^\d+(\.\d+)?|^\.\d+/.exec(src.slice(pos));
    if (!m) return fail("expected a number");
    pos += m[0].length;
    return Number(m[0]);
  }
  function atom(): number {
    if (peek() === "-") return pos++, -atom();
    if (peek() === "(") {
      pos++;
      const v = sum();
      if (peek() !== ")") fail("expected )");
      pos++;
      return v;
    }
    return number();
  }
  function power(): number {
    const base = atom();
    if (peek() === "^") return pos++, base ** power();
    return base;
  }
  function product(): number {
    let v = power();
    while (peek() === "*" || peek() === "/") {
      const op = src[pos++];
      const r = power();
      if (op === "/" && r === 0) throw new Error("division by zero");
      v = op === "*" ? v * r : v / r;
    }
    return v;
  }
  function sum(): number {
    let v = product();
    while (peek() === "+" || peek() === "-") v = src[pos++] === "+" ? v + product() : v - product();
    return v;
  }
  const value = sum();
  if (pos < src.length) fail("unexpected character");
  return value;
}
