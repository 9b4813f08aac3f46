/**
 * mulberry32: a small seeded PRNG with the same sequence for a seed on every platform, for what must be reproducible
 * (the GGUF fixtures' weights byte for byte; fuzz seeds that replay a failure).
 *
 * @example
 * const next = prng(42);
 * next(); // a number in [0, 1), the same on every run
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
