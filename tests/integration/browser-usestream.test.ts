/**
 * A web app on `alpha-umi serve` as LangChain's docs build one — `useStream` from `@langchain/langgraph-sdk/react`
 * (tests/browser/main.tsx, built with Vite) — in headless Chromium, on another origin allowed by langgraph.json's
 * `http.cors`. Serve holds every tool call for approval (`--approve`); the page sends the demo question, shows each
 * call, approves it from a button and shows the answer. A reload while a run streams (the calculator takes
 * CALCULATOR_MS) rejoins that run (reconnectOnMount: the run id in sessionStorage, the run going on meanwhile).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { Redis } from "ioredis";
import { chromium, type Browser, type Page } from "playwright-core";
import { DEMO_SCRIPT } from "../../tools/demo/script.js";
import { testSchema } from "../helpers/postgres.js";
import { startServe, stopProcess } from "../helpers/serve.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const ANSWER = DEMO_SCRIPT.summarizer[0]!;
/** The demo's calls, in order (the caller's `Action:` lines). */
const CALLS = DEMO_SCRIPT.caller.map((c) => /^Action: (\S+)/.exec(c)![1]!);

const dir = mkdtempSync(join(tmpdir(), "browser-usestream-"));
const pg = testSchema("browser");
/** The runs' queue and event streams under this test run's own Redis prefix. */
const PREFIX = `t-browser-${pg.schema}`;
const QUEUE = `redis://127.0.0.1:6379?prefix=${PREFIX}`;
let site: Server;
let serve: ChildProcess | undefined;
let browser: Browser | undefined;
let pageUrl: string;

/** `vite build` of tests/browser into `out`. */
function buildPage(out: string): Promise<void> {
  const child = spawn(process.execPath, [resolve("node_modules/vite/bin/vite.js"), "build", "--config", "tests/browser/vite.config.ts", "--outDir", out], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  return new Promise((res, rej) => child.once("exit", (code) => (code === 0 ? res() : rej(new Error(`vite build exited with ${code}:\n${log}`)))));
}

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

/** The built page as a static site on its own origin. */
function serveStatic(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, "http://x").pathname)); // "/.." stays at the root
    const file = join(root, path === "/" ? "index.html" : path);
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((res) => server.listen(0, "127.0.0.1", () => res(server)));
}

beforeAll(async () => {
  if (!haveChromium) return;
  const out = join(dir, "page");
  site = await serveStatic(out);
  const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const config = join(dir, "langgraph.json");
  writeFileSync(config, JSON.stringify({ http: { cors: { allow_origins: [origin] } } }));
  await pg.reach();
  const [started] = await Promise.all([
    startServe(["--checkpoints", pg.url, "--queue", QUEUE, "--config", config, "--tools", "module:tests/helpers/slowDemoTools.ts", "--approve"]),
    buildPage(out),
    chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] }).then((b) => (browser = b)),
  ]);
  serve = started.child;
  pageUrl = `${origin}/?api=${encodeURIComponent(started.url)}`;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (serve) await stopProcess(serve);
  site?.close();
  await pg.drop();
  if (haveChromium) {
    const redis = new Redis("redis://127.0.0.1:6379");
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh page (its own sessionStorage) on the app; what it logs as errors is kept for failure messages. */
async function openApp(): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser!.newContext()).newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(pageUrl);
  return { page, errors };
}

async function ask(page: Page): Promise<void> {
  await page.locator("#question").fill(DEMO_SCRIPT.instruction);
  await page.getByRole("button", { name: "Send" }).click();
}

/** Wait for the held call `name` (its tool call shown in the chat too) and approve it from its button. */
async function approve(page: Page, name: string): Promise<void> {
  const held = page.locator(`.held-call[data-name="${name}"]`);
  await held.waitFor();
  expect(await page.locator(`#messages .tool-call[data-name="${name}"]`).count()).toBe(1);
  await held.getByRole("button", { name: "Approve" }).click();
}

/** Wait until an expression of the page (written for the browser: this project's types have no DOM) has a value. */
const inPage = (page: Page, expression: string) => page.waitForFunction(expression).then((h) => h.jsonValue() as Promise<string>);

/** The answer the page shows, or the error it shows instead (never a wait to the test's timeout on an error). */
async function outcome(page: Page): Promise<{ answer: string | null; error: string | null }> {
  await page.locator("#answer, #error").first().waitFor();
  const text = async (sel: string) => ((await page.locator(sel).count()) ? await page.locator(sel).textContent() : null);
  return { answer: await text("#answer"), error: await text("#error") };
}

(haveChromium ? describe : describe.skip)(haveChromium ? "useStream in a browser on serve" : `SKIPPED: no ${CHROMIUM} (run .ci/install-chromium.sh)`, () => {
  it("sends the demo question, shows each tool call, approves each held call from its button and shows the answer", async () => {
    const { page, errors } = await openApp();
    await ask(page);
    for (const name of CALLS) await approve(page, name);
    expect({ ...(await outcome(page)), errors }).toEqual({ answer: ANSWER, error: null, errors: [] });
    expect(await page.locator("#messages .tool-call").evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual(CALLS);
    expect(await page.locator("#messages .tool-result").evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual(CALLS);
    expect(await page.locator("#messages .human").textContent()).toContain(DEMO_SCRIPT.instruction);
    expect(await page.locator("#approval").count()).toBe(0);
  }, 60_000);

  it("a reload while the approved call runs rejoins the run (reconnectOnMount) and reaches the answer", async () => {
    const { page, errors } = await openApp();
    await ask(page);
    for (const name of CALLS) await approve(page, name);
    // The calculator's run is streaming: useStream keeps its id under the thread until the stream ends.
    const thread = await inPage(page, `new URLSearchParams(location.search).get("thread")`);
    const stored = `sessionStorage.getItem("lg:stream:${thread}")`;
    const runId = await inPage(page, stored);
    const rejoined = page.waitForRequest((r) => r.method() === "GET" && r.url().includes(`/threads/${thread}/runs/${runId}/stream`));
    await page.reload();
    await rejoined;
    expect({ ...(await outcome(page)), errors }).toEqual({ answer: ANSWER, error: null, errors: [] });
    expect(await page.locator("#messages .tool-result").evaluateAll((els) => els.map((e) => e.getAttribute("data-name")))).toEqual(CALLS);
    expect(await page.evaluate(stored)).toBeNull(); // the run's stream ended
  }, 60_000);
});
