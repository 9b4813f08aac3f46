import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import { loadRun, renderHtml, renderMarkdown } from "../../src/eval/report.js";
import { readScoreRecords } from "../../src/eval/records.js";
import type { ScoreRecord } from "../../src/eval/score.js";
import { extractSteps } from "../../src/eval/steps.js";
import { readToolBenchFile } from "../../src/toolbenchDialogs.js";
import { DEMO_TEST_SET, METRICS_DIR, testShared } from "../helpers/shared.js";

const CHROMIUM = "/usr/bin/chromium";
const dir = mkdtempSync(join(tmpdir(), "eval-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The project's demo test set as predictions with two mistakes: step 0 calls a tool that does not exist, step 1
 * concludes where the reference calls.
 */
function demoRecords(): ScoreRecord[] {
  return extractSteps(readToolBenchFile(DEMO_TEST_SET)).map((s, i) => ({
    tools: s.tools,
    reference: s.reference,
    predictions:
      i === 0 ? s.reference.replace("Action: country_facts_for_atlas", "Action: population_for_nowhere")
      : i === 1 ? "assistant: I know it already. Next: conclusion.</s>conclusion: Tokyo"
      : s.reference,
  }));
}

/** Two runs: predictions with mistakes, and perfect ones, plus a prompt with HTML in it. */
function writeRuns(records: ScoreRecord[] = demoRecords(), names: [string, string] = ["noisy", "perfect"]): string[] {
  const noisy = records.map((r) => ({ ...r, model_input: "<script>alert(1)</script> prompt" }));
  const perfect = records.map((r) => ({ ...r, predictions: r.reference }));
  return [
    [names[0], noisy],
    [names[1], perfect],
  ].map(([name, recs]) => {
    const d = join(dir, name as string);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "predictions.json"), JSON.stringify(recs));
    return d;
  });
}

/** Distinct byte values in a PNG's decompressed pixel data: a blank image has a handful, a chart many. */
function pixelVariety(png: Buffer): number {
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    if (png.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  return new Set(inflateSync(Buffer.concat(idat))).size;
}

test("the report holds a metrics table, one chart per metric and escaped failures; Markdown beside it", () => {
  const runs = writeRuns().map(loadRun);
  const html = renderHtml(runs);
  expect(html).not.toMatch(/<script|<link|(src|href)="/); // self-contained: nothing to load
  expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  expect(html.match(/<svg /g)).toHaveLength(7);
  expect(html).toMatch(/Hallucinated tool names \(1\)/);
  expect(html).toContain("population_for_nowhere");
  expect(renderMarkdown(runs)).toContain("| Plan ACC (`plan_em`) | 94.12 | 100.00 |"); // 16 of 17 plans
});

testShared(METRICS_DIR, "on the public predictions: the reference scorer's plan accuracy and hallucination count", () => {
  const runs = writeRuns(readScoreRecords(join(METRICS_DIR, "public_first60_seed1.predictions.json"))).map(loadRun);
  expect(renderHtml(runs)).toMatch(/Hallucinated tool names \(9\)/);
  expect(renderMarkdown(runs)).toContain("| Plan ACC (`plan_em`) | 87.68 | 100.00 |");
});

const haveChromium = existsSync(CHROMIUM);
const LONG = ["alpha-umi-7b-planner-lora-r16", "single-llm-baseline-7b-r16"] as [string, string];

test("every chart names its runs whole under their bars and in a legend of its own", () => {
  const html = renderHtml(writeRuns(undefined, LONG).map(loadRun));
  const figures = html.match(/<figure>.*?<\/figure>/gs)!;
  expect(figures).toHaveLength(7);
  for (const f of figures) {
    expect([...f.matchAll(/<text class="bar-label"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(LONG);
    expect([...f.matchAll(/<span><i class="swatch"[^>]*><\/i>([^<]*)<\/span>/g)].map((m) => m[1])).toEqual(LONG);
  }
});

(haveChromium ? test : test.skip)(
  haveChromium ? "chart labels show each run's whole name, apart and inside the chart, with a legend per chart" : `SKIPPED: no ${CHROMIUM} (run .ci/install-chromium.sh)`,
  async () => {
    const file = join(dir, "labels.html");
    writeFileSync(file, renderHtml(writeRuns(undefined, LONG).map(loadRun)));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto("file://" + file);
      const figures = await page.locator(".charts figure").evaluateAll((figs) =>
        figs.map((f) => {
          const box = f.querySelector("svg")!.getBoundingClientRect();
          const labels = [...f.querySelectorAll("text.bar-label")].map((t) => ({ text: t.firstChild!.textContent, box: t.getBoundingClientRect() }));
          const legend = [...f.querySelectorAll(".legend span")].map((s) => s.textContent);
          return { svg: { left: box.left, right: box.right, top: box.top, bottom: box.bottom }, labels: labels.map((l) => ({ text: l.text, left: l.box.left, right: l.box.right, top: l.box.top, bottom: l.box.bottom })), legend };
        }),
      );
      expect(figures).toHaveLength(7);
      for (const f of figures) {
        expect(f.labels.map((l) => l.text)).toEqual(LONG);
        expect(f.legend).toEqual(LONG);
        for (const l of f.labels) {
          expect(l.left).toBeGreaterThanOrEqual(f.svg.left);
          expect(l.right).toBeLessThanOrEqual(f.svg.right + 0.5);
          expect(l.bottom).toBeLessThanOrEqual(f.svg.bottom + 0.5);
        }
        // Slanted labels side by side: the second starts below-right of the first's baseline, so their texts do not meet.
        const [a, b] = f.labels;
        expect(b!.right).toBeGreaterThan(a!.right);
      }
    } finally {
      await browser.close();
    }
  },
);

(haveChromium ? test : test.skip)(
  haveChromium ? "the HTML report opens in headless Chromium and shows its charts (screenshot)" : `SKIPPED: no ${CHROMIUM} (run .ci/install-chromium.sh)`,
  async () => {
    const file = join(dir, "report.html");
    writeFileSync(file, renderHtml(writeRuns().map(loadRun)));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto("file://" + file);
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]); // nothing fetched: it opens offline
      const bars = page.locator("svg rect.bar");
      expect(await bars.count()).toBe(14); // 7 metrics × 2 runs
      expect(await page.locator("svg").first().isVisible()).toBe(true);
      const heights = await bars.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
      expect(heights.filter((h) => h > 10).length).toBeGreaterThanOrEqual(10);
      const charts = await page.locator(".charts").screenshot();
      writeFileSync(join(dir, "charts.png"), charts);
      expect(pixelVariety(charts)).toBeGreaterThan(20);
    } finally {
      await browser.close();
    }
  },
);
