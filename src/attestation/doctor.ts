/**
 * `sios doctor` check for the hardware root: is a TPM reachable (device or configured swtpm), which
 * attestation mode SIOS will run in, and why. Never throws for a missing TPM: it reports software mode.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { SiosError } from '../errors.ts';
import { Tpm2 } from './tpm.ts';
import { softwareEvidence, type SoftwareEvidence } from './verify-evidence.ts';

export interface AttestationStatus {
  readonly mode: 'tpm2' | 'software';
  /** The TCTI used or tried; undefined when no TPM was found at all. */
  readonly tcti: string | undefined;
  readonly reason: string;
  readonly manufacturer?: string;
  readonly firmware?: string;
  /** Present in software mode: the object every checkpoint must carry. */
  readonly evidence?: SoftwareEvidence;
}

/** Find the TPM: the configured TCTI, else /dev/tpmrm0 when present and accessible. */
export function defaultTcti(configured?: string): { tcti: string } | { tcti: undefined; reason: string } {
  if (configured) return { tcti: configured };
  if (!existsSync('/dev/tpmrm0')) return { tcti: undefined, reason: 'no TPM found: /dev/tpmrm0 does not exist and no swtpm TCTI is configured' };
  try { accessSync('/dev/tpmrm0', constants.R_OK | constants.W_OK); } catch {
    return { tcti: undefined, reason: '/dev/tpmrm0 exists but this user cannot open it; add the SIOS user to the tss group' };
  }
  return { tcti: 'device:/dev/tpmrm0' };
}

export async function attestationStatus(opts: { tcti?: string; stateDir: string }): Promise<AttestationStatus> {
  const found = defaultTcti(opts.tcti);
  if (found.tcti === undefined) {
    const reason = `${found.reason}; SIOS runs in unattested software mode and marks every checkpoint so`;
    return { mode: 'software', tcti: undefined, reason, evidence: softwareEvidence(reason) };
  }
  try {
    const tpm = new Tpm2({ tcti: found.tcti, stateDir: opts.stateDir, commandTimeoutMs: 10_000 });
    const d = await tpm.describe();
    return { mode: 'tpm2', tcti: found.tcti, reason: `TPM 2.0 reachable at ${found.tcti}`, manufacturer: d.manufacturer, firmware: d.firmware };
  } catch (e) {
    const why = e instanceof SiosError ? e.message : String(e);
    const reason = `TPM at ${found.tcti} is not usable (${why}); SIOS runs in unattested software mode and marks every checkpoint so`;
    return { mode: 'software', tcti: found.tcti, reason, evidence: softwareEvidence(reason) };
  }
}
