/**
 * Messages between the verifier page (main thread) and its Web Worker. The worker owns the bundle,
 * runs the project's verifyBundle and keeps the timeline; the page only ever receives small
 * messages (progress, the report, one page of rows), so it stays responsive on 100,000 entries.
 */
import type { VerifyReport } from '../../ledger/verify.ts';
import type { Filter, Row } from './timeline.ts';
import type { AttestationRange } from './attestation.ts';

export type ToWorker =
  | { type: 'keys'; id: number; text: string }
  | { type: 'verify'; bundle: Blob; keys: string; preferNative: boolean }
  | { type: 'query'; id: number; text: string; filter: Filter; offset: number; limit: number; focus?: number }
  | { type: 'entry'; id: number; seq: number };

export interface KeyInfo {
  fingerprint: string;
  /** The fingerprint in groups of four, for reading aloud. */
  human: string;
}

export type DisclosureStatus = 'matches' | 'does-not-match' | 'not-checked';

export interface DisclosureView {
  name: string;
  status: DisclosureStatus;
  /** The disclosed payload, pretty-printed JSON (clipped). */
  payload: string;
}

export type FromWorker =
  | { type: 'keys'; id: number; keys: KeyInfo[]; error?: string }
  | { type: 'progress'; phase: 'reading' | 'entries' | 'signatures' | 'disclosures'; done: number; total: number }
  | {
    type: 'done';
    report: VerifyReport;
    /** Which ML-DSA-65 implementation verified the signatures. */
    cryptoName: string;
    ms: number;
    /** Where the time went (ms): reading the file, the entry pass, checkpoint signatures and roots, indexing for the timeline. */
    phases: { read: number; entries: number; signatures: number; index: number };
    bytes: number;
    /** Entries the timeline holds (those read before a failure, if any). */
    rows: number;
    disclosures: { seq: number; name: string; status: DisclosureStatus }[];
    /** How the verified checkpoints were attested, range by range (tpm2 ranges carry their verified evidence). */
    attestation: AttestationRange[];
    /** The first bad entry's raw line (clipped), when a failure names one. */
    badLine?: string;
  }
  | { type: 'rows'; id: number; total: number; offset: number; rows: Row[] }
  | { type: 'entry'; id: number; seq: number; json: string; row: Row | null; disclosures: DisclosureView[] }
  | { type: 'fatal'; message: string };
