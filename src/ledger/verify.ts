/**
 * Offline verification of an exported tenant ledger bundle and of single receipts.
 *
 * Runtime-agnostic (Uint8Array, TextDecoder, the VerifyCrypto interface): the `sios verify` CLI and
 * the browser verifier page run this same module. It never throws on hostile input: every failure
 * becomes a report naming the reason and, where it can be located, the first bad entry's seq.
 */
import { VerifyError, type VerifyReason } from '../errors.ts';
import { base64urlEquals, fromBase64, fromBase64url, toBase64url, utf8 } from '../encoding/bytes.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import { MerkleTree, leafHash, leafHashAt, verifyInclusion } from './merkle.ts';
import { checkDisclosure, genesisPrev, parseEntry, type Disclosure, type Entry } from './entry.ts';
import { parseSignedCheckpoint, verifyCheckpointSignature, type SignedCheckpoint } from './note.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, MAX_LINE_BYTES, type BundleHeader } from './bundle-format.ts';
import type { Receipt } from './ledger.ts';
import { rotationStatementFor } from './rotation.ts';

export interface VerifyOptions {
  crypto: VerifyCrypto;
  /** Operator public keys the verifier trusts (raw ML-DSA-65, 1952 bytes). */
  trustedKeys: readonly Uint8Array[];
  /** Refuse a bundle whose origin differs (for example another tenant's). */
  expectedOrigin?: string;
  expectedTenant?: string;
  /** An older signed checkpoint the auditor holds: the bundle must extend it. */
  since?: string;
  /** Called with each verified-so-far entry (for timelines); keep it cheap. */
  onEntry?: (e: Entry) => void;
  onProgress?: (done: number, total: number) => void;
  /** Verifies an attached hardware-evidence object; throws to fail. */
  verifyEvidence?: (evidence: unknown, ctx: { checkpoints: CheckpointInfo[] }) => Promise<string>;
}

export interface CheckpointInfo {
  size: number;
  time: string | undefined;
  attestation: string | undefined;
  signer: string;
}

export interface VerifyReport {
  ok: boolean;
  failure?: { reason: VerifyReason; seq?: number; message: string };
  origin?: string;
  tenant?: string;
  entries: number;
  checkpoints: CheckpointInfo[];
  keys: { fingerprint: string; validFromSize: number; validToSize: number | null; trustedDirectly: boolean }[];
  inDoubt: number[];
  disclosures: number;
  evidence: string[];
  rootHash?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

class Lines {
  pos = 0;
  line = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) { this.buf = buf; }
  next(): Uint8Array | undefined {
    if (this.pos >= this.buf.length) return undefined;
    let end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) end = this.buf.length; // a missing final newline is tolerated; the end line decides completeness
    const l = this.buf.subarray(this.pos, end);
    this.pos = end + 1;
    this.line++;
    if (l.length > MAX_LINE_BYTES) throw new VerifyError('malformed', `line ${this.line} is longer than ${MAX_LINE_BYTES} bytes`);
    return l;
  }
}

function text(b: Uint8Array, what: string, seq?: number): string {
  try { return decoder.decode(b); } catch { throw new VerifyError('malformed', `${what} is not valid UTF-8`, seq); }
}

function json(b: Uint8Array, what: string, seq?: number): Record<string, unknown> {
  let o: unknown;
  try { o = JSON.parse(text(b, what, seq)); } catch (e) {
    if (e instanceof VerifyError) throw e;
    throw new VerifyError('malformed', `${what} is not valid JSON`, seq);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new VerifyError('malformed', `${what} is not a JSON object`, seq);
  return o as Record<string, unknown>;
}

function parseHeader(b: Uint8Array | undefined): BundleHeader {
  if (!b) throw new VerifyError('truncated', 'the bundle is empty');
  const h = json(b, 'the bundle header (line 1)');
  if (h['format'] !== BUNDLE_FORMAT) throw new VerifyError('malformed', `this is not a SIOS ledger bundle (format '${String(h['format']).slice(0, 40)}'); export one with 'sios ledger export'`);
  if (h['v'] !== BUNDLE_VERSION) throw new VerifyError('malformed', `bundle format version ${String(h['v']).slice(0, 10)} is not supported by this verifier (reads ${BUNDLE_VERSION})`);
  const count = (k: string): number => {
    const v = h[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new VerifyError('malformed', `bundle header field '${k}' is not a count`);
    return v;
  };
  if (typeof h['origin'] !== 'string' || typeof h['tenant'] !== 'string') throw new VerifyError('malformed', 'bundle header lacks origin or tenant');
  if (!Array.isArray(h['keys'])) throw new VerifyError('malformed', 'bundle header lacks keys');
  return {
    format: BUNDLE_FORMAT, v: BUNDLE_VERSION, origin: h['origin'], tenant: h['tenant'],
    entries: count('entries'), checkpoints: count('checkpoints'), disclosures: count('disclosures'), evidence: count('evidence'),
    keys: h['keys'] as BundleHeader['keys'], exported: String(h['exported'] ?? ''),
  };
}

interface Rotation { seq: number; old: Uint8Array; next: Uint8Array; signature: Uint8Array }

function ext(sc: SignedCheckpoint, prefix: string): string | undefined {
  const l = sc.checkpoint.extensions.find((e) => e.startsWith(prefix + ' '));
  return l?.slice(prefix.length + 1);
}

/** Verify a whole bundle. Never throws for bad input; returns a report. */
export async function verifyBundle(bytes: Uint8Array, o: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = { ok: false, entries: 0, checkpoints: [], keys: [], inDoubt: [], disclosures: 0, evidence: [] };
  try {
    await run(bytes, o, report);
    report.ok = true;
  } catch (e) {
    if (e instanceof VerifyError) {
      report.failure = e.seq === undefined ? { reason: e.reason, message: e.message } : { reason: e.reason, seq: e.seq, message: e.message };
    } else {
      report.failure = { reason: 'malformed', message: `the bundle could not be processed: ${(e as Error)?.message ?? String(e)}` };
    }
  }
  return report;
}

async function run(bytes: Uint8Array, o: VerifyOptions, report: VerifyReport): Promise<void> {
  const c = o.crypto;
  const lines = new Lines(bytes);
  const h = parseHeader(lines.next());
  report.origin = h.origin; report.tenant = h.tenant;
  if (!h.origin.endsWith('/' + h.tenant)) throw new VerifyError('wrong-tenant', `bundle origin '${h.origin}' does not name its tenant '${h.tenant}'`);
  if (o.expectedOrigin !== undefined && o.expectedOrigin !== h.origin) throw new VerifyError('wrong-tenant', `bundle is for '${h.origin}', expected '${o.expectedOrigin}'`);
  if (o.expectedTenant !== undefined && o.expectedTenant !== h.tenant) throw new VerifyError('wrong-tenant', `bundle is for tenant '${h.tenant}', expected '${o.expectedTenant}'`);

  // ---- entries: sequence, tenant, hash chain; build the Merkle tree ----
  const tree = new MerkleTree(c);
  const offsets: number[] = [];
  const kinds = new Uint8Array(h.entries); // 1 = intent, 2 = intent with outcome
  const rotations: Rotation[] = [];
  let prev = genesisPrev(c, h.origin);
  let pendingBreak: number | undefined;
  // Large bundles: leaf hashes are computed ahead on other threads (where the crypto suite can),
  // chunk by chunk, while this loop parses; each chunk's hashes are awaited when the loop reaches it.
  const CHUNK = 8192;
  const pre = c.leafHashes && h.entries >= 4 * CHUNK ? prehash(c, bytes, lines.pos, h.entries, CHUNK) : undefined;
  let chunk: Uint8Array | undefined;
  for (let i = 0; i < h.entries; i++) {
    const start = lines.pos;
    if (pre && i % CHUNK === 0) chunk = await pre(i / CHUNK);
    const line = lines.next();
    if (line === undefined) throw new VerifyError('truncated', `the bundle ends after ${i} of ${h.entries} entries`, i);
    if (line.length > 0 && line[0] !== 0x7b) throw new VerifyError('truncated', `expected entry ${i}, found something else: entries are missing`, i);
    const e = parseEntry(text(line, `entry ${i}`, i), i);
    if (e.seq !== i) {
      const why = e.seq < i ? `entry ${e.seq} appears again or out of order at position ${i}` : `entry ${i} is missing (found ${e.seq})`;
      // A break already pending at i-1 was caused by this reordering, so locate it here.
      throw new VerifyError('reordered', why, i);
    }
    if (e.tenant !== h.tenant) throw new VerifyError('wrong-tenant', `entry ${i} belongs to tenant '${e.tenant}', not '${h.tenant}'`, i);
    const pos = i % CHUNK;
    const leaf = chunk && pos * 32 + 32 <= chunk.length && sameRange(pre, i, start, start + line.length)
      ? chunk.subarray(pos * 32, pos * 32 + 32)
      : leafHashAt(c, bytes, start, start + line.length);
    if (pendingBreak !== undefined) {
      // Entry i-1's prev did not match entry i-2's hash. If entry i vouches for entry i-1's bytes,
      // entry i-2 was altered; otherwise entry i-1 itself was.
      const altered = base64urlEquals(e.prev, prev) ? pendingBreak - 1 : pendingBreak;
      throw new VerifyError('broken-chain', `entry ${altered} was altered: its hash does not match the chain`, altered);
    }
    if (!base64urlEquals(e.prev, prev)) {
      if (i === 0) throw new VerifyError('wrong-tenant', `entry 0 does not start the chain of '${h.origin}': this ledger belongs to another tenant or deployment`, 0);
      pendingBreak = i;
    }
    tree.appendLeafHash(leaf);
    offsets.push(start);
    if (e.kind === 'intent') kinds[i] = 1;
    else if (e.kind === 'outcome') {
      const ref = e.body['intent'] as { seq?: unknown; leaf?: unknown } | undefined;
      const rs = ref?.seq;
      if (typeof rs !== 'number' || !Number.isSafeInteger(rs) || rs < 0 || rs >= i || kinds[rs] === 0 || kinds[rs] === undefined) {
        throw new VerifyError('malformed', `outcome ${i} does not refer to an earlier intent`, i);
      }
      if (kinds[rs] === 2) throw new VerifyError('malformed', `intent ${rs} has a second outcome at entry ${i}`, i);
      if (typeof ref?.leaf !== 'string' || !base64urlEquals(ref.leaf, tree.leaf(rs))) throw new VerifyError('broken-chain', `outcome ${i} names intent ${rs} with a different hash`, i);
      kinds[rs] = 2;
    } else if (e.kind === 'key-rotation') {
      try {
        rotations.push({
          seq: i, old: fromBase64url(String(e.body['old'])), next: fromBase64url(String(e.body['new'])), signature: fromBase64url(String(e.body['signature'])),
        });
      } catch { throw new VerifyError('malformed', `key rotation at entry ${i} is malformed`, i); }
    }
    o.onEntry?.(e);
    prev = leaf;
    if (o.onProgress && (i & 0x3fff) === 0) o.onProgress(i, h.entries);
  }
  // A break still pending is at the last entry: the checkpoint roots below decide which side was altered.
  report.entries = h.entries;
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === 1) report.inDoubt.push(i);

  // ---- keys: trusted keys and the rotation chain ----
  const windows = await keyWindows(c, rotations, o.trustedKeys, h.origin);
  report.keys = windows.map((w) => ({ fingerprint: fingerprint(c, w.key), validFromSize: w.from, validToSize: w.to, trustedDirectly: w.direct }));

  // ---- checkpoints: signatures (in parallel) and roots ----
  const cps: SignedCheckpoint[] = [];
  for (let j = 0; j < h.checkpoints; j++) {
    const line = lines.next();
    if (line === undefined) throw new VerifyError('truncated', `the bundle ends after ${j} of ${h.checkpoints} checkpoints`, h.entries);
    const obj = json(line, `checkpoint line ${j + 1}`);
    if (typeof obj['checkpoint'] !== 'string') throw new VerifyError(line[0] === 0x7b && 'v' in obj ? 'reordered' : 'malformed', `checkpoint line ${j + 1} is not a checkpoint`, h.entries);
    const sc = parseSignedCheckpoint(obj['checkpoint']);
    if (sc.checkpoint.origin !== h.origin) throw new VerifyError('wrong-tenant', `a checkpoint is for '${sc.checkpoint.origin}', not '${h.origin}'`, Math.min(sc.checkpoint.size, h.entries));
    const last = cps[cps.length - 1];
    if (last && sc.checkpoint.size <= last.checkpoint.size) throw new VerifyError('reordered', `checkpoints are out of order at size ${sc.checkpoint.size}`, Math.max(0, sc.checkpoint.size - 1));
    if (sc.checkpoint.size > h.entries) throw new VerifyError('truncated', `a checkpoint covers ${sc.checkpoint.size} entries but the bundle holds ${h.entries}: entries were removed from the end`, h.entries);
    if (sc.checkpoint.size === 0) throw new VerifyError('malformed', 'a checkpoint of an empty tree is not expected in a bundle');
    cps.push(sc);
  }
  const sigChecks = cps.map((sc) => {
    const size = sc.checkpoint.size;
    const valid = windows.filter((w) => size >= w.from && (w.to === null || size <= w.to)).map((w) => w.key);
    return verifyCheckpointSignature(c, sc, valid, size - 1).then(
      (k) => ({ ok: true as const, signer: fingerprint(c, valid[k] as Uint8Array) }),
      (e: unknown) => ({ ok: false as const, error: e }));
  });
  let lastGood = 0;
  for (let j = 0; j < cps.length; j++) {
    const sc = cps[j] as SignedCheckpoint;
    const res = await (sigChecks[j] as Promise<{ ok: true; signer: string } | { ok: false; error: unknown }>);
    if (!res.ok) {
      const err = res.error;
      if (err instanceof VerifyError) throw new VerifyError(err.reason, err.message, sc.checkpoint.size - 1);
      throw err;
    }
    const size = sc.checkpoint.size;
    if (!bytesEq(tree.root(size), sc.checkpoint.root)) {
      // Entries in [lastGood, size) differ from what the operator signed. At a chain break, test
      // which side was altered; with an intact chain, the only entry no successor vouches for is the
      // last one, so a lone alteration is there; otherwise a range was rewritten from lastGood on.
      let seq: number;
      if (pendingBreak !== undefined && pendingBreak < size) seq = alteredAtBreak(c, tree, bundleEntryPrev(bytes, offsets, pendingBreak), pendingBreak, size, sc.checkpoint.root);
      else if (size === h.entries || size - lastGood === 1) seq = size - 1;
      else seq = lastGood;
      throw new VerifyError('wrong-root', `entries ${lastGood}..${size - 1} do not match the operator-signed checkpoint at size ${size}; first bad entry ${seq}`, seq);
    }
    report.checkpoints.push({ size, time: ext(sc, 'sios-time'), attestation: ext(sc, 'sios-attest'), signer: res.signer });
    lastGood = size;
    if (o.onProgress) o.onProgress(h.entries, h.entries);
  }
  if (pendingBreak !== undefined) throw new VerifyError('broken-chain', `entry ${pendingBreak} does not follow entry ${pendingBreak - 1}`, pendingBreak);
  if (cps.length === 0) throw new VerifyError(h.entries === 0 ? 'truncated' : 'unsigned', 'the bundle holds no signed checkpoint', 0);
  if (lastGood !== h.entries) throw new VerifyError('unsigned', `entries ${lastGood}..${h.entries - 1} are not covered by any signed checkpoint`, lastGood);
  report.rootHash = toBase64url(tree.root(h.entries));

  // ---- an older checkpoint the auditor holds must be a prefix of this ledger ----
  if (o.since !== undefined) {
    const old = parseSignedCheckpoint(o.since);
    if (old.checkpoint.origin !== h.origin) throw new VerifyError('wrong-tenant', `the --since checkpoint is for '${old.checkpoint.origin}', not '${h.origin}'`);
    const ws = windows.filter((w) => old.checkpoint.size >= w.from && (w.to === null || old.checkpoint.size <= w.to)).map((w) => w.key);
    await verifyCheckpointSignature(c, old, ws.length ? ws : o.trustedKeys);
    if (old.checkpoint.size > h.entries) throw new VerifyError('truncated', `the ledger you hold a checkpoint for had ${old.checkpoint.size} entries; this bundle has only ${h.entries}: entries were removed`, h.entries);
    if (!bytesEq(tree.root(old.checkpoint.size), old.checkpoint.root)) {
      throw new VerifyError('inconsistent', `this ledger does not extend your checkpoint at size ${old.checkpoint.size}: history before it was rewritten`, old.checkpoint.size - 1);
    }
  }

  // ---- disclosures ----
  for (let j = 0; j < h.disclosures; j++) {
    const line = lines.next();
    if (line === undefined) throw new VerifyError('truncated', 'the bundle ends inside its disclosures');
    const d = json(line, `disclosure ${j + 1}`)['disclose'] as Disclosure | undefined;
    if (!d || typeof d.seq !== 'number' || !Number.isSafeInteger(d.seq) || d.seq < 0 || d.seq >= h.entries || typeof d.name !== 'string' || typeof d.salt !== 'string') {
      throw new VerifyError('malformed', `disclosure ${j + 1} is malformed`);
    }
    const start = offsets[d.seq] as number;
    const end = bytes.indexOf(0x0a, start);
    checkDisclosure(c, parseEntry(text(bytes.subarray(start, end < 0 ? bytes.length : end), `entry ${d.seq}`), d.seq), d);
    report.disclosures++;
  }
  // ---- hardware evidence ----
  for (let j = 0; j < h.evidence; j++) {
    const line = lines.next();
    if (line === undefined) throw new VerifyError('truncated', 'the bundle ends inside its evidence');
    const ev = json(line, `evidence ${j + 1}`)['evidence'];
    if (!o.verifyEvidence) { report.evidence.push('present, not checked by this verifier'); continue; }
    try { report.evidence.push(await o.verifyEvidence(ev, { checkpoints: report.checkpoints })); }
    catch (e) { throw new VerifyError('bad-evidence', `hardware evidence ${j + 1} does not verify: ${(e as Error).message}`); }
  }
  const end = lines.next();
  if (end === undefined) throw new VerifyError('truncated', 'the bundle has no end line: it was cut short', h.entries);
  const endObj = json(end, 'the end line');
  if (endObj['end'] !== BUNDLE_FORMAT || endObj['entries'] !== h.entries) throw new VerifyError('malformed', 'the end line does not match the header: lines were added or removed');
  const extra = lines.next();
  if (extra !== undefined && extra.length > 0) throw new VerifyError('malformed', 'there is data after the end line');
}

/**
 * Scan ahead for the first `n` lines after `from` and start hashing them off-thread in chunks.
 * The ranges are only a guess made before parsing: the loop uses a precomputed hash only when its
 * range is exactly the line it parsed (see chunkEndsAt), and hashes the line itself otherwise.
 */
type Prehash = ((k: number) => Promise<Uint8Array>) & { starts: Float64Array; ends: Float64Array };

function prehash(c: VerifyCrypto, bytes: Uint8Array, from: number, n: number, size: number): Prehash {
  const starts = new Float64Array(n), ends = new Float64Array(n);
  let pos = from, m = 0;
  for (; m < n && pos < bytes.length; m++) {
    let e = bytes.indexOf(0x0a, pos);
    if (e < 0) e = bytes.length;
    starts[m] = pos; ends[m] = e; pos = e + 1;
  }
  // Keep a few chunks in flight ahead of the parser, not all of them (bounded memory and queueing).
  const jobs: Promise<Uint8Array>[] = [];
  const chunks = Math.ceil(m / size);
  const dispatch = (k: number): void => {
    if (k >= chunks || jobs[k]) return;
    const a = k * size, b = Math.min(m, a + size);
    jobs[k] = (c.leafHashes as NonNullable<VerifyCrypto['leafHashes']>)(bytes, starts.subarray(a, b), ends.subarray(a, b));
  };
  const AHEAD = 4;
  for (let k = 0; k < AHEAD; k++) dispatch(k);
  const f = ((k: number) => {
    dispatch(k + AHEAD);
    const j = jobs[k] ?? Promise.resolve(new Uint8Array(0));
    delete jobs[k];
    return j;
  }) as Prehash;
  f.starts = starts; f.ends = ends;
  return f;
}

function sameRange(pre: Prehash | undefined, i: number, start: number, end: number): boolean {
  return pre !== undefined && pre.starts[i] === start && pre.ends[i] === end;
}

function bundleEntryPrev(bytes: Uint8Array, offsets: number[], seq: number): Uint8Array {
  const start = offsets[seq] as number;
  const end = bytes.indexOf(0x0a, start);
  const e = JSON.parse(new TextDecoder().decode(bytes.subarray(start, end < 0 ? bytes.length : end))) as { prev: string };
  return fromBase64url(e.prev);
}

/** At a chain break at entry b (its prev ≠ hash of entry b-1): if replacing leaf b-1 by entry b's
 *  prev reproduces the signed root, entry b-1 was altered; otherwise entry b was. */
function alteredAtBreak(c: VerifyCrypto, tree: MerkleTree, claimedPrevLeaf: Uint8Array, b: number, size: number, root: Uint8Array): number {
  try {
    verifyInclusion(c, claimedPrevLeaf, b - 1, size, tree.inclusionProof(b - 1, size), root);
    return b - 1;
  } catch {
    return b;
  }
}

interface KeyWindow { key: Uint8Array; from: number; to: number | null; direct: boolean }

async function keyWindows(c: VerifyCrypto, rotations: Rotation[], trusted: readonly Uint8Array[], origin: string): Promise<KeyWindow[]> {
  // The chain K0 -(rot at s1)-> K1 -(rot at s2)-> K2 ...: K_j signs checkpoints of sizes
  // (s_j + 1, s_{j+1} + 1]. Each rotation must be signed by the key it replaces.
  if (rotations.length === 0) return trusted.map((k) => ({ key: k, from: 1, to: null, direct: true }));
  const chain: KeyWindow[] = [];
  const first = rotations[0] as Rotation;
  chain.push({ key: first.old, from: 1, to: first.seq + 1, direct: false });
  for (let j = 0; j < rotations.length; j++) {
    const r = rotations[j] as Rotation;
    const cur = chain[chain.length - 1] as KeyWindow;
    if (!bytesEq(cur.key, r.old)) throw new VerifyError('bad-signature', `key rotation at entry ${r.seq} does not start from the key in force`, r.seq);
    if (!(await c.verifyMlDsa65(r.old, rotationStatementFor(origin, r.next), r.signature))) {
      throw new VerifyError('bad-signature', `key rotation at entry ${r.seq} is not signed by the key it replaces`, r.seq);
    }
    const nextRot = rotations[j + 1];
    chain.push({ key: r.next, from: r.seq + 2, to: nextRot ? nextRot.seq + 1 : null, direct: false });
  }
  const isTrusted = chain.some((w) => trusted.some((t) => bytesEq(t, w.key)));
  for (const w of chain) w.direct = trusted.some((t) => bytesEq(t, w.key));
  return isTrusted ? chain : [];
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Verify one receipt offline: checkpoint signature, inclusion of the entry. Returns the entry. */
export async function verifyReceipt(c: VerifyCrypto, r: Receipt, trustedKeys: readonly Uint8Array[]): Promise<Entry> {
  if (typeof r !== 'object' || r === null || r.v !== 1 || typeof r.entry !== 'string' || !Array.isArray(r.proof) || typeof r.checkpoint !== 'string') {
    throw new VerifyError('malformed', 'not a SIOS receipt (expected v, origin, seq, entry, proof, checkpoint)');
  }
  const sc = parseSignedCheckpoint(r.checkpoint);
  if (sc.checkpoint.origin !== r.origin) throw new VerifyError('wrong-tenant', `receipt origin '${r.origin}' differs from its checkpoint's '${sc.checkpoint.origin}'`);
  await verifyCheckpointSignature(c, sc, trustedKeys, r.seq);
  const e = parseEntry(r.entry, r.seq);
  if (e.seq !== r.seq) throw new VerifyError('reordered', `receipt names seq ${r.seq} but its entry is ${e.seq}`, r.seq);
  if (!r.origin.endsWith('/' + e.tenant)) throw new VerifyError('wrong-tenant', `receipt entry belongs to tenant '${e.tenant}', not origin '${r.origin}'`, r.seq);
  let proof: Uint8Array[];
  try { proof = r.proof.map((p) => fromBase64(p, 'proof node')); } catch { throw new VerifyError('bad-proof', 'receipt proof is not base64', r.seq); }
  verifyInclusion(c, leafHash(c, utf8(r.entry)), e.seq, sc.checkpoint.size, proof, sc.checkpoint.root);
  return e;
}
