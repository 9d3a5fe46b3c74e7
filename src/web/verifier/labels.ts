/** Plain-language names for verification failure reasons (codes from src/errors.ts, docs/formats.md). */
import type { VerifyReason } from '../../errors.ts';

export const REASON_LABELS: Readonly<Record<VerifyReason, string>> = {
  'malformed': 'The bundle is malformed',
  'truncated': 'The bundle is incomplete: entries or lines are missing',
  'bad-signature': 'A signature does not verify',
  'unknown-key': 'Signed by a key you did not supply',
  'broken-chain': 'An entry was altered: the hash chain is broken',
  'wrong-root': 'Entries do not match what the operator signed',
  'unsigned': 'Entries are not covered by any signed checkpoint',
  'wrong-tenant': 'The bundle belongs to another tenant or deployment',
  'reordered': 'Entries are missing, duplicated or out of order',
  'bad-proof': 'An inclusion proof does not verify',
  'bad-commitment': 'A disclosed payload does not match its commitment',
  'inconsistent': 'History was rewritten: the ledger does not extend an earlier checkpoint',
  'bad-evidence': 'Hardware attestation evidence does not verify',
};

export function reasonLabel(r: string): string {
  return (REASON_LABELS as Record<string, string>)[r] ?? 'Verification failed';
}
