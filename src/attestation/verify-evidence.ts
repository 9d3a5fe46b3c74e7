/**
 * Verify TPM 2.0 evidence attached to a checkpoint: quote signature by the device's attestation key,
 * nonce, PCR digest, replay of the SIOS event list, expected measurement and boot state, and the
 * binding of the AK to the EK (qualified name) and to the operator key (nonce derivation).
 * Web-standard APIs only (crypto.subtle, Uint8Array): `sios verify` and the browser page share it.
 */
import { VerifyError } from '../errors.ts';
import { bytesEqual, concat, fromBase64url, fromHex, toHex, utf8 } from '../encoding/bytes.ts';
import { canonicalize } from '../encoding/jcs.ts';
import {
  ecdsaSignatureToP1363, nameOfTpm2bPublic, OBJ_DECRYPT, OBJ_FIXED_PARENT, OBJ_FIXED_TPM, OBJ_RESTRICTED, OBJ_SIGN,
  OBJ_SENSITIVE_DATA_ORIGIN, parseEccPublic, parseQuoteAttest, qualifiedNameUnderEndorsement, sha256,
  TPM_ALG_ECDSA, TPM_ALG_SHA256, TPM_ECC_NIST_P256, type Attest,
} from './tpm-wire.ts';
import { BOOT_PCRS, checkEvents, diffEvents, measurementDigest, replayPcr, SIOS_PCR, type MeasurementEvent } from './event-log.ts';

/** Public, non-secret description of this machine's TPM identity, recorded in the system ledger. */
export interface DeviceIdentity {
  readonly v: 1;
  readonly kind: 'sios/tpm2-device-identity';
  /** TPM2B_PUBLIC of the ECC P-256 endorsement key (TCG default EK template), base64url. */
  readonly ekPublic: string;
  /** nameAlg || SHA-256(TPMT_PUBLIC), hex. */
  readonly ekName: string;
  /** TPM2B_PUBLIC of the attestation key: restricted ECDSA P-256 signing key, child of the EK. */
  readonly akPublic: string;
  readonly akName: string;
  /** QN(AK) = H(QN(EK) || Name(AK)), QN(EK) = H(TPM_RH_ENDORSEMENT || Name(EK)): a quote's qualifiedSigner. */
  readonly akQualifiedName: string;
  /** Persistent handle of the AK on this TPM, hex (for example 0x81010100). */
  readonly akHandle: string;
}

export interface TpmEvidence {
  readonly v: 1;
  readonly mode: 'tpm2';
  /** Name of the AK that signed (hex); must be the identity recorded in the ledger. */
  readonly akName: string;
  /** Qualifying data of the quote (hex, 32 bytes): see quoteNonce. */
  readonly nonce: string;
  readonly quote: { readonly attest: string; readonly signature: string };
  /** SHA-256 bank, ascending PCR order, hex values. */
  readonly pcrs: readonly { readonly pcr: number; readonly sha256: string }[];
  readonly measurement: { readonly pcr: number; readonly digest: string; readonly events: readonly MeasurementEvent[] };
}

/** Explicit marker for a machine without a TPM: visible in every checkpoint, never implied. */
export interface SoftwareEvidence {
  readonly v: 1;
  readonly mode: 'software';
  readonly reason: string;
}

export type AttestationEvidence = TpmEvidence | SoftwareEvidence;

export function softwareEvidence(reason: string): SoftwareEvidence {
  if (typeof reason !== 'string' || reason.trim() === '') throw new VerifyError('malformed', 'software-mode evidence needs a reason (for example "no TPM at /dev/tpmrm0")');
  return { v: 1, mode: 'software', reason };
}

export type EvidenceCheck =
  | 'malformed' | 'software-mode' | 'ak-mismatch' | 'bad-signature' | 'nonce-mismatch' | 'pcr-selection'
  | 'pcr-digest-mismatch' | 'replay-mismatch' | 'measurement-changed' | 'boot-state-changed';

/** A failed evidence check; `check` names which one (stable, documented). */
export class EvidenceError extends VerifyError {
  readonly check: EvidenceCheck;
  constructor(check: EvidenceCheck, message: string, cause?: unknown) {
    super('bad-evidence', message, undefined, cause);
    this.name = 'EvidenceError';
    this.check = check;
  }
}

const NONCE_DOMAIN = utf8('sios/tpm-quote-nonce/v1\0');

/**
 * The quote's qualifying data: SHA-256(domain || operator key fingerprint || challenge). Binds the
 * quote to the operator key (the AK signs over the operator's fingerprint) and to a fresh challenge
 * (the checkpoint's previous root, or random bytes recorded beside the evidence).
 */
export async function quoteNonce(operatorKeyFingerprint: Uint8Array, challenge: Uint8Array): Promise<Uint8Array> {
  if (operatorKeyFingerprint.length !== 32) throw new VerifyError('malformed', 'operator key fingerprint must be 32 bytes (SHA-256)');
  if (challenge.length < 16 || challenge.length > 1024) throw new VerifyError('malformed', 'quote challenge must be 16..1024 bytes');
  return sha256(concat(NONCE_DOMAIN, operatorKeyFingerprint, challenge));
}

/** Bytes the operator key signs to adopt this device (the system-ledger entry of `sios init --tpm`). */
export function identityStatement(identity: DeviceIdentity, operatorKeyFingerprintHex: string): Uint8Array {
  return utf8(canonicalize({
    type: 'sios/tpm2-device-binding/v1', operatorKey: operatorKeyFingerprintHex,
    ekName: identity.ekName, ekPublic: identity.ekPublic, akName: identity.akName, akPublic: identity.akPublic,
    akQualifiedName: identity.akQualifiedName,
  }));
}

export interface EvidenceExpectations {
  /** The nonce the quote must carry (quoteNonce(...)); a quote with any other nonce is a replay. */
  readonly nonce: Uint8Array;
  /** The device identity from the ledger (trusted because the operator key signed it). */
  readonly identity: DeviceIdentity;
  /** Expected measurement: digest hex, or the reference event list (gives changed paths on mismatch). */
  readonly measurement?: string | { readonly digest: string; readonly events: readonly MeasurementEvent[] };
  /** Expected boot PCR values (hex) when the operator recorded a golden state. */
  readonly bootPcrs?: Readonly<Record<number, string>>;
  /** Accept software-mode evidence (returns mode 'software'); otherwise it is refused. */
  readonly allowSoftware?: boolean;
}

export type EvidenceResult =
  | { readonly mode: 'software'; readonly reason: string }
  | {
    readonly mode: 'tpm2';
    readonly akName: string;
    readonly measurementDigest: string;
    readonly pcrs: Readonly<Record<number, string>>;
    /** TPMS_CLOCK_INFO; clock in ms as a decimal string (64-bit). resetCount changes on every TPM reset (reboot). */
    readonly clock: { readonly clock: string; readonly resetCount: number; readonly restartCount: number; readonly safe: boolean };
    /** 64-bit firmware version, hex. */
    readonly firmwareVersion: string;
  };

const HEX64 = /^[0-9a-f]{64}$/;

/** Check the identity record itself: names recomputed, AK is a restricted non-exportable ECDSA P-256 signer. */
export async function checkIdentity(identity: DeviceIdentity): Promise<{ akPublicRaw: Uint8Array }> {
  try {
    if (identity?.kind !== 'sios/tpm2-device-identity' || identity.v !== 1) throw new EvidenceError('malformed', 'device identity is not a sios/tpm2-device-identity v1 record');
    const akPub = fromBase64url(identity.akPublic, 'akPublic');
    const ekPub = fromBase64url(identity.ekPublic, 'ekPublic');
    const ak = parseEccPublic(akPub, 'AK public');
    const need = OBJ_FIXED_TPM | OBJ_FIXED_PARENT | OBJ_SENSITIVE_DATA_ORIGIN | OBJ_RESTRICTED | OBJ_SIGN;
    if ((ak.attributes & need) !== need || (ak.attributes & OBJ_DECRYPT) !== 0) {
      throw new EvidenceError('ak-mismatch', 'the attestation key is not a restricted, non-exportable (fixedTPM|fixedParent) signing key: its quotes prove nothing');
    }
    if (ak.nameAlg !== TPM_ALG_SHA256 || ak.scheme !== TPM_ALG_ECDSA || ak.schemeHash !== TPM_ALG_SHA256 || ak.curve !== TPM_ECC_NIST_P256) {
      throw new EvidenceError('ak-mismatch', 'the attestation key is not ECDSA P-256 with SHA-256');
    }
    const akName = await nameOfTpm2bPublic(akPub);
    const ekName = await nameOfTpm2bPublic(ekPub);
    parseEccPublic(ekPub, 'EK public');
    if (toHex(akName) !== identity.akName || toHex(ekName) !== identity.ekName) throw new EvidenceError('ak-mismatch', 'device identity names do not match its public keys');
    if (toHex(await qualifiedNameUnderEndorsement(ekName, akName)) !== identity.akQualifiedName) {
      throw new EvidenceError('ak-mismatch', 'the AK qualified name does not place it under the recorded EK');
    }
    return { akPublicRaw: concat(Uint8Array.of(4), pad32(ak.x), pad32(ak.y)) };
  } catch (e) { throw asEvidenceError(e); }
}

function pad32(v: Uint8Array): Uint8Array {
  if (v.length > 32) throw new EvidenceError('malformed', 'ECC coordinate longer than 32 bytes');
  const o = new Uint8Array(32); o.set(v, 32 - v.length); return o;
}

function asEvidenceError(e: unknown): EvidenceError {
  if (e instanceof EvidenceError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new EvidenceError('malformed', `attestation evidence is malformed: ${msg}`, e);
}

export async function verifyEvidence(evidence: unknown, expect: EvidenceExpectations): Promise<EvidenceResult> {
  // Hostile input: every field is unknown until checked.
  const ev = evidence as {
    v?: unknown; mode?: unknown; reason?: unknown; akName?: unknown; nonce?: unknown;
    quote?: { attest?: unknown; signature?: unknown }; pcrs?: unknown; measurement?: { pcr?: unknown; digest?: unknown; events?: unknown };
  } | null;
  if (typeof ev !== 'object' || ev === null || ev.v !== 1) throw new EvidenceError('malformed', 'attestation evidence is not a v1 object');
  if (ev.mode === 'software') {
    if (!expect.allowSoftware) throw new EvidenceError('software-mode', `the checkpoint was made in unattested software mode (${String(ev.reason)}); no hardware root vouches for it`);
    if (typeof ev.reason !== 'string') throw new EvidenceError('malformed', 'software-mode evidence has no reason');
    return { mode: 'software', reason: ev.reason };
  }
  if (ev.mode !== 'tpm2') throw new EvidenceError('malformed', `unknown attestation mode ${JSON.stringify(ev.mode)}`);
  if (!(expect.nonce instanceof Uint8Array) || expect.nonce.length !== 32) throw new EvidenceError('malformed', 'the expected nonce must be 32 bytes');

  const { akPublicRaw } = await checkIdentity(expect.identity);
  let attest: Attest, attestBytes: Uint8Array, sig: Uint8Array;
  let claimed: Map<number, Uint8Array>, events: MeasurementEvent[];
  try {
    if (ev.akName !== expect.identity.akName) throw new EvidenceError('ak-mismatch', `the quote names attestation key ${String(ev.akName).slice(0, 16)}…, not this device's ${expect.identity.akName.slice(0, 16)}…: evidence from another machine`);
    attestBytes = fromBase64url(String(ev.quote?.attest), 'quote attest');
    sig = ecdsaSignatureToP1363(fromBase64url(String(ev.quote?.signature), 'quote signature'));
    attest = parseQuoteAttest(attestBytes);
    claimed = new Map();
    if (!Array.isArray(ev.pcrs)) throw new EvidenceError('malformed', 'evidence pcrs is not a list');
    for (const p of ev.pcrs as { pcr: number; sha256: unknown }[]) {
      if (!Number.isInteger(p?.pcr) || p.pcr < 0 || p.pcr > 23 || typeof p.sha256 !== 'string' || !HEX64.test(p.sha256) || claimed.has(p.pcr)) {
        throw new EvidenceError('malformed', 'evidence pcrs holds an invalid or repeated entry');
      }
      claimed.set(p.pcr, fromHex(p.sha256));
    }
    if (ev.measurement?.pcr !== SIOS_PCR) throw new EvidenceError('malformed', `measurement is not in PCR ${SIOS_PCR}`);
    events = checkEvents(ev.measurement.events);
  } catch (e) { throw asEvidenceError(e); }

  // 1. The AK recorded for this device signed exactly these bytes.
  if (!bytesEqual(attest.qualifiedSigner, fromHex(expect.identity.akQualifiedName))) {
    throw new EvidenceError('ak-mismatch', 'the quote was made by a key that is not this device\'s AK under its EK (qualifiedSigner differs)');
  }
  const key = await crypto.subtle.importKey('raw', akPublicRaw as Uint8Array<ArrayBuffer>, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig as Uint8Array<ArrayBuffer>, attestBytes as Uint8Array<ArrayBuffer>);
  if (!ok) throw new EvidenceError('bad-signature', 'the quote signature does not verify with the device\'s attestation key: the quote was altered or forged');

  // 2. Freshness: the signed qualifying data is the nonce this verifier expects.
  if (!bytesEqual(attest.extraData, expect.nonce)) {
    throw new EvidenceError('nonce-mismatch', 'the quote carries another nonce than the one expected for this checkpoint: a replayed or misattached quote');
  }
  if (ev.nonce !== toHex(expect.nonce)) throw new EvidenceError('nonce-mismatch', 'the evidence nonce field differs from the expected nonce');

  // 3. The signed selection covers the boot PCRs and the SIOS PCR, and the claimed values hash to pcrDigest.
  const sel = attest.pcrSelection;
  const want = [...BOOT_PCRS, SIOS_PCR];
  if (sel.length !== 1 || sel[0]!.hash !== TPM_ALG_SHA256 || sel[0]!.pcrs.join(',') !== want.join(',')) {
    throw new EvidenceError('pcr-selection', `the quote must cover SHA-256 PCRs ${want.join(',')}; it covers ${sel.map((s) => s.pcrs.join(',')).join(' / ')}`);
  }
  if ([...claimed.keys()].sort((a, b) => a - b).join(',') !== want.join(',')) {
    throw new EvidenceError('pcr-selection', 'the evidence PCR values are not exactly the quoted PCRs');
  }
  const digest = await sha256(concat(...want.map((p) => claimed.get(p)!)));
  if (!bytesEqual(digest, attest.pcrDigest)) throw new EvidenceError('pcr-digest-mismatch', 'the PCR values in the evidence are not the ones the TPM signed (pcrDigest differs)');

  // 4. The event list explains the SIOS PCR.
  const md = await measurementDigest(events);
  if (md !== ev.measurement.digest) throw new EvidenceError('replay-mismatch', 'the measurement digest does not match its event list');
  if (!bytesEqual(await replayPcr(md), claimed.get(SIOS_PCR)!)) {
    throw new EvidenceError('replay-mismatch', `replaying the event list does not give the quoted PCR ${SIOS_PCR}: the event list does not explain the measured state`);
  }

  // 5. The measured state is the expected one.
  if (expect.measurement !== undefined) {
    const wantDigest = typeof expect.measurement === 'string' ? expect.measurement : expect.measurement.digest;
    if (md !== wantDigest) {
      let detail = '';
      if (typeof expect.measurement !== 'string') {
        const d = diffEvents(expect.measurement.events, events);
        detail = [d.changed.length ? `changed: ${d.changed.slice(0, 5).join(', ')}` : '', d.added.length ? `added: ${d.added.slice(0, 5).join(', ')}` : '', d.removed.length ? `removed: ${d.removed.slice(0, 5).join(', ')}` : ''].filter(Boolean).join('; ');
      }
      throw new EvidenceError('measurement-changed', `the installation measured at this checkpoint differs from the expected one${detail ? ` (${detail})` : ''}; if this was a planned update, record the new expected measurement`);
    }
  }
  if (expect.bootPcrs !== undefined) {
    for (const [k, v] of Object.entries(expect.bootPcrs)) {
      const got = claimed.get(Number(k));
      if (!got || toHex(got) !== v.toLowerCase()) throw new EvidenceError('boot-state-changed', `boot PCR ${k} differs from the recorded golden value: firmware, bootloader or their configuration changed`);
    }
  }
  const pcrs: Record<number, string> = {};
  for (const p of want) pcrs[p] = toHex(claimed.get(p)!);
  return {
    mode: 'tpm2', akName: expect.identity.akName, measurementDigest: md, pcrs,
    clock: { clock: attest.clock.toString(), resetCount: attest.resetCount, restartCount: attest.restartCount, safe: attest.safe },
    firmwareVersion: '0x' + attest.firmwareVersion.toString(16).padStart(16, '0'),
  };
}
