// The evidence verifier runs unchanged in headless Chromium: real swtpm evidence, verified and
// tampered in the browser (the same module the verifier page bundles; no node: import, no Buffer).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { startSwtpm, type Swtpm } from './swtpm.ts';
import { launchChromium, type LaunchedChromium } from '../browser/chromium.ts';
import { Tpm2 } from '../../src/attestation/tpm.ts';
import { collectEvidence, measuredStart } from '../../src/attestation/evidence.ts';
import { quoteNonce, type DeviceIdentity, type TpmEvidence } from '../../src/attestation/verify-evidence.ts';
import { toHex, utf8 } from '../../src/encoding/bytes.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const MODULES = ['src/errors.ts', 'src/encoding/bytes.ts', 'src/encoding/jcs.ts', 'src/attestation/tpm-wire.ts', 'src/attestation/event-log.ts', 'src/attestation/verify-evidence.ts'];

describe('evidence verification in Chromium', () => {
  let sw: Swtpm | undefined, browser: LaunchedChromium | undefined, server: http.Server | undefined;
  let tmp: string, base: string;
  let identity: DeviceIdentity, evidence: TpmEvidence, nonce: Uint8Array;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sios-att-web-'));
    const root = path.join(tmp, 'install');
    mkdirSync(path.join(root, 'src'), { recursive: true });
    writeFileSync(path.join(root, 'src/main.ts'), 'main\n');
    sw = await startSwtpm();
    const tpm = new Tpm2({ tcti: sw.tcti, stateDir: path.join(tmp, 'state') });
    identity = await tpm.createIdentity();
    const m = await measuredStart(tpm, root, ['src']);
    nonce = await quoteNonce(new Uint8Array(32).fill(9), utf8('browser-challenge-0123456789'));
    evidence = await collectEvidence(tpm, identity, nonce, m);
    // Serve the verifier's modules, transpiled as-is (types erased, .ts imports -> .js), on loopback.
    const files = new Map<string, string>();
    for (const f of MODULES) {
      const out = ts.transpileModule(readFileSync(path.join(repo, f), 'utf8'), { compilerOptions: {
        module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true,
      } }).outputText;
      assert.doesNotMatch(out, /from ['"]node:/, `${f} imports a node: module`);
      files.set('/' + f.replace(/\.ts$/, '.js'), out);
    }
    server = http.createServer((req, res) => {
      const body = req.url === '/' ? '<!doctype html><title>verifier</title>' : files.get(req.url ?? '');
      if (body === undefined) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    browser = await launchChromium();
    await browser.page.goto(base + '/');
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await sw?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('verifies genuine evidence and names the failed check for tampered evidence', async () => {
    const results = await browser!.page.evaluate(async ({ evidence, identity, nonceHex }) => {
      const m = await import('/src/attestation/verify-evidence.js' as string) as typeof import('../../src/attestation/verify-evidence.ts');
      const nonce = new Uint8Array(nonceHex.match(/../g)!.map((h) => parseInt(h, 16)));
      const run = async (ev: unknown, n: Uint8Array): Promise<string> => {
        try { const r = await m.verifyEvidence(ev, { nonce: n, identity }); return `ok:${r.mode}`; } catch (e) { return `err:${(e as { check?: string }).check ?? String(e)}`; }
      };
      const other = nonce.slice(); other[0] = (other[0] as number) ^ 1;
      const pcrs = evidence.pcrs.map((p) => (p.pcr === 23 ? { pcr: 23, sha256: '00'.repeat(32) } : p));
      const sig = evidence.quote.signature;
      const flipped = (sig[10] === 'A' ? 'B' : 'A');
      return {
        genuine: await run(evidence, nonce),
        replay: await run(evidence, other),
        pcr: await run({ ...evidence, pcrs }, nonce),
        sig: await run({ ...evidence, quote: { ...evidence.quote, signature: sig.slice(0, 10) + flipped + sig.slice(11) } }, nonce),
        software: await run(m.softwareEvidence('no TPM'), nonce),
        hasBuffer: typeof (globalThis as { Buffer?: unknown }).Buffer !== 'undefined',
      };
    }, { evidence, identity, nonceHex: toHex(nonce) });
    assert.deepEqual(results, {
      genuine: 'ok:tpm2', replay: 'err:nonce-mismatch', pcr: 'err:pcr-digest-mismatch', sig: 'err:bad-signature', software: 'err:software-mode', hasBuffer: false,
    });
  });
});
