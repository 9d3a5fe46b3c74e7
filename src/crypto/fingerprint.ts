/** Key fingerprints: SHA-256 of the raw encoded public key (DESIGN.md "Keys"), shown wherever people compare keys. */
import { toHex } from '../encoding/bytes.ts';
import type { VerifyCrypto } from './suite.ts';

export function fingerprint(crypto: VerifyCrypto, publicKey: Uint8Array): string {
  return 'SHA256:' + toHex(crypto.sha256(publicKey));
}

/** The same fingerprint split in groups of four for reading aloud: "SHA256:3f2a 9c01 …". */
export function fingerprintForHumans(fp: string): string {
  const hex = fp.replace(/^SHA256:/, '');
  return 'SHA256:' + (hex.match(/.{1,4}/g) ?? []).join(' ');
}
