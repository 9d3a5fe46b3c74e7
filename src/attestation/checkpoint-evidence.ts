/**
 * Evidence objects that checkpoints point at. A checkpoint carries the extension line
 * `sios-attest tpm2 <digest>`, digest = hex SHA-256 of the JCS encoding of one CheckpointEvidence
 * object; the object is stored by the deployment and exported beside the checkpoints as an
 * {"evidence": ...} bundle line. Since the checkpoint signature covers the digest, the operator key
 * vouches for exactly this evidence; the evidence in turn carries:
 *   - the device identity (EK, AK) and the operator key's ML-DSA-65 signature over
 *     identityStatement(identity, operator fingerprint hex): operator -> AK binding;
 *   - a TPM quote whose qualifying data is quoteNonce(operator fingerprint, challenge): AK -> operator
 *     binding and freshness. The challenge is the body (origin, size, root) of the system ledger's
 *     latest checkpoint when the quote was taken, or 32 random bytes before the first checkpoint.
 * Web-standard APIs only: `sios verify` and the browser page share it.
 */
import { VerifyError } from '../errors.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { fromBase64url, fromHex, toHex, utf8 } from '../encoding/bytes.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import { checkIdentity, identityStatement, quoteNonce, verifyEvidence, type DeviceIdentity, type TpmEvidence } from './verify-evidence.ts';

export const CHECKPOINT_EVIDENCE_TYPE = 'sios/checkpoint-evidence/v1';

export type EvidenceChallenge =
  | { readonly source: 'checkpoint'; readonly origin: string; readonly size: number; readonly root: string }
  | { readonly source: 'random'; readonly value: string };

export interface CheckpointEvidence {
  readonly v: 1;
  readonly type: typeof CHECKPOINT_EVIDENCE_TYPE;
  /** Operator key fingerprint 'SHA256:<hex>' and the raw public key (base64url) it names. */
  readonly operator: string;
  readonly operatorPublicKey: string;
  readonly identity: DeviceIdentity;
  /** ML-DSA-65 signature of the operator key over identityStatement(identity, operator hex). */
  readonly binding: string;
  readonly challenge: EvidenceChallenge;
  /** When the quote was taken (ISO 8601, host clock: informative; the TPM clock is in the quote). */
  readonly created: string;
  readonly tpm: TpmEvidence;
}

/** Bytes of the challenge: the C2SP checkpoint body's first three lines, or the random value. */
export function challengeBytes(c: EvidenceChallenge): Uint8Array {
  if (c?.source === 'checkpoint') {
    if (typeof c.origin !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(c.origin) || !Number.isSafeInteger(c.size) || c.size < 0 || typeof c.root !== 'string') {
      throw new VerifyError('bad-evidence', 'evidence challenge names a malformed checkpoint');
    }
    return utf8(`${c.origin}\n${c.size}\n${c.root}\n`);
  }
  if (c?.source === 'random') {
    const v = fromHex(String(c.value), 'challenge value');
    if (v.length !== 32) throw new VerifyError('bad-evidence', 'a random evidence challenge is 32 bytes');
    return v;
  }
  throw new VerifyError('bad-evidence', 'evidence challenge is neither a checkpoint nor a random value');
}

/** Hex SHA-256 of the canonical encoding: what the checkpoint line names. */
export function evidenceDigest(c: VerifyCrypto, ev: unknown): string {
  return toHex(c.sha256(utf8(canonicalize(ev))));
}

export const ATTEST_PREFIX = 'tpm2 ';

/** The digest a checkpoint's `sios-attest` value names, or undefined for software mode / none. */
export function referencedDigest(attestation: string | undefined): string | undefined {
  if (attestation === undefined || !attestation.startsWith(ATTEST_PREFIX)) return undefined;
  const d = attestation.slice(ATTEST_PREFIX.length);
  return /^[0-9a-f]{64}$/.test(d) ? d : undefined;
}

export interface CheckpointEvidenceContext {
  /** Checkpoints of the bundle already verified by their ML-DSA-65 signatures (size, attestation line, signer fingerprint). */
  readonly checkpoints: readonly { readonly size: number; readonly attestation: string | undefined; readonly signer: string }[];
  /** AK names the verified ledger itself records (admin 'device-identity' entries), when the bundle is the system ledger. */
  readonly recordedAkNames?: ReadonlySet<string>;
  /** Require this measurement digest (hex), for an auditor who holds the expected installation digest. */
  readonly expectMeasurement?: string;
}

export interface CheckpointEvidenceResult {
  readonly digest: string;
  readonly sizes: readonly number[];
  readonly measurement: string;
  readonly akName: string;
  readonly summary: string;
}

/**
 * Verify one evidence object against the verified checkpoints that reference it. Throws VerifyError
 * ('bad-evidence') saying which check failed.
 */
export async function verifyCheckpointEvidence(c: VerifyCrypto, evidence: unknown, ctx: CheckpointEvidenceContext): Promise<CheckpointEvidenceResult> {
  const ev = evidence as Partial<CheckpointEvidence> | null;
  if (typeof ev !== 'object' || ev === null || ev.v !== 1 || ev.type !== CHECKPOINT_EVIDENCE_TYPE) {
    throw new VerifyError('bad-evidence', `evidence is not a ${CHECKPOINT_EVIDENCE_TYPE} object`);
  }
  let digest: string;
  try { digest = evidenceDigest(c, ev); } catch (cause) { throw new VerifyError('bad-evidence', 'evidence is not canonicalisable JSON', undefined, cause); }
  // Operator key: the evidence names a key whose fingerprint signed checkpoints of this bundle.
  if (typeof ev.operator !== 'string' || typeof ev.operatorPublicKey !== 'string') throw new VerifyError('bad-evidence', 'evidence does not name the operator key');
  const pub = fromBase64url(ev.operatorPublicKey, 'operatorPublicKey');
  if (fingerprint(c, pub) !== ev.operator) throw new VerifyError('bad-evidence', 'evidence operator key does not match its fingerprint');
  if (!ctx.checkpoints.some((k) => k.signer === ev.operator)) {
    throw new VerifyError('bad-evidence', `evidence is bound to operator key ${ev.operator.slice(0, 23)}…, which signed no checkpoint of this bundle`);
  }
  const fpHex = ev.operator.replace(/^SHA256:/, '');
  // Operator -> device binding.
  if (!ev.identity) throw new VerifyError('bad-evidence', 'evidence carries no device identity');
  await checkIdentity(ev.identity);
  if (typeof ev.binding !== 'string' || !(await c.verifyMlDsa65(pub, identityStatement(ev.identity, fpHex), fromBase64url(ev.binding, 'binding')))) {
    throw new VerifyError('bad-evidence', 'the operator key did not sign this device identity: the AK is not bound to the operator');
  }
  if (ctx.recordedAkNames && ctx.recordedAkNames.size > 0 && !ctx.recordedAkNames.has(ev.identity.akName)) {
    throw new VerifyError('bad-evidence', 'evidence comes from a device whose identity this ledger never recorded (device-identity entry)');
  }
  // Quote: AK under EK, signature, nonce, PCRs, event-list replay, expected measurement.
  const nonce = await quoteNonce(fromHex(fpHex, 'operator fingerprint'), challengeBytes(ev.challenge as EvidenceChallenge));
  const r = await verifyEvidence(ev.tpm, { nonce, identity: ev.identity, ...(ctx.expectMeasurement ? { measurement: ctx.expectMeasurement } : {}) });
  if (r.mode !== 'tpm2') throw new VerifyError('bad-evidence', 'checkpoint evidence must be TPM 2.0 evidence');
  // Finally: some signed checkpoint names exactly these bytes.
  const sizes = ctx.checkpoints.filter((k) => referencedDigest(k.attestation) === digest).map((k) => k.size);
  if (sizes.length === 0) throw new VerifyError('bad-evidence', `no signed checkpoint of this bundle names evidence ${digest.slice(0, 16)}…: it was altered or does not belong here`);
  // A referencing checkpoint may be signed by the operator's successor key (rotation announced and
  // verified in the bundle): its signature over the digest vouches for the evidence all the same.
  const span = sizes.length === 1 ? `size ${sizes[0]}` : `sizes ${sizes[0]}..${sizes[sizes.length - 1]} (${sizes.length})`;
  return {
    digest, sizes, measurement: r.measurementDigest, akName: r.akName,
    summary: `tpm2 (quote verified, AK bound to EK, measurement ${r.measurementDigest}) for checkpoints at ${span}; TPM reset count ${r.clock.resetCount}`,
  };
}

/** After all evidence lines: every checkpoint that names evidence must have had it verified. */
export function missingEvidence(checkpoints: readonly { readonly size: number; readonly attestation: string | undefined }[], verified: ReadonlySet<string>): { size: number; digest: string } | undefined {
  for (const k of checkpoints) {
    if (k.attestation?.startsWith('tpm2')) {
      const d = referencedDigest(k.attestation);
      if (d === undefined) return { size: k.size, digest: k.attestation };
      if (!verified.has(d)) return { size: k.size, digest: d };
    }
  }
  return undefined;
}
