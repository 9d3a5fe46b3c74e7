/**
 * Web-standard implementation of the verification suite, for the browser verifier page (and as a
 * cross-check in Node). SHA-256 comes from @noble/hashes (synchronous, audited); ML-DSA-65 uses the
 * browser's native WebCrypto when it has it, else @noble/post-quantum.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ML_DSA_65, type VerifyCrypto } from './suite.ts';

type Subtle = {
  importKey(format: string, key: BufferSource, alg: { name: string }, extractable: boolean, usages: string[]): Promise<CryptoKey>;
  verify(alg: { name: string }, key: CryptoKey, sig: BufferSource, data: BufferSource): Promise<boolean>;
};

async function nativeMlDsa(): Promise<Subtle | undefined> {
  const subtle = (globalThis.crypto?.subtle as unknown as Subtle | undefined);
  if (!subtle) return undefined;
  try {
    // Probe with a well-formed but arbitrary key: importKey succeeds only where ML-DSA-65 is implemented.
    await subtle.importKey('raw-public', new Uint8Array(ML_DSA_65.publicKeyBytes), { name: 'ML-DSA-65' }, false, ['verify']);
    return subtle;
  } catch {
    return undefined;
  }
}

export async function webVerifyCrypto(opts: { preferNative?: boolean } = {}): Promise<VerifyCrypto> {
  const native = opts.preferNative === false ? undefined : await nativeMlDsa();
  const keys = new Map<string, Promise<CryptoKey>>();
  return {
    name: native ? 'WebCrypto (native ML-DSA-65)' : '@noble/post-quantum',
    sha256: (data) => sha256(data),
    async verifyMlDsa65(publicKey, message, signature) {
      if (signature.length !== ML_DSA_65.signatureBytes || publicKey.length !== ML_DSA_65.publicKeyBytes) return false;
      try {
        if (native) {
          const id = String.fromCharCode(...sha256(publicKey));
          let k = keys.get(id);
          if (!k) { k = native.importKey('raw-public', publicKey as BufferSource, { name: 'ML-DSA-65' }, false, ['verify']); keys.set(id, k); }
          return await native.verify({ name: 'ML-DSA-65' }, await k, signature as BufferSource, message as BufferSource);
        }
        return ml_dsa65.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    },
  };
}
