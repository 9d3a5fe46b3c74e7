/**
 * One error base class for all of SIOS with stable, machine-readable codes.
 * Messages say what was wrong and what to do; `cause` is kept for operators, never for the wire.
 * Errors that cross HTTP are mapped in api/ (see api/http-error.ts), not here.
 */
export type SiosErrorCode =
  // input and encoding
  | 'ERR_INPUT'             // a value at an API boundary is malformed, out of range or unknown
  | 'ERR_ENCODING'          // bytes are not valid UTF-8 / base64url / hex / canonical JSON
  | 'ERR_TOO_LARGE'         // an input exceeds a documented size bound
  // keys and crypto
  | 'ERR_KEY'               // a key is missing, malformed, of the wrong kind, or locked
  | 'ERR_PASSPHRASE'        // the passphrase does not open the key
  | 'ERR_SHARES'            // key shares are insufficient, inconsistent or corrupt
  | 'ERR_CRYPTO_UNAVAILABLE'// the runtime lacks a required algorithm (for example ML-DSA before Node 24)
  // verification (ledger, receipts, bundles, manifests)
  | 'ERR_VERIFY'            // a signature, proof, chain or commitment does not verify
  // state and storage
  | 'ERR_NOT_FOUND'
  | 'ERR_CONFLICT'          // already exists, or state changed underneath
  | 'ERR_STORE'             // the embedded store failed (disk full, corrupt, locked)
  | 'ERR_CLOSED'            // the object was closed or the subsystem is shutting down
  | 'ERR_IN_DOUBT'          // an intent has no outcome after a crash
  // authorisation and governance
  | 'ERR_AUTH'              // not authenticated, or the session is stale and needs step-up
  | 'ERR_FORBIDDEN'         // authenticated but not allowed
  | 'ERR_RATE_LIMITED'
  | 'ERR_APPROVAL'          // a required approval is missing, expired or does not match
  | 'ERR_REVOKED'           // a brain, skill, token or key was revoked
  | 'ERR_QUARANTINED'
  | 'ERR_SANDBOX'           // a sandboxed cell cannot be created or was violated
  | 'ERR_EGRESS'            // the egress gateway refused a connection
  | 'ERR_ATTESTATION'       // TPM evidence is missing, stale or does not match
  | 'ERR_UNSUPPORTED'
  | 'ERR_TIMEOUT'           // work ran past its time limit and was stopped
  | 'ERR_INTERNAL';

export class SiosError extends Error {
  readonly code: SiosErrorCode;
  /** Structured, non-secret details (for example the failing sequence number). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: SiosErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SiosError';
    this.code = code;
    this.details = Object.freeze({ ...(options?.details ?? {}) });
  }
}

/** Reason codes of a failed verification; stable, documented in docs/formats.md. */
export type VerifyReason =
  | 'malformed'         // not parseable / not canonical
  | 'truncated'         // the bundle ends early or entries are missing at the end
  | 'bad-signature'     // a checkpoint or announcement signature does not verify
  | 'unknown-key'       // signed by a key that is not trusted
  | 'broken-chain'      // prev does not match the previous entry's leaf hash
  | 'wrong-root'        // a checkpoint root does not match the entries
  | 'unsigned'          // entries after the last checkpoint are not covered by any signature
  | 'wrong-tenant'      // an entry or checkpoint names another tenant/origin
  | 'reordered'         // sequence numbers out of order, duplicated or skipped
  | 'bad-proof'         // an inclusion or consistency proof fails
  | 'bad-commitment'    // a disclosed payload does not match its commitment
  | 'inconsistent'      // a newer checkpoint does not extend an older one
  | 'bad-evidence';     // attached hardware evidence does not verify

export class VerifyError extends SiosError {
  readonly reason: VerifyReason;
  /** Sequence number of the first bad entry, when the failure can be located. */
  readonly seq: number | undefined;
  constructor(reason: VerifyReason, message: string, seq?: number, cause?: unknown) {
    super('ERR_VERIFY', message, { cause, details: seq === undefined ? { reason } : { reason, seq } });
    this.name = 'VerifyError';
    this.reason = reason;
    this.seq = seq;
  }
}

export function isSiosError(e: unknown): e is SiosError {
  return e instanceof SiosError;
}
