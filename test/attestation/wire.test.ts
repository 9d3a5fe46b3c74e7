// TPM wire parsing, event lists and measurement without a TPM: hostile inputs become typed errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ecdsaSignatureToP1363, marshalPcrSelection, parseQuoteAttest, pcrChunks } from '../../src/attestation/tpm-wire.ts';
import { checkEvents, diffEvents, measurementDigest, replayPcr } from '../../src/attestation/event-log.ts';
import { measureInstallation } from '../../src/attestation/measure.ts';
import { quoteNonce } from '../../src/attestation/verify-evidence.ts';
import { fromHex, toHex } from '../../src/encoding/bytes.ts';
import { SiosError, VerifyError } from '../../src/errors.ts';

// A TPMS_ATTEST produced by swtpm 0.7.1 (tpm2_quote over sha256:0-7,23, nonce 07 x 32).
const ATTEST = fromHex('ff54434780180022000b4c1206d7582a3b6a570e92882527ee26a2e76ccb20d1dbedc468729f821eb08f0020'
  + '0707070707070707070707070707070707070707070707070707070707070707' + '0000000000000124000000010000000001201910230016363600000001'
  + '000b03ff00800020' + '2d5565fb483d8ea4525a7a9229677d1038ad34b6e22c8d5152e1d7f7b9817597');

describe('TPM wire structures', () => {
  it('parses a quote attest and refuses every truncation and trailing byte with a VerifyError', () => {
    const a = parseQuoteAttest(ATTEST);
    assert.equal(a.type, 0x8018);
    assert.equal(toHex(a.extraData), '07'.repeat(32));
    assert.deepEqual(a.pcrSelection, [{ hash: 0x0b, pcrs: [0, 1, 2, 3, 4, 5, 6, 7, 23] }]);
    assert.equal(a.resetCount, 1);
    for (let n = 0; n < ATTEST.length; n++) {
      assert.throws(() => parseQuoteAttest(ATTEST.subarray(0, n)), (e: unknown) => e instanceof VerifyError && e.reason === 'bad-evidence', `length ${n}`);
    }
    const longer = new Uint8Array(ATTEST.length + 1); longer.set(ATTEST);
    assert.throws(() => parseQuoteAttest(longer), /trailing/);
    const badMagic = ATTEST.slice(); badMagic[0] = 0;
    assert.throws(() => parseQuoteAttest(badMagic), /TPM_GENERATED_VALUE/);
    const certify = ATTEST.slice(); certify[5] = 0x17;
    assert.throws(() => parseQuoteAttest(certify), /ATTEST_QUOTE/);
  });

  it('converts TPMT_SIGNATURE to P1363 and refuses other algorithms', () => {
    const r = new Uint8Array(33); r[0] = 0; r.fill(1, 1);
    const s = new Uint8Array(31).fill(2);
    const sig = Uint8Array.from([0x00, 0x18, 0x00, 0x0b, 0, 33, ...r, 0, 31, ...s]);
    const p = ecdsaSignatureToP1363(sig);
    assert.equal(p.length, 64);
    assert.equal(toHex(p), '01'.repeat(32) + '00' + '02'.repeat(31));
    const rsa = sig.slice(); rsa[1] = 0x14;
    assert.throws(() => ecdsaSignatureToP1363(rsa), /not ECDSA/);
    assert.throws(() => ecdsaSignatureToP1363(sig.subarray(0, 10)), VerifyError);
  });

  it('marshals PCR selections and splits them as tpm2-tools needs', () => {
    assert.equal(toHex(marshalPcrSelection([0, 1, 2, 3, 4, 5, 6, 7, 23])), '00000001000b03ff0080');
    assert.deepEqual(pcrChunks([23, 0, 1, 2, 3, 4, 5, 6, 7, 7]), [[0, 1, 2, 3, 4, 5, 6, 7], [23]]);
    assert.throws(() => marshalPcrSelection([24]), VerifyError);
  });
});

describe('event list and replay', () => {
  const events = [{ path: 'a/x.ts', sha256: 'aa'.repeat(32) }, { path: 'b', sha256: 'bb'.repeat(32) }];

  it('is order- and content-sensitive and replays as SHA-256(0^32 || digest)', async () => {
    const d = await measurementDigest(events);
    const expectPcr = createHash('sha256').update(new Uint8Array(32)).update(fromHex(d)).digest('hex');
    assert.equal(toHex(await replayPcr(d)), expectPcr);
    assert.notEqual(await measurementDigest([events[0]!, { path: 'b', sha256: 'bc'.repeat(32) }]), d);
    assert.throws(() => checkEvents([events[1], events[0]]), /not sorted/);
    assert.throws(() => checkEvents([events[0], events[0]]), /not sorted|repeat/);
    assert.throws(() => checkEvents([{ path: '../etc/passwd', sha256: 'aa'.repeat(32) }]), /invalid path/);
    assert.throws(() => checkEvents([{ path: 'x', sha256: 'AA'.repeat(32) }]), /hex/);
    assert.throws(() => checkEvents([{ path: 'x', sha256: 'aa'.repeat(32), extra: 1 }]), /unknown fields/);
    assert.deepEqual(diffEvents(events, [{ path: 'a/x.ts', sha256: 'ab'.repeat(32) }, { path: 'c', sha256: 'cc'.repeat(32) }]),
      { added: ['c'], removed: ['b'], changed: ['a/x.ts'] });
  });

  it('derives the quote nonce from the operator key and the challenge', async () => {
    const a = await quoteNonce(new Uint8Array(32), new Uint8Array(16));
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, await quoteNonce(new Uint8Array(32).fill(1), new Uint8Array(16)));
    await assert.rejects(quoteNonce(new Uint8Array(31), new Uint8Array(16)), VerifyError);
    await assert.rejects(quoteNonce(new Uint8Array(32), new Uint8Array(8)), VerifyError);
  });
});

describe('measuring an installation', () => {
  it('hashes files in a deterministic order, records symlinks without following them, and refuses escapes', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sios-measure-'));
    try {
      mkdirSync(path.join(root, 'src/z'), { recursive: true });
      writeFileSync(path.join(root, 'src/z/b.ts'), 'b');
      writeFileSync(path.join(root, 'src/a.ts'), 'a');
      writeFileSync(path.join(root, 'cfg.json'), '{}');
      symlinkSync('/etc/hostname', path.join(root, 'src/link'));
      const m = await measureInstallation(root, ['src/', 'cfg.json']);
      assert.deepEqual(m.events.map((e) => e.path), ['cfg.json', 'src/a.ts', 'src/link', 'src/z/b.ts']);
      assert.equal(m.events[1]!.sha256, createHash('sha256').update('a').digest('hex'));
      assert.equal(m.events[2]!.kind, 'symlink');
      assert.equal(m.stats.bytes, 4);
      assert.equal(m.digest, await measurementDigest(m.events));
      assert.equal((await measureInstallation(root, ['cfg.json', 'src'])).digest, m.digest);
      writeFileSync(path.join(root, 'src/a.ts'), 'A');
      assert.notEqual((await measureInstallation(root, ['src', 'cfg.json'])).digest, m.digest);
      await assert.rejects(measureInstallation(root, ['../x']), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
      await assert.rejects(measureInstallation(root, ['/etc']), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
      await assert.rejects(measureInstallation(root, ['src', 'src/a.ts']), /twice/);
      await assert.rejects(measureInstallation(root, ['missing']), (e: unknown) => e instanceof SiosError && e.code === 'ERR_NOT_FOUND');
      await assert.rejects(measureInstallation(root, []), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
    } finally { rmSync(root, { recursive: true, force: true }); }
  });
});
