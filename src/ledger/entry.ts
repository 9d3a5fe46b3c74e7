/**
 * Ledger entries (Operation Attestation Records and the other kinds). Entry bytes are the UTF-8 of
 * the RFC 8785 canonical JSON of the entry object (DESIGN.md "Formats"):
 *   { v: 1, tenant, seq, time, kind, prev, body }
 * `prev` is the previous entry's leaf hash (base64url); entry 0's prev is the genesis hash of the
 * log's origin, so a chain cannot be moved to another tenant or deployment.
 */
import { SiosError, VerifyError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { concat, fromBase64url, toBase64url, utf8 } from '../encoding/bytes.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';

export const ENTRY_VERSION = 1;
export const MAX_ENTRY_BYTES = 256 * 1024;

export interface Entry {
  v: number;
  tenant: string;
  seq: number;
  time: string;
  kind: string;
  prev: string;
  body: { [k: string]: Json };
}

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FIELDS = new Set(['v', 'tenant', 'seq', 'time', 'kind', 'prev', 'body']);
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function isValidTenantId(t: string): boolean {
  return TENANT.test(t);
}

export function assertTenantId(t: string): void {
  if (!TENANT.test(t)) throw new SiosError('ERR_INPUT', `tenant id '${t.slice(0, 64)}' is invalid: use 1-63 lowercase letters, digits and '-', starting with a letter or digit`);
}

export function assertKind(k: string): void {
  if (!KIND.test(k)) throw new SiosError('ERR_INPUT', `entry kind '${k.slice(0, 40)}' is invalid: lowercase letters, digits and '-', at most 32`);
}

export function genesisPrev(c: VerifyCrypto, origin: string): Uint8Array {
  return c.sha256(utf8('SIOS ledger genesis v1\n' + origin));
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeEntryText(e).bytes;
}

/** The entry's canonical JSON text and its UTF-8 bytes (the entry bytes). */
export function encodeEntryText(e: Entry): { text: string; bytes: Uint8Array } {
  const text = canonicalize(e);
  const bytes = utf8(text);
  if (bytes.length > MAX_ENTRY_BYTES) throw new SiosError('ERR_TOO_LARGE', `ledger entry is ${bytes.length} bytes; the limit is ${MAX_ENTRY_BYTES}. Put large data in the tenant store and commit to it`);
  return { text, bytes };
}

/** Parse entry JSON text from an untrusted source; structural errors become VerifyError('malformed'). */
export function parseEntry(text: string, position: number): Entry {
  let o: unknown;
  try { o = JSON.parse(text); } catch { throw new VerifyError('malformed', `entry at position ${position} is not valid JSON`, position); }
  const bad = (why: string): never => { throw new VerifyError('malformed', `entry at position ${position}: ${why}`, position); };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('not a JSON object');
  const e = o as Record<string, unknown>;
  for (const k in e) if (!FIELDS.has(k)) bad(`unknown field '${k.slice(0, 32)}'`);
  if (e['v'] !== ENTRY_VERSION) bad(`unsupported format version ${String(e['v']).slice(0, 16)}; this verifier reads version ${ENTRY_VERSION}`);
  if (typeof e['tenant'] !== 'string' || !TENANT.test(e['tenant'])) bad('bad tenant');
  if (typeof e['seq'] !== 'number' || !Number.isSafeInteger(e['seq']) || e['seq'] < 0) bad('bad seq');
  if (typeof e['time'] !== 'string' || !TIME.test(e['time'])) bad('bad time (want RFC 3339 UTC, e.g. 2026-11-22T10:00:00.000Z)');
  if (typeof e['kind'] !== 'string' || !KIND.test(e['kind'])) bad('bad kind');
  if (typeof e['prev'] !== 'string' || e['prev'].length !== 43) bad('bad prev');
  if (typeof e['body'] !== 'object' || e['body'] === null || Array.isArray(e['body'])) bad('body is not an object');
  return e as unknown as Entry;
}

// ---- Payload commitments (DESIGN.md "Privacy") ----
// commitment = SHA-256("sios-commit/v1" || 0x00 || salt(32) || JCS(payload)); the salt makes the
// commitment hiding for low-entropy payloads (a diagnosis, an amount).

export function commitment(c: VerifyCrypto, salt: Uint8Array, payload: Json): Uint8Array {
  if (salt.length !== 32) throw new SiosError('ERR_INPUT', 'commitment salt must be 32 bytes');
  return c.sha256(concat(utf8('sios-commit/v1'), Uint8Array.of(0), salt, utf8(canonicalize(payload))));
}

export interface Disclosure {
  seq: number;
  name: string;
  salt: string;   // base64url
  payload: Json;
}

/** Check a disclosed payload against the commitment in its entry. */
export function checkDisclosure(c: VerifyCrypto, entry: Entry, d: Disclosure): void {
  const commits = entry.body['commitments'];
  const want = commits && typeof commits === 'object' && !Array.isArray(commits) ? (commits as Record<string, Json>)[d.name] : undefined;
  if (typeof want !== 'string') throw new VerifyError('bad-commitment', `entry ${entry.seq} has no commitment named '${d.name}'`, entry.seq);
  let salt: Uint8Array;
  try { salt = fromBase64url(d.salt, 'disclosure salt'); } catch { throw new VerifyError('bad-commitment', `disclosure for entry ${entry.seq} has a malformed salt`, entry.seq); }
  if (salt.length !== 32 || toBase64url(commitment(c, salt, d.payload)) !== want) {
    throw new VerifyError('bad-commitment', `disclosed payload '${d.name}' of entry ${entry.seq} does not match its commitment`, entry.seq);
  }
}
