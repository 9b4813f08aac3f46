/**
 * `alpha-umi serve` at its HTTP boundary, attacked as a hostile page, a rebinding name, a greedy or broken client and
 * another user would: a text/plain run (what `fetch(…, {mode: "no-cors"})` sends) is refused and creates nothing; CORS
 * as langgraph.json's `http.cors` says; a foreign Host on loopback is refused; bodies over the default limit are 413;
 * malformed JSON is 400 with one line. With LangGraph's auth (`auth.path`, an `Auth` from
 * @langchain/langgraph-sdk/auth: tokens to identities, handlers that stamp and filter `owner`, as in LangGraph's docs)
 * user B cannot list, read, stream, run on, patch or delete user A's thread, and no token is 401. Serve refuses to
 * listen beyond loopback without auth (or warns with the opt-out), and SIGTERM ends it within seconds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { DEMO_INSTRUCTION } from "../../tools/demo/index.js";
import { testSchema } from "../helpers/postgres.js";
import { startServe, stopProcess } from "../helpers/serve.js";

const pg = testSchema("servesec");
const ORIGIN = "https://app.example";
const dir = mkdtempSync(join(tmpdir(), "alpha-umi-serve-security-"));
const children: ChildProcess[] = [];

/** LangGraph's documented example: bearer tokens to identities; every resource stamped with and filtered by its owner. */
const AUTH_MODULE = `import { Auth, HTTPException } from "@langchain/langgraph-sdk/auth";

const USERS = { "token-a": "user-a", "token-b": "user-b" };

export const auth = new Auth()
  .authenticate(async (request) => {
    const token = request.headers.get("authorization")?.split(" ").at(-1);
    const identity = token ? USERS[token] : undefined;
    if (!identity) throw new HTTPException(401, { message: "Invalid token" });
    return { identity, permissions: [] };
  })
  .on("*", ({ value, user }) => {
    if ("metadata" in value) {
      value.metadata ??= {};
      value.metadata.owner = user.identity;
    }
    return { owner: user.identity };
  });
`;

let plain: { url: string; child: ChildProcess };
let authed: string;

beforeAll(async () => {
  await pg.reach();
  // The auth module imports the SDK as a user's project does, from its own node_modules.
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "auth.mjs"), AUTH_MODULE);
  writeFileSync(join(dir, "auth.json"), JSON.stringify({ graphs: {}, auth: { path: "./auth.mjs:auth" } }));
  writeFileSync(join(dir, "cors.json"), JSON.stringify({ graphs: {}, http: { cors: { allow_origins: [ORIGIN] } } }));
  const [p, a] = await Promise.all([
    startServe(["--checkpoints", pg.url, "--config", join(dir, "cors.json")], 90_000),
    startServe(["--checkpoints", pg.url, "--config", join(dir, "auth.json")], 90_000),
  ]);
  children.push(p.child, a.child);
  plain = p;
  authed = a.url;
}, 200_000);

afterAll(async () => {
  await Promise.all(children.map((c) => stopProcess(c, "SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
  await pg.drop();
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

/** A refusal is JSON with one line saying why. */
async function oneLine(res: Response): Promise<string> {
  const { error } = (await res.json()) as { error: string };
  expect(error).toMatch(/^[^\n]+$/);
  return error;
}

describe("serve: HTTP hygiene", () => {
  it("a text/plain body (a page's no-cors fetch) is refused with 415 and creates no thread and no run", async () => {
    const { thread_id } = (await (await post(`${plain.url}/threads`, JSON.stringify({ metadata: { case: "plain" } }))).json()) as { thread_id: string };
    const run = JSON.stringify({ assistant_id: "alphaUmi", input: { instruction: DEMO_INSTRUCTION } });
    const count = async () => (await (await post(`${plain.url}/threads/count`, "{}")).json()) as number;
    const before = await count();
    for (const path of [`/threads/${thread_id}/runs/wait`, `/threads/${thread_id}/runs`, `/threads/${randomUUID()}/runs/stream`, "/runs/stream", "/threads"]) {
      const res = await fetch(`${plain.url}${path}`, { method: "POST", body: path === "/threads" ? "{}" : run, headers: { "content-type": "text/plain;charset=UTF-8" } });
      expect([path, res.status]).toEqual([path, 415]);
      expect(await oneLine(res)).toContain("application/json");
    }
    expect(await count()).toBe(before);
    const history = (await (await post(`${plain.url}/threads/${thread_id}/history`, "{}")).json()) as unknown[];
    expect(history).toEqual([]);
  });

  it("answers a preflight from an origin http.cors allows with CORS headers, and refuses any other origin", async () => {
    const preflight = (origin: string) =>
      fetch(`${plain.url}/threads`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const ok = await preflight(ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    expect(ok.headers.get("access-control-allow-headers")).toContain("content-type");
    const created = await post(`${plain.url}/threads`, "{}", { origin: ORIGIN });
    expect(created.status).toBe(200);
    expect(created.headers.get("access-control-allow-origin")).toBe(ORIGIN);

    const evil = await preflight("https://evil.example");
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(await oneLine(evil)).toContain("https://evil.example");
    expect((await post(`${plain.url}/threads`, "{}", { origin: "https://evil.example" })).status).toBe(403);
  });

  it("on loopback, refuses a Host that is not loopback (DNS rebinding)", async () => {
    const { port } = new URL(plain.url);
    // fetch will not send another Host; node:http will.
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((res, rej) => {
        import("node:http").then(({ request }) => {
          const r = request({ host: "127.0.0.1", port, path: "/ok", headers: { host } }, (m) => {
            let body = "";
            m.on("data", (d: Buffer) => (body += d));
            m.on("end", () => res({ status: m.statusCode!, body }));
          });
          r.on("error", rej);
          r.end();
        }, rej);
      });
    const evil = await get(`evil.example:${port}`);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toContain("evil.example");
    expect((await get(`localhost:${port}`)).status).toBe(200);
    expect((await get(`127.0.0.1:${port}`)).status).toBe(200);
  });

  it("refuses a body over the default limit with 413, and goes on serving", async () => {
    const res = await post(`${plain.url}/threads`, JSON.stringify({ metadata: { blob: "x".repeat(5 * 1024 * 1024) } }));
    expect(res.status).toBe(413);
    expect(await oneLine(res)).toContain("--body-limit");
    expect((await fetch(`${plain.url}/ok`)).status).toBe(200);
  });

  it("answers malformed JSON with 400 and one line, never 500", async () => {
    for (const path of ["/threads", "/threads/search", `/threads/${randomUUID()}/runs/stream`]) {
      const res = await post(`${plain.url}${path}`, '{"metadata": {');
      expect([path, res.status]).toEqual([path, 400]);
      expect(await oneLine(res)).toContain("not JSON");
    }
  });
});

describe("serve: LangGraph auth (auth.path) and owners", () => {
  const as = (token: string) => new Client({ apiUrl: authed, defaultHeaders: { authorization: `Bearer ${token}` } });
  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (e: { status?: number }) => e.status ?? -1,
    );

  it("refuses requests without a valid token with 401; the health check stays open", async () => {
    expect((await post(`${authed}/threads/search`, "{}")).status).toBe(401);
    const bad = await post(`${authed}/threads`, "{}", { authorization: "Bearer nope" });
    expect(bad.status).toBe(401);
    expect(await oneLine(bad)).toBe("Invalid token");
    expect((await fetch(`${authed}/ok`)).status).toBe(200);
  });

  it("user B cannot list, read, stream, run on, patch or delete user A's thread; A can", async () => {
    const a = as("token-a");
    const b = as("token-b");
    const thread = await a.threads.create({ metadata: { case: "owned" } });
    expect(thread.metadata).toMatchObject({ owner: "user-a", case: "owned" });
    await a.runs.wait(thread.thread_id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } });
    const id = thread.thread_id;

    expect(await b.threads.search({ metadata: { case: "owned" } })).toEqual([]);
    expect(await b.threads.search({ metadata: { owner: "user-a" } })).toEqual([]);
    expect(await b.threads.count({ metadata: { case: "owned" } })).toBe(0);
    const refused = {
      get: await status(b.threads.get(id)),
      state: await status(b.threads.getState(id)),
      history: await status(b.threads.getHistory(id)),
      update: await status(b.threads.update(id, { metadata: { case: "taken" } })),
      stream: await status((async () => { for await (const _ of b.runs.stream(id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } })); })()),
      wait: await status(b.runs.wait(id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } })),
      create: await status(b.runs.create(id, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION } })),
      join: await status((async () => { for await (const _ of b.runs.joinStream(id, randomUUID())); })()),
      cancel: await status(b.runs.cancel(id, randomUUID())),
      stateUpdate: await status(b.threads.updateState(id, { values: { instruction: "taken" } })),
      delete: await status(b.threads.delete(id)),
      // A thread of A's id cannot be created (and so replaced) by B.
      recreate: await status(b.threads.create({ threadId: id, metadata: { case: "taken" } })),
    };
    expect(refused).toEqual({ get: 404, state: 404, history: 404, update: 404, stream: 404, wait: 404, create: 404, join: 404, cancel: 404, stateUpdate: 404, delete: 404, recreate: 409 });
    const command = await post(`${authed}/threads/${id}/commands`, JSON.stringify({ id: 1, method: "run.start", params: { assistant_id: "alphaUmi", input: {} } }), {
      authorization: "Bearer token-b",
    });
    expect(command.status).toBe(404);

    // A's run is A's: B neither reads, lists, joins nor deletes it, not even by its id alone.
    const [run] = await a.runs.list(id);
    const runRefused = {
      get: await status(b.runs.get(id, run!.run_id)),
      list: await status(b.runs.list(id)),
      join: await status(b.runs.join(id, run!.run_id)),
      delete: await status(b.runs.delete(id, run!.run_id)),
      byId: await status((async () => { for await (const _ of b.runs.joinStream(null, run!.run_id)); })()),
    };
    expect(runRefused).toEqual({ get: 404, list: 404, join: 404, delete: 404, byId: 404 });
    expect(await a.runs.get(id, run!.run_id)).toMatchObject({ status: "success" });

    // Nothing of A's changed, and A reads all of it.
    const mine = await a.threads.get(id);
    expect(mine.metadata).toMatchObject({ owner: "user-a", case: "owned" });
    expect(mine.status).toBe("idle");
    expect((await a.threads.getHistory(id, { limit: 100 })).length).toBeGreaterThan(1);
    expect((await a.threads.search({ metadata: { case: "owned" } })).map((t) => t.thread_id)).toEqual([id]);
    expect(await a.threads.count({ metadata: { case: "owned" } })).toBe(1);
    // A thread a run creates belongs to whoever ran it, whatever metadata the client claimed.
    const fresh = randomUUID();
    await b.runs.wait(fresh, "alphaUmi", { input: { instruction: DEMO_INSTRUCTION }, ifNotExists: "create", metadata: { owner: "user-a" } });
    expect((await b.threads.get(fresh)).metadata).toMatchObject({ owner: "user-b" });
    expect(await status(a.threads.get(fresh))).toBe(404);
    await a.threads.delete(id);
    expect(await status(a.threads.get(id))).toBe(404);
  }, 60_000);
});

describe("serve: LangGraph auth on assistants", () => {
  const as = (token: string) => new Client({ apiUrl: authed, defaultHeaders: { authorization: `Bearer ${token}` } });
  const status = (p: Promise<unknown>) => p.then(() => 200, (e: { status?: number }) => e.status ?? 0);

  it("user B cannot find, read, update or delete user A's assistant; A can", async () => {
    const [a, b] = [as("token-a"), as("token-b")];
    const mine = await a.assistants.create({ graphId: "alphaUmi", name: "a's", config: { configurable: { maxSteps: 4 } }, metadata: { owner: "user-b", case: "owned-assistant" } });
    expect(mine.metadata).toMatchObject({ owner: "user-a" }); // stamped by the handler, whatever the client claimed
    expect(await status(b.assistants.get(mine.assistant_id))).toBe(404);
    expect((await b.assistants.search({ metadata: { case: "owned-assistant" } })).map((x) => x.assistant_id)).toEqual([]);
    expect(await status(b.assistants.update(mine.assistant_id, { name: "b's now" }))).toBe(404);
    expect(await status(b.assistants.delete(mine.assistant_id))).toBe(404);
    expect((await a.assistants.get(mine.assistant_id)).name).toBe("a's");
    expect((await a.assistants.search({ metadata: { case: "owned-assistant" } })).map((x) => x.assistant_id)).toEqual([mine.assistant_id]);
    await a.assistants.delete(mine.assistant_id);
    expect(await status(a.assistants.get(mine.assistant_id))).toBe(404);
  }, 60_000);
});

/** A serve that must not start: its exit code and what it printed. */
async function refusedServe(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve("src/cli/bin.ts"), "serve", "--checkpoints", pg.url, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  return { code, out: out.trim() };
}

describe("serve: listening beyond loopback, and stopping", () => {
  it("names a bad http.cors key of langgraph.json in one line (exit 2) instead of ignoring it", async () => {
    writeFileSync(join(dir, "typo.json"), JSON.stringify({ graphs: {}, http: { cors: { allowed_origins: [ORIGIN] } } }));
    const { code, out } = await refusedServe(["--config", join(dir, "typo.json")]);
    expect(code).toBe(2);
    expect(out).toMatch(/^[^\n]+$/);
    expect(out).toContain("http.cors");
  }, 60_000);

  it("refuses --host 0.0.0.0 without auth with one line (exit 2), and starts with --allow-unauthenticated and a warning", async () => {
    const { code, out } = await refusedServe(["--host", "0.0.0.0"]);
    expect(code).toBe(2);
    expect(out).toMatch(/^[^\n]+$/);
    expect(out).toContain("auth.path");
    expect(out).toContain("--allow-unauthenticated");

    const open = await startServe(["--checkpoints", pg.url, "--host", "0.0.0.0", "--allow-unauthenticated"], 90_000);
    children.push(open.child);
    expect(open.log()).toMatch(/warning: listening on 0\.0\.0\.0 without auth/);
    await stopProcess(open.child);
  }, 120_000);

  it("SIGTERM ends serve within seconds, even with an event stream open", async () => {
    const { thread_id } = (await (await post(`${plain.url}/threads`, "{}")).json()) as { thread_id: string };
    const stream = await post(`${plain.url}/threads/${thread_id}/stream/events`, JSON.stringify({ channels: ["values"] }));
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    void reader.read().catch(() => undefined);
    const started = Date.now();
    const exited = new Promise<void>((r) => plain.child.once("exit", () => r()));
    plain.child.kill("SIGTERM");
    await exited;
    expect(Date.now() - started).toBeLessThan(8_000);
    await reader.cancel().catch(() => undefined);
  }, 30_000);
});
