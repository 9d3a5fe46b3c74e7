/**
 * AES-256-GCM sealing for data at rest (tenant records, ledger payloads). Format:
 * 0x01 || iv(12) || ciphertext || tag(16). The associated data binds each ciphertext to its place
 * (tenant id, table, row), so a ciphertext moved elsewhere fails to open.
 */
import * as nodeCrypto from 'node:crypto';
import { SiosError } from '../errors.ts';

const VERSION = 0x01;

// node:crypto re-validates a raw key on every cipher it creates; a KeyObject made once per key
// skips that (a read of 100 records is 100 decryptions). Keyed by the caller's key array.
const keyObjects = new WeakMap<Uint8Array, nodeCrypto.KeyObject>();
function keyObject(key: Uint8Array): nodeCrypto.KeyObject {
  let k = keyObjects.get(key);
  if (!k) { k = nodeCrypto.createSecretKey(key); keyObjects.set(key, k); }
  return k;
}

export function sealAead(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new SiosError('ERR_KEY', 'AES-256-GCM needs a 32-byte key');
  const iv = nodeCrypto.randomBytes(12);
  const c = nodeCrypto.createCipheriv('aes-256-gcm', keyObject(key), iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  const out = new Uint8Array(1 + 12 + ct.length + 16);
  out[0] = VERSION; out.set(iv, 1); out.set(ct, 13); out.set(c.getAuthTag(), 13 + ct.length);
  return out;
}

export function openAead(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, what = 'data'): Uint8Array {
  if (key.length !== 32) throw new SiosError('ERR_KEY', 'AES-256-GCM needs a 32-byte key');
  if (sealed.length < 29 || sealed[0] !== VERSION) throw new SiosError('ERR_KEY', `${what} is not a SIOS ciphertext (wrong version or truncated)`);
  try {
    const d = nodeCrypto.createDecipheriv('aes-256-gcm', keyObject(key), sealed.subarray(1, 13));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()]));
  } catch (cause) {
    throw new SiosError('ERR_KEY', `${what} failed to decrypt: wrong key, wrong tenant, or the ciphertext was altered`, { cause });
  }
}

/** HKDF-SHA-256 (RFC 5869) through node:crypto. */
export function hkdf(ikm: Uint8Array, salt: string, info: string, length = 32): Uint8Array {
  return new Uint8Array(nodeCrypto.hkdfSync('sha256', ikm, salt, info, length));
}
