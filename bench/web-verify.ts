/**
 * Benchmark: the offline verifier page on a 100,000-entry bundle in headless Chromium.
 *
 *   node bench/web-verify.ts [intents]      (default 50,000 intents + their outcomes ≈ 100,000 entries)
 *
 * Builds a real bundle (real Ledger, SQLite store, ML-DSA-65 group commit, exportBundle), opens the
 * built page from file://, and verifies it through the UI. While it verifies, a probe on the page's
 * main thread (setInterval every 10 ms, and requestAnimationFrame) records the longest gap between
 * callbacks: that is how long the page was unresponsive. Also times a search over all rows.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { buildVerifierHtml } from '../scripts/build-web.ts';
import { launchChromium } from '../test/browser/chromium.ts';
import { makeBundle, tamperEntry } from '../test/web/bundle-fixture.ts';

const intents = Number(process.argv[2] ?? 50_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-web-bench-'));

interface Run { pageMs: number; workerMs: number; phases: Record<string, number>; maxIntervalGap: number; maxFrameGap: number; frames: number; verdict: string; crypto: string }

async function verifyOnce(page: Page, bundle: string, bundled: boolean): Promise<Run> {
  await page.setInputFiles('#bundle-file', bundle);
  await page.evaluate(() => { (document.querySelector('details.options') as HTMLDetailsElement).open = true; });
  await page.setChecked('#use-bundled', bundled);
  await page.waitForFunction(() => !(document.getElementById('verify') as HTMLButtonElement).disabled);
  await page.evaluate(() => {
    const w = window as unknown as { __probe: { stop: boolean; maxI: number; maxF: number; frames: number; click: number; verdict: number } };
    const p = w.__probe = { stop: false, maxI: 0, maxF: 0, frames: 0, click: 0, verdict: 0 };
    // In-page timing, click to verdict on screen (Playwright's own polling adds latency on a busy CPU).
    document.getElementById('verify')?.addEventListener('click', () => { p.click = performance.now(); }, { once: true, capture: true });
    const verdict = document.getElementById('verdict') as HTMLElement;
    new MutationObserver((_, obs) => {
      if (!verdict.hidden && document.getElementById('verdict-word')) { p.verdict = performance.now(); obs.disconnect(); }
    }).observe(verdict, { childList: true, attributes: true, subtree: true });
    let lastI = performance.now();
    const iv = setInterval(() => { const t = performance.now(); p.maxI = Math.max(p.maxI, t - lastI); lastI = t; if (p.stop) clearInterval(iv); }, 10);
    let lastF = performance.now();
    const frame = (t: number): void => { p.maxF = Math.max(p.maxF, t - lastF); lastF = t; p.frames++; if (!p.stop) requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  });
  await page.click('#verify');
  await page.waitForSelector('#verdict-word', { timeout: 120_000 });
  const probe = await page.evaluate(() => {
    const w = window as unknown as { __probe: { stop: boolean; maxI: number; maxF: number; frames: number; click: number; verdict: number } };
    w.__probe.stop = true;
    return w.__probe;
  });
  const summary = (await page.textContent('#summary')) ?? '';
  return {
    pageMs: probe.verdict - probe.click,
    workerMs: Number(await page.getAttribute('#sum-rate', 'data-ms')),
    phases: JSON.parse((await page.getAttribute('#sum-rate', 'data-phases')) ?? '{}') as Record<string, number>,
    maxIntervalGap: probe.maxI, maxFrameGap: probe.maxF, frames: probe.frames,
    verdict: await page.evaluate(() => (document.getElementById('verdict-word')?.textContent ?? '') + (document.getElementById('fail-seq')?.textContent ?? '')),
    crypto: /WebCrypto \(native ML-DSA-65\)|@noble\/post-quantum/.exec(summary)?.[0] ?? '?',
  };
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

try {
  let t = performance.now();
  const fx = await makeBundle({ intents, concurrency: 512, doubtEvery: 997, disclose: [3, 10, 400] });
  const genMs = performance.now() - t;
  const bundlePath = path.join(dir, 'bundle.jsonl');
  const tamperedPath = path.join(dir, 'tampered.jsonl');
  const mid = Math.floor(fx.entries / 2);
  fs.writeFileSync(bundlePath, fx.text);
  fs.writeFileSync(tamperedPath, tamperEntry(fx.text, mid));
  fs.writeFileSync(path.join(dir, 'operator.pub'), fx.publicKeyPem);
  t = performance.now();
  const html = await buildVerifierHtml();
  const buildMs = performance.now() - t;
  fs.writeFileSync(path.join(dir, 'verifier.html'), html);
  process.stdout.write(`bundle: ${fmt(fx.entries)} entries, ${fmt(fx.text.length / 1048576, 1)} MiB, built in ${fmt(genMs / 1000, 1)} s; page: ${fmt(html.length / 1024)} KiB, built in ${fmt(buildMs)} ms\n\n`);

  const browser = await launchChromium();
  const rows: [string, Run][] = [];
  let searchMs = 0;
  let searchCount = '';
  try {
    const page = await browser.page.context().newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(pathToFileURL(path.join(dir, 'verifier.html')).href);
    await page.setInputFiles('#key-file', path.join(dir, 'operator.pub'));
    await page.waitForSelector('#key-fp .fingerprint');
    for (let i = 1; i <= 3; i++) rows.push([`valid, native ML-DSA (run ${i})`, await verifyOnce(page, bundlePath, false)]);
    // Search over every row, from typing to the table showing the result.
    t = performance.now();
    await page.fill('#search', 'labs.order error');
    await page.waitForFunction(() => /match/.test(document.getElementById('tl-count')?.textContent ?? ''));
    searchMs = performance.now() - t;
    searchCount = (await page.textContent('#tl-count')) ?? '';
    await page.fill('#search', '');
    rows.push(['valid, bundled @noble ML-DSA', await verifyOnce(page, bundlePath, true)]);
    rows.push([`entry ${fmt(mid)} altered, native`, await verifyOnce(page, tamperedPath, false)]);
    await page.close();
  } finally {
    await browser.close();
  }

  const head = ['run', 'verdict', 'ML-DSA', 'page ms', 'worker ms', 'entries/s', 'read', 'entries', 'sigs+roots', 'index', 'max main gap', 'max frame gap'];
  const table = rows.map(([name, r]) => [
    name, r.verdict, r.crypto.replace('WebCrypto (native ML-DSA-65)', 'native').replace('@noble/post-quantum', 'noble'),
    fmt(r.pageMs), fmt(r.workerMs), r.verdict.startsWith('VERIFIED') ? fmt(fx.entries / (r.pageMs / 1000)) : '—',
    fmt(r.phases['read'] ?? 0), fmt(r.phases['entries'] ?? 0), fmt(r.phases['signatures'] ?? 0), fmt(r.phases['index'] ?? 0),
    `${fmt(r.maxIntervalGap)} ms`, `${fmt(r.maxFrameGap)} ms`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  process.stdout.write(line(head) + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n' + table.map(line).join('\n') + '\n\n');
  process.stdout.write(`search "labs.order error" over ${fmt(fx.entries)} rows: ${fmt(searchMs)} ms to the table (${searchCount})\n`);
  process.stdout.write('page ms: click on Verify to the verdict on screen (entries/s is computed from it); worker ms: inside the worker, file read to report\n');
  process.stdout.write('max main gap: longest pause between 10 ms setInterval ticks on the page while verifying (the page stays responsive when this is small)\n');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
