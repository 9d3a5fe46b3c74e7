/**
 * Passphrase key protector: the key-encryption key (KEK) is wrapped with AES-256-GCM under a key
 * derived from the operator's passphrase with scrypt (RFC 7914). The scrypt parameters travel in
 * the wrapped key so they can be raised later; on read they are checked against a floor (too weak
 * is refused, not silently accepted) and a ceiling (a hostile file cannot make us allocate
 * gigabytes or spin for minutes). Node-only (node:crypto).
 */
import * as nodeCrypto from 'node:crypto';
import { SiosError } from '../errors.ts';
import { fromBase64url, toBase64url, toHex, utf8 } from '../encoding/bytes.ts';
import type { KeyProtector, WrappedKey } from './protector.ts';

export const PASSPHRASE_KIND = 'passphrase-scrypt';

export interface ScryptParams {
  /** CPU/memory cost, a power of two (RFC 7914 §2). */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
}

/** What we write today: N=2^17, r=8, p=1 (~128 MiB, ~0.33 s on the reference 2-core machine). */
export const SCRYPT_DEFAULT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** The weakest parameters accepted on read or write; raise SCRYPT_DEFAULT, never lower this. */
export const SCRYPT_FLOOR: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
// Ceiling: memory 128·N·r at most 1 GiB, total work N·r·p at most 64× the default.
const MAX_MEMORY = 2 ** 30;
const MAX_WORK = 2 ** 17 * 8 * 64;
const SALT_BYTES = 32;
const IV_BYTES = 12;      // NIST SP 800-38D §8.2: 96-bit IVs
const TAG_BYTES = 16;
const KEK_BYTES = 32;
/** Unicode code points; applies when wrapping (choosing a passphrase), not when unwrapping. */
export const MIN_PASSPHRASE_CHARS = 12;
const MAX_PASSPHRASE_BYTES = 1024;

const WRAPPED_KEYS = ['kind', 'kdf', 'N', 'r', 'p', 'salt', 'cipher', 'iv', 'ct', 'tag', 'bind'] as const;

export interface PassphraseProtectorOptions {
  /** scrypt parameters for new wrappings; must be at least SCRYPT_FLOOR. */
  scrypt?: ScryptParams;
  /** Shown in messages ("the export passphrase"); default "the passphrase". */
  label?: string;
}

/**
 * A KeyProtector for a passphrase. The passphrase is NFC-normalised so the same words typed on
 * different systems give the same key. Call `dispose()` when done to overwrite the copy held here.
 */
export function passphraseProtector(passphrase: string | Uint8Array, opts: PassphraseProtectorOptions = {}): KeyProtector & { dispose(): void } {
  for (const k of Object.keys(opts)) {
    if (k !== 'scrypt' && k !== 'label') throw new SiosError('ERR_INPUT', `unknown passphrase protector option "${k}"; allowed: scrypt, label`);
  }
  const label = opts.label ?? 'the passphrase';
  const params = opts.scrypt ?? SCRYPT_DEFAULT;
  checkParams(params, 'requested');
  const secret = typeof passphrase === 'string' ? utf8(passphrase.normalize('NFC')) : Uint8Array.from(passphrase);
  if (secret.length === 0) throw new SiosError('ERR_PASSPHRASE', `${label} is empty; type it again`);
  if (secret.length > MAX_PASSPHRASE_BYTES) throw new SiosError('ERR_INPUT', `${label} is longer than ${MAX_PASSPHRASE_BYTES} bytes; use a shorter one`);
  const chars = typeof passphrase === 'string' ? [...passphrase.normalize('NFC')].length : secret.length;
  let disposed = false;
  const live = (): Uint8Array => {
    if (disposed) throw new SiosError('ERR_CLOSED', 'this passphrase protector was disposed; create a new one');
    return secret;
  };

  return {
    kind: PASSPHRASE_KIND,
    async wrap(kek: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
      if (kek.length !== KEK_BYTES) throw new SiosError('ERR_INPUT', `a key-encryption key is ${KEK_BYTES} bytes, got ${kek.length}`);
      if (chars < MIN_PASSPHRASE_CHARS) {
        throw new SiosError('ERR_INPUT', `${label} has ${chars} characters; choose one of at least ${MIN_PASSPHRASE_CHARS} (a few unrelated words work well)`);
      }
      const salt = new Uint8Array(nodeCrypto.randomBytes(SALT_BYTES));
      const iv = new Uint8Array(nodeCrypto.randomBytes(IV_BYTES));
      const wk = await derive(live(), salt, params);
      try {
        const c = nodeCrypto.createCipheriv('aes-256-gcm', wk, iv, { authTagLength: TAG_BYTES });
        c.setAAD(aad);
        const ct = new Uint8Array(Buffer.concat([c.update(kek), c.final()]));
        const tag = new Uint8Array(c.getAuthTag());
        return {
          kind: PASSPHRASE_KIND, kdf: 'scrypt', N: params.N, r: params.r, p: params.p, salt: toBase64url(salt),
          cipher: 'AES-256-GCM', iv: toBase64url(iv), ct: toBase64url(ct), tag: toBase64url(tag), bind: bindTag(aad),
        };
      } finally {
        wk.fill(0);
      }
    },
    async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
      const w = parseWrapped(wrapped);
      // `bind` is a non-secret hash of the context: it tells "made for another key file" apart from
      // "wrong passphrase". The cryptographic binding is the GCM AAD, not this field.
      if (w.bind !== bindTag(aad)) {
        throw new SiosError('ERR_KEY', 'this passphrase wrapping was made for a different key file (its header, fingerprint or deployment differ); the file was assembled from parts of other files: use an intact key file or a backup');
      }
      const wk = await derive(live(), w.salt, w);
      try {
        const d = nodeCrypto.createDecipheriv('aes-256-gcm', wk, w.iv, { authTagLength: TAG_BYTES });
        d.setAAD(aad);
        d.setAuthTag(w.tag);
        const out = d.update(w.ct);
        try {
          d.final();
        } catch {
          out.fill(0);
          throw new SiosError('ERR_PASSPHRASE', `${label} does not open this key; check the keyboard layout and caps lock and try again (if it is lost, restore from an export file or key shares)`);
        }
        const kek = new Uint8Array(out);
        out.fill(0);
        return kek;
      } finally {
        wk.fill(0);
      }
    },
    dispose(): void {
      secret.fill(0);
      disposed = true;
    },
  };
}

/** True when a wrapping uses weaker scrypt parameters than `target` (so it should be re-wrapped). */
export function passphraseWrapIsBelow(wrapped: WrappedKey, target: ScryptParams = SCRYPT_DEFAULT): boolean {
  if (wrapped.kind !== PASSPHRASE_KIND) return false;
  const w = parseWrapped(wrapped);
  return w.N * w.r * w.p < target.N * target.r * target.p || w.N < target.N;
}

function bindTag(aad: Uint8Array): string {
  return toHex(new Uint8Array(nodeCrypto.createHash('sha256').update('sios passphrase-scrypt bind\0').update(aad).digest().subarray(0, 8)));
}

function checkParams(p: ScryptParams, what: 'requested' | 'stored'): void {
  const bad = (msg: string): never => {
    throw what === 'stored'
      ? new SiosError('ERR_KEY', `the key file's scrypt parameters are not acceptable: ${msg}; the file was edited or made by an unsafe tool: use an intact copy or a backup`)
      : new SiosError('ERR_INPUT', `scrypt parameters rejected: ${msg}`);
  };
  for (const k of ['N', 'r', 'p'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 1) bad(`${k} must be a positive integer`);
  }
  if ((p.N & (p.N - 1)) !== 0) bad(`N=${p.N} is not a power of two`);
  if (p.N < SCRYPT_FLOOR.N || p.r < SCRYPT_FLOOR.r || p.p < SCRYPT_FLOOR.p) {
    bad(`N=${p.N}, r=${p.r}, p=${p.p} is weaker than the minimum N=${SCRYPT_FLOOR.N}, r=${SCRYPT_FLOOR.r}, p=${SCRYPT_FLOOR.p}`);
  }
  if (128 * p.N * p.r > MAX_MEMORY) bad(`N=${p.N}, r=${p.r} needs more than ${MAX_MEMORY / 2 ** 20} MiB of memory`);
  if (p.N * p.r * p.p > MAX_WORK) bad(`N·r·p=${p.N * p.r * p.p} exceeds the work ceiling ${MAX_WORK}`);
}

interface ParsedWrap { N: number; r: number; p: number; salt: Uint8Array; iv: Uint8Array; ct: Uint8Array; tag: Uint8Array; bind: string }

function parseWrapped(w: WrappedKey): ParsedWrap {
  const bad = (msg: string): never => {
    throw new SiosError('ERR_KEY', `the passphrase wrapping in the key file is malformed: ${msg}; the file was edited or damaged: use an intact copy or a backup`);
  };
  if (w === null || typeof w !== 'object' || Array.isArray(w)) bad('not an object');
  for (const k of Object.keys(w)) if (!(WRAPPED_KEYS as readonly string[]).includes(k)) bad(`unknown field "${k}"`);
  for (const k of WRAPPED_KEYS) if (!(k in w)) bad(`field "${k}" is missing`);
  if (w.kind !== PASSPHRASE_KIND) bad(`kind is ${JSON.stringify(w.kind)}, expected "${PASSPHRASE_KIND}"`);
  if (w['kdf'] !== 'scrypt') bad(`kdf ${JSON.stringify(w['kdf'])} is not supported (only "scrypt")`);
  if (w['cipher'] !== 'AES-256-GCM') bad(`cipher ${JSON.stringify(w['cipher'])} is not supported (only "AES-256-GCM")`);
  const num = (k: string): number => { const v = w[k]; return typeof v === 'number' ? v : bad(`${k} is not a number`); };
  const b64 = (k: string, len: number): Uint8Array => {
    const v = w[k];
    if (typeof v !== 'string') return bad(`${k} is not a string`);
    let b: Uint8Array;
    try { b = fromBase64url(v, k); } catch { return bad(`${k} is not base64url`); }
    if (b.length !== len) bad(`${k} is ${b.length} bytes, expected ${len}`);
    return b;
  };
  const params = { N: num('N'), r: num('r'), p: num('p') };
  checkParams(params, 'stored');
  const bind = w['bind'];
  if (typeof bind !== 'string' || !/^[0-9a-f]{16}$/.test(bind)) bad('bind is not 16 lower-case hex digits');
  return { ...params, salt: b64('salt', SALT_BYTES), iv: b64('iv', IV_BYTES), ct: b64('ct', KEK_BYTES), tag: b64('tag', TAG_BYTES), bind: bind as string };
}

function derive(secret: Uint8Array, salt: Uint8Array, p: ScryptParams): Promise<Buffer> {
  // maxmem must exceed 128·N·r (V) + 128·r·p (B); add a MiB of slack for Node's own bookkeeping.
  const maxmem = 128 * p.N * p.r + 128 * p.r * p.p + 2 ** 20;
  return new Promise((resolve, reject) => {
    nodeCrypto.scrypt(secret, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem }, (err, key) => {
      if (err) reject(new SiosError('ERR_INTERNAL', 'scrypt key derivation failed (out of memory?); free memory and retry', { cause: err }));
      else resolve(key);
    });
  });
}
