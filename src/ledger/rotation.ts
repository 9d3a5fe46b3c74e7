/** The statement an outgoing operator key signs to announce its successor (domain-separated). */
import { toBase64url, utf8 } from '../encoding/bytes.ts';

export function rotationStatementFor(origin: string, newPublicKey: Uint8Array): Uint8Array {
  return utf8(`SIOS key rotation v1\n${origin}\n${toBase64url(newPublicKey)}\n`);
}
