/**
 * Operator public key files: PEM "PUBLIC KEY" (SPKI, RFC 5280) of an ML-DSA-65 key, readable by
 * OpenSSL 3.5 (`openssl pkey -pubin -in operator.pub -text`). Also accepted: the bare raw key in
 * base64url. Runtime-agnostic (the browser verifier reads the same files).
 */
import { SiosError } from '../errors.ts';
import { fromBase64, fromBase64url, toBase64 } from '../encoding/bytes.ts';
import { ML_DSA_65 } from './suite.ts';

// SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.3.18 (id-ml-dsa-65) } BIT STRING }
const SPKI_PREFIX = Uint8Array.from([
  0x30, 0x82, 0x07, 0xb2, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12,
  0x03, 0x82, 0x07, 0xa1, 0x00,
]);

export function publicKeyToPem(raw: Uint8Array): string {
  if (raw.length !== ML_DSA_65.publicKeyBytes) throw new SiosError('ERR_KEY', 'not an ML-DSA-65 public key');
  const der = new Uint8Array(SPKI_PREFIX.length + raw.length);
  der.set(SPKI_PREFIX); der.set(raw, SPKI_PREFIX.length);
  const b64 = toBase64(der);
  return `-----BEGIN PUBLIC KEY-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** Parse a PEM SPKI or a raw base64url ML-DSA-65 public key; clear errors for anything else. */
export function parsePublicKey(text: string): Uint8Array {
  const t = text.trim();
  if (t.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const m = /^-----BEGIN PUBLIC KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----$/.exec(t);
    if (!m) throw new SiosError('ERR_KEY', 'the public key PEM is malformed; use the operator.pub written by `sios init` or `sios key show --pem`');
    const der = fromBase64((m[1] as string).replace(/\s+/g, ''), 'public key PEM');
    if (der.length !== SPKI_PREFIX.length + ML_DSA_65.publicKeyBytes || SPKI_PREFIX.some((b, i) => der[i] !== b)) {
      throw new SiosError('ERR_KEY', 'the PEM key is not an ML-DSA-65 public key (wrong algorithm or length)');
    }
    return der.subarray(SPKI_PREFIX.length);
  }
  if (/^[A-Za-z0-9_-]+$/.test(t)) {
    const raw = fromBase64url(t, 'public key');
    if (raw.length === ML_DSA_65.publicKeyBytes) return raw;
  }
  throw new SiosError('ERR_KEY', 'not an ML-DSA-65 public key: expected a PEM "PUBLIC KEY" block or the raw key in base64url');
}
