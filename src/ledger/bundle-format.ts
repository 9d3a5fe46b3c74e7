/**
 * The export bundle (docs/formats.md): one file per tenant, JSON Lines, UTF-8.
 *   line 1            header  {"format":"sios-ledger-bundle","v":1,"origin","tenant","entries":N,
 *                              "checkpoints":M,"disclosures":D,"evidence":E,"keys":[...],"exported"}
 *   next N lines      the entries, each line exactly the entry's bytes (canonical JSON)
 *   next M lines      {"checkpoint":"<signed note text>"} in increasing size
 *   next D lines      {"disclose":{"seq","name","salt","payload"}}
 *   next E lines      {"evidence":{...}} hardware attestation evidence
 *   last line         {"end":"sios-ledger-bundle","entries":N}
 * Runtime-agnostic: shared by the exporter and by the Node and browser verifiers.
 */
export const BUNDLE_FORMAT = 'sios-ledger-bundle';
export const BUNDLE_VERSION = 1;
export const MAX_LINE_BYTES = 1024 * 1024;

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  v: number;
  origin: string;
  tenant: string;
  entries: number;
  checkpoints: number;
  disclosures: number;
  evidence: number;
  keys: { publicKey: string; fingerprint: string }[];
  exported: string;
}
