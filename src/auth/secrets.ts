/**
 * Bearer secrets (session tokens, API tokens, enrolment codes): `<prefix>_<id>_<secret>` where id is
 * 8 random bytes in hex (the lookup key, not secret) and secret is 32 random bytes in base64url.
 * Only SHA-256(domain || 0x00 || id || 0x00 || secret) is stored; the domain separates the kinds
 * so a hash of one can never be presented as another. The secret has 256 bits of entropy, so a
 * fast hash is enough (no password stretching needed), and the comparison is constant-time.
 */
import { SiosError } from '../errors.ts';
import { concat, fromBase64url, timingSafeEqual, toBase64url, toHex, utf8 } from '../encoding/bytes.ts';
import { nodeVerifyCrypto, randomBytes } from '../crypto/node.ts';

export type SecretKind = 'session' | 'api-token' | 'enrolment';

const PREFIX: Record<SecretKind, string> = { 'session': 'siosS', 'api-token': 'sios', 'enrolment': 'siosE' };
const ID_HEX = 16;
const SECRET_B64 = 43; // 32 bytes, unpadded base64url

export interface IssuedSecret { id: string; text: string; hash: Uint8Array }

export function issueSecret(kind: SecretKind): IssuedSecret {
  const id = toHex(randomBytes(ID_HEX / 2));
  const secret = randomBytes(32);
  return { id, text: `${PREFIX[kind]}_${id}_${toBase64url(secret)}`, hash: hashSecret(kind, id, secret) };
}

export function hashSecret(kind: SecretKind, id: string, secret: Uint8Array): Uint8Array {
  const h = nodeVerifyCrypto.sha256(concat(utf8(`sios/auth/${kind}/v1`), new Uint8Array([0]), utf8(id), new Uint8Array([0]), secret));
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength); // a plain Uint8Array view, not a Buffer
}

/** Splits a presented secret; any malformation is the same ERR_AUTH as a wrong secret. */
export function parseSecret(kind: SecretKind, text: unknown): { id: string; secret: Uint8Array } {
  const what = kind === 'api-token' ? 'API token' : kind === 'session' ? 'session token' : 'enrolment code';
  const prefix = PREFIX[kind] + '_';
  if (typeof text !== 'string' || text.length !== prefix.length + ID_HEX + 1 + SECRET_B64 || !text.startsWith(prefix)) {
    throw new SiosError('ERR_AUTH', `the ${what} is not recognised; present the full value as issued, or obtain a new one`);
  }
  const id = text.slice(prefix.length, prefix.length + ID_HEX);
  const sep = text[prefix.length + ID_HEX];
  if (!/^[0-9a-f]{16}$/.test(id) || sep !== '_') {
    throw new SiosError('ERR_AUTH', `the ${what} is not recognised; present the full value as issued, or obtain a new one`);
  }
  let secret: Uint8Array;
  try { secret = fromBase64url(text.slice(prefix.length + ID_HEX + 1)); } catch {
    throw new SiosError('ERR_AUTH', `the ${what} is not recognised; present the full value as issued, or obtain a new one`);
  }
  return { id, secret };
}

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatches(kind: SecretKind, id: string, secret: Uint8Array, stored: Uint8Array): boolean {
  return timingSafeEqual(hashSecret(kind, id, secret), stored);
}

/** Burns the same hashing work when the id is unknown, so absence is not cheaper to learn. */
export function dummyCompare(kind: SecretKind, secret: Uint8Array): void {
  timingSafeEqual(hashSecret(kind, '0000000000000000', secret), new Uint8Array(32));
}
