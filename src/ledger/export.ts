/**
 * Export a tenant ledger as a self-contained bundle (format in bundle-format.ts / docs/formats.md).
 * Streams entries from the store, so a million-entry ledger exports in bounded memory.
 */
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fromUtf8, toBase64url } from '../encoding/bytes.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import type { SqliteLedgerStore } from '../store/sqlite-ledger.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleHeader } from './bundle-format.ts';
import { parseSignedCheckpoint } from './note.ts';

export interface ExportOptions {
  origin: string;
  tenant: string;
  crypto: VerifyCrypto;
  /** Public keys to list in the header for convenience (verifiers trust only their own copy). */
  publicKeys: Uint8Array[];
  /** Which checkpoints: every one (default), or only the latest. */
  checkpoints?: 'all' | 'latest';
  disclosures?: { seq: number; name: string; salt: string; payload: Json }[];
  evidence?: Json[];
  /** Hardware evidence named by the exported checkpoints (`sios-attest tpm2 <digest>`), looked up by the caller. */
  evidenceFor?: (checkpointNotes: readonly string[]) => Json[];
  now?: () => number;
}

export function exportBundle(store: SqliteLedgerStore, o: ExportOptions, write: (chunk: string) => void): { entries: number; checkpoints: number } {
  const last = store.latestCheckpoint();
  if (!last) throw new SiosError('ERR_NOT_FOUND', `ledger ${o.origin} is empty: nothing to export`);
  // Export exactly what the latest checkpoint covers; entries appended meanwhile wait for the next export.
  const size = last.size;
  let cps = store.checkpoints().filter((c) => c.size <= size);
  if (o.checkpoints === 'latest') cps = [last];
  for (const c of cps) if (parseSignedCheckpoint(c.note).checkpoint.origin !== o.origin) throw new SiosError('ERR_STORE', `a stored checkpoint is not for ${o.origin}`);
  const evidence = [...(o.evidence ?? []), ...(o.evidenceFor ? o.evidenceFor(cps.map((c) => c.note)) : [])];
  const header: BundleHeader = {
    format: BUNDLE_FORMAT, v: BUNDLE_VERSION, origin: o.origin, tenant: o.tenant, entries: size, checkpoints: cps.length,
    disclosures: o.disclosures?.length ?? 0, evidence: evidence.length,
    keys: o.publicKeys.map((k) => ({ publicKey: toBase64url(k), fingerprint: fingerprint(o.crypto, k) })),
    exported: new Date((o.now ?? Date.now)()).toISOString(),
  };
  write(JSON.stringify(header) + '\n');
  let n = 0;
  let buf = '';
  for (const e of store.iterateEntries()) {
    if (e.seq >= size) break;
    if (e.seq !== n) throw new SiosError('ERR_STORE', `ledger store is missing entry ${n}`);
    buf += fromUtf8(e.bytes, `entry ${e.seq}`) + '\n';
    n++;
    if (buf.length > 1 << 20) { write(buf); buf = ''; }
  }
  if (buf) write(buf);
  if (n !== size) throw new SiosError('ERR_STORE', `ledger store holds ${n} entries but its checkpoint covers ${size}`);
  for (const c of cps) write(JSON.stringify({ checkpoint: c.note }) + '\n');
  for (const d of o.disclosures ?? []) write(canonicalize({ disclose: d }) + '\n');
  for (const ev of evidence) write(canonicalize({ evidence: ev }) + '\n');
  write(JSON.stringify({ end: BUNDLE_FORMAT, entries: size }) + '\n');
  return { entries: size, checkpoints: cps.length };
}
