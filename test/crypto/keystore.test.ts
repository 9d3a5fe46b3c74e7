// Operator key file: passphrase protector (scrypt + AES-256-GCM), strict parsing, binding of every
// part to the file header, atomic 0600 writes. Each scrypt run costs ~0.33 s at the enforced floor
// (N=2^17), so the tests share key files built once and count their unlocks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { SiosError } from '../../src/errors.ts';
import { canonicalize } from '../../src/encoding/jcs.ts';
import { fromBase64url, utf8 } from '../../src/encoding/bytes.ts';
import { fingerprint } from '../../src/crypto/fingerprint.ts';
import { keyPairFromSeed, newSeed, nodeVerifyCrypto } from '../../src/crypto/node.ts';
import {
  addProtectors, createKeyFile, keyFileInfo, openKeyFile, openSigner, parseKeyFile, readKeyFile, rewrapKeyFile,
  serializeKeyFile, writeKeyFile, type KeyFile,
} from '../../src/crypto/keystore.ts';
import { passphraseProtector, passphraseWrapIsBelow, SCRYPT_DEFAULT } from '../../src/crypto/passphrase.ts';
import type { KeyProtector, WrappedKey } from '../../src/crypto/protector.ts';

const CREATED = '2026-11-22T18:00:00.000Z';
const PW = 'correct horse battery staple';

function code(e: unknown): string { return e instanceof SiosError ? e.code : `not a SiosError: ${String(e)}`; }
async function rejectsWith(p: Promise<unknown> | (() => unknown), c: string, re?: RegExp): Promise<SiosError> {
  let err: unknown;
  try { await (typeof p === 'function' ? p() : p); } catch (e) { err = e; }
  assert.ok(err !== undefined, `expected ${c}, but it succeeded`);
  assert.equal(code(err), c, String((err as Error).message));
  if (re) assert.match((err as Error).message, re);
  return err as SiosError;
}

/** What an attacker who understands the format can do: edit a part and recompute every checksum. */
function digest16(label: string, value: unknown): string {
  return createHash('sha256').update(`sios key file check ${label}\n`).update(canonicalize(value)).digest('hex').slice(0, 16);
}
function forge(f: KeyFile, edit: Partial<Record<keyof KeyFile, unknown>>): KeyFile {
  const g = { ...structuredClone(f), ...structuredClone(edit) } as unknown as KeyFile;
  const header = { format: g.format, v: g.v, alg: g.alg, deployment: g.deployment, created: g.created, fingerprint: g.fingerprint };
  return { ...g, check: { header: digest16('header', header), publicKey: digest16('publicKey', g.publicKey), seed: digest16('seed', g.seed), protectors: g.protectors.map((w, i) => digest16(`protector ${i}`, w)) } };
}

describe('operator key file', () => {
  let seed: Uint8Array;
  let file: KeyFile;
  let other: KeyFile; // another key, same passphrase
  const pw = passphraseProtector(PW);
  let tmp: string;

  before(async () => {
    seed = newSeed();
    // NFD spelling at creation; the NFC spelling must open it (normalisation).
    const nfd = passphraseProtector('cafe\u0301 au lait, sans sucre');
    file = await createKeyFile(seed, [pw, nfd], { deployment: 'bank-prod', created: CREATED });
    other = await createKeyFile(newSeed(), [pw], { deployment: 'bank-prod', created: CREATED });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-keystore-'));
  });
  after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  test('the file holds the public key and fingerprint in clear, never the seed', () => {
    const info = keyFileInfo(file);
    const { publicKey } = keyPairFromSeed(seed);
    assert.deepEqual(info.publicKey, publicKey);
    assert.equal(info.fingerprint, fingerprint(nodeVerifyCrypto, publicKey));
    assert.deepEqual(info.protectors, ['passphrase-scrypt', 'passphrase-scrypt']);
    assert.equal(info.deployment, 'bank-prod');
    const text = serializeKeyFile(file);
    const hexSeed = Buffer.from(seed).toString('hex');
    assert.ok(!text.includes(hexSeed) && !text.includes(Buffer.from(seed).toString('base64url')));
    const w = file.protectors[0] as WrappedKey;
    assert.equal(w['N'], SCRYPT_DEFAULT.N); assert.equal(w['r'], 8); assert.equal(w['p'], 1);
    assert.equal(passphraseWrapIsBelow(w), false);
    assert.equal(passphraseWrapIsBelow(w, { N: 2 ** 18, r: 8, p: 1 }), true);
  });

  test('the right passphrase opens it (either of two, NFC or NFD spelling) and gives the exact seed', async () => {
    assert.deepEqual(await openKeyFile(file, pw), seed);
    // NFC spelling of the second passphrase: the first wrapping fails, the second opens.
    assert.deepEqual(await openKeyFile(file, passphraseProtector('caf\u00e9 au lait, sans sucre')), seed);
  });

  test('a wrong passphrase is ERR_PASSPHRASE with a message that says what to do', async () => {
    const e = await rejectsWith(openKeyFile(other, passphraseProtector('correct horse battery stapler')), 'ERR_PASSPHRASE', /does not open this key.*caps lock/);
    assert.ok(!e.message.includes('stapler'));
  });

  test('openSigner signs with the stored key', async () => {
    const signer = await openSigner(file, pw);
    const msg = utf8('checkpoint');
    const sig = await signer.sign(msg);
    assert.equal(await nodeVerifyCrypto.verifyMlDsa65(keyFileInfo(file).publicKey, msg, sig), true);
  });

  test('a protector of a kind the file lacks is named, without trying anything', async () => {
    const tpm: KeyProtector = {
      kind: 'tpm2-seal',
      wrap: () => Promise.reject(new Error('not used')),
      unwrap: () => { throw new Error('must not be called: the file has no tpm2-seal wrapping'); },
    };
    await rejectsWith(openKeyFile(file, tpm), 'ERR_KEY', /no "tpm2-seal" protector \(it has: passphrase-scrypt, passphrase-scrypt\)/);
  });

  test('a protector whose wrapping cannot be stored as JSON is refused when the file is created', async () => {
    const buggy: KeyProtector = {
      kind: 'buggy',
      wrap: async () => ({ kind: 'buggy', blob: new Uint8Array(3) }),
      unwrap: () => Promise.reject(new Error('not used')),
    };
    await rejectsWith(createKeyFile(seed, [buggy], { deployment: 'd' }), 'ERR_INTERNAL', /"buggy" wrapping\.blob holds a Uint8Array.*base64url/);
    const liar: KeyProtector = { ...buggy, wrap: async () => ({ kind: 'other' }) };
    await rejectsWith(createKeyFile(seed, [liar], { deployment: 'd' }), 'ERR_INTERNAL', /kind is not "buggy"/);
  });

  test('text round trip, strict parse of unknown fields, versions and formats', async () => {
    const text = serializeKeyFile(file);
    assert.deepEqual(parseKeyFile(text), file);
    assert.deepEqual(parseKeyFile(utf8(text)), file);
    const o = JSON.parse(text) as Record<string, unknown>;
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, comment: 'hi' })), 'ERR_KEY', /unknown field "comment"/);
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, v: 2 })), 'ERR_UNSUPPORTED', /version 2 is not supported.*upgrade/);
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, alg: 'ML-DSA-87' })), 'ERR_UNSUPPORTED', /ML-DSA-87/);
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, format: 'pem' })), 'ERR_KEY', /format/);
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, seed: { ...(o['seed'] as object), aad: 'x' } })), 'ERR_KEY', /seed has an unknown field "aad"/);
    const noTag = { ...(o['seed'] as Record<string, unknown>) }; delete noTag['tag'];
    await rejectsWith(() => parseKeyFile(JSON.stringify({ ...o, seed: noTag })), 'ERR_KEY', /seed lacks the field "tag"/);
    await rejectsWith(() => parseKeyFile(text.slice(0, 200)), 'ERR_KEY', /not valid JSON/);
    await rejectsWith(() => parseKeyFile(Uint8Array.of(0x7b, 0xff, 0x7d)), 'ERR_KEY', /UTF-8/);
    await rejectsWith(() => parseKeyFile('x'.repeat(300 * 1024)), 'ERR_TOO_LARGE');
    // Unknown fields inside a passphrase wrapping are refused by the protector (no scrypt is run).
    const w0 = { ...(file.protectors[0] as WrappedKey), hint: 'my dog' };
    await rejectsWith(openKeyFile(forge(file, { protectors: [w0] }), pw), 'ERR_KEY', /unknown field "hint"/);
  });

  test('changing any single character of the file is detected when it is read, and named', () => {
    const text = serializeKeyFile(file);
    const fields = new Set<string>();
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Flip the low bit; keep digits digits and letters letters where possible so the JSON often stays valid.
      const r = String.fromCharCode(c ^ 1);
      const mutated = text.slice(0, i) + r + text.slice(i + 1);
      let err: unknown;
      try { parseKeyFile(mutated); } catch (e) { err = e; }
      assert.ok(err instanceof SiosError, `change at offset ${i} (${JSON.stringify(text[i])} -> ${JSON.stringify(r)}) was not detected`);
      assert.ok(['ERR_KEY', 'ERR_UNSUPPORTED'].includes(err.code), `offset ${i}: ${err.code}`);
      const f = err.details['field'];
      if (typeof f === 'string') fields.add(f.replace(/\[\d+\]/, '[]'));
    }
    // The damaged section is named, not just "corrupt".
    for (const f of ['header', 'publicKey', 'seed', 'protectors[]']) assert.ok(fields.has(f), `never named ${f}: ${[...fields].join(', ')}`);
  });

  test('parts moved between files (with recomputed checksums) do not open', async () => {
    // Protector wrapping of another file: refused from its binding before any scrypt run.
    await rejectsWith(openKeyFile(forge(file, { protectors: other.protectors }), pw), 'ERR_KEY', /made for a different key file/);
    // Same wrapping with a header edit (deployment renamed): the binding changes with it.
    await rejectsWith(openKeyFile(forge(file, { deployment: 'bank-test' }), pw), 'ERR_KEY', /made for a different key file/);
    // Forge the binding tag too: the AES-GCM AAD still differs, so the KEK does not unwrap.
    const stolen = { ...(other.protectors[0] as WrappedKey), bind: (file.protectors[0] as WrappedKey)['bind'] };
    await rejectsWith(openKeyFile(forge(file, { protectors: [stolen] }), pw), 'ERR_PASSPHRASE');
    // Sealed seed of another file: the KEK opens, the seed does not.
    await rejectsWith(openKeyFile(forge(file, { seed: other.seed }), pw), 'ERR_KEY', /sealed seed does not decrypt/);
    // Another public key (and its true fingerprint) in the header: binding fails.
    await rejectsWith(openKeyFile(forge(file, { publicKey: other.publicKey, fingerprint: other.fingerprint }), pw), 'ERR_KEY', /different key file/);
    // Public key swapped but fingerprint kept: caught at parse.
    await rejectsWith(() => parseKeyFile(JSON.stringify(forge(file, { publicKey: other.publicKey }))), 'ERR_KEY', /fingerprint is not the SHA-256 of the public key/);
  });

  test('weak or absurd scrypt parameters are refused on read and on write', async () => {
    const w = file.protectors[0] as WrappedKey;
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, N: 2 ** 14 }] }), pw), 'ERR_KEY', /weaker than the minimum N=131072/);
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, r: 1 }] }), pw), 'ERR_KEY', /weaker/);
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, N: 2 ** 17 + 1 }] }), pw), 'ERR_KEY', /power of two/);
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, N: 2 ** 24 }] }), pw), 'ERR_KEY', /MiB of memory/);
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, p: 1000 }] }), pw), 'ERR_KEY', /work ceiling/);
    await rejectsWith(openKeyFile(forge(file, { protectors: [{ ...w, salt: 'AAAA' }] }), pw), 'ERR_KEY', /salt is 3 bytes, expected 32/);
    await rejectsWith(() => passphraseProtector(PW, { scrypt: { N: 2 ** 10, r: 8, p: 1 } }), 'ERR_INPUT', /weaker/);
    await rejectsWith(() => passphraseProtector(PW, { cost: 1 } as never), 'ERR_INPUT', /unknown passphrase protector option "cost"/);
    await rejectsWith(createKeyFile(seed, [passphraseProtector('short')], { deployment: 'd' }), 'ERR_INPUT', /at least 12/);
    await rejectsWith(() => passphraseProtector(''), 'ERR_PASSPHRASE', /empty/);
  });

  test('create rejects bad input loudly', async () => {
    await rejectsWith(createKeyFile(seed.subarray(0, 31), [pw], { deployment: 'd' }), 'ERR_KEY', /32 bytes, got 31/);
    await rejectsWith(createKeyFile(seed, [], { deployment: 'd' }), 'ERR_INPUT', /at least one key protector/);
    await rejectsWith(createKeyFile(seed, [pw], { deployment: '../etc' }), 'ERR_INPUT', /deployment id/);
    await rejectsWith(createKeyFile(seed, [pw], { deployment: 'd', created: 'yesterday' }), 'ERR_INPUT', /ISO 8601/);
    await rejectsWith(createKeyFile(seed, [pw], { deployment: 'd', owner: 'x' } as never), 'ERR_INPUT', /unknown key file option "owner"/);
  });

  test('rewrap changes the passphrase without touching the sealed seed; add keeps old wrappings', async () => {
    const pw2 = passphraseProtector('a completely different passphrase');
    const re = await rewrapKeyFile(other, pw, [pw2]);
    assert.deepEqual(re.seed, other.seed);
    assert.equal(re.fingerprint, other.fingerprint);
    await rejectsWith(openKeyFile(re, pw), 'ERR_PASSPHRASE');
    const both = await addProtectors(re, pw2, [pw]);
    assert.deepEqual(keyFileInfo(both).protectors, ['passphrase-scrypt', 'passphrase-scrypt']);
    assert.equal(both.protectors[0], re.protectors[0]);
  });

  test('written atomically with mode 0600, never clobbers, and refuses a group-readable file', () => {
    const p = path.join(tmp, 'operator.key');
    writeKeyFile(p, file);
    assert.equal(fs.statSync(p).mode & 0o777, 0o600);
    assert.deepEqual(readKeyFile(p), file);
    assert.throws(() => writeKeyFile(p, other), (e) => code(e) === 'ERR_CONFLICT');
    assert.deepEqual(readKeyFile(p), file, 'the existing key was not replaced');
    writeKeyFile(p, other, { overwrite: true });
    assert.deepEqual(readKeyFile(p), other);
    assert.deepEqual(fs.readdirSync(tmp), ['operator.key'], 'no temporary files left behind');
    fs.chmodSync(p, 0o644);
    assert.throws(() => readKeyFile(p), (e) => code(e) === 'ERR_KEY' && /chmod 600/.test((e as Error).message));
    assert.deepEqual(readKeyFile(p, { allowOpenMode: true }), other);
    assert.throws(() => readKeyFile(path.join(tmp, 'missing.key')), (e) => code(e) === 'ERR_NOT_FOUND');
    fs.writeFileSync(path.join(tmp, 'bad.key'), '{"format":', { mode: 0o600 });
    assert.throws(() => readKeyFile(path.join(tmp, 'bad.key')), (e) => code(e) === 'ERR_KEY' && /bad\.key: .*not valid JSON/.test((e as Error).message));
    assert.throws(() => writeKeyFile(path.join(tmp, 'no-such-dir', 'k'), file), (e) => code(e) === 'ERR_STORE');
  });

  test('a disposed passphrase protector refuses further use', async () => {
    const p = passphraseProtector(PW);
    p.dispose();
    await rejectsWith(openKeyFile(file, p), 'ERR_CLOSED');
  });

  test('the checksums are laid out as documented (so the forgeries above are real forgeries)', () => {
    assert.equal(fromBase64url(file.seed.ct).length, 32);
    assert.deepEqual(forge(file, {}), file);
    assert.notDeepEqual(file.seed, other.seed);
  });
});
