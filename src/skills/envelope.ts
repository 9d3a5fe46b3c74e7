/**
 * Signed manifest envelopes, shared by skills and brains:
 *
 *   { "manifest": {...}, "signature": base64url(ML-DSA-65 sig), "signer": "SHA256:<hex fingerprint>" }
 *
 * The signature is over a domain-separated message, `utf8(domain) || JCS(manifest)`, where the
 * domain is "SIOS skill manifest v1\n", "SIOS brain manifest v1\n" or "SIOS detector manifest v1\n"
 * (Sentinel's ONNX detector packs, sentinel/onnx/), so a skill manifest can never be replayed as a
 * brain manifest (or as any other SIOS signed object). The manifest digest is
 * SHA-256 of the JCS bytes (no domain), written "sha256:<hex>"; the gate records it in OARs.
 */
import { SiosError } from '../errors.ts';
import { concat, fromBase64url, toBase64url, toHex, utf8 } from '../encoding/bytes.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import type { Signer } from '../crypto/suite.ts';

export type ManifestDomain = 'skill' | 'brain' | 'detector';

export const DOMAINS: Readonly<Record<ManifestDomain, string>> = Object.freeze({
  skill: 'SIOS skill manifest v1\n',
  brain: 'SIOS brain manifest v1\n',
  detector: 'SIOS detector manifest v1\n',
});

/** Upper bound of a manifest's canonical form (schemas included); larger manifests are refused. */
export const MAX_MANIFEST_BYTES = 64 * 1024;

export interface SignedEnvelope<M> {
  readonly manifest: M;
  readonly signature: string;
  readonly signer: string;
}

/** Public keys whose manifest signatures are accepted. The operator's key is always one of them. */
export class TrustedPublishers {
  readonly #keys = new Map<string, Uint8Array>();
  constructor(operatorPublicKey: Uint8Array, publishers: readonly Uint8Array[] = []) {
    for (const k of [operatorPublicKey, ...publishers]) {
      if (!(k instanceof Uint8Array) || k.length !== 1952) throw new SiosError('ERR_KEY', 'a trusted publisher key must be a 1952-byte ML-DSA-65 public key');
      this.#keys.set(fingerprint(nodeVerifyCrypto, k), k);
    }
  }
  get(fp: string): Uint8Array | undefined { return this.#keys.get(fp); }
  fingerprints(): string[] { return [...this.#keys.keys()].sort(); }
}

export function manifestBytes(manifest: unknown): Uint8Array {
  const b = utf8(canonicalize(manifest));
  if (b.length > MAX_MANIFEST_BYTES) throw new SiosError('ERR_TOO_LARGE', `manifest is ${b.length} bytes in canonical form; the limit is ${MAX_MANIFEST_BYTES}`);
  return b;
}

/** "sha256:<hex>" of the manifest's JCS bytes: the identity of exactly this manifest. */
export function manifestDigest(manifest: unknown): string {
  return 'sha256:' + toHex(nodeVerifyCrypto.sha256(manifestBytes(manifest)));
}

export function signingInput(domain: ManifestDomain, manifest: unknown): Uint8Array {
  return concat(utf8(DOMAINS[domain]), manifestBytes(manifest));
}

export async function signEnvelope<M>(domain: ManifestDomain, manifest: M, signer: Signer): Promise<SignedEnvelope<M>> {
  const sig = await signer.sign(signingInput(domain, manifest));
  return { manifest, signature: toBase64url(sig), signer: fingerprint(nodeVerifyCrypto, signer.publicKey) };
}

/**
 * Checks the envelope's shape and signature against the trusted publishers and parses the
 * manifest with `parse`. Every failure is a SiosError (ERR_VERIFY for a bad or untrusted
 * signature, ERR_INPUT for a malformed envelope or manifest); nothing is returned unverified.
 */
export async function openEnvelope<M>(domain: ManifestDomain, envelope: unknown, trust: TrustedPublishers, parse: (m: unknown) => M): Promise<{ manifest: M; digest: string; signer: string }> {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new SiosError('ERR_INPUT', `a signed ${domain} manifest must be an object { manifest, signature, signer }`);
  }
  const e = envelope as Record<string, unknown>;
  for (const k of Object.keys(e)) {
    if (k !== 'manifest' && k !== 'signature' && k !== 'signer') throw new SiosError('ERR_INPUT', `signed ${domain} manifest has unknown field "${k.slice(0, 64)}"; allowed: manifest, signature, signer`);
  }
  if (typeof e['signature'] !== 'string' || e['signature'].length === 0 || e['signature'].length > 8192) {
    throw new SiosError('ERR_VERIFY', `the ${domain} manifest is unsigned (no signature); sign it with 'sios ${domain} sign' or the publisher's key`);
  }
  if (typeof e['signer'] !== 'string' || !/^SHA256:[0-9a-f]{64}$/.test(e['signer'])) {
    throw new SiosError('ERR_INPUT', `signed ${domain} manifest: signer must be a key fingerprint "SHA256:<64 hex>"`);
  }
  const key = trust.get(e['signer']);
  if (key === undefined) {
    throw new SiosError('ERR_VERIFY', `the ${domain} manifest is signed by ${e['signer']}, which is not a trusted publisher; add the publisher's public key to the trusted publishers or re-sign with the operator key`, { details: { signer: e['signer'] } });
  }
  const sig = fromBase64url(e['signature'], `${domain} manifest signature`);
  const ok = await nodeVerifyCrypto.verifyMlDsa65(key, signingInput(domain, e['manifest']), sig);
  if (!ok) {
    throw new SiosError('ERR_VERIFY', `the ${domain} manifest signature does not verify: the manifest was changed after signing or the signature is corrupt; obtain the original signed manifest`);
  }
  // Parsed only after the signature holds: unsigned input never reaches the parser's error paths.
  const manifest = parse(e['manifest']);
  return { manifest, digest: manifestDigest(e['manifest']), signer: e['signer'] };
}

// ---- strict field readers shared by the manifest parsers ----

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export function obj(v: unknown, what: string, allowed: readonly string[], required: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SiosError('ERR_INPUT', `${what} must be an object, got ${describeValue(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new SiosError('ERR_INPUT', `${what} has unknown field "${k.slice(0, 64)}"; allowed: ${allowed.join(', ')}`);
  }
  for (const k of required) if (o[k] === undefined) throw new SiosError('ERR_INPUT', `${what} lacks required field "${k}"`);
  return o;
}

export function str(v: unknown, what: string, re: RegExp, hint: string): string {
  if (typeof v !== 'string' || !v.isWellFormed() || !re.test(v)) throw new SiosError('ERR_INPUT', `${what} must be ${hint}, got ${describeValue(v)}`);
  return v;
}

export function text(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || !v.isWellFormed() || v.length > max || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) {
    throw new SiosError('ERR_INPUT', `${what} must be text of at most ${max} characters without control characters, got ${describeValue(v)}`);
  }
  return v;
}

export function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new SiosError('ERR_INPUT', `${what} must be an integer ${min}..${max}, got ${describeValue(v)}`);
  return v;
}

export function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new SiosError('ERR_INPUT', `${what} must be an array, got ${describeValue(v)}`);
  if (v.length > max) throw new SiosError('ERR_TOO_LARGE', `${what} has ${v.length} entries; the limit is ${max}`);
  return v;
}

/** id: lowercase dotted/dashed name, e.g. "records.read", "ward-assistant". */
export const ID_RE = /^[a-z][a-z0-9-]{0,40}(\.[a-z][a-z0-9-]{0,40}){0,4}$/;
/** Semantic version (semver.org 2.0.0, without build metadata). */
export const VERSION_RE = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z.-]{1,32})?$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * SPDX licence expression check: SPDX License List identifiers (shape `[A-Za-z0-9.+-]`), an
 * optional `WITH` exception, combined with AND/OR; or LicenseRef-<idstring> for proprietary
 * licences (SPDX spec v2.3 Annex D). Well-known model licences are checked against a list, other
 * identifiers by shape; "NOASSERTION" is refused: a brain or skill must state its licence.
 */
const KNOWN_SPDX = new Set([
  'Apache-2.0', 'MIT', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', 'MPL-2.0', 'GPL-2.0-only', 'GPL-2.0-or-later',
  'GPL-3.0-only', 'GPL-3.0-or-later', 'LGPL-2.1-only', 'LGPL-2.1-or-later', 'LGPL-3.0-only', 'LGPL-3.0-or-later',
  'AGPL-3.0-only', 'AGPL-3.0-or-later', 'CC0-1.0', 'CC-BY-4.0', 'CC-BY-SA-4.0', 'CC-BY-NC-4.0', 'CC-BY-NC-SA-4.0',
  'Unlicense', 'BSL-1.0', 'Zlib', 'OpenRAIL', 'CreativeML-OpenRAIL-M', 'Llama-2', 'Llama-3.1', 'Llama-3.2', 'Llama-3.3',
  'Gemma', 'EPL-2.0', '0BSD', 'Artistic-2.0', 'OFL-1.1', 'PostgreSQL', 'Python-2.0', 'WTFPL', 'EUPL-1.2', 'CDDL-1.0',
]);
const SPDX_TERM = /^(LicenseRef-[A-Za-z0-9.-]{1,64}|[A-Za-z0-9][A-Za-z0-9.-]{0,63}\+?)( WITH [A-Za-z0-9][A-Za-z0-9.-]{0,63})?$/;

export function spdx(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new SiosError('ERR_INPUT', `${what} must be an SPDX licence expression such as "Apache-2.0", got ${describeValue(v)}`);
  const terms = v.replace(/[()]/g, ' ').split(/ (?:AND|OR) /).map((t) => t.trim());
  for (const t of terms) {
    if (!SPDX_TERM.test(t)) throw new SiosError('ERR_INPUT', `${what}: "${t.slice(0, 64)}" is not an SPDX licence identifier; use an id from spdx.org/licenses or LicenseRef-<name>`);
    const id = t.split(' WITH ')[0]!.replace(/\+$/, '');
    if (id === 'NOASSERTION' || id === 'NONE') throw new SiosError('ERR_INPUT', `${what} must state a licence (${id} is not accepted)`);
    if (!id.startsWith('LicenseRef-') && !KNOWN_SPDX.has(id) && !/^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9.]+)*$/.test(id)) {
      throw new SiosError('ERR_INPUT', `${what}: "${id.slice(0, 64)}" is not shaped like an SPDX licence identifier`);
    }
  }
  if ((v.match(/\(/g) ?? []).length !== (v.match(/\)/g) ?? []).length) throw new SiosError('ERR_INPUT', `${what}: unbalanced parentheses in licence expression`);
  return v;
}

export interface Provenance {
  /** Who built the artefact (person or organisation, free text). */
  readonly builder: string;
  /** What it was built from (a repository at a commit, a base model and dataset digests...). */
  readonly source: string;
  /** When, as an RFC 3339 UTC timestamp. */
  readonly built: string;
}

export function provenance(v: unknown, what: string): Provenance {
  const o = obj(v, what, ['builder', 'source', 'built'], ['builder', 'source', 'built']);
  const built = str(o['built'], `${what}.built`, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'an RFC 3339 UTC timestamp like 2026-11-22T10:00:00Z');
  if (Number.isNaN(Date.parse(built))) throw new SiosError('ERR_INPUT', `${what}.built is not a real date: ${built}`);
  return { builder: text(o['builder'], `${what}.builder`, 256), source: text(o['source'], `${what}.source`, 1024), built };
}

export function asJson(v: unknown): Json {
  return v as Json;
}
