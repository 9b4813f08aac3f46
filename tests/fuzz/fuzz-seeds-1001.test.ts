import { expectCleanFuzz } from "./fuzz.js";

/**
 * Seeded runs of the real graphs under hostile models, tools and observations, each resumed until it ends: no
 * exception escapes `invoke`, no invocation hangs, τ's invariants hold after every run and every resume (see fuzz.ts;
 * `npm run fuzz` runs 10,000).
 */
it("fuzz seeds 1001–2000: 0 escaping exceptions, 0 hangs, 0 invariant breaks", () => expectCleanFuzz(1001, 1000), 300_000);
