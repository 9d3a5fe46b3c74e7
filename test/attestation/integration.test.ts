/**
 * Issue 8 end to end against real swtpm simulators: `sios init --tpm`, opening (measured start,
 * identity check, TPM unseal), checkpoint evidence, export with evidence lines, `sios verify` with
 * the evidence checked, tampered evidence, a data folder copied to another TPM, and a changed SIOS
 * file refused until `sios attest reseal`. The CLI runs from a copy of the installation (src/, bin/,
 * package-lock.json), so editing a measured file never touches the real repository.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSwtpm, type Swtpm } from './swtpm.ts';
import { Deployment, initDeployment } from '../../src/deployment/deployment.ts';
import { evidenceForCheckpoints } from '../../src/deployment/attested.ts';
import { layout } from '../../src/deployment/layout.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { nodeVerifyCrypto } from '../../src/crypto/node.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { verifyBundle, type VerifyReport } from '../../src/ledger/verify.ts';
import { missingEvidence, verifyCheckpointEvidence } from '../../src/attestation/checkpoint-evidence.ts';
import { SiosError } from '../../src/errors.ts';

const REPO = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const NODE = process.execPath;
const PASS = 'correct horse battery staple';

/** Runs a CLI command from the installation copy; `attest` is loaded directly until main.ts lists it. */
const RUNNER = `import { SiosError } from './src/errors.ts';
const [name, ...rest] = process.argv.slice(2);
if (name === 'attest') {
  const { parseArgs } = await import('./src/cli/args.ts');
  const { command } = await import('./src/cli/commands/attest.ts');
  try { process.exitCode = await command.run(parseArgs(command, rest)); }
  catch (e) { process.stderr.write('sios attest: ' + e.message + (e instanceof SiosError ? ' [' + e.code + ']' : '') + '\\n'); process.exitCode = 2; }
} else {
  const { main } = await import('./src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
`;

function sios(install: string, data: string, argv: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', path.join(install, 'run.mjs'), ...argv, ...(argv[0] === 'verify' ? [] : ['--data', data])], {
    encoding: 'utf8', env: { ...process.env, SIOS_PASSPHRASE: PASS }, timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tinyInstall(dir: string): string {
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'main.ts'), 'export const v = 1;\n');
  writeFileSync(path.join(dir, 'bin', 'sios.mjs'), '// entry\n');
  writeFileSync(path.join(dir, 'package-lock.json'), '{}\n');
  return dir;
}

function isSios(code: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SiosError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };
}

describe('TPM-bound deployment (swtpm)', () => {
  let swA: Swtpm, swB: Swtpm;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sios-attested-'));
    [swA, swB] = await Promise.all([startSwtpm(), startSwtpm()]);
  });
  after(async () => {
    await Promise.all([swA?.stop(), swB?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('API: init --tpm, open, evidence on checkpoints refreshed every N, exported tenant bundle verifies; tampering fails', async () => {
    const install = tinyInstall(path.join(tmp, 'api-install'));
    const dir = path.join(tmp, 'api-data');
    const p = passphraseProtector(PASS);
    const init = await initDeployment(dir, [p], { id: 'ward-site', tpm: { tcti: swA.tcti, passphrase: PASS, installRoot: install } });
    p.dispose();
    assert.equal(JSON.parse(readFileSync(layout(dir).config, 'utf8')).attestation.tcti, swA.tcti);
    // The software protector alone is refused for a TPM deployment: it must go through the TPM.
    const pp = passphraseProtector(PASS);
    await assert.rejects(Deployment.open(dir, pp), isSios('ERR_KEY', /sealed to its TPM/));
    pp.dispose();

    const d = await Deployment.open(dir, { passphrase: PASS }, { installRoot: install, refreshCheckpoints: 3 });
    try {
      assert.equal(d.attestation?.measurement.digest, init.measurement);
      await d.createTenant('ward', 'op');
      // Checkpoints 1-3 (tenant-create, genesis, first entry) use the quote taken at open; the third
      // schedules a background refresh; once it is in, later checkpoints name the new evidence.
      const first = d.attestation!.currentDigest;
      await d.ledger('ward').seal({ kind: 'admin', body: { i: 0 } });
      await d.attestation!.idle();
      assert.notEqual(d.attestation!.currentDigest, first, 'the quote was refreshed after 3 checkpoints');
      for (let i = 1; i < 4; i++) await d.ledger('ward').seal({ kind: 'admin', body: { i } });
    } finally { await d.close(); }

    const store = d.ledgerStore('ward');
    let text = '';
    try {
      exportBundle(store, { origin: d.originOf('ward'), tenant: 'ward', crypto: nodeVerifyCrypto, publicKeys: [d.signer.publicKey], evidenceFor: (n) => evidenceForCheckpoints(layout(dir).systemDb, n) }, (c) => { text += c; });
    } finally { store.close(); }
    const lines = text.trimEnd().split('\n');
    const evIdx = lines.map((l, i) => (l.startsWith('{"evidence":') ? i : -1)).filter((i) => i >= 0);
    assert.ok(evIdx.length >= 2, `several evidence objects exported (${evIdx.length})`);

    const bytes = new TextEncoder().encode(text);
    const ok = await verifyBundleTrusted(bytes, d.signer.publicKey);
    assert.equal(ok.rep.ok, true, ok.rep.failure?.message);
    assert.equal(ok.missing, undefined);
    assert.match(ok.rep.evidence[0]!, new RegExp(`^tpm2 \\(quote verified, AK bound to EK, measurement ${init.measurement}\\)`));

    // An auditor who expects another installation digest rejects it.
    const wrongM = await verifyBundleTrusted(bytes, d.signer.publicKey, { expectMeasurement: 'ab'.repeat(32) });
    assert.equal(wrongM.rep.failure?.reason, 'bad-evidence');
    assert.match(wrongM.rep.failure!.message, /installation measured at this checkpoint differs/);

    // Tampered evidence: a PCR value, the quote signature, the challenge; and a dropped evidence line.
    const tamper = (f: (ev: Record<string, any>) => void): Uint8Array => {
      const l = [...lines];
      const o = JSON.parse(l[evIdx[0]!]!);
      f(o.evidence);
      l[evIdx[0]!] = JSON.stringify(o);
      return new TextEncoder().encode(l.join('\n') + '\n');
    };
    const cases: [string, (ev: Record<string, any>) => void, RegExp][] = [
      ['pcr value', (ev) => { ev.tpm.pcrs[0].sha256 = 'ff'.repeat(32); }, /not the ones the TPM signed/],
      ['quote signature', (ev) => { const s = ev.tpm.quote.signature as string; ev.tpm.quote.signature = s.slice(0, 20) + (s[20] === 'A' ? 'B' : 'A') + s.slice(21); }, /quote|signature|malformed/],
      ['challenge', (ev) => { ev.challenge = { source: 'random', value: '00'.repeat(32) }; }, /another nonce/],
      ['created time only', (ev) => { ev.created = '2020-01-01T00:00:00.000Z'; }, /no signed checkpoint of this bundle names evidence/],
    ];
    for (const [what, f, re] of cases) {
      const r = await verifyBundleTrusted(tamper(f), d.signer.publicKey);
      assert.equal(r.rep.ok, false, `tampered ${what} must fail`);
      assert.equal(r.rep.failure?.reason, 'bad-evidence', what);
      assert.match(r.rep.failure!.message, re, what);
    }
    const dropped = lines.filter((_, i) => i !== evIdx[0]);
    const hdr = JSON.parse(dropped[0]!); hdr.evidence -= 1; dropped[0] = JSON.stringify(hdr);
    const r = await verifyBundleTrusted(new TextEncoder().encode(dropped.join('\n') + '\n'), d.signer.publicKey);
    assert.equal(r.rep.ok, true, 'the rest of the bundle is intact');
    assert.ok(r.missing, 'a checkpoint names evidence the bundle does not carry');
  });

  it('API: a data folder copied to another TPM is refused at open; a changed SIOS file is refused until resealed', async () => {
    const install = tinyInstall(path.join(tmp, 'copy-install'));
    const dir = path.join(tmp, 'copy-data');
    const p = passphraseProtector(PASS);
    await initDeployment(dir, [p], { tpm: { tcti: swA.tcti, passphrase: PASS, installRoot: install } });
    p.dispose();

    // Same folder on "another machine": its TPM (swB) is reachable where the config says.
    const copy = path.join(tmp, 'copy-data-elsewhere');
    cpSync(dir, copy, { recursive: true });
    const cfg = JSON.parse(readFileSync(layout(copy).config, 'utf8'));
    cfg.attestation.tcti = swB.tcti;
    writeFileSync(layout(copy).config, JSON.stringify(cfg, null, 2) + '\n');
    await assert.rejects(Deployment.open(copy, { passphrase: PASS }, { installRoot: install }), isSios('ERR_ATTESTATION', /initialised on another TPM/));

    // A changed SIOS file on the original machine.
    appendFileSync(path.join(install, 'src', 'main.ts'), 'export const backdoor = true;\n');
    await assert.rejects(Deployment.open(dir, { passphrase: PASS }, { installRoot: install }), isSios('ERR_ATTESTATION', /installation differs.*changed: src\/main\.ts.*sios attest reseal/));
    const { DeviceAttestation, resealKey } = await import('../../src/deployment/attested.ts');
    const att = await DeviceAttestation.start(dir, { mode: 'tpm2', tcti: swA.tcti }, { installRoot: install });
    const rs = await resealKey(dir, layout(dir).keyFile, att, PASS);
    assert.notEqual(rs.previous, rs.current);
    const d = await Deployment.open(dir, { passphrase: PASS }, { installRoot: install });
    assert.equal(d.attestation?.measurement.digest, rs.current);
    await d.close();
  });

  it('API: installing a brain or skill changes the measured state: the key opens again only after a reseal', async () => {
    const install = tinyInstall(path.join(tmp, 'manifest-install'));
    const dir = path.join(tmp, 'manifest-data');
    const p = passphraseProtector(PASS);
    await initDeployment(dir, [p], { tpm: { tcti: swA.tcti, passphrase: PASS, installRoot: install } });
    p.dispose();
    const { App } = await import('../../src/app/app.ts');
    const app = await App.open(dir, { passphrase: PASS }, { installRoot: install });
    await app.installBuiltins('operator');
    await app.close();
    await assert.rejects(Deployment.open(dir, { passphrase: PASS }, { installRoot: install }), isSios('ERR_ATTESTATION', /added: data\/manifests\/(brain|skill)\/.*sios attest reseal/));
    const { DeviceAttestation, resealKey } = await import('../../src/deployment/attested.ts');
    const att = await DeviceAttestation.start(dir, { mode: 'tpm2', tcti: swA.tcti }, { installRoot: install });
    await resealKey(dir, layout(dir).keyFile, att, PASS);
    const d = await Deployment.open(dir, { passphrase: PASS }, { installRoot: install });
    assert.ok(d.attestation?.measurement.events.some((e) => e.path === 'data/manifests/brain/sios.assistant@1.0.0'));
    await d.close();
  });

  it('CLI: sios init --tpm, attest quote/status, export and verify with evidence, tampered bundle, changed file refused until sios attest reseal', () => {
    const install = path.join(tmp, 'cli-install');
    mkdirSync(install);
    for (const e of ['src', 'bin', 'package-lock.json']) cpSync(path.join(REPO, e), path.join(install, e), { recursive: true });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(install, 'node_modules'));
    writeFileSync(path.join(install, 'run.mjs'), RUNNER);
    const data = path.join(tmp, 'cli-data');

    const init = sios(install, data, ['init', '--tpm', '--tcti', swA.tcti, '--id', 'cli-site']);
    assert.equal(init.status, 0, init.stderr);
    const measurement = /Measurement: ([0-9a-f]{64})/.exec(init.stdout)?.[1];
    assert.ok(measurement, init.stdout);

    const q = sios(install, data, ['attest', 'quote']);
    assert.equal(q.status, 0, q.stderr);
    const st = sios(install, data, ['attest', 'status']);
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`Measured now: ${measurement}`));

    const bundle = path.join(tmp, 'system.bundle');
    const ex = sios(install, data, ['ledger', 'export', '--tenant', 'system', '--out', bundle]);
    assert.equal(ex.status, 0, ex.stderr);
    const v = sios(install, data, ['verify', bundle, '--key', layout(data).publicKey]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /attestation: +tpm2 on \d+ of \d+ checkpoints/);
    assert.match(v.stdout, new RegExp(`evidence: +tpm2 \\(quote verified, AK bound to EK, measurement ${measurement}\\)`));

    const lines = readFileSync(bundle, 'utf8').trimEnd().split('\n');
    const i = lines.findIndex((l) => l.startsWith('{"evidence":'));
    const o = JSON.parse(lines[i]!);
    o.evidence.tpm.measurement.events[0].sha256 = '00'.repeat(32);
    lines[i] = JSON.stringify(o);
    const bad = path.join(tmp, 'tampered.bundle');
    writeFileSync(bad, lines.join('\n') + '\n');
    const vb = sios(install, data, ['verify', bad, '--key', layout(data).publicKey]);
    assert.equal(vb.status, 1, vb.stdout + vb.stderr);
    assert.match(vb.stdout, /reason: +bad-evidence/);

    // A planned update: a measured file changes; opening is refused until the operator reseals.
    appendFileSync(path.join(install, 'src', 'errors.ts'), '\n// planned update\n');
    const refused = sios(install, data, ['attest', 'quote']);
    assert.equal(refused.status, 2, refused.stdout);
    assert.match(refused.stderr, /installation differs.*changed: src\/errors\.ts.*sios attest reseal/);
    const st2 = sios(install, data, ['attest', 'status']);
    assert.match(st2.stdout, /CHANGED: +changed: src\/errors\.ts/);
    const rs = sios(install, data, ['attest', 'reseal']);
    assert.equal(rs.status, 0, rs.stderr);
    const again = sios(install, data, ['attest', 'quote']);
    assert.equal(again.status, 0, again.stderr);
  });
});

function verifyBundleTrusted(bytes: Uint8Array, key: Uint8Array, opts: { expectMeasurement?: string } = {}): Promise<{ rep: VerifyReport; missing: { size: number; digest: string } | undefined }> {
  const verified = new Set<string>();
  return verifyBundle(bytes, {
    crypto: nodeVerifyCrypto, trustedKeys: [key],
    verifyEvidence: async (ev, ctx) => {
      const r = await verifyCheckpointEvidence(nodeVerifyCrypto, ev, { checkpoints: ctx.checkpoints, ...opts });
      verified.add(r.digest);
      return r.summary;
    },
  }).then((rep) => ({ rep, missing: rep.ok ? missingEvidence(rep.checkpoints, verified) : undefined }));
}
