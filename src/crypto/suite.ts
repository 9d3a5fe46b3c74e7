/**
 * The cryptographic suite SIOS signs and verifies with, as a runtime-agnostic interface.
 * Verification code (ledger/verify, the browser page) depends only on `VerifyCrypto`; Node supplies
 * node:crypto (fast, OpenSSL 3.5) and the browser supplies WebCrypto or @noble/post-quantum.
 */
export const ML_DSA_65 = Object.freeze({
  name: 'ML-DSA-65',
  publicKeyBytes: 1952,   // FIPS 204 Table 2
  signatureBytes: 3309,   // FIPS 204 Table 2
  seedBytes: 32,          // ξ in FIPS 204 Algorithm 1 (ML-DSA.KeyGen)
});

export interface VerifyCrypto {
  readonly name: string;
  /** SHA-256, synchronous: the Merkle tree hashes millions of leaves and cannot await each one. */
  sha256(data: Uint8Array): Uint8Array;
  /**
   * Optional: RFC 9162 leaf hashes SHA-256(0x00 || buf[start:end]) of many ranges, computed off the
   * calling thread (Node: worker threads on the other cores). Returns 32 bytes per range, in order.
   * Verification works without it; with it, hashing overlaps with parsing.
   */
  leafHashes?(buf: Uint8Array, starts: Int32Array | Float64Array, ends: Int32Array | Float64Array): Promise<Uint8Array>;
  /** ML-DSA-65 verification with the empty context string (FIPS 204 §5.4). Never throws on bad input: false. */
  verifyMlDsa65(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** Something that can produce ML-DSA-65 signatures with one key (software, or a TPM-sealed key). */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}
