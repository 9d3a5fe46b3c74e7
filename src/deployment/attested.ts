/**
 * A deployment bound to its TPM 2.0 (issue 8). At open: measure the installation (SIOS's code and
 * the deployment config) into PCR 23, prove the data folder belongs to this TPM (EK/AK identity),
 * and hand out the tpm2-seal protector that opens the operator key only in the measured state.
 * While open: keep one current quote (nonce bound to the operator key and to the system ledger's
 * latest checkpoint), stored in the system database by digest and named by every checkpoint as
 * `sios-attest tpm2 <digest>`; refreshed every N checkpoints or T milliseconds in the background,
 * because a quote per checkpoint (~20 ms of TPM time) would cap the ledger's throughput.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { createHash } from 'node:crypto';
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fromHex, toBase64url, toHex } from '../encoding/bytes.ts';
import { nodeVerifyCrypto, randomBytes } from '../crypto/node.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import type { Signer } from '../crypto/suite.ts';
import { parseSignedCheckpoint } from '../ledger/note.ts';
import { Tpm2 } from '../attestation/tpm.ts';
import { measurementDigest, SIOS_PCR, type Measurement, type MeasurementEvent } from '../attestation/event-log.ts';
import { measureInstallation } from '../attestation/measure.ts';
import { collectEvidence } from '../attestation/evidence.ts';
import { TpmSealProtector } from '../attestation/tpm-protector.ts';
import { diffEvents } from '../attestation/event-log.ts';
import { openKeyFile, readKeyFile, rewrapKeyFile, writeKeyFile, type KeyFile } from '../crypto/keystore.ts';
import { passphraseProtector } from '../crypto/passphrase.ts';
import { identityStatement, quoteNonce, type DeviceIdentity } from '../attestation/verify-evidence.ts';
import {
  ATTEST_PREFIX, challengeBytes, CHECKPOINT_EVIDENCE_TYPE, evidenceDigest, referencedDigest,
  type CheckpointEvidence, type EvidenceChallenge,
} from '../attestation/checkpoint-evidence.ts';

export interface AttestationConfig {
  mode: 'tpm2';
  /** `device:/dev/tpmrm0` or `swtpm:host=127.0.0.1,port=N`. */
  tcti: string;
}

/** What of the installation is measured (relative to the install root), plus data/deployment.json. */
export const MEASURED_CODE: readonly string[] = Object.freeze(['src', 'bin', 'package-lock.json']);
const DATA_PREFIX = 'data/';

/** The root of the SIOS code this process runs (the folder holding src/ and bin/). */
export function codeRoot(): string {
  return path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
}

export function tpmStateDir(dataDir: string): string { return path.join(dataDir, 'tpm'); }

/** The event list the key was last sealed to (diagnostics: which files changed). Not secret, not trusted. */
export function sealedMeasurementPath(dataDir: string): string { return path.join(tpmStateDir(dataDir), 'sealed-measurement.json'); }

export function readSealedMeasurement(dataDir: string): Measurement | undefined {
  try { return JSON.parse(fs.readFileSync(sealedMeasurementPath(dataDir), 'utf8')) as Measurement; } catch { return undefined; }
}

function writeSealedMeasurement(dataDir: string, m: Measurement): void {
  const f = sealedMeasurementPath(dataDir);
  fs.writeFileSync(f + '.tmp', JSON.stringify({ pcr: m.pcr, digest: m.digest, events: m.events }) + '\n', { mode: 0o600 });
  fs.renameSync(f + '.tmp', f);
}

/** Paths that differ between the sealed and the current measurement, for messages. */
export function describeChange(sealed: Measurement | undefined, now: Measurement): string {
  if (!sealed || !Array.isArray(sealed.events)) return '';
  const d = diffEvents(sealed.events, now.events);
  const part = (k: string, l: string[]): string => (l.length ? `${k}: ${l.slice(0, 5).join(', ')}${l.length > 5 ? ` (+${l.length - 5})` : ''}` : '');
  return [part('changed', d.changed), part('added', d.added), part('removed', d.removed)].filter(Boolean).join('; ');
}

export interface AttestedOptions {
  /** Installation to measure; default the code this process runs. Tests measure a copy. */
  installRoot?: string;
  /** Refresh the quote after this many checkpoints (default 256) or milliseconds (default 5 min). */
  refreshCheckpoints?: number;
  refreshMs?: number;
  now?: () => number;
}

/**
 * The installed brain and skill manifests (the signed envelopes in the system database), as
 * measurement events `data/manifests/<kind>/<id>@<version>`: installing, replacing or removing one
 * changes the measured state, so the sealed key opens again only after `sios attest reseal`.
 */
function manifestEvents(dataDir: string): MeasurementEvent[] {
  const dbPath = path.join(dataDir, 'system.db');
  if (!fs.existsSync(dbPath)) return [];
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const has = (t: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
    const out: MeasurementEvent[] = [];
    const hash = (text: string) => createHash('sha256').update(text).digest('hex');
    if (has('skill_skills')) for (const r of db.prepare('SELECT id, version, envelope FROM skill_skills').all()) out.push({ path: `${DATA_PREFIX}manifests/skill/${String(r['id'])}@${String(r['version'])}`, sha256: hash(String(r['envelope'])) });
    if (has('brain_brains')) for (const r of db.prepare('SELECT id, version, envelope FROM brain_brains').all()) out.push({ path: `${DATA_PREFIX}manifests/brain/${String(r['id'])}@${String(r['version'])}`, sha256: hash(String(r['envelope'])) });
    return out;
  } finally {
    db.close();
  }
}

/** Measure SIOS's code under `installRoot`, the deployment config and the installed manifests as one event list. */
export async function measureDeployment(installRoot: string, dataDir: string): Promise<Measurement & { files: number; bytes: number }> {
  const code = await measureInstallation(installRoot, MEASURED_CODE, SIOS_PCR);
  const data = await measureInstallation(dataDir, ['deployment.json'], SIOS_PCR);
  const events: MeasurementEvent[] = [...code.events, ...data.events.map((e) => ({ ...e, path: DATA_PREFIX + e.path })), ...manifestEvents(dataDir)];
  events.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { pcr: SIOS_PCR, events, digest: await measurementDigest(events), files: events.length, bytes: code.stats.bytes + data.stats.bytes };
}

export function checkAttestationConfig(a: unknown): AttestationConfig {
  const c = a as Partial<AttestationConfig> | undefined;
  if (c?.mode !== 'tpm2' || typeof c.tcti !== 'string' || c.tcti === '') {
    throw new SiosError('ERR_STORE', 'deployment.json declares tpm2 attestation without a TCTI; restore deployment.json from backup');
  }
  return { mode: 'tpm2', tcti: c.tcti };
}

export class DeviceAttestation {
  readonly tpm: Tpm2;
  readonly identity: DeviceIdentity;
  readonly measurement: Measurement;
  private readonly o: AttestedOptions;
  private db: DatabaseSync | undefined;
  private signer: (() => Signer) | undefined;
  private latest: (() => string | undefined) | undefined;
  private current: { digest: string; evidence: CheckpointEvidence; at: number; sinceCheckpoints: number } | undefined;
  private pending: Promise<void> | undefined;
  private binding: { fp: string; sig: string; pub: string } | undefined;
  /** The last background refresh failure, if the latest refresh failed (the previous quote stays in use). */
  lastError: Error | undefined;
  readonly stats = { quotes: 0 };

  private constructor(tpm: Tpm2, identity: DeviceIdentity, measurement: Measurement, o: AttestedOptions) {
    this.tpm = tpm; this.identity = identity; this.measurement = measurement; this.o = o;
  }

  private static async measured(dataDir: string, cfg: AttestationConfig, o: AttestedOptions): Promise<{ tpm: Tpm2; m: Measurement }> {
    const tpm = new Tpm2({ tcti: cfg.tcti, stateDir: tpmStateDir(dataDir), commandTimeoutMs: 15_000 });
    const m = await measureDeployment(o.installRoot ?? codeRoot(), dataDir);
    await tpm.extendMeasurement(m);
    return { tpm, m };
  }

  /** `sios init --tpm`: measured start, then a new EK/AK identity (the AK handle is replaced). */
  static async create(dataDir: string, cfg: AttestationConfig, o: AttestedOptions = {}): Promise<DeviceAttestation> {
    const { tpm, m } = await DeviceAttestation.measured(dataDir, cfg, o);
    const identity = await tpm.createIdentity({ replace: true });
    return new DeviceAttestation(tpm, identity, m, o);
  }

  /** Every open: measured start, then prove this TPM holds the recorded EK and AK. */
  static async start(dataDir: string, cfg: AttestationConfig, o: AttestedOptions = {}): Promise<DeviceAttestation> {
    const { tpm, m } = await DeviceAttestation.measured(dataDir, cfg, o);
    const identity = await tpm.loadIdentity();
    return new DeviceAttestation(tpm, identity, m, o);
  }

  /**
   * Unseal the operator key with the TPM. A changed installation is refused by the TPM (PolicyPCR);
   * the message then names the changed files and says how to reseal after a planned update.
   */
  async openKey(dataDir: string, keyFile: KeyFile, passphrase: string): Promise<Uint8Array> {
    try {
      return await openKeyFile(keyFile, this.sealProtector(passphrase));
    } catch (e) {
      const pcrs = e instanceof SiosError ? (e.details['pcrs'] as number[] | undefined) : undefined;
      if (e instanceof SiosError && Array.isArray(pcrs) && pcrs.includes(SIOS_PCR)) {
        const what = describeChange(readSealedMeasurement(dataDir), this.measurement);
        throw new SiosError('ERR_ATTESTATION', `refusing to open: the SIOS installation differs from the state the operator key is sealed to${what ? ` (${what})` : ''}, measurement now ${this.measurement.digest.slice(0, 16)}…. If this was a planned update, run \`sios attest reseal\` (needs the operator passphrase; it seals the key to the new state and records that in the system ledger); otherwise investigate the change before starting SIOS`, { cause: e, details: { pcrs, measurement: this.measurement.digest } });
      }
      throw e;
    }
  }

  /** The KEK protector sealed to PCRs 0-7 + 23 (current values) and the passphrase. */
  sealProtector(passphrase: string): TpmSealProtector {
    return new TpmSealProtector({ tpm: this.tpm, passphrase });
  }

  /**
   * Start producing evidence for checkpoints: storage in `db`, the operator key (binding signature),
   * and the source of challenges (the system ledger's latest signed checkpoint). Takes the first quote.
   */
  async attach(db: DatabaseSync, signer: () => Signer, latestCheckpoint: () => string | undefined): Promise<void> {
    db.exec('CREATE TABLE IF NOT EXISTS attestation_evidence (digest TEXT PRIMARY KEY, created TEXT NOT NULL, evidence TEXT NOT NULL)');
    this.db = db; this.signer = signer; this.latest = latestCheckpoint;
    await this.refresh();
  }

  /** The checkpoint extension line for the current evidence; schedules a refresh when due. */
  extensions(): string[] {
    const cur = this.current;
    if (!cur) throw new SiosError('ERR_ATTESTATION', 'no TPM evidence yet: the deployment was not attached to its TPM');
    cur.sinceCheckpoints++;
    const due = cur.sinceCheckpoints >= (this.o.refreshCheckpoints ?? 256) || this.now() - cur.at >= (this.o.refreshMs ?? 300_000);
    if (due && !this.pending) {
      this.pending = this.refresh().then(
        () => { this.lastError = undefined; },
        (e: unknown) => { this.lastError = e instanceof Error ? e : new Error(String(e)); if (this.current) this.current.at = this.now(); },
      ).finally(() => { this.pending = undefined; });
    }
    return [`sios-attest ${ATTEST_PREFIX}${cur.digest}`];
  }

  get currentDigest(): string | undefined { return this.current?.digest; }
  get currentEvidence(): CheckpointEvidence | undefined { return this.current?.evidence; }

  /** Take a new quote now (challenge: the system ledger's latest checkpoint) and make it current. */
  async refresh(): Promise<string> {
    if (!this.db || !this.signer || !this.latest) throw new SiosError('ERR_INTERNAL', 'attach the device attestation before taking quotes');
    const signer = this.signer();
    const fp = fingerprint(nodeVerifyCrypto, signer.publicKey);
    if (this.binding?.fp !== fp) {
      const sig = await signer.sign(identityStatement(this.identity, fp.replace(/^SHA256:/, '')));
      this.binding = { fp, sig: toBase64url(sig), pub: toBase64url(signer.publicKey) };
    }
    const note = this.latest();
    let challenge: EvidenceChallenge;
    if (note) {
      const sc = parseSignedCheckpoint(note);
      const [origin, size, root] = sc.body.split('\n');
      challenge = { source: 'checkpoint', origin: origin!, size: Number(size), root: root! };
    } else {
      challenge = { source: 'random', value: toHex(randomBytes(32)) };
    }
    const nonce = await quoteNonce(fromHex(fp.replace(/^SHA256:/, '')), challengeBytes(challenge));
    const tpm = await collectEvidence(this.tpm, this.identity, nonce, this.measurement);
    this.stats.quotes++;
    const evidence: CheckpointEvidence = {
      v: 1, type: CHECKPOINT_EVIDENCE_TYPE, operator: fp, operatorPublicKey: this.binding.pub, identity: this.identity,
      binding: this.binding.sig, challenge, created: new Date(this.now()).toISOString(), tpm,
    };
    const digest = evidenceDigest(nodeVerifyCrypto, evidence);
    this.db.prepare('INSERT OR IGNORE INTO attestation_evidence (digest, created, evidence) VALUES (?, ?, ?)').run(digest, evidence.created, canonicalize(evidence));
    this.current = { digest, evidence, at: this.now(), sinceCheckpoints: 0 };
    return digest;
  }

  /** Remember what the key is now sealed to (after init or reseal). */
  recordSealed(dataDir: string): void { writeSealedMeasurement(dataDir, this.measurement); }

  /** Wait until no background refresh is running. */
  async idle(): Promise<void> {
    while (this.pending) await this.pending;
  }

  /** Wait for a background refresh (so its TPM commands finish before the process exits). */
  async close(): Promise<void> { await this.idle(); }

  private now(): number { return (this.o.now ?? Date.now)(); }
}

/** The evidence objects named by these checkpoint notes, from the deployment's system database. */
export function evidenceForCheckpoints(systemDbPath: string, notes: readonly string[]): Json[] {
  const digests: string[] = [];
  for (const n of notes) {
    const line = parseSignedCheckpoint(n).checkpoint.extensions.find((e) => e.startsWith('sios-attest '));
    const d = referencedDigest(line?.slice('sios-attest '.length));
    if (d !== undefined && !digests.includes(d)) digests.push(d);
  }
  if (digests.length === 0) return [];
  if (!fs.existsSync(systemDbPath)) throw new SiosError('ERR_NOT_FOUND', `${systemDbPath} is missing: cannot attach the TPM evidence the checkpoints name`);
  const db = new DatabaseSync(systemDbPath, { readOnly: true });
  try {
    return digests.map((d) => {
      const r = db.prepare('SELECT evidence FROM attestation_evidence WHERE digest = ?').get(d);
      if (!r) throw new SiosError('ERR_STORE', `checkpoint evidence ${d.slice(0, 16)}… is missing from the system database; the bundle could not be verified with it`);
      const ev = JSON.parse(String(r['evidence'])) as Json;
      if (evidenceDigest(nodeVerifyCrypto, ev) !== d) throw new SiosError('ERR_STORE', `stored checkpoint evidence ${d.slice(0, 16)}… does not match its digest: the system database was altered`);
      return ev;
    });
  } finally { db.close(); }
}

/**
 * `sios attest reseal`: seal the operator key to the current (measured) state. The passphrase
 * wrapping (the backup path) opens the key, which proves the operator approves; the key file's
 * protectors become [passphrase, tpm2-seal to the current PCRs 0-7 and 23]. Run it after a planned
 * update; the caller records the reseal in the system ledger. Returns the previous sealed digest.
 */
export async function resealKey(dataDir: string, keyFilePath: string, att: DeviceAttestation, passphrase: string): Promise<{ previous: string | undefined; current: string }> {
  const file = readKeyFile(keyFilePath);
  // A key file without a tpm2-seal wrapping (for example after a key rotation) gets one here.
  const pass = passphraseProtector(passphrase);
  try {
    const next = await rewrapKeyFile(file, pass, [pass, att.sealProtector(passphrase)]);
    writeKeyFile(keyFilePath, next, { overwrite: true });
  } finally { pass.dispose(); }
  const previous = readSealedMeasurement(dataDir)?.digest;
  att.recordSealed(dataDir);
  return { previous, current: att.measurement.digest };
}
