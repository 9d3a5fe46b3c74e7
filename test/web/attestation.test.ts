/**
 * Issue 8 on the offline verifier page, in real Chromium: a tenant bundle exported from a deployment
 * bound to a real TPM 2.0 (swtpm), with its {"evidence": …} lines, VERIFIES and shows the tpm2 line
 * with the measurement; one byte of evidence altered is FAILED with reason bad-evidence, exactly as
 * the CLI's functions in Node find it; a software-mode deployment's bundle is shown as unattested.
 *
 * SIOS_SCREENSHOTS=1 also writes docs/screenshots/verifier-tpm.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { buildVerifierHtml } from '../../scripts/build-web.ts';
import { launchChromium, type LaunchedChromium } from '../browser/chromium.ts';
import { startSwtpm, type Swtpm } from '../attestation/swtpm.ts';
import { Deployment, initDeployment } from '../../src/deployment/deployment.ts';
import { evidenceForCheckpoints } from '../../src/deployment/attested.ts';
import { layout } from '../../src/deployment/layout.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { nodeVerifyCrypto } from '../../src/crypto/node.ts';
import { publicKeyToPem } from '../../src/crypto/pubkey-format.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { verifyBundle, type VerifyReport } from '../../src/ledger/verify.ts';
import { missingEvidence, verifyCheckpointEvidence } from '../../src/attestation/checkpoint-evidence.ts';
import { utf8 } from '../../src/encoding/bytes.ts';

const PASS = 'correct horse battery staple';
const SHOTS = process.env['SIOS_SCREENSHOTS'] === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : undefined;

let tmp = '';
let pageUrl = '';
let sw: Swtpm | undefined;
let browser: LaunchedChromium | undefined;
let measurement = '';
const files = { tpm: '', tpmKey: '', tampered: '', soft: '', softKey: '' };
let tamperedText = '';
let tpmKeyRaw: Uint8Array;

/** A few entries in tenant 'ward' of the deployment at `dir`, exported as `sios ledger export` does. */
async function sealAndExport(dir: string, d: Deployment, attested: boolean): Promise<string> {
  await d.createTenant('ward', 'op');
  for (let i = 0; i < 4; i++) await d.ledger('ward').seal({ kind: 'admin', body: { action: 'note', i } });
  await d.attestation?.idle();
  const origin = d.originOf('ward');
  const publicKeys = [d.signer.publicKey];
  await d.close();
  const store = d.ledgerStore('ward');
  let text = '';
  try {
    exportBundle(store, {
      origin, tenant: 'ward', crypto: nodeVerifyCrypto, publicKeys,
      ...(attested ? { evidenceFor: (n: readonly string[]) => evidenceForCheckpoints(layout(dir).systemDb, n) } : {}),
    }, (c) => { text += c; });
  } finally { store.close(); }
  return text;
}

/** The CLI's verification (same functions, in Node), for comparison with what the page shows. */
async function nodeVerify(text: string, key: Uint8Array): Promise<VerifyReport> {
  const verified = new Set<string>();
  const rep = await verifyBundle(utf8(text), {
    crypto: nodeVerifyCrypto, trustedKeys: [key],
    verifyEvidence: async (ev, ctx) => {
      const r = await verifyCheckpointEvidence(nodeVerifyCrypto, ev, { checkpoints: ctx.checkpoints });
      verified.add(r.digest);
      return r.summary;
    },
  });
  if (rep.ok && missingEvidence(rep.checkpoints, verified)) rep.ok = false;
  return rep;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-web-att-'));
  const install = path.join(tmp, 'install');
  // A tiny installation to measure (src/, bin/, package-lock.json), as test/attestation does.
  for (const d of ['src', 'bin']) fs.mkdirSync(path.join(install, d), { recursive: true });
  fs.writeFileSync(path.join(install, 'src', 'main.ts'), 'export const v = 1;\n');
  fs.writeFileSync(path.join(install, 'bin', 'sios.mjs'), '// entry\n');
  fs.writeFileSync(path.join(install, 'package-lock.json'), '{}\n');
  sw = await startSwtpm();

  // TPM deployment: initDeployment with opts.tpm, opened with the passphrase (unsealed by the TPM).
  const tdir = path.join(tmp, 'tpm-data');
  const p = passphraseProtector(PASS);
  const init = await initDeployment(tdir, [p], { id: 'ward-site', tpm: { tcti: sw.tcti, passphrase: PASS, installRoot: install } });
  p.dispose();
  assert.ok(init.measurement);
  measurement = init.measurement;
  const td = await Deployment.open(tdir, { passphrase: PASS }, { installRoot: install, refreshCheckpoints: 3 });
  tpmKeyRaw = td.signer.publicKey;
  const tpmText = await sealAndExport(tdir, td, true);

  // One byte of the first evidence object altered: a hex digit of a quoted PCR value.
  const lines = tpmText.split('\n');
  const i = lines.findIndex((l) => l.startsWith('{"evidence":'));
  assert.ok(i > 0, 'the TPM bundle carries evidence lines');
  const at = (lines[i] as string).indexOf('"sha256":"') + '"sha256":"'.length;
  const ch = (lines[i] as string)[at] === '0' ? '1' : '0';
  lines[i] = (lines[i] as string).slice(0, at) + ch + (lines[i] as string).slice(at + 1);
  tamperedText = lines.join('\n');
  assert.equal(tamperedText.length, tpmText.length);
  assert.notEqual(tamperedText, tpmText);

  // Software deployment: no TPM, every checkpoint says so.
  const sdir = path.join(tmp, 'soft-data');
  const sp = passphraseProtector(PASS);
  await initDeployment(sdir, [sp], { id: 'soft-site' });
  const sd = await Deployment.open(sdir, sp);
  const softKey = sd.signer.publicKey;
  const softText = await sealAndExport(sdir, sd, false);
  sp.dispose();

  files.tpm = path.join(tmp, 'ward-tpm.sios-bundle');
  files.tampered = path.join(tmp, 'ward-tampered.sios-bundle');
  files.soft = path.join(tmp, 'ward-soft.sios-bundle');
  files.tpmKey = path.join(tmp, 'tpm-operator.pub');
  files.softKey = path.join(tmp, 'soft-operator.pub');
  fs.writeFileSync(files.tpm, tpmText);
  fs.writeFileSync(files.tampered, tamperedText);
  fs.writeFileSync(files.soft, softText);
  fs.writeFileSync(files.tpmKey, publicKeyToPem(tpmKeyRaw));
  fs.writeFileSync(files.softKey, publicKeyToPem(softKey));

  const htmlPath = path.join(tmp, 'verifier.html');
  fs.writeFileSync(htmlPath, await buildVerifierHtml());
  pageUrl = pathToFileURL(htmlPath).href;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await sw?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function verifyIn(page: Page, bundle: string, key: string): Promise<string> {
  await page.setInputFiles('#bundle-file', bundle);
  await page.setInputFiles('#key-file', key);
  await page.waitForFunction(() => !(document.getElementById('verify') as HTMLButtonElement).disabled);
  await page.click('#verify');
  await page.waitForSelector('#verdict-word', { timeout: 60_000 });
  return (await page.textContent('#verdict-word')) ?? '';
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(pageUrl);
  return { page, errors };
}

test('TPM-attested bundle VERIFIES with the tpm2 line; one altered evidence byte is FAILED bad-evidence', async () => {
  const node = await nodeVerify(fs.readFileSync(files.tpm, 'utf8'), tpmKeyRaw);
  assert.equal(node.ok, true, node.failure?.message);
  const { page, errors } = await newPage();
  try {
    assert.equal(await verifyIn(page, files.tpm, files.tpmKey), 'VERIFIED');
    const att = page.locator('#sum-attestation li');
    const n = await att.count();
    assert.ok(n >= 1);
    for (let k = 0; k < n; k++) {
      assert.equal(await att.nth(k).getAttribute('data-mode'), 'tpm2');
      assert.match((await att.nth(k).textContent()) ?? '', new RegExp(`tpm2: quote verified, AK bound to EK, measurement ${measurement}$`));
    }
    // The ranges cover every entry, in order, with every checkpoint counted.
    const text = (await page.textContent('#sum-attestation')) ?? '';
    assert.match(text, /^entries 0–/);
    assert.match(text, new RegExp(`–${node.entries - 1} · `));
    assert.match((await page.textContent('#verdict')) ?? '', /Every checkpoint carries TPM 2\.0 evidence, verified\./);
    if (SHOTS) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, 'verifier-tpm.png'), clip: { x: 0, y: 0, width: 1440, height: 1100 }, fullPage: true });
    }

    const bad = await nodeVerify(tamperedText, tpmKeyRaw);
    assert.equal(bad.failure?.reason, 'bad-evidence');
    assert.equal(await verifyIn(page, files.tampered, files.tpmKey), 'FAILED');
    assert.equal(await page.textContent('#fail-reason'), 'bad-evidence');
    assert.equal(await page.textContent('#fail-message'), bad.failure?.message, 'the same check fails as in the CLI');
    assert.ok(await page.locator('.verdict.failed').isVisible());
    assert.doesNotMatch((await page.textContent('#sum-attestation')) ?? '', /quote verified/, 'nothing is shown as verified');
    assert.match((await page.textContent('#sum-attestation li.att-bad')) ?? '', /does NOT verify \(bad-evidence/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('software-mode bundle VERIFIES and is shown explicitly as unattested software mode', async () => {
  const { page, errors } = await newPage();
  try {
    assert.equal(await verifyIn(page, files.soft, files.softKey), 'VERIFIED');
    assert.equal(await page.getAttribute('#sum-attestation', 'data-modes'), 'software');
    assert.match((await page.textContent('#sum-attestation')) ?? '', /unattested software mode/);
    assert.doesNotMatch((await page.textContent('#summary')) ?? '', /quote verified/);
    assert.match((await page.textContent('#verdict')) ?? '', /Not hardware-attested/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
