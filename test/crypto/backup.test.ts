// Backups of the operator key: the export file under a separate passphrase, and k-of-n text shares.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SiosError } from '../../src/errors.ts';
import { toBase64url } from '../../src/encoding/bytes.ts';
import { fingerprint } from '../../src/crypto/fingerprint.ts';
import { keyPairFromSeed, newSeed, nodeVerifyCrypto } from '../../src/crypto/node.ts';
import { createKeyFile, EXPORT_FILE_FORMAT, keyFileInfo, openKeyFile, parseKeyFile, serializeKeyFile, type KeyFile } from '../../src/crypto/keystore.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import {
  combineShares, exportKeyFile, formatShare, importExportFile, parseShare, restoreFromShares, splitKeyFile, splitSeed,
} from '../../src/crypto/backup.ts';

function sharesError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SiosError, String(e));
    assert.equal(e.code, 'ERR_SHARES', e.message);
    assert.match(e.message, re);
    return true;
  });
}

function combinations<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs as [T, ...T[]];
  return [...combinations(t, k - 1).map((c) => [h, ...c]), ...combinations(t, k)];
}

describe('k-of-n key shares', () => {
  const seed = newSeed();
  const fp = fingerprint(nodeVerifyCrypto, keyPairFromSeed(seed).publicKey);
  const lines = splitSeed(seed, 3, 5);

  test('share lines are printable, self-describing and carry the fingerprint', () => {
    assert.equal(lines.length, 5);
    lines.forEach((l, i) => {
      assert.match(l, new RegExp(`^sios-share-v1 k=3 n=5 i=${i + 1} fp=${fp} data=[A-Za-z0-9_-]{43} check=[0-9a-f]{8}$`));
      assert.ok(/^[\x20-\x7e]+$/.test(l));
      const p = parseShare(l);
      assert.deepEqual([p.k, p.n, p.index, p.fingerprint], [3, 5, i + 1, fp]);
      assert.equal(formatShare(p), l);
    });
    assert.equal(new Set(lines.map((l) => parseShare(l).data.join())).size, 5);
  });

  test('any 3 of 5 restore the exact seed; extra consistent shares are accepted', () => {
    for (const c of combinations(lines, 3)) {
      const r = combineShares(c);
      assert.deepEqual(r.seed, seed);
      assert.equal(r.fingerprint, fp);
    }
    assert.deepEqual(combineShares([...lines].reverse()).seed, seed);
    // Whitespace noise, blank lines and comments from a typed-in file are tolerated.
    assert.deepEqual(combineShares(['# custodians A, C, E', `  ${lines[0]!.replace(/ /g, '   ')}  `, '', lines[2]!, lines[4]!]).seed, seed);
  });

  test('fewer than k shares: "need 3, got 2", and nothing about the seed in the error', () => {
    for (const c of combinations(lines, 2)) {
      let err: unknown;
      try { combineShares(c); } catch (e) { err = e; }
      assert.ok(err instanceof SiosError && err.code === 'ERR_SHARES');
      assert.match(err.message, /need 3 shares of this 3-of-5 split, got 2/);
      assert.deepEqual(err.details, { need: 3, got: 2 });
    }
    sharesError(() => combineShares([]), /no shares given/);
  });

  test('a mistyped share is caught by its checksum and named by line, at every character of the data', () => {
    const line = lines[1]!;
    const start = line.indexOf('data=') + 5;
    for (let i = start; i < start + 43; i++) {
      const c = line[i]!;
      const typo = line.slice(0, i) + (c === 'A' ? 'B' : 'A') + line.slice(i + 1);
      sharesError(() => combineShares([lines[0]!, typo, lines[2]!]), /share line 2 \(share #2\) fails its checksum: it was mistyped/);
    }
    sharesError(() => combineShares([lines[0]!, lines[1]!.replace(' i=2 ', ' i=4 '), lines[2]!]), /share line 2 \(share #4\) fails its checksum/);
    sharesError(() => combineShares([lines[0]!, lines[1]!.slice(0, -1), lines[2]!]), /share line 2 is not a well-formed share line/);
    sharesError(() => combineShares(['hello', lines[1]!]), /share line 1 does not start with "sios-share-v1"/);
  });

  test('duplicates, mixed keys and mixed splits are refused with a clear reason', () => {
    sharesError(() => combineShares([lines[0]!, lines[1]!, lines[0]!]), /share #1 is given twice \(share line 1 and share line 3\)/);
    const otherKey = splitSeed(newSeed(), 3, 5);
    sharesError(() => combineShares([lines[0]!, lines[1]!, otherKey[2]!]), /shares belong to different keys: share line 1 is for SHA256:[0-9a-f]{64}, share line 3 for SHA256:/);
    const otherSplit = splitSeed(seed, 2, 3);
    sharesError(() => combineShares([lines[0]!, otherSplit[1]!, lines[2]!]), /different splits: share line 1 is 3-of-5, share line 2 is 2-of-3/);
  });

  test('a forged share (valid checksum) is caught: by the other shares, or by the key fingerprint', () => {
    // Attacker or accident that recomputes the checksum: flip one data byte of share 2.
    const p = parseShare(lines[1]!);
    const data = Uint8Array.from(p.data); data[0]! ^= 1;
    const forged = formatShare({ ...p, data });
    sharesError(() => combineShares([lines[0]!, forged, lines[2]!]), /restored key has fingerprint SHA256:[0-9a-f]{64}, not SHA256:/);
    sharesError(() => combineShares([lines[0]!, lines[2]!, lines[3]!, forged]), /shares disagree: share line 4 \(share #2\) does not match the first 3/);
    // Shares of a different split of the same key (same fingerprint, same k/n) do not mix either.
    const resplit = splitSeed(seed, 3, 5);
    sharesError(() => combineShares([lines[0]!, lines[1]!, resplit[2]!]), /restored key has fingerprint/);
  });

  test('impossible headers and edges', () => {
    const body = (k: number, n: number, i: number): string => {
      const b = `sios-share-v1 k=${k} n=${n} i=${i} fp=${fp} data=${toBase64url(new Uint8Array(32))}`;
      return `${b} check=${createHash('sha256').update(b).digest('hex').slice(0, 8)}`;
    };
    sharesError(() => parseShare(body(3, 5, 6), 'line 9'), /line 9 claims k=3, n=5, i=6, which is impossible/);
    sharesError(() => parseShare(body(1, 5, 1)), /impossible/);
    sharesError(() => parseShare(body(3, 256, 1)), /impossible/);
    assert.throws(() => splitSeed(seed, 1, 3), (e) => e instanceof SiosError && e.code === 'ERR_INPUT');
    assert.throws(() => splitSeed(seed.subarray(1), 2, 3), (e) => e instanceof SiosError && e.code === 'ERR_KEY');
    const two = splitSeed(seed, 2, 2);
    assert.deepEqual(combineShares(two).seed, seed);
    const wide = splitSeed(seed, 2, 255);
    assert.deepEqual(combineShares([wide[254]!, wide[0]!]).seed, seed);
    assert.equal(parseShare(wide[254]!).index, 255);
  });
});

describe('export file and restore', () => {
  const seed = newSeed();
  const pw = passphraseProtector('operator passphrase on the machine');
  const exportPw = passphraseProtector('export passphrase kept in the safe', { label: 'the export passphrase' });
  let keyFile: KeyFile;
  let exported: KeyFile;

  before(async () => {
    keyFile = await createKeyFile(seed, [pw], { deployment: 'hospital-1', created: '2026-11-22T18:00:00.000Z' });
    exported = await exportKeyFile(keyFile, pw, exportPw);
  });

  test('the export file is the same format, tagged as an export, same key and deployment', () => {
    const info = keyFileInfo(exported);
    assert.equal(info.format, EXPORT_FILE_FORMAT);
    assert.equal(info.fingerprint, keyFile.fingerprint);
    assert.equal(info.deployment, 'hospital-1');
    assert.deepEqual(parseKeyFile(serializeKeyFile(exported)), exported);
  });

  test('only the export passphrase opens it; it imports into a new key file under a new passphrase', async () => {
    await assert.rejects(openKeyFile(exported, pw), (e) => e instanceof SiosError && e.code === 'ERR_PASSPHRASE' && /the passphrase does not open/.test(e.message));
    const newPw = passphraseProtector('new machine passphrase after restore');
    const restored = await importExportFile(exported, exportPw, [newPw], { deployment: 'hospital-1-dr' });
    assert.equal(restored.fingerprint, keyFile.fingerprint);
    assert.equal(restored.deployment, 'hospital-1-dr');
    assert.deepEqual(await openKeyFile(restored, newPw), seed);
  });

  test('an export file is not accepted where a key file is expected, and vice versa', async () => {
    await assert.rejects(importExportFile(keyFile, pw, [pw]), (e) => e instanceof SiosError && e.code === 'ERR_KEY' && /expected a "sios-operator-key-export" file/.test(e.message));
    await assert.rejects(exportKeyFile(exported, exportPw, exportPw), (e) => e instanceof SiosError && e.code === 'ERR_KEY' && /expected a "sios-operator-key" file/.test(e.message));
    // Relabelling an export as a key file changes the header, so its wrapping no longer belongs to it.
    const o = JSON.parse(serializeKeyFile(exported)) as Record<string, unknown>;
    o['format'] = 'sios-operator-key';
    await assert.rejects(async () => openKeyFile(parseKeyFile(JSON.stringify(o)), exportPw), (e) => e instanceof SiosError && e.code === 'ERR_KEY');
  });

  test('shares from a key file restore a key file that opens to the same seed', async () => {
    const shares = await splitKeyFile(keyFile, pw, 2, 3);
    const restored = await restoreFromShares([shares[2]!, shares[0]!], [exportPw], { deployment: 'hospital-1' });
    assert.equal(restored.fingerprint, keyFile.fingerprint);
    assert.deepEqual(await openKeyFile(restored, exportPw), seed);
  });
});
