/**
 * Produce checkpoint evidence on this machine: measured start (measure, reset + extend PCR 23) and a
 * quote over the boot PCRs and the SIOS PCR, packaged with the event list that explains it.
 */
import { SiosError } from '../errors.ts';
import { toBase64url, toHex } from '../encoding/bytes.ts';
import { BOOT_PCRS, SIOS_PCR, type Measurement } from './event-log.ts';
import { measureInstallation, type MeasureStats } from './measure.ts';
import type { Tpm2 } from './tpm.ts';
import type { DeviceIdentity, TpmEvidence } from './verify-evidence.ts';

/** Measure the installation and extend PCR 23 with it. Call once at start, before unsealing the operator key. */
export async function measuredStart(tpm: Tpm2, root: string, entries: readonly string[]): Promise<Measurement & { stats: MeasureStats; pcrValue: string }> {
  const m = await measureInstallation(root, entries, SIOS_PCR);
  const v = await tpm.extendMeasurement(m);
  return { ...m, pcrValue: toHex(v) };
}

/**
 * Quote PCRs 0-7 and 23 with `nonce` (use quoteNonce(operatorFingerprint, challenge)) and attach the
 * event list. The result is what a checkpoint carries; verifyEvidence checks it.
 */
export async function collectEvidence(tpm: Tpm2, identity: DeviceIdentity, nonce: Uint8Array, measurement: Measurement): Promise<TpmEvidence> {
  if (measurement.pcr !== SIOS_PCR) throw new SiosError('ERR_INPUT', `measurement must be in PCR ${SIOS_PCR}`);
  const pcrs = [...BOOT_PCRS, SIOS_PCR];
  const q = await tpm.quote(nonce, pcrs);
  return {
    v: 1, mode: 'tpm2', akName: identity.akName, nonce: toHex(nonce),
    quote: { attest: toBase64url(q.attest), signature: toBase64url(q.signature) },
    pcrs: pcrs.map((p) => ({ pcr: p, sha256: toHex(q.pcrValues.get(p)!) })),
    measurement: { pcr: measurement.pcr, digest: measurement.digest, events: measurement.events.map((e) => ({ ...e })) },
  };
}
