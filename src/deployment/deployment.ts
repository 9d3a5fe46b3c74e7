/**
 * A deployment: one operator key, one system ledger, and the tenants' sealed worlds, all in one
 * data folder. Opening it unlocks the operator key with a KeyProtector (the passphrase, or a TPM
 * seal), derives the key that wraps tenant data keys, and opens ledgers on demand.
 */
import { writeFileAtomic } from '../atomic-file.ts';
import * as fs from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { concat, toBase64url, utf8 } from '../encoding/bytes.ts';
import type { Json } from '../encoding/jcs.ts';
import { hkdf, openAead, sealAead } from '../crypto/aead.ts';
import { newSeed, nodeVerifyCrypto, randomBytes, softwareSigner } from '../crypto/node.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import { publicKeyToPem } from '../crypto/pubkey-format.ts';
import type { KeyProtector } from '../crypto/protector.ts';
import type { Signer } from '../crypto/suite.ts';
import { createKeyFile, openKeyFile, readKeyFile, writeKeyFile } from '../crypto/keystore.ts';
import { passphraseProtector } from '../crypto/passphrase.ts';
import { identityStatement } from '../attestation/verify-evidence.ts';
import { checkAttestationConfig, DeviceAttestation, type AttestationConfig, type AttestedOptions } from './attested.ts';
import { Ledger, type PayloadCipher, type Receipt } from '../ledger/ledger.ts';
import { assertTenantId } from '../ledger/entry.ts';
import { openDatabase, SqliteLedgerStore } from '../store/sqlite-ledger.ts';
import { withStatementCache } from '../store/statement-cache.ts';
import { layout } from './layout.ts';
import { TenantStore } from '../tenancy/store.ts';

export const SYSTEM_TENANT = 'system';
const CONFIG_FORMAT = 'sios-deployment';
const ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface DeploymentConfig {
  format: typeof CONFIG_FORMAT;
  v: 1;
  id: string;
  created: string;
  operator: { fingerprint: string };
  /** 'tpm2' deployments record the TCTI of their TPM (sios init --tpm). */
  attestation: { mode: 'software' } | AttestationConfig;
}

/**
 * How to unlock the operator key. A TPM deployment needs the passphrase itself (the TPM checks it
 * with the measured state); a software deployment also accepts any KeyProtector.
 */
export type Unlock = KeyProtector | { readonly passphrase: string };

function isPassphrase(u: Unlock): u is { readonly passphrase: string } {
  return typeof (u as { passphrase?: unknown }).passphrase === 'string' && !('unwrap' in u);
}

export interface TenantRow {
  id: string;
  status: 'active' | 'suspended' | 'deleted';
  created: string;
  keyFingerprint: string;
}

export interface OpenOptions {
  /** Internal: opening to finish an interrupted key rotation. */
  resumingRotation?: boolean;
  now?: () => number;
  /** Extension lines for every checkpoint; default declares the unattested software mode. */
  checkpointExtensions?: () => string[];
  maxBatch?: number;
  /**
   * Where tenant ledgers commit (store/sqlite-ledger.ts): 'inline' (default) on the event loop,
   * 'thread' on a writer thread, for storage whose flush takes milliseconds.
   */
  ledgerWriter?: 'inline' | 'thread';
  /** TPM deployments: the installation to measure (default: the SIOS code this process runs; tests use a copy). */
  installRoot?: string;
  /** TPM deployments: refresh the checkpoint quote after this many checkpoints / milliseconds. */
  refreshCheckpoints?: number;
  refreshMs?: number;
}

function attestedOptions(o: OpenOptions): AttestedOptions {
  const a: AttestedOptions = {};
  if (o.installRoot !== undefined) a.installRoot = o.installRoot;
  if (o.refreshCheckpoints !== undefined) a.refreshCheckpoints = o.refreshCheckpoints;
  if (o.refreshMs !== undefined) a.refreshMs = o.refreshMs;
  if (o.now !== undefined) a.now = o.now;
  return a;
}

export function readConfig(dir: string): DeploymentConfig {
  const L = layout(dir);
  let text: string;
  try { text = fs.readFileSync(L.config, 'utf8'); } catch (cause) {
    throw new SiosError('ERR_NOT_FOUND', `no SIOS deployment in ${dir}: run 'sios init --data ${dir}' first, or pass --data`, { cause });
  }
  let c: DeploymentConfig;
  try { c = JSON.parse(text) as DeploymentConfig; } catch (cause) {
    throw new SiosError('ERR_STORE', `${L.config} is not valid JSON; restore it from backup`, { cause });
  }
  if (c.format !== CONFIG_FORMAT || c.v !== 1 || typeof c.id !== 'string' || !ID_RE.test(c.id)) {
    throw new SiosError('ERR_STORE', `${L.config} is not a SIOS deployment file of a supported version`);
  }
  return c;
}

export interface InitResult {
  id: string;
  fingerprint: string;
  publicKeyPem: string;
  dir: string;
}

export interface InitOptions {
  id?: string;
  now?: () => number;
  /**
   * Bind the deployment to a TPM 2.0: measure the installation, create the EK/AK identity, record it
   * in the system ledger and seal the key (PCRs 0-7, 23 + passphrase) beside the given protectors.
   */
  tpm?: { tcti: string; passphrase: string; installRoot?: string };
}

/** Checks shared by both kinds of init: an empty folder, a valid id; creates the key and tenant folders. */
function prepareNewDeployment(dir: string, opts: InitOptions): { L: ReturnType<typeof layout>; id: string; now: () => number } {
  const L = layout(dir);
  if (fs.existsSync(L.config)) throw new SiosError('ERR_CONFLICT', `${dir} already holds a SIOS deployment; choose another --data folder or remove it deliberately`);
  const id = opts.id ?? `sios-${toBase64url(randomBytes(6)).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  if (!ID_RE.test(id)) throw new SiosError('ERR_INPUT', `deployment id '${id}' must be 1-63 lowercase letters, digits and '-'`);
  fs.mkdirSync(L.keysDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(L.tenantsDir, { recursive: true, mode: 0o700 });
  return { L, id, now: opts.now ?? Date.now };
}

/** Create a new deployment in `dir` (which must not hold one). */
export async function initDeployment(dir: string, protectors: readonly KeyProtector[], opts: InitOptions = {}): Promise<InitResult & { measurement?: string; akName?: string }> {
  if (opts.tpm) return initAttested(dir, protectors, opts, opts.tpm);
  const { L, id, now } = prepareNewDeployment(dir, opts);
  const seed = newSeed();
  try {
    const signer = softwareSigner(seed);
    const fp = fingerprint(nodeVerifyCrypto, signer.publicKey);
    const keyFile = await createKeyFile(seed, protectors, { deployment: id, created: new Date(now()).toISOString() });
    writeKeyFile(L.keyFile, keyFile);
    const pem = publicKeyToPem(signer.publicKey);
    writeFileAtomic(L.publicKey, pem, 0o644);
    const config: DeploymentConfig = { format: CONFIG_FORMAT, v: 1, id, created: new Date(now()).toISOString(), operator: { fingerprint: fp }, attestation: { mode: 'software' } };
    writeFileAtomic(L.config, JSON.stringify(config, null, 2) + '\n');
    const d = await Deployment.openWithSeed(dir, seed, { now });
    try {
      await d.system.seal({ kind: 'admin', body: { action: 'deployment-init', deployment: id, operator: fp, attestation: 'software' } });
    } finally { await d.close(); }
    return { id, fingerprint: fp, publicKeyPem: pem, dir };
  } finally {
    seed.fill(0);
  }
}

async function initAttested(dir: string, protectors: readonly KeyProtector[], opts: InitOptions, tpm: NonNullable<InitOptions['tpm']>): Promise<InitResult & { measurement: string; akName: string }> {
  const { L, id, now } = prepareNewDeployment(dir, opts);
  const seed = newSeed();
  let att: DeviceAttestation | undefined;
  try {
    const signer = softwareSigner(seed);
    const fp = fingerprint(nodeVerifyCrypto, signer.publicKey);
    const attCfg: AttestationConfig = { mode: 'tpm2', tcti: tpm.tcti };
    // The config is part of the measurement, so it is written first, in its final form.
    const config: DeploymentConfig = { format: CONFIG_FORMAT, v: 1, id, created: new Date(now()).toISOString(), operator: { fingerprint: fp }, attestation: attCfg };
    writeFileAtomic(L.config, JSON.stringify(config, null, 2) + '\n');
    try {
      att = await DeviceAttestation.create(dir, attCfg, tpm.installRoot === undefined ? { now } : { now, installRoot: tpm.installRoot });
      const keyFile = await createKeyFile(seed, [...protectors, att.sealProtector(tpm.passphrase)], { deployment: id, created: new Date(now()).toISOString() });
      writeKeyFile(L.keyFile, keyFile);
      att.recordSealed(dir);
    } catch (e) {
      fs.rmSync(L.config, { force: true });
      throw e;
    }
    const pem = publicKeyToPem(signer.publicKey);
    writeFileAtomic(L.publicKey, pem, 0o644);
    const d = await Deployment.openWithSeed(dir, seed, { now }, att);
    const identity = att.identity;
    try {
      await d.system.seal({ kind: 'admin', body: { action: 'deployment-init', deployment: id, operator: fp, attestation: 'tpm2', tcti: tpm.tcti, measurement: att.measurement.digest } });
      const signature = await signer.sign(identityStatement(identity, fp.replace(/^SHA256:/, '')));
      await d.system.seal({ kind: 'admin', body: { action: 'device-identity', identity: { ...identity }, operator: fp, signature: toBase64url(signature) } });
    } finally { await d.close(); }
    return { id, fingerprint: fp, publicKeyPem: pem, dir, measurement: att.measurement.digest, akName: identity.akName };
  } finally {
    seed.fill(0);
  }
}

class TenantCipher implements PayloadCipher {
  private readonly key: Uint8Array;
  private readonly tenant: string;
  constructor(key: Uint8Array, tenant: string) { this.key = key; this.tenant = tenant; }
  seal(p: Uint8Array, aad: Uint8Array): Uint8Array { return sealAead(this.key, p, concatAad(this.tenant, aad)); }
  open(s: Uint8Array, aad: Uint8Array): Uint8Array { return openAead(this.key, s, concatAad(this.tenant, aad), 'a ledger payload'); }
}

function concatAad(tenant: string, aad: Uint8Array): Uint8Array {
  const t = utf8(`tenant=${tenant}\n`);
  const out = new Uint8Array(t.length + aad.length);
  out.set(t); out.set(aad, t.length);
  return out;
}

export class Deployment {
  readonly dir: string;
  readonly config: DeploymentConfig;
  readonly signer: Signer;
  readonly system: Ledger;
  readonly systemDb: DatabaseSync;
  /** Present for TPM deployments: measured state, device identity, current checkpoint evidence. */
  readonly attestation: DeviceAttestation | undefined;
  private readonly wrapKey: Uint8Array;
  private readonly opts: OpenOptions;
  private readonly ledgers = new Map<string, Ledger>();
  private readonly stores = new Map<string, { db: DatabaseSync; store: TenantStore }>();
  private tenantRowStmt: StatementSync | undefined;

  private constructor(dir: string, config: DeploymentConfig, signer: Signer, wrapKey: Uint8Array, systemDb: DatabaseSync, system: Ledger, opts: OpenOptions, attestation: DeviceAttestation | undefined) {
    this.dir = dir; this.config = config; this.signer = signer; this.wrapKey = wrapKey; this.systemDb = systemDb; this.system = system; this.opts = opts;
    this.attestation = attestation;
  }

  /**
   * Open with the operator's passphrase ({ passphrase }) or, for a software deployment, any protector.
   * A TPM deployment is measured into PCR 23, checked against its recorded TPM identity (a copied data
   * folder is refused) and its key is unsealed by the TPM only in the sealed state.
   */
  static async open(dir: string, unlock: Unlock, opts: OpenOptions = {}): Promise<Deployment> {
    const config = readConfig(dir);
    const keyFile = readKeyFile(layout(dir).keyFile);
    if (config.attestation.mode === 'tpm2') {
      if (!isPassphrase(unlock)) {
        throw new SiosError('ERR_KEY', `deployment ${config.id} keeps its operator key sealed to its TPM: open it with the operator passphrase, which the TPM checks together with the measured state`);
      }
      const att = await DeviceAttestation.start(dir, checkAttestationConfig(config.attestation), attestedOptions(opts));
      let seed: Uint8Array;
      try { seed = await att.openKey(dir, keyFile, unlock.passphrase); } catch (e) { await att.close(); throw e; }
      try {
        return await Deployment.openWithSeed(dir, seed, opts, att);
      } finally { seed.fill(0); }
    }
    const owned = isPassphrase(unlock) ? passphraseProtector(unlock.passphrase) : undefined;
    try {
      const seed = await openKeyFile(keyFile, owned ?? (unlock as KeyProtector));
      try {
        return await Deployment.openWithSeed(dir, seed, opts);
      } finally {
        seed.fill(0);
      }
    } finally { owned?.dispose(); }
  }

  /** Internal: the seed is used to derive keys and is not kept. `attestation` is required for a TPM deployment. */
  static async openWithSeed(dir: string, seed: Uint8Array, opts: OpenOptions = {}, attestation?: DeviceAttestation): Promise<Deployment> {
    if (opts.ledgerWriter !== undefined && opts.ledgerWriter !== 'inline' && opts.ledgerWriter !== 'thread') {
      throw new SiosError('ERR_INPUT', 'ledgerWriter must be "inline" or "thread"');
    }
    const config = readConfig(dir);
    if (!opts.resumingRotation && fs.existsSync(layout(dir).keyFile + '.next')) {
      // Some ledgers may already sign with the new key: signing on with the old one would break them.
      throw new SiosError('ERR_CONFLICT', `a key rotation of deployment ${config.id} was interrupted; finish it with 'sios key rotate --resume' before anything else`);
    }
    if (config.attestation.mode === 'tpm2' && !attestation) {
      throw new SiosError('ERR_ATTESTATION', `deployment ${config.id} is bound to a TPM: open it with Deployment.open, which measures the installation and checks the device`);
    }
    const signer = softwareSigner(seed);
    const fp = fingerprint(nodeVerifyCrypto, signer.publicKey);
    if (fp !== config.operator.fingerprint) {
      throw new SiosError('ERR_KEY', `the unlocked key (${fp.slice(0, 20)}…) is not this deployment's operator key (${config.operator.fingerprint.slice(0, 20)}…)`);
    }
    // Tenant data keys are wrapped under a key derived from the operator secret, so restoring the
    // operator key from its shares restores access to every tenant's data too.
    const wrapKey = hkdf(seed, `sios/${config.id}`, 'tenant data key wrapping v1');
    const db = openDatabase(layout(dir).systemDb);
    db.exec(`CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, status TEXT NOT NULL, created TEXT NOT NULL, wrapped_key BLOB, key_fp TEXT NOT NULL)`);
    const lo: OpenOptions = attestation ? { ...opts, checkpointExtensions: attestedExtensions(attestation, opts.checkpointExtensions) } : opts;
    const system = Ledger.open({
      tenant: SYSTEM_TENANT, origin: `sios/${config.id}/${SYSTEM_TENANT}`, store: new SqliteLedgerStore(db), signer,
      crypto: nodeVerifyCrypto, random: randomBytes, ...ledgerOpts(lo),
    });
    const d = new Deployment(dir, config, signer, wrapKey, db, system, lo, attestation);
    if (attestation) {
      try {
        await attestation.attach(db, () => d.signer, () => system.latestCheckpoint());
      } catch (e) { await d.close(); throw e; }
    }
    return d;
  }

  get id(): string { return this.config.id; }
  get fingerprint(): string { return this.config.operator.fingerprint; }
  originOf(tenant: string): string { return `sios/${this.config.id}/${tenant}`; }

  tenants(): TenantRow[] {
    return this.systemDb.prepare('SELECT id, status, created, key_fp FROM tenants ORDER BY id').all().map((r) => ({
      id: String(r['id']), status: String(r['status']) as TenantRow['status'], created: String(r['created']), keyFingerprint: String(r['key_fp']),
    }));
  }

  tenantRow(id: string): TenantRow | undefined {
    // Read on every action (a suspension takes effect at once), so the statement is prepared once.
    this.tenantRowStmt ??= this.systemDb.prepare('SELECT id, status, created, key_fp FROM tenants WHERE id = ?');
    const r = this.tenantRowStmt.get(id);
    return r ? { id: String(r['id']), status: String(r['status']) as TenantRow['status'], created: String(r['created']), keyFingerprint: String(r['key_fp']) } : undefined;
  }

  /** Create a tenant: the admin OAR is sealed in the system ledger before the tenant exists. */
  async createTenant(id: string, actor: string, extra: Record<string, Json> = {}): Promise<Receipt> {
    assertTenantId(id);
    if (id === SYSTEM_TENANT) throw new SiosError('ERR_INPUT', `'${SYSTEM_TENANT}' is reserved for the deployment's own ledger; choose another tenant id`);
    if (this.tenantRow(id)) throw new SiosError('ERR_CONFLICT', `tenant '${id}' already exists`);
    const dataKey = randomBytes(32);
    // A one-way identifier of the data key, so the ledger can name which key a tenant had.
    const keyFp = 'SHA256:' + toHexShort(nodeVerifyCrypto.sha256(concat(utf8('sios tenant key id\n'), dataKey)));
    const receipt = await this.system.seal({ kind: 'admin', body: { action: 'tenant-create', tenant: id, actor, dataKey: keyFp, ...extra } });
    const wrapped = sealAead(this.wrapKey, dataKey, utf8(`sios tenant data key\n${this.config.id}\n${id}`));
    dataKey.fill(0);
    this.systemDb.prepare('INSERT INTO tenants (id, status, created, wrapped_key, key_fp) VALUES (?, ?, ?, ?, ?)').run(id, 'active', new Date(this.now()).toISOString(), wrapped, keyFp);
    fs.mkdirSync(layout(this.dir).tenantDir(id), { recursive: true, mode: 0o700 });
    const l = this.ledger(id);
    await l.seal({ kind: 'admin', body: { action: 'tenant-genesis', tenant: id, deployment: this.config.id, actor, systemReceipt: { seq: receipt.seq } } });
    return receipt;
  }

  /** Suspend or reactivate a tenant (sealed in the system and the tenant ledger first). */
  async setTenantStatus(id: string, status: 'active' | 'suspended', actor: string): Promise<void> {
    const row = this.tenantRow(id);
    if (!row) throw new SiosError('ERR_NOT_FOUND', `no tenant '${id}'`);
    if (row.status === 'deleted') throw new SiosError('ERR_CONFLICT', `tenant '${id}' was deleted`);
    await this.system.seal({ kind: 'admin', body: { action: status === 'suspended' ? 'tenant-suspend' : 'tenant-resume', tenant: id, actor } });
    await this.ledger(id).seal({ kind: 'admin', body: { action: status === 'suspended' ? 'tenant-suspend' : 'tenant-resume', tenant: id, actor } });
    this.systemDb.prepare('UPDATE tenants SET status = ? WHERE id = ?').run(status, id);
  }

  /**
   * Delete a tenant by crypto-shredding: its data key is destroyed, so its records and ledger
   * payloads can never be decrypted again; the deletion is sealed in the system ledger first. The
   * tenant's ledger file stays, and its exported bundle still verifies (commitments, not payloads).
   */
  async deleteTenant(id: string, actor: string): Promise<void> {
    const row = this.tenantRow(id);
    if (!row) throw new SiosError('ERR_NOT_FOUND', `no tenant '${id}'`);
    if (row.status === 'deleted') throw new SiosError('ERR_CONFLICT', `tenant '${id}' is already deleted`);
    await this.ledger(id).seal({ kind: 'admin', body: { action: 'tenant-delete', tenant: id, actor, dataKey: row.keyFingerprint } });
    await this.system.seal({ kind: 'admin', body: { action: 'tenant-delete', tenant: id, actor, dataKey: row.keyFingerprint, shredded: true } });
    this.systemDb.prepare("UPDATE tenants SET status = 'deleted', wrapped_key = NULL WHERE id = ?").run(id);
    const l = this.ledgers.get(id);
    if (l) { await l.close(); this.ledgers.delete(id); }
    const s = this.stores.get(id);
    if (s) { s.db.close(); this.stores.delete(id); }
  }

  /** A 32-byte key for a named purpose, derived from the operator secret (HKDF; never stored). */
  deriveKey(purpose: string): Uint8Array {
    return hkdf(this.wrapKey, `sios/${this.config.id}`, `derived key: ${purpose}`);
  }

  /** The tenant's data key (unwrapped on demand, never stored in clear). */
  tenantDataKey(id: string): Uint8Array {
    const r = this.systemDb.prepare('SELECT status, wrapped_key FROM tenants WHERE id = ?').get(id);
    if (!r) throw new SiosError('ERR_NOT_FOUND', `no tenant '${id}': create it with 'sios tenant create ${id}'`);
    if (r['status'] === 'deleted' || r['wrapped_key'] === null) throw new SiosError('ERR_NOT_FOUND', `tenant '${id}' was deleted and its data key destroyed`);
    return openAead(this.wrapKey, r['wrapped_key'] as Uint8Array, utf8(`sios tenant data key\n${this.config.id}\n${id}`), `the data key of tenant ${id}`);
  }

  /** The tenant's ledger (opened once, cached). */
  ledger(id: string): Ledger {
    if (id === SYSTEM_TENANT) return this.system;
    let l = this.ledgers.get(id);
    if (l) return l;
    const key = this.tenantDataKey(id);
    l = Ledger.open({
      tenant: id, origin: this.originOf(id), store: new SqliteLedgerStore(layout(this.dir).tenantDb(id), { writer: this.opts.ledgerWriter ?? 'inline' }), signer: this.signer,
      crypto: nodeVerifyCrypto, random: randomBytes, cipher: new TenantCipher(key, id), ...ledgerOpts(this.opts),
    });
    this.ledgers.set(id, l);
    return l;
  }

  /** The tenant's encrypted data store (records), on its own connection to the tenant database. */
  store(id: string): TenantStore {
    const cached = this.stores.get(id);
    if (cached) return cached.store;
    const key = this.tenantDataKey(id);
    // The tenant store prepares its SQL on every call; the gate reads through it on every action.
    const db = withStatementCache(openDatabase(layout(this.dir).tenantDb(id)));
    const store = new TenantStore(db, id, key);
    this.stores.set(id, { db, store });
    return store;
  }

  /** A database handle on the tenant's own file, for subsystems that keep per-tenant tables. */
  tenantDb(id: string): DatabaseSync {
    this.store(id);
    return (this.stores.get(id) as { db: DatabaseSync }).db;
  }

  /** Existing ledger stores (for export and listing); includes the system ledger. */
  ledgerStore(id: string): SqliteLedgerStore {
    if (id === SYSTEM_TENANT) return new SqliteLedgerStore(this.systemDb);
    const p = layout(this.dir).tenantDb(id);
    if (!fs.existsSync(p)) throw new SiosError('ERR_NOT_FOUND', `tenant '${id}' has no ledger in ${this.dir}`);
    return new SqliteLedgerStore(p);
  }

  private now(): number { return (this.opts.now ?? Date.now)(); }

  /**
   * Rotate the operator key. Order matters for crash safety: the new key file is written first
   * (keys/operator.key.next), then every ledger announces the new key signed by the old one, then
   * tenant data keys are re-wrapped, and only then does the new key file replace the old one.
   */
  async rotateKey(protectors: readonly KeyProtector[], actor: string, o: { resumeSeed?: Uint8Array; faultAfterLedgers?: number } = {}): Promise<{ fingerprint: string; ledgers: number }> {
    const L = layout(this.dir);
    const seed = o.resumeSeed ? Uint8Array.from(o.resumeSeed) : newSeed();
    try {
      const next = softwareSigner(seed);
      const fp = fingerprint(nodeVerifyCrypto, next.publicKey);
      if (o.resumeSeed) {
        await this.system.seal({ kind: 'admin', body: { action: 'key-rotation-resume', actor, old: this.fingerprint, new: fp } });
      } else {
        const keyFile = await createKeyFile(seed, protectors, { deployment: this.config.id, created: new Date(this.now()).toISOString() });
        writeKeyFile(L.keyFile + '.next', keyFile, { overwrite: true });
        await this.system.seal({ kind: 'admin', body: { action: 'key-rotation-begin', actor, old: this.fingerprint, new: fp } });
      }
      // Each ledger announces the new key signed by the old one, once: a resumed rotation skips the
      // ledgers that already did and simply signs on with the new key there.
      let n = 0;
      const ids = [...this.tenants().filter((t) => t.status !== 'deleted').map((t) => t.id), SYSTEM_TENANT];
      for (const id of ids) {
        if (o.faultAfterLedgers !== undefined && n >= o.faultAfterLedgers) throw new SiosError('ERR_INTERNAL', 'fault injected into key rotation (test)');
        const l = this.ledger(id);
        if (l.hasAnnounced(next.publicKey)) l.useSigner(next); else await l.rotate(next);
        n++;
      }
      const newWrap = hkdf(seed, `sios/${this.config.id}`, 'tenant data key wrapping v1');
      const rows = this.systemDb.prepare('SELECT id, wrapped_key FROM tenants WHERE wrapped_key IS NOT NULL').all();
      this.systemDb.exec('BEGIN IMMEDIATE');
      try {
        for (const r of rows) {
          const aad = utf8(`sios tenant data key\n${this.config.id}\n${String(r['id'])}`);
          let dk: Uint8Array;
          try { dk = openAead(this.wrapKey, r['wrapped_key'] as Uint8Array, aad); } catch (e) {
            // Already re-wrapped by the interrupted run?
            try { openAead(newWrap, r['wrapped_key'] as Uint8Array, aad).fill(0); continue; } catch { throw e; }
          }
          this.systemDb.prepare('UPDATE tenants SET wrapped_key = ? WHERE id = ?').run(sealAead(newWrap, dk, aad), String(r['id']));
          dk.fill(0);
        }
        this.systemDb.exec('COMMIT');
      } catch (e) { this.systemDb.exec('ROLLBACK'); throw e; }
      fs.renameSync(L.keyFile + '.next', L.keyFile);
      writeFileAtomic(L.publicKey, publicKeyToPem(next.publicKey), 0o644);
      const config: DeploymentConfig = { ...this.config, operator: { fingerprint: fp } };
      writeFileAtomic(L.config, JSON.stringify(config, null, 2) + '\n');
      (this as { config: DeploymentConfig }).config = config;
      (this as unknown as { wrapKey: Uint8Array }).wrapKey = newWrap; // a new array: cached cipher keys stay bound to the old one
      (this as { signer: Signer }).signer = next;
      await this.system.seal({ kind: 'admin', body: { action: 'key-rotation-done', actor, operator: fp } });
      return { fingerprint: fp, ledgers: n };
    } finally {
      seed.fill(0);
    }
  }

  /**
   * Finish a key rotation that was interrupted (keys/operator.key.next exists): ledgers that already
   * announced the new key sign on with it, the others announce it now, then tenant keys are re-wrapped
   * and the new key file takes over. Software-mode deployments (a TPM deployment reseals after).
   */
  static async resumeRotation(dir: string, passphrase: string, actor: string, o: OpenOptions = {}): Promise<{ fingerprint: string; ledgers: number }> {
    const L = layout(dir);
    if (!fs.existsSync(L.keyFile + '.next')) throw new SiosError('ERR_NOT_FOUND', 'no interrupted key rotation to resume (keys/operator.key.next does not exist)');
    const p = passphraseProtector(passphrase);
    try {
      const oldSeed = await openKeyFile(readKeyFile(L.keyFile), p);
      const nextSeed = await openKeyFile(readKeyFile(L.keyFile + '.next'), p);
      try {
        const d = await Deployment.openWithSeed(dir, oldSeed, { ...o, resumingRotation: true });
        try { return await d.rotateKey([p], actor, { resumeSeed: nextSeed }); } finally { await d.close(); }
      } finally { oldSeed.fill(0); nextSeed.fill(0); }
    } finally { p.dispose(); }
  }


  async close(): Promise<void> {
    for (const l of this.ledgers.values()) await l.close();
    for (const s of this.stores.values()) if (s.db.isOpen) s.db.close();
    await this.system.close();
    await this.attestation?.close();
    if (this.systemDb.isOpen) this.systemDb.close();
    this.wrapKey.fill(0);
  }
}

/** TPM mode: every checkpoint names the current evidence; other extension lines are kept, other sios-attest lines are not. */
function attestedExtensions(att: DeviceAttestation, extra: (() => string[]) | undefined): () => string[] {
  return () => [...att.extensions(), ...(extra ? extra().filter((l) => !l.startsWith('sios-attest ')) : [])];
}

function ledgerOpts(o: OpenOptions): { now?: () => number; checkpointExtensions: () => string[]; maxBatch?: number } {
  const r: { now?: () => number; checkpointExtensions: () => string[]; maxBatch?: number } = {
    checkpointExtensions: o.checkpointExtensions ?? (() => ['sios-attest software unattested']),
  };
  if (o.now) r.now = o.now;
  if (o.maxBatch) r.maxBatch = o.maxBatch;
  return r;
}

function toHexShort(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}
