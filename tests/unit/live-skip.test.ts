/** `npm run test:live` says in one line why it is skipped: no Ollama at the host, or the role models not on it. */
import { startFakeOllama } from "../helpers/fakeOllama.js";
import { liveSkipReason } from "../helpers/live.js";
import { freePort } from "../../src/models/llamaServer.js";

const ROLE_MODELS = ["alpha-umi-planner", "alpha-umi-caller", "alpha-umi-summarizer"];

test("no Ollama at the host: one line naming the host and how to start one", async () => {
  const host = `http://127.0.0.1:${await freePort()}`;
  const reason = await liveSkipReason({ host, models: ROLE_MODELS, instruct: false });
  expect(reason).toBe(`live Ollama tests skipped: no Ollama at ${host} (OLLAMA_HOST) — start \`ollama serve\` or set OLLAMA_HOST to one`);
});

test("models missing: one line naming them and the command that creates them; none when all are there", async () => {
  const fake = await startFakeOllama({ models: { "alpha-umi-planner:latest": {} } });
  try {
    const reason = await liveSkipReason({ host: fake.url, models: ROLE_MODELS, instruct: false });
    expect(reason).toMatch(new RegExp(`^live Ollama tests skipped: alpha-umi-caller, alpha-umi-summarizer not on the Ollama at ${fake.url} — create them with \`npx alpha-umi models create `));
    expect(reason).not.toContain("\n");
    expect(await liveSkipReason({ host: fake.url, models: ["qwen2.5"], instruct: true })).toBe(
      `live Ollama tests skipped: qwen2.5 not on the Ollama at ${fake.url} — create it with \`ollama pull qwen2.5\``,
    );
    expect(await liveSkipReason({ host: fake.url, models: ["alpha-umi-planner"], instruct: false })).toBeUndefined();
  } finally {
    await fake.close();
  }
});
