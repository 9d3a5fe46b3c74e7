import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSwtpm, type Swtpm } from './swtpm.ts';
import { Tpm2 } from '../../src/attestation/tpm.ts';
import { collectEvidence, measuredStart } from '../../src/attestation/evidence.ts';
import { EvidenceError, identityStatement, quoteNonce, softwareEvidence, verifyEvidence, type DeviceIdentity, type TpmEvidence } from '../../src/attestation/verify-evidence.ts';
import { parseEccPublic, OBJ_FIXED_PARENT, OBJ_FIXED_TPM, OBJ_RESTRICTED, OBJ_SIGN } from '../../src/attestation/tpm-wire.ts';
import { fromBase64url, toBase64url, toHex, utf8 } from '../../src/encoding/bytes.ts';
import { SiosError } from '../../src/errors.ts';
import { attestationStatus } from '../../src/attestation/doctor.ts';
import { measurementDigest } from '../../src/attestation/event-log.ts';

const MEASURED = ['src', 'bin', 'package-lock.json', 'config.json'];
const fp = new Uint8Array(32).fill(0xab); // operator key fingerprint stand-in (any 32 bytes)

function makeInstall(root: string): void {
  mkdirSync(path.join(root, 'src/sub'), { recursive: true });
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  writeFileSync(path.join(root, 'src/a.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(root, 'src/sub/b.ts'), 'export const b = 2;\n');
  writeFileSync(path.join(root, 'bin/sios.mjs'), '#!/usr/bin/env node\n');
  writeFileSync(path.join(root, 'package-lock.json'), '{}\n');
  writeFileSync(path.join(root, 'config.json'), '{"deployment":"test"}\n');
}

async function expectCheck(p: Promise<unknown>, check: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EvidenceError, `expected EvidenceError, got ${String(e)}`);
    assert.equal(e.check, check, e.message);
    assert.equal(e.code, 'ERR_VERIFY');
    assert.equal(e.reason, 'bad-evidence');
    return true;
  });
}

describe('TPM identity, measured start, quote and evidence verification (swtpm)', () => {
  let sw: Swtpm, sw2: Swtpm | undefined;
  let tmp: string, root: string;
  let tpm: Tpm2;
  let identity: DeviceIdentity;
  let evidence: TpmEvidence;
  let nonce: Uint8Array;
  const challenge = utf8('previous-checkpoint-root-0123456789');

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sios-att-'));
    root = path.join(tmp, 'install');
    makeInstall(root);
    sw = await startSwtpm();
    tpm = new Tpm2({ tcti: sw.tcti, stateDir: path.join(tmp, 'state') });
    identity = await tpm.createIdentity();
    const m = await measuredStart(tpm, root, MEASURED);
    nonce = await quoteNonce(fp, challenge);
    evidence = await collectEvidence(tpm, identity, nonce, m);
  });
  after(async () => {
    await sw?.stop();
    await sw2?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('creates a non-exportable restricted AK bound to the EK and reloads it', async () => {
    const ak = parseEccPublic(fromBase64url(identity.akPublic), 'ak');
    for (const bit of [OBJ_FIXED_TPM, OBJ_FIXED_PARENT, OBJ_RESTRICTED, OBJ_SIGN]) assert.ok(ak.attributes & bit);
    assert.deepEqual(await tpm.loadIdentity(), identity);
    await assert.rejects(tpm.createIdentity(), (e: unknown) => e instanceof SiosError && e.code === 'ERR_CONFLICT');
    const stmt = new TextDecoder().decode(identityStatement(identity, 'ab'.repeat(32)));
    assert.match(stmt, /"akName":"000b/);
  });

  it('verifies a fresh quote with its event list and expected measurement', async () => {
    const r = await verifyEvidence(evidence, { nonce, identity, measurement: { digest: evidence.measurement.digest, events: evidence.measurement.events } });
    assert.equal(r.mode, 'tpm2');
    if (r.mode !== 'tpm2') return;
    assert.equal(r.measurementDigest, evidence.measurement.digest);
    assert.equal(r.pcrs[0], '0'.repeat(64));
    assert.deepEqual(evidence.measurement.events.map((e) => e.path), ['bin/sios.mjs', 'config.json', 'package-lock.json', 'src/a.ts', 'src/sub/b.ts']);
    // A JSON round trip (what the ledger stores) verifies too.
    await verifyEvidence(JSON.parse(JSON.stringify(evidence)), { nonce, identity });
  });

  it('detects a tampered quote at every byte of TPMS_ATTEST and of the signature', async () => {
    const attest = fromBase64url(evidence.quote.attest);
    for (let i = 0; i < attest.length; i++) {
      const t = attest.slice(); t[i] = (t[i] as number) ^ 0x01;
      await assert.rejects(verifyEvidence({ ...evidence, quote: { ...evidence.quote, attest: toBase64url(t) } }, { nonce, identity }),
        (e: unknown) => e instanceof EvidenceError, `byte ${i} flipped was accepted`);
    }
    const sig = fromBase64url(evidence.quote.signature);
    for (let i = 0; i < sig.length; i++) {
      const t = sig.slice(); t[i] = (t[i] as number) ^ 0x80;
      await assert.rejects(verifyEvidence({ ...evidence, quote: { ...evidence.quote, signature: toBase64url(t) } }, { nonce, identity }),
        (e: unknown) => e instanceof EvidenceError, `signature byte ${i} flipped was accepted`);
    }
    // A flip inside the signed body (the clock) is caught by the signature check specifically.
    const t = attest.slice(); t[attest.length - 40] = (t[attest.length - 40] as number) ^ 1;
    await expectCheck(verifyEvidence({ ...evidence, quote: { ...evidence.quote, attest: toBase64url(t) } }, { nonce, identity }), 'bad-signature');
  });

  it('refuses a wrong nonce and a replayed quote', async () => {
    await expectCheck(verifyEvidence(evidence, { nonce: new Uint8Array(32), identity }), 'nonce-mismatch');
    // Replay: a genuine quote for an earlier challenge presented for the next checkpoint.
    const next = await quoteNonce(fp, utf8('next-checkpoint-root-abcdefghijklmnop'));
    await expectCheck(verifyEvidence(evidence, { nonce: next, identity }), 'nonce-mismatch');
    // ... also when the unsigned nonce field is edited to match: only the signed extraData counts.
    await expectCheck(verifyEvidence({ ...evidence, nonce: toHex(next) }, { nonce: next, identity }), 'nonce-mismatch');
    // Bound to the operator key: the same challenge under another operator fingerprint is another nonce.
    await expectCheck(verifyEvidence(evidence, { nonce: await quoteNonce(new Uint8Array(32), challenge), identity }), 'nonce-mismatch');
  });

  it('refuses altered PCR values, an altered event list and an unexpected measurement', async () => {
    const pcrs = evidence.pcrs.map((p) => (p.pcr === 3 ? { pcr: 3, sha256: '11'.repeat(32) } : p));
    await expectCheck(verifyEvidence({ ...evidence, pcrs }, { nonce, identity }), 'pcr-digest-mismatch');
    const events = evidence.measurement.events.map((e) => (e.path === 'src/a.ts' ? { ...e, sha256: '00'.repeat(32) } : e));
    await expectCheck(verifyEvidence({ ...evidence, measurement: { ...evidence.measurement, events } }, { nonce, identity }), 'replay-mismatch');
    const digest = await measurementDigest(events);
    await expectCheck(verifyEvidence({ ...evidence, measurement: { ...evidence.measurement, events, digest } }, { nonce, identity }), 'replay-mismatch');
    await expectCheck(verifyEvidence(evidence, { nonce, identity, measurement: '22'.repeat(32) }), 'measurement-changed');
    await expectCheck(verifyEvidence(evidence, { nonce, identity, bootPcrs: { 0: 'ff'.repeat(32) } }), 'boot-state-changed');
    await expectCheck(verifyEvidence({ ...evidence, pcrs: evidence.pcrs.slice(1) }, { nonce, identity }), 'pcr-selection');
    await expectCheck(verifyEvidence({ ...evidence, measurement: { ...evidence.measurement, events: 'x' } }, { nonce, identity }), 'malformed');
    await expectCheck(verifyEvidence({ ...evidence, quote: { attest: 'not base64!', signature: '' } }, { nonce, identity }), 'malformed');
  });

  it('detects a changed SIOS file at the next measured start and names it', async () => {
    const before = evidence.measurement;
    writeFileSync(path.join(root, 'src/sub/b.ts'), 'export const b = 3; // tampered\n');
    try {
      const m2 = await measuredStart(tpm, root, MEASURED);
      const n2 = await quoteNonce(fp, utf8('challenge-after-change-0123456789'));
      const ev2 = await collectEvidence(tpm, identity, n2, m2);
      assert.equal((await verifyEvidence(ev2, { nonce: n2, identity })).mode, 'tpm2'); // genuine, just not expected
      await assert.rejects(verifyEvidence(ev2, { nonce: n2, identity, measurement: { digest: before.digest, events: before.events } }),
        (e: unknown) => e instanceof EvidenceError && e.check === 'measurement-changed' && /changed: src\/sub\/b\.ts/.test(e.message));
    } finally {
      writeFileSync(path.join(root, 'src/sub/b.ts'), 'export const b = 2;\n');
      await measuredStart(tpm, root, MEASURED);
    }
  });

  it('refuses evidence from another machine and an identity copied to another TPM', async () => {
    sw2 = await startSwtpm();
    const state2 = path.join(tmp, 'state-copy');
    cpSync(path.join(tmp, 'state'), state2, { recursive: true });
    const tpm2 = new Tpm2({ tcti: sw2.tcti, stateDir: state2 });
    await assert.rejects(tpm2.loadIdentity(), (e: unknown) => e instanceof SiosError && e.code === 'ERR_ATTESTATION' && /another TPM/.test(e.message));
    // The second machine has its own identity; its quotes do not pass as the first machine's.
    const other = await new Tpm2({ tcti: sw2.tcti, stateDir: path.join(tmp, 'state2') }).createIdentity();
    const m = await measuredStart(tpm2, root, MEASURED);
    const ev = await collectEvidence(tpm2, other, nonce, m);
    await expectCheck(verifyEvidence(ev, { nonce, identity }), 'ak-mismatch');
    await expectCheck(verifyEvidence({ ...ev, akName: identity.akName }, { nonce, identity }), 'ak-mismatch');
    assert.equal((await verifyEvidence(ev, { nonce, identity: other })).mode, 'tpm2');
  });

  it('makes software mode explicit and refuses it unless allowed', async () => {
    const sw0 = softwareEvidence('no TPM at /dev/tpmrm0');
    await expectCheck(verifyEvidence(sw0, { nonce, identity }), 'software-mode');
    assert.deepEqual(await verifyEvidence(sw0, { nonce, identity, allowSoftware: true }), { mode: 'software', reason: 'no TPM at /dev/tpmrm0' });
    const st = await attestationStatus({ tcti: sw.tcti, stateDir: path.join(tmp, 'doctor') });
    assert.equal(st.mode, 'tpm2');
    assert.equal(st.manufacturer, 'IBM');
    const dead = await attestationStatus({ tcti: 'swtpm:host=127.0.0.1,port=1', stateDir: path.join(tmp, 'doctor') });
    assert.equal(dead.mode, 'software');
    assert.equal(dead.evidence?.mode, 'software');
  });
});
