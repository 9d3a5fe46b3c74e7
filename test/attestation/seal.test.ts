import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startSwtpm, type Swtpm } from './swtpm.ts';
import { Tpm2 } from '../../src/attestation/tpm.ts';
import { measuredStart } from '../../src/attestation/evidence.ts';
import { expectedPcrsFor, resealTpmKey, sealedTo, TpmSealProtector } from '../../src/attestation/tpm-protector.ts';
import { measureInstallation } from '../../src/attestation/measure.ts';
import { sealPolicyDigest, nameOfTpm2bPublic } from '../../src/attestation/tpm-wire.ts';
import { fromBase64url, toHex, utf8 } from '../../src/encoding/bytes.ts';
import { SiosError } from '../../src/errors.ts';
import type { WrappedKey } from '../../src/crypto/protector.ts';

const MEASURED = ['src', 'config.json'];
const SCRYPT = { N: 1 << 14, r: 8, p: 1 }; // the minimum allowed; keeps the suite fast
const PASS = 'correct horse battery staple';
const aad = utf8('deployment=test;key=operator');

function rejectsWith(code: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SiosError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };
}

describe('sealing the operator KEK to the TPM (swtpm)', () => {
  let sw: Swtpm, sw2: Swtpm | undefined;
  let tmp: string, root: string, stateDir: string;
  let tpm: Tpm2;
  const kek = new Uint8Array(randomBytes(32));
  let wrapped: WrappedKey;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sios-seal-'));
    root = path.join(tmp, 'install');
    mkdirSync(path.join(root, 'src'), { recursive: true });
    writeFileSync(path.join(root, 'src/main.ts'), 'console.log("v1");\n');
    writeFileSync(path.join(root, 'config.json'), '{}\n');
    stateDir = path.join(tmp, 'data', 'tpm');
    sw = await startSwtpm();
    tpm = new Tpm2({ tcti: sw.tcti, stateDir });
    // swtpm allows 3 wrong authorisations before lockout; these tests make a few on purpose.
    await tpm.run('tpm2_dictionarylockout', ['-s', '-n', '32', '-t', '1', '-l', '1']);
    await measuredStart(tpm, root, MEASURED);
    wrapped = await new TpmSealProtector({ tpm, passphrase: PASS, scrypt: SCRYPT }).wrap(kek, aad);
    writeFileSync(path.join(tmp, 'data', 'operator.key.json'), JSON.stringify(wrapped));
  });
  after(async () => {
    await sw?.stop();
    await sw2?.stop();
    if (sw) rmSync(sw.stateDir, { recursive: true, force: true }); // restarted on its old state: ours to remove
    rmSync(tmp, { recursive: true, force: true });
  });

  it('seals and unseals with the passphrase in the measured state; the record holds no secret', async () => {
    const got = await new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(JSON.parse(JSON.stringify(wrapped)) as WrappedKey, aad);
    assert.deepEqual(got, kek);
    const text = JSON.stringify(wrapped);
    assert.ok(!text.includes(toHex(kek)) && !text.includes(Buffer.from(kek).toString('base64url')));
    assert.equal(wrapped.kind, 'tpm2-seal');
    assert.deepEqual(wrapped['pcrs'], [0, 1, 2, 3, 4, 5, 6, 7, 23]);
  });

  it('computes the same policy digest as the TPM itself (trial session)', async () => {
    const w = wrapped as unknown as { pcrs: number[]; sealedPcrs: Record<string, string>; policy: string; auth: { public: string } };
    const values = new Map(w.pcrs.map((p) => [p, Uint8Array.from(Buffer.from(w.sealedPcrs[String(p)]!, 'hex'))]));
    assert.equal(toHex(await sealPolicyDigest(w.pcrs, values, await nameOfTpm2bPublic(fromBase64url(w.auth.public)))), w.policy);
    // The TPM's own computation for a fresh auth object with a known auth value, against the current PCRs.
    const { tpmPolicy, ours } = await tpm.exclusive(async (d) => {
      const f = (n: string): string => path.join(d, n);
      await tpm.run('tpm2_createprimary', ['-C', 'o', '-G', 'ecc256:aes128cfb', '-g', 'sha256', '-a', 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt|noda', '-c', f('srk.ctx')]);
      await tpm.flushTransient();
      writeFileSync(f('data'), 'x');
      await tpm.run('tpm2_create', ['-C', f('srk.ctx'), '-g', 'sha256', '-p', 'file:-', '-i', f('data'), '-u', f('a.pub'), '-r', f('a.priv'), '-a', 'fixedtpm|fixedparent|userwithauth'], utf8('known'));
      await tpm.flushTransient();
      await tpm.run('tpm2_load', ['-C', f('srk.ctx'), '-u', f('a.pub'), '-r', f('a.priv'), '-c', f('a.ctx')]);
      await tpm.flushTransient();
      await tpm.run('tpm2_startauthsession', ['-S', f('s.ctx')]);
      await tpm.run('tpm2_policypcr', ['-S', f('s.ctx'), '-l', 'sha256:0,1,2,3,4,5,6,7']);
      await tpm.run('tpm2_policypcr', ['-S', f('s.ctx'), '-l', 'sha256:23']);
      await tpm.run('tpm2_policysecret', ['-S', f('s.ctx'), '-c', f('a.ctx'), '-L', f('p.bin'), 'file:-'], utf8('known'));
      const cur = await tpm.readPcrsIn(d, [0, 1, 2, 3, 4, 5, 6, 7, 23]);
      const name = await nameOfTpm2bPublic(new Uint8Array(readFileSync(f('a.pub'))));
      return { tpmPolicy: toHex(new Uint8Array(readFileSync(f('p.bin')))), ours: toHex(await sealPolicyDigest([0, 1, 2, 3, 4, 5, 6, 7, 23], cur, name)) };
    });
    assert.equal(ours, tpmPolicy);
  });

  it('refuses a wrong passphrase and another context (aad)', async () => {
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: 'wrong passphrase' }).unwrap(wrapped, aad), rejectsWith('ERR_PASSPHRASE', /passphrase/));
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(wrapped, utf8('deployment=other')), rejectsWith('ERR_KEY', /aad|another deployment/));
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap({ ...wrapped, ct: 'AAAA' }, aad), rejectsWith('ERR_KEY', /length|malformed/));
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap({ kind: 'passphrase-scrypt' }, aad), rejectsWith('ERR_KEY', /not tpm2-seal/));
  });

  it('refuses a copy of the data directory on a second TPM', async () => {
    sw2 = await startSwtpm();
    const copy = path.join(tmp, 'copy');
    cpSync(path.join(tmp, 'data'), copy, { recursive: true });
    const other = new Tpm2({ tcti: sw2.tcti, stateDir: path.join(copy, 'tpm') });
    await measuredStart(other, root, MEASURED); // same installation, same PCR values: only the TPM differs
    const copied = JSON.parse(readFileSync(path.join(copy, 'operator.key.json'), 'utf8')) as WrappedKey;
    await assert.rejects(new TpmSealProtector({ tpm: other, passphrase: PASS }).unwrap(copied, aad), rejectsWith('ERR_ATTESTATION', /sealed to another TPM/));
    // Even when the record is edited to claim the other TPM's SRK, the TPM itself refuses to load it.
    const forged = { ...copied, srkName: await otherSrkName(other) } as WrappedKey;
    await assert.rejects(new TpmSealProtector({ tpm: other, passphrase: PASS }).unwrap(forged, aad), rejectsWith('ERR_ATTESTATION', /another TPM/));
  });

  it('refuses a changed SIOS file until the operator re-seals for the planned state', async () => {
    const file = path.join(root, 'src/main.ts');
    writeFileSync(file, 'console.log("v2");\n');
    const v2 = await measureInstallation(root, MEASURED);
    // Unplanned: restart with the changed file -> PCR 23 differs -> refused, naming PCR 23.
    await measuredStart(tpm, root, MEASURED);
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(wrapped, aad), rejectsWith('ERR_ATTESTATION', /platform state differs from the sealed state \(PCR 23\).*sios attest reseal/));
    // The refusal comes from the TPM, not only from the pre-check: bypass it by claiming the new values.
    const cur = await tpm.readPcrs([23]);
    const lying = { ...wrapped, sealedPcrs: { ...(wrapped['sealedPcrs'] as Record<string, string>), 23: toHex(cur.get(23)!) } } as WrappedKey;
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(lying, aad), rejectsWith('ERR_ATTESTATION', /PCR/));
    // Planned: back in the old state, the operator approves (passphrase) and re-seals to v2's expected state.
    writeFileSync(file, 'console.log("v1");\n');
    await measuredStart(tpm, root, MEASURED);
    const expected = await expectedPcrsFor(tpm, v2.digest);
    await assert.rejects(resealTpmKey(tpm, wrapped, aad, { passphrase: 'not the operator', expectedPcrs: expected }), rejectsWith('ERR_PASSPHRASE', /passphrase/));
    const resealed = await resealTpmKey(tpm, wrapped, aad, { passphrase: PASS, expectedPcrs: expected });
    assert.ok(!sealedTo(resealed, await tpm.readPcrs([0, 1, 2, 3, 4, 5, 6, 7, 23])));
    // Update applied, SIOS restarts: the new sealed key opens, the old one no longer does.
    writeFileSync(file, 'console.log("v2");\n');
    await measuredStart(tpm, root, MEASURED);
    assert.deepEqual(await new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(resealed, aad), kek);
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(wrapped, aad), rejectsWith('ERR_ATTESTATION', /PCR 23/));
  });

  it('survives a reboot of the same machine once SIOS has measured itself again', async () => {
    await measuredStart(tpm, root, MEASURED);
    const w = await new TpmSealProtector({ tpm, passphrase: PASS, scrypt: SCRYPT }).wrap(kek, aad);
    await sw.stop({ keepState: true });
    sw = await startSwtpm({ stateDir: sw.stateDir }); // reboot: keys and NV kept, PCRs reset
    tpm = new Tpm2({ tcti: sw.tcti, stateDir });
    await assert.rejects(new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(w, aad), rejectsWith('ERR_ATTESTATION', /PCR 23/));
    await measuredStart(tpm, root, MEASURED);
    assert.deepEqual(await new TpmSealProtector({ tpm, passphrase: PASS }).unwrap(w, aad), kek);
  });
});

async function otherSrkName(t: Tpm2): Promise<string> {
  return t.exclusive(async (d) => {
    await t.run('tpm2_createprimary', ['-C', 'o', '-G', 'ecc256:aes128cfb', '-g', 'sha256', '-a', 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt|noda', '-c', path.join(d, 'p.ctx')]);
    await t.flushTransient();
    await t.run('tpm2_readpublic', ['-c', path.join(d, 'p.ctx'), '-o', path.join(d, 'p.pub')]);
    return toHex(await nameOfTpm2bPublic(new Uint8Array(readFileSync(path.join(d, 'p.pub')))));
  });
}
