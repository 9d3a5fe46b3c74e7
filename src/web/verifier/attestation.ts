/**
 * Hardware attestation for the verifier page: the evidence callback verifyBundle calls for every
 * {"evidence": …} line, and the per-range view of how each checkpoint was attested.
 *
 * The checks are the CLI's (src/cli/commands/verify.ts), with the same functions unchanged:
 * verifyCheckpointEvidence for each evidence object (quote signed by the AK, AK under the EK and
 * bound to the operator key, nonce, PCR replay of the measurement), then missingEvidence, so a
 * checkpoint that names evidence the bundle does not carry fails with bad-evidence exactly as
 * `sios verify` does. Web-standard APIs only: this is bundled into the page's worker.
 */
import type { VerifyCrypto } from '../../crypto/suite.ts';
import type { CheckpointInfo, VerifyOptions, VerifyReport } from '../../ledger/verify.ts';
import type { Entry } from '../../ledger/entry.ts';
import { missingEvidence, referencedDigest, verifyCheckpointEvidence, type CheckpointEvidenceResult } from '../../attestation/checkpoint-evidence.ts';

export type AttestationMode = 'tpm2' | 'software' | 'none';

/** Consecutive checkpoints attested the same way (for tpm2: evidence of the same measurement). */
export interface AttestationRange {
  mode: AttestationMode;
  /** Entries the range's checkpoints added to the log: from the previous checkpoint's size to the last one's size - 1. */
  firstEntry: number;
  lastEntry: number;
  checkpoints: number;
  /** tpm2 only, when every checkpoint of the range names evidence that verified. */
  verified?: { measurement: string; akName: string };
}

export interface EvidenceChecker {
  /** Pass as VerifyOptions.verifyEvidence. */
  readonly verifyEvidence: NonNullable<VerifyOptions['verifyEvidence']>;
  /** Feed every entry (VerifyOptions.onEntry): system-ledger device-identity entries name the AKs evidence may come from. */
  readonly onEntry: (e: Entry) => void;
  /** After verifyBundle: the CLI's missing-evidence rule, applied to the report in place. */
  finish(report: VerifyReport): void;
  /** Per-range attestation view of the (verified part of the) report. */
  ranges(report: VerifyReport): AttestationRange[];
}

export function evidenceChecker(c: VerifyCrypto, tenant: string | undefined): EvidenceChecker {
  const results = new Map<string, CheckpointEvidenceResult>();
  const recordedAk = new Set<string>();
  return {
    async verifyEvidence(ev, ctx) {
      const r = await verifyCheckpointEvidence(c, ev, { checkpoints: ctx.checkpoints, recordedAkNames: recordedAk });
      results.set(r.digest, r);
      return r.summary;
    },
    onEntry(e) {
      // As the CLI: only the system ledger records device identities, so only it can cross-check them.
      if (tenant !== 'system' || e.kind !== 'admin' || e.body['action'] !== 'device-identity') return;
      const id = e.body['identity'] as { akName?: unknown } | null;
      if (typeof id?.akName === 'string') recordedAk.add(id.akName);
    },
    finish(report) {
      if (!report.ok) return;
      const missing = missingEvidence(report.checkpoints, new Set(results.keys()));
      if (!missing) return;
      report.ok = false;
      report.failure = { reason: 'bad-evidence', seq: missing.size - 1, message: `the checkpoint at size ${missing.size} names TPM evidence ${missing.digest.slice(0, 16)}… that the bundle does not carry (export it with 'sios ledger export' from the deployment)` };
    },
    ranges(report) {
      return attestationRanges(report.checkpoints, report.ok ? results : new Map());
    },
  };
}

function modeOf(c: CheckpointInfo): AttestationMode {
  if (c.attestation === undefined) return 'none';
  if (c.attestation.startsWith('tpm2')) return 'tpm2';
  if (c.attestation.startsWith('software')) return 'software';
  return 'none';
}

/** Group checkpoints (in size order) into ranges of the same mode and, for tpm2, the same verified measurement. */
export function attestationRanges(checkpoints: readonly CheckpointInfo[], verified: ReadonlyMap<string, CheckpointEvidenceResult>): AttestationRange[] {
  const out: AttestationRange[] = [];
  let prevSize = 0;
  let prevKey = '';
  for (const cp of checkpoints) {
    const mode = modeOf(cp);
    const digest = referencedDigest(cp.attestation);
    const r = digest === undefined ? undefined : verified.get(digest);
    const key = mode === 'tpm2' ? `tpm2:${r ? `${r.measurement}:${r.akName}` : 'unverified'}` : mode;
    const last = out[out.length - 1];
    if (last && key === prevKey) {
      last.lastEntry = cp.size - 1;
      last.checkpoints++;
    } else {
      const range: AttestationRange = { mode, firstEntry: prevSize, lastEntry: cp.size - 1, checkpoints: 1 };
      if (r) range.verified = { measurement: r.measurement, akName: r.akName };
      out.push(range);
    }
    prevKey = key;
    prevSize = cp.size;
  }
  return out;
}
