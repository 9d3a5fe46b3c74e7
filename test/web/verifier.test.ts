/**
 * The offline verifier page in a real browser (Debian's Chromium through playwright-core, no
 * network): built in-process, opened from file:// as an auditor would from a USB stick (and once
 * over loopback HTTP as `sios serve` does), fed real exported bundles. Every test also checks the
 * browser's request log: the page itself, blob: and data: URLs, nothing else.
 *
 * SIOS_SCREENSHOTS=1 also writes docs/screenshots/verifier-{ok,failed,entry}.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { buildVerifierHtml } from '../../scripts/build-web.ts';
import { launchChromium, type LaunchedChromium } from '../browser/chromium.ts';
import { makeBundle, otherKeyPem, tamperEntry, type FixtureBundle } from './bundle-fixture.ts';
import { nodeVerifyCrypto } from '../../src/crypto/node.ts';
import { parsePublicKey } from '../../src/crypto/pubkey-format.ts';
import { fingerprintForHumans } from '../../src/crypto/fingerprint.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { utf8 } from '../../src/encoding/bytes.ts';

const SHOTS = process.env['SIOS_SCREENSHOTS'] === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : undefined;

let dir = '';
let html = '';
let pageUrl = '';
let fx: FixtureBundle;
let bundlePath = '';
let keyPath = '';
let browser: LaunchedChromium | undefined;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-web-test-'));
  html = await buildVerifierHtml();
  const htmlPath = path.join(dir, 'verifier.html');
  fs.writeFileSync(htmlPath, html);
  pageUrl = pathToFileURL(htmlPath).href;
  // 40 intents sealed 8 at a time (group commit), every 9th left in doubt, two payloads disclosed.
  fx = await makeBundle({ intents: 40, concurrency: 8, doubtEvery: 9, disclose: [2, 5] });
  bundlePath = path.join(dir, `${fx.tenant}.bundle.jsonl`);
  keyPath = path.join(dir, 'operator.pub');
  fs.writeFileSync(bundlePath, fx.text);
  fs.writeFileSync(keyPath, fx.publicKeyPem);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Opened { page: Page; requests: string[]; errors: string[] }

/** A new page on `url`, logging every request (page and workers) and every page error. */
async function open(url = pageUrl): Promise<Opened> {
  const ctx = browser!.context;
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const requests: string[] = [];
  const errors: string[] = [];
  const onRequest = (r: { url(): string; frame(): unknown }) => requests.push(r.url());
  ctx.on('request', onRequest);
  page.on('websocket', (ws) => requests.push(ws.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.once('close', () => ctx.off('request', onRequest));
  await page.goto(url);
  return { page, requests, errors };
}

function assertOffline(o: Opened, url = pageUrl): void {
  const other = o.requests.filter((u) => u !== url && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(other, [], 'the page made network requests');
  assert.ok(o.requests.includes(url), 'the request log saw the page itself (so it is recording)');
  assert.deepEqual(o.errors, [], 'page errors or console errors');
}

async function addInputs(page: Page, bundle: string, key: string): Promise<void> {
  await page.setInputFiles('#bundle-file', bundle);
  await page.setInputFiles('#key-file', key);
}

async function runVerify(page: Page): Promise<string> {
  await page.waitForFunction(() => !(document.getElementById('verify') as HTMLButtonElement).disabled);
  await page.click('#verify');
  await page.waitForSelector('#verdict-word', { timeout: 30_000 });
  return (await page.textContent('#verdict-word')) ?? '';
}

const attr = async (page: Page, sel: string, name = 'data-value'): Promise<string | null> => page.getAttribute(sel, name);

test('file://: a real exported bundle VERIFIES, with fingerprint, summary, timeline, search and disclosures', async () => {
  const o = await open();
  const { page } = o;
  try {
    await addInputs(page, bundlePath, keyPath);
    await page.waitForSelector('.fingerprint');
    assert.equal(await page.getAttribute('#key-fp .fingerprint', 'data-fingerprint'), fx.fingerprint);
    assert.equal((await page.textContent('#key-fp .fingerprint'))?.trim(), fingerprintForHumans(fx.fingerprint), 'fingerprint shown in groups of four');
    assert.equal(await runVerify(page), 'VERIFIED');
    assert.equal(await page.textContent('#sum-tenant'), fx.tenant);
    assert.equal(await page.textContent('#sum-origin'), fx.origin);
    assert.equal(await attr(page, '#sum-entries'), String(fx.entries));
    const node = await verifyBundle(utf8(fx.text), { crypto: nodeVerifyCrypto, trustedKeys: [parsePublicKey(fx.publicKeyPem)] });
    assert.equal(node.ok, true);
    assert.equal(await attr(page, '#sum-checkpoints'), String(node.checkpoints.length), 'the same checkpoints as the CLI module in Node');
    assert.equal(await attr(page, '#sum-in-doubt'), String(fx.inDoubt.length));
    assert.equal(await attr(page, '#sum-disclosures'), '2');
    // Debian's Chromium has native ML-DSA-65; the page must use it where the browser has it.
    const native = await page.evaluate(async () => {
      // 'raw-public' (WICG WebCrypto modern algorithms) is newer than the DOM typings.
      const importKey = crypto.subtle.importKey.bind(crypto.subtle) as (f: string, k: BufferSource, a: { name: string }, e: boolean, u: string[]) => Promise<CryptoKey>;
      try { await importKey('raw-public', new Uint8Array(1952), { name: 'ML-DSA-65' }, false, ['verify']); return true; } catch { return false; }
    });
    assert.match((await page.textContent('#summary')) ?? '', native ? /WebCrypto \(native ML-DSA-65\)/ : /@noble\/post-quantum/);

    // Timeline: every entry, first page of 100 (or fewer).
    const rows = await page.locator('#tl-body tr').count();
    assert.equal(rows, Math.min(100, fx.entries));
    assert.match((await page.textContent('#tl-count')) ?? '', new RegExp(`^${fx.entries} entries`));
    // Search: the count must equal what the bundle holds for that skill (intents + their outcomes).
    const lines = fx.text.split('\n').slice(1, 1 + fx.entries).map((l) => JSON.parse(l) as { seq: number; kind: string; body: { skill?: string; intent?: { seq: number } } });
    const theirs = new Set(lines.filter((e) => e.kind === 'intent' && e.body.skill === 'labs.order').map((e) => e.seq));
    const expected = theirs.size + lines.filter((e) => e.kind === 'outcome' && theirs.has(e.body.intent?.seq ?? -1)).length;
    assert.ok(expected > 0);
    await page.fill('#search', 'LABS.order');
    await page.waitForFunction(() => /match/.test(document.getElementById('tl-count')?.textContent ?? ''));
    assert.match((await page.textContent('#tl-count')) ?? '', new RegExp(`^${expected} entr(y|ies) match$`));
    assert.equal(await page.locator('#tl-body tr').count(), expected);
    // In-doubt filter lists exactly the intents without an outcome.
    await page.fill('#search', '');
    await page.selectOption('#filter', 'in-doubt');
    await page.waitForFunction((n) => document.getElementById('tl-count')?.textContent?.startsWith(`${n} ent`), fx.inDoubt.length);
    const doubtSeqs = await page.locator('#tl-body tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq'))));
    assert.deepEqual(doubtSeqs, fx.inDoubt);
    // A disclosed payload is shown checked against its commitment.
    const disclosed = fx.disclosed[0] as number;
    await page.selectOption('#filter', 'all');
    await page.fill('#search', `#${disclosed}`);
    await page.waitForSelector(`#tl-body tr[data-seq="${disclosed}"] button`);
    await page.click(`#tl-body tr[data-seq="${disclosed}"] button`);
    await page.waitForSelector('#entry-dialog[open] .disclosure.ok');
    const dlg = (await page.textContent('#entry-dialog')) ?? '';
    assert.match(dlg, /matches its commitment/);
    assert.match(dlg, /"patient": "P-\d+"/);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'verifier-entry.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#entry-dialog', { state: 'hidden' });
    if (SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.fill('#search', '');
      await page.waitForFunction(() => document.querySelectorAll('#tl-body tr').length > 10);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, 'verifier-ok.png'), fullPage: true, clip: { x: 0, y: 0, width: 1440, height: 1750 } });
    }
    assertOffline(o);
  } finally {
    await page.close();
  }
});

test('file://: a tampered entry is FAILED at that entry, exactly as the CLI module finds it', async () => {
  const o = await open();
  const { page } = o;
  try {
    await page.setInputFiles('#key-file', keyPath);
    const last = fx.entries - 1;
    for (const k of [17, 0, last]) {
      const text = tamperEntry(fx.text, k);
      const file = path.join(dir, `tampered-${k}.jsonl`);
      fs.writeFileSync(file, text);
      const node = await verifyBundle(utf8(text), { crypto: nodeVerifyCrypto, trustedKeys: [parsePublicKey(fx.publicKeyPem)] });
      assert.equal(node.ok, false);
      assert.equal(node.failure?.seq, k, `the Node verifier locates entry ${k}`);
      await page.setInputFiles('#bundle-file', file);
      assert.equal(await runVerify(page), 'FAILED', `tampered entry ${k}`);
      assert.equal(await attr(page, '#fail-seq', 'data-seq'), String(k), `first bad entry ${k}`);
      assert.equal(await page.textContent('#fail-reason'), node.failure?.reason);
      assert.equal(await page.textContent('#fail-message'), node.failure?.message);
      // The bad entry is highlighted on the timeline page the page jumped to.
      await page.waitForSelector(`#tl-body tr.bad-row[data-seq="${k}"]`);
      if (k === 17 && SHOTS) {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: path.join(SHOTS, 'verifier-failed.png'), fullPage: true, clip: { x: 0, y: 0, width: 1440, height: 1750 } });
      }
    }
    assertOffline(o);
  } finally {
    await page.close();
  }
});

test('file://: a wrong operator key is refused; a malformed key is reported and cannot be used', async () => {
  const o = await open();
  const { page } = o;
  try {
    const wrong = path.join(dir, 'other.pub');
    fs.writeFileSync(wrong, otherKeyPem());
    await addInputs(page, bundlePath, wrong);
    assert.equal(await runVerify(page), 'FAILED');
    const node = await verifyBundle(utf8(fx.text), { crypto: nodeVerifyCrypto, trustedKeys: [parsePublicKey(otherKeyPem())] });
    assert.equal(await page.textContent('#fail-reason'), node.failure?.reason);
    assert.match(node.failure?.reason ?? '', /bad-signature|unknown-key/);
    assert.doesNotMatch((await page.textContent('#verdict')) ?? '', /VERIFIED/);

    await page.fill('#key-text', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----');
    await page.waitForSelector('#key-fp .key-error');
    assert.match((await page.textContent('#key-fp')) ?? '', /not an ML-DSA-65 public key|malformed/);
    assert.equal(await page.isDisabled('#verify'), true);
    assert.equal(await page.isHidden('#verdict'), true, 'a result for other inputs is not left on screen');
    // Pasting the right key (PEM text) makes it usable again.
    await page.fill('#key-text', fx.publicKeyPem);
    await page.waitForSelector(`#key-fp .fingerprint[data-fingerprint="${fx.fingerprint}"]`);
    assert.equal(await runVerify(page), 'VERIFIED');
    assertOffline(o);
  } finally {
    await page.close();
  }
});

test('file://: the bundled ML-DSA-65 (@noble/post-quantum) verifies too, and flags the tampered bundle', async () => {
  const o = await open();
  const { page } = o;
  try {
    await addInputs(page, bundlePath, keyPath);
    await page.locator('.options summary').click();
    await page.check('#use-bundled');
    assert.equal(await runVerify(page), 'VERIFIED');
    assert.match((await page.textContent('#summary')) ?? '', /@noble\/post-quantum/);
    const file = path.join(dir, 'tampered-noble.jsonl');
    fs.writeFileSync(file, tamperEntry(fx.text, 9));
    await page.setInputFiles('#bundle-file', file);
    assert.equal(await runVerify(page), 'FAILED');
    assert.equal(await attr(page, '#fail-seq', 'data-seq'), '9');
    assertOffline(o);
  } finally {
    await page.close();
  }
});

test('served over loopback HTTP (as `sios serve` does): verifies, and requests nothing but the page', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/verifier.html') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verifier.html`;
  const o = await open(url);
  try {
    await addInputs(o.page, bundlePath, keyPath);
    assert.equal(await runVerify(o.page), 'VERIFIED');
    assertOffline(o, url);
  } finally {
    await o.page.close();
    server.closeAllConnections(); // Chromium keeps the connection alive; close() alone would wait for it
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('keyboard only: reach the inputs, verify, open an entry and close it', async () => {
  const o = await open();
  const { page } = o;
  try {
    const reached = new Set<string>();
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
    }
    for (const id of ['bundle-file', 'key-text', 'key-file']) assert.ok(reached.has(id), `Tab reaches #${id} (reached ${[...reached].join(', ')})`);
    // A file chooser cannot be driven by keys in headless mode; the key is typed.
    await page.setInputFiles('#bundle-file', bundlePath);
    await page.focus('#key-text');
    await page.keyboard.insertText(fx.publicKeyPem);
    await page.waitForSelector('#key-fp .fingerprint');
    await page.waitForFunction(() => !(document.getElementById('verify') as HTMLButtonElement).disabled);
    await page.focus('#key-file');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'verify');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#verdict-word');
    assert.equal(await page.textContent('#verdict-word'), 'VERIFIED');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'verdict', 'focus moves to the verdict');
    await page.focus('#tl-body tr:first-child button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#entry-dialog[open]');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'entry-close');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#entry-dialog', { state: 'hidden' });
    // Every form control has an accessible name.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, textarea, select, button')]
      .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !(el.textContent ?? '').trim())
      .map((el) => el.id || el.outerHTML.slice(0, 60)));
    assert.deepEqual(unnamed, []);
    assertOffline(o);
  } finally {
    await page.close();
  }
});

test('the built page is self-contained: inline script and style only, a CSP that forbids fetching', () => {
  assert.doesNotMatch(html, /<script[^>]+src=/i);
  assert.doesNotMatch(html, /<link[^>]+href=/i);
  assert.doesNotMatch(html, /@import|url\(\s*['"]?(https?:|\/\/)/i);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
  assert.equal(html.match(/<script>/g)?.length, 1);
});
