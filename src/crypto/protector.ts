/**
 * A key protector wraps the 32-byte key-encryption key (KEK) that encrypts the operator's signing
 * seed at rest. Protectors are pluggable: a passphrase (scrypt), a TPM 2.0 seal bound to PCR state
 * and the passphrase, or both. The keystore never writes the KEK or the seed in clear.
 */
export interface WrappedKey {
  /** Which protector made this (for example 'passphrase-scrypt' or 'tpm2-seal'). */
  readonly kind: string;
  /** Protector-specific, JSON-serialisable, non-secret parameters and ciphertext. */
  readonly [k: string]: unknown;
}

export interface KeyProtector {
  readonly kind: string;
  /** Wrap `kek`; `aad` binds the wrapping to its context (deployment id, key fingerprint). */
  wrap(kek: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /** Unwrap, or throw SiosError ('ERR_PASSPHRASE', 'ERR_ATTESTATION', 'ERR_KEY') saying why and what to do. */
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>;
}
