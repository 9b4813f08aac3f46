/** The embedded runtime's thread budget: what a model is worth, a pinned budget, a role's own count. */
import { availableParallelism } from "node:os";
import type { Llama } from "node-llama-cpp";
import { BYTES_PER_THREAD, GOVERN_MS, modelThreads, ThreadGovernor } from "../../src/models/llama.js";

// modelThreads never exceeds the machine's cores.
const cores = availableParallelism();
const fakeLlama = () => ({ maxThreads: 99 }) as unknown as Llama;

test("a model gets one thread per BYTES_PER_THREAD of weights, at least one, at most the cores", () => {
  expect(modelThreads(9_246_144, 2)).toBe(1); // the fixture
  expect(modelThreads(212_330_784, 2)).toBe(1); // the inference bench's 106M F16 model
  expect(modelThreads(3 * BYTES_PER_THREAD, 8)).toBe(3);
  expect(modelThreads(3_800_000_000, 8)).toBe(8); // a 7B Q4
});

test("while calls run the budget follows the free cores, up to what the loaded model is worth", async () => {
  let free = 4;
  const g = new ThreadGovernor(() => free);
  const llama = fakeLlama();
  g.attach(llama);
  expect(llama.maxThreads).toBe(1);
  g.addModel(9_246_144);
  const tick = () => new Promise((r) => setTimeout(r, GOVERN_MS + 100));
  g.enter();
  await tick();
  expect(llama.maxThreads).toBe(1); // the fixture is worth one thread, though 4 cores are free
  g.addModel(6 * BYTES_PER_THREAD);
  await tick();
  expect(llama.maxThreads).toBe(Math.min(4, cores));
  free = 1; // other processes take the cores mid-run
  await tick();
  expect(llama.maxThreads).toBe(1);
  free = 3;
  await tick();
  expect(llama.maxThreads).toBe(Math.min(3, cores));
  g.leave();
  free = 1;
  await tick();
  expect(llama.maxThreads).toBe(Math.min(3, cores)); // no call runs: nothing is sampled
});

test("ALPHA_UMI_LLAMA_THREADS pins the budget; a role's own threads raise its floor", async () => {
  const pinned = new ThreadGovernor(() => 8);
  const a = fakeLlama();
  pinned.attach(a, 3);
  pinned.addModel(1);
  pinned.enter();
  await new Promise((r) => setTimeout(r, 300));
  pinned.leave();
  expect(a.maxThreads).toBe(3);
  const g = new ThreadGovernor();
  const b = fakeLlama();
  g.attach(b);
  g.addRoleThreads(2);
  expect(b.maxThreads).toBe(2);
});
