/**
 * The brain and skill registry, persisted in the system database (tables brain_*, skill_*).
 *
 *  - add: a skill or brain is accepted only with a valid signature by a trusted publisher (and,
 *    for a brain, weights that match their pinned digests). Each brain gets its own ML-DSA-65
 *    verdict key; the seed is stored sealed (AES-256-GCM) under the key-encryption key the caller
 *    passes, bound to the brain's id@version.
 *  - grant(tenant, id@version, skills): the tenant may use that exact version of the brain, for
 *    those skills only (a subset of what the brain's manifest allows).
 *  - revoke / revokeEverywhere: sealed first, then effective at once: the database row changes,
 *    the in-memory revocation epoch moves (so a resolution taken before can be re-checked with
 *    assertCurrent) and every in-flight call of that brain is aborted before revoke returns.
 *
 * Every change is first sealed through the injected `seal` callback (grant/revoke in the tenant's
 * ledger, add in the system ledger); if sealing fails, nothing changes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nodeCrypto from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { utf8 } from '../encoding/bytes.ts';
import type { Json } from '../encoding/jcs.ts';
import { openAead, sealAead } from '../crypto/aead.ts';
import { newSeed, softwareSigner } from '../crypto/node.ts';
import { fingerprint } from '../crypto/fingerprint.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import type { Signer } from '../crypto/suite.ts';
import { ID_RE, type TrustedPublishers } from '../skills/envelope.ts';
import { verifySkillManifest, type SkillManifest, type VerifiedSkill } from '../skills/manifest.ts';
import { brainRef, parseBrainRef, verifyBrainManifest, verifyWeights, type BrainManifest } from './manifest.ts';
import { ScriptedBrain, parseScript } from './scripted.ts';
import { OpenAiChatRuntime } from './openai.ts';
import type { BrainRuntime } from './runtime.ts';
import { verifyVerdict, type SignedVerdict } from './verdict.ts';

export type SealFn = (tenant: string, kind: string, body: Record<string, Json>) => Promise<unknown>;

export const SYSTEM_TENANT = 'system';

export function migrate(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS skill_skills (
      id TEXT PRIMARY KEY, version TEXT NOT NULL, envelope TEXT NOT NULL, digest TEXT NOT NULL,
      signer TEXT NOT NULL, added_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS brain_brains (
      id TEXT NOT NULL, version TEXT NOT NULL, envelope TEXT NOT NULL, digest TEXT NOT NULL, signer TEXT NOT NULL,
      weights_dir TEXT, verdict_public BLOB NOT NULL, verdict_seed BLOB NOT NULL,
      added_at INTEGER NOT NULL, revoked_at INTEGER, PRIMARY KEY (id, version));
    CREATE TABLE IF NOT EXISTS brain_grants (
      tenant TEXT NOT NULL, brain_id TEXT NOT NULL, version TEXT NOT NULL, skills TEXT NOT NULL,
      granted_at INTEGER NOT NULL, revoked_at INTEGER, PRIMARY KEY (tenant, brain_id));
  `);
}

export interface BrainInfo {
  readonly ref: string;
  readonly id: string;
  readonly version: string;
  readonly digest: string;
  readonly signer: string;
  readonly runtime: string;
  readonly licence: string;
  readonly skills: readonly string[];
  readonly verdictKey: string;
  readonly added: number;
  readonly revoked: number | null;
}

export interface Grant {
  readonly tenant: string;
  readonly brain: string;
  readonly version: string;
  readonly skills: readonly string[];
  readonly granted: number;
  readonly revoked: number | null;
}

export interface ResolvedBrain {
  readonly ref: string;
  readonly manifest: BrainManifest;
  readonly digest: string;
  readonly verdictPublicKey: Uint8Array;
}

export interface Resolution {
  readonly tenant: string;
  readonly brain: ResolvedBrain;
  readonly skill: VerifiedSkill;
  readonly grant: Grant;
  /** Revocation epochs when resolved; assertCurrent(resolution) compares them. */
  readonly epoch: { readonly grant: number; readonly brain: number };
}

export interface CallHandle {
  readonly signal: AbortSignal;
  end(): void;
}

export interface RegistryOptions {
  readonly db: DatabaseSync;
  readonly trust: TrustedPublishers;
  /** 32-byte key that seals brains' verdict-key seeds at rest. */
  readonly keyEncryptionKey: Uint8Array;
  readonly seal: SealFn;
  readonly now?: () => number;
}

const TENANT_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function checkTenant(t: unknown): string {
  if (typeof t !== 'string' || !TENANT_RE.test(t) || t === SYSTEM_TENANT) throw new SiosError('ERR_INPUT', `tenant id ${JSON.stringify(String(t).slice(0, 64))} is not valid; use the id shown by 'sios tenant list'`);
  return t;
}
function checkActor(a: unknown): string {
  if (typeof a !== 'string' || a.length === 0 || a.length > 256) throw new SiosError('ERR_INPUT', 'actor must name who makes the change (1-256 characters)');
  return a;
}

const seedAad = (ref: string): Uint8Array => utf8(`sios-brain-verdict-seed/v1\n${ref}`);
const key = (tenant: string, id: string): string => `${tenant}\u0000${id}`;

export class BrainRegistry {
  readonly #db: DatabaseSync;
  readonly #trust: TrustedPublishers;
  readonly #kek: Uint8Array;
  readonly #seal: SealFn;
  readonly #now: () => number;
  /** Verified envelopes by their stored text: a changed row misses and is re-verified (and fails). */
  readonly #verifiedSkills = new Map<string, VerifiedSkill>();
  readonly #verifiedBrains = new Map<string, { manifest: BrainManifest; digest: string }>();
  readonly #grantEpoch = new Map<string, number>();
  readonly #brainEpoch = new Map<string, number>();
  readonly #inflight = new Map<string, Set<AbortController>>();

  constructor(o: RegistryOptions) {
    for (const k of Object.keys(o)) if (!['db', 'trust', 'keyEncryptionKey', 'seal', 'now'].includes(k)) throw new SiosError('ERR_INPUT', `unknown BrainRegistry option "${k}"`);
    if (!(o.keyEncryptionKey instanceof Uint8Array) || o.keyEncryptionKey.length !== 32) throw new SiosError('ERR_KEY', 'keyEncryptionKey must be 32 bytes');
    if (typeof o.seal !== 'function') throw new SiosError('ERR_INPUT', 'seal must be a function (tenant, kind, body) => Promise');
    this.#db = o.db;
    this.#trust = o.trust;
    this.#kek = o.keyEncryptionKey;
    this.#seal = o.seal;
    this.#now = o.now ?? Date.now;
    migrate(o.db);
  }

  // ---- skills ----

  async addSkill(envelope: unknown, opts: { actor: string }): Promise<VerifiedSkill> {
    const actor = checkActor(opts.actor);
    const v = await verifySkillManifest(envelope, this.#trust);
    const m = v.manifest;
    const existing = this.#db.prepare('SELECT version, digest FROM skill_skills WHERE id = ?').get(m.id);
    if (existing !== undefined) {
      if (existing['digest'] === v.digest) return v; // the same signed manifest: nothing to do
      throw new SiosError('ERR_CONFLICT', `skill ${m.id} is already installed as version ${String(existing['version'])} with another manifest; remove it before installing ${m.version}`);
    }
    await this.#seal(SYSTEM_TENANT, 'admin', { action: 'skill-add', skill: `${m.id}@${m.version}`, manifest: v.digest, signer: v.signer, risk: m.risk, actor });
    this.#db.prepare('INSERT INTO skill_skills (id, version, envelope, digest, signer, added_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(m.id, m.version, JSON.stringify(envelope), v.digest, v.signer, this.#now());
    return v;
  }

  listSkills(): { id: string; version: string; digest: string; risk: string; clearance: number; signer: string }[] {
    return this.#db.prepare('SELECT id, version, digest, signer, envelope FROM skill_skills ORDER BY id').all().map((r) => {
      const m = (JSON.parse(String(r['envelope'])) as { manifest: SkillManifest }).manifest;
      return { id: String(r['id']), version: String(r['version']), digest: String(r['digest']), risk: m.risk, clearance: m.clearance, signer: String(r['signer']) };
    });
  }

  /** The installed skill, re-verified (signature) against the stored envelope. */
  async skill(id: string): Promise<VerifiedSkill> {
    const r = this.#db.prepare('SELECT envelope, digest FROM skill_skills WHERE id = ?').get(id);
    if (r === undefined) throw new SiosError('ERR_NOT_FOUND', `no skill ${JSON.stringify(String(id).slice(0, 64))} is installed; install it with 'sios skill add'`);
    const text = String(r['envelope']);
    let v = this.#verifiedSkills.get(text);
    if (v === undefined) {
      v = await verifySkillManifest(JSON.parse(text), this.#trust).catch((cause: unknown) => {
        throw new SiosError('ERR_VERIFY', `the stored manifest of skill ${id} no longer verifies (the system database was altered); reinstall the skill from its signed manifest`, { cause });
      });
      if (v.digest !== r['digest']) throw new SiosError('ERR_VERIFY', `stored digest of skill ${id} does not match its manifest; the system database was altered`);
      if (this.#verifiedSkills.size > 4096) this.#verifiedSkills.clear();
      this.#verifiedSkills.set(text, v);
    }
    return v;
  }

  // ---- brains ----

  /**
   * Verifies the signed brain manifest and its weights (in `weightsDir`, required when the manifest
   * lists weights), generates the brain's verdict key, seals the addition in the system ledger,
   * then records it. Adding the same signed manifest again is a no-op; a different manifest under
   * an existing id@version is ERR_CONFLICT (versions are immutable).
   */
  async addBrain(envelope: unknown, opts: { actor: string; weightsDir?: string }): Promise<BrainInfo> {
    const actor = checkActor(opts.actor);
    const v = await verifyBrainManifest(envelope, this.#trust);
    const m = v.manifest;
    const ref = brainRef(m);
    const existing = this.#db.prepare('SELECT digest FROM brain_brains WHERE id = ? AND version = ?').get(m.id, m.version);
    if (existing !== undefined) {
      if (existing['digest'] === v.digest) return this.#info(m.id, m.version);
      throw new SiosError('ERR_CONFLICT', `brain ${ref} is already registered with a different manifest; a version is immutable, publish a new version`);
    }
    let dir: string | null = null;
    if (m.weights.length > 0) {
      if (opts.weightsDir === undefined) throw new SiosError('ERR_INPUT', `brain ${ref} has weights; give the directory that holds them (--weights DIR)`);
      dir = path.resolve(opts.weightsDir);
      await verifyWeights(m, dir);
    }
    const seed = newSeed();
    const pub = softwareSigner(seed).publicKey;
    const sealedSeed = sealAead(this.#kek, seed, seedAad(ref));
    seed.fill(0);
    const verdictKey = fingerprint(nodeVerifyCrypto, pub);
    await this.#seal(SYSTEM_TENANT, 'admin', { action: 'brain-add', brain: ref, manifest: v.digest, signer: v.signer, licence: m.licence, runtime: m.runtime.kind, verdictKey, actor });
    this.#db.prepare('INSERT INTO brain_brains (id, version, envelope, digest, signer, weights_dir, verdict_public, verdict_seed, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.id, m.version, JSON.stringify(envelope), v.digest, v.signer, dir, pub, sealedSeed, this.#now());
    return this.#info(m.id, m.version);
  }

  listBrains(): BrainInfo[] {
    return this.#db.prepare('SELECT id, version FROM brain_brains ORDER BY id, version').all().map((r) => this.#info(String(r['id']), String(r['version'])));
  }

  #row(id: string, version: string): Record<string, unknown> {
    const r = this.#db.prepare('SELECT * FROM brain_brains WHERE id = ? AND version = ?').get(id, version);
    if (r === undefined) throw new SiosError('ERR_NOT_FOUND', `no brain ${id}@${version} is registered; add it with 'sios brain add'`);
    return r as Record<string, unknown>;
  }

  #info(id: string, version: string): BrainInfo {
    const r = this.#row(id, version);
    const m = (JSON.parse(String(r['envelope'])) as { manifest: BrainManifest }).manifest;
    return {
      ref: `${id}@${version}`, id, version, digest: String(r['digest']), signer: String(r['signer']), runtime: m.runtime.kind, licence: m.licence,
      skills: m.skills, verdictKey: fingerprint(nodeVerifyCrypto, r['verdict_public'] as Uint8Array), added: Number(r['added_at']),
      revoked: r['revoked_at'] === null ? null : Number(r['revoked_at']),
    };
  }

  async #verifiedBrain(id: string, version: string): Promise<{ row: Record<string, unknown>; manifest: BrainManifest; digest: string }> {
    const row = this.#row(id, version);
    const text = String(row['envelope']);
    let v = this.#verifiedBrains.get(text);
    if (v === undefined) {
      const vb = await verifyBrainManifest(JSON.parse(text), this.#trust).catch((cause: unknown) => {
        throw new SiosError('ERR_VERIFY', `the stored manifest of brain ${id}@${version} no longer verifies (the system database was altered); re-add the brain from its signed manifest`, { cause });
      });
      if (vb.digest !== row['digest']) throw new SiosError('ERR_VERIFY', `stored digest of brain ${id}@${version} does not match its manifest; the system database was altered`);
      v = { manifest: vb.manifest, digest: vb.digest };
      if (this.#verifiedBrains.size > 1024) this.#verifiedBrains.clear();
      this.#verifiedBrains.set(text, v);
    }
    return { row, ...v };
  }

  // ---- grants and revocation ----

  async grant(tenant: string, ref: string, skills: readonly string[], opts: { actor: string }): Promise<Grant> {
    checkTenant(tenant);
    const actor = checkActor(opts.actor);
    const { id, version } = parseBrainRef(ref);
    if (version === undefined) throw new SiosError('ERR_INPUT', `grant a pinned version: ${id}@<version> (see 'sios brain list')`);
    const b = await this.#verifiedBrain(id, version);
    if (b.row['revoked_at'] !== null) throw new SiosError('ERR_REVOKED', `brain ${id}@${version} was revoked everywhere and cannot be granted; publish and add a new version`);
    if (!Array.isArray(skills) || skills.length === 0 || skills.length > 256) throw new SiosError('ERR_INPUT', 'name the skills the tenant may use this brain for (1-256 skill ids)');
    const list = [...new Set(skills)].sort();
    for (const s of list) {
      if (typeof s !== 'string' || !ID_RE.test(s)) throw new SiosError('ERR_INPUT', `${JSON.stringify(String(s).slice(0, 64))} is not a skill id`);
      if (!b.manifest.skills.includes(s)) throw new SiosError('ERR_FORBIDDEN', `brain ${id}@${version} is not built to use skill ${s} (its manifest allows: ${b.manifest.skills.join(', ') || 'none'})`);
      await this.skill(s); // installed and verifying
    }
    await this.#seal(tenant, 'grant', { action: 'brain-grant', tenant, brain: `${id}@${version}`, manifest: b.digest, skills: list, actor });
    const now = this.#now();
    this.#db.prepare(`INSERT INTO brain_grants (tenant, brain_id, version, skills, granted_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)
      ON CONFLICT(tenant, brain_id) DO UPDATE SET version = excluded.version, skills = excluded.skills, granted_at = excluded.granted_at, revoked_at = NULL`)
      .run(tenant, id, version, JSON.stringify(list), now);
    // A changed grant (narrower skills, other version) invalidates resolutions taken before it.
    this.#bump(this.#grantEpoch, key(tenant, id));
    return { tenant, brain: id, version, skills: list, granted: now, revoked: null };
  }

  grants(tenant: string): Grant[] {
    checkTenant(tenant);
    return this.#db.prepare('SELECT * FROM brain_grants WHERE tenant = ? ORDER BY brain_id').all(tenant).map((r) => this.#grantOf(r as Record<string, unknown>));
  }

  #grantOf(r: Record<string, unknown>): Grant {
    return {
      tenant: String(r['tenant']), brain: String(r['brain_id']), version: String(r['version']), skills: JSON.parse(String(r['skills'])) as string[],
      granted: Number(r['granted_at']), revoked: r['revoked_at'] === null ? null : Number(r['revoked_at']),
    };
  }

  /**
   * Revokes the tenant's grant of brain `brainId` (any version). Sealed in the tenant's ledger
   * first; when this returns, resolve() refuses the brain for the tenant, assertCurrent() fails for
   * earlier resolutions and every in-flight call's signal is aborted with ERR_REVOKED.
   */
  async revoke(tenant: string, brainId: string, opts: { actor: string; reason?: string }): Promise<Grant> {
    checkTenant(tenant);
    const actor = checkActor(opts.actor);
    const { id } = parseBrainRef(brainId);
    const r = this.#db.prepare('SELECT * FROM brain_grants WHERE tenant = ? AND brain_id = ?').get(tenant, id);
    if (r === undefined) throw new SiosError('ERR_NOT_FOUND', `tenant ${tenant} has no grant of brain ${id}; see 'sios brain list --tenant ${tenant}'`);
    const g = this.#grantOf(r as Record<string, unknown>);
    if (g.revoked !== null) { this.#abortCalls(tenant, id); return g; }
    await this.#seal(tenant, 'revoke', { action: 'brain-revoke', tenant, brain: `${id}@${g.version}`, actor, reason: (opts.reason ?? '').slice(0, 1024) });
    const now = this.#now();
    this.#db.prepare('UPDATE brain_grants SET revoked_at = ? WHERE tenant = ? AND brain_id = ?').run(now, tenant, id);
    this.#bump(this.#grantEpoch, key(tenant, id));
    this.#abortCalls(tenant, id);
    return { ...g, revoked: now };
  }

  /**
   * Revokes brain `ref` for every tenant and forbids new grants: "id" revokes all versions,
   * "id@version" only that one. Sealed in the system ledger and in the ledger of every tenant
   * holding an active grant of it, before taking effect.
   */
  async revokeEverywhere(ref: string, opts: { actor: string; reason?: string }): Promise<{ versions: string[]; tenants: string[] }> {
    const actor = checkActor(opts.actor);
    const { id, version } = parseBrainRef(ref);
    const versions = (version === undefined
      ? this.#db.prepare('SELECT version FROM brain_brains WHERE id = ? ORDER BY version').all(id)
      : this.#db.prepare('SELECT version FROM brain_brains WHERE id = ? AND version = ?').all(id, version)).map((r) => String(r['version']));
    if (versions.length === 0) throw new SiosError('ERR_NOT_FOUND', `no brain ${ref} is registered`);
    const tenants = this.#db.prepare(`SELECT tenant, version FROM brain_grants WHERE brain_id = ? AND revoked_at IS NULL ORDER BY tenant`).all(id)
      .filter((r) => versions.includes(String(r['version']))).map((r) => String(r['tenant']));
    const reason = (opts.reason ?? '').slice(0, 1024);
    await this.#seal(SYSTEM_TENANT, 'revoke', { action: 'brain-revoke-everywhere', brain: id, versions, tenants, actor, reason });
    for (const t of tenants) await this.#seal(t, 'revoke', { action: 'brain-revoke', tenant: t, brain: id, versions, actor, reason, everywhere: true });
    const now = this.#now();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const v of versions) this.#db.prepare('UPDATE brain_brains SET revoked_at = ? WHERE id = ? AND version = ? AND revoked_at IS NULL').run(now, id, v);
      for (const t of tenants) this.#db.prepare('UPDATE brain_grants SET revoked_at = ? WHERE tenant = ? AND brain_id = ?').run(now, t, id);
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
    this.#bump(this.#brainEpoch, id);
    for (const t of tenants) this.#bump(this.#grantEpoch, key(t, id));
    for (const k of [...this.#inflight.keys()]) if (k.endsWith(`\u0000${id}`)) for (const c of this.#inflight.get(k) ?? []) c.abort(this.#revokedError(id));
    return { versions, tenants };
  }

  #bump(m: Map<string, number>, k: string): void {
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  #revokedError(id: string, tenant?: string): SiosError {
    return new SiosError('ERR_REVOKED', tenant === undefined ? `brain ${id} was revoked; the call was cancelled before its effect` : `brain ${id} was revoked for tenant ${tenant}; the call was cancelled before its effect`);
  }

  #abortCalls(tenant: string, id: string): void {
    for (const c of this.#inflight.get(key(tenant, id)) ?? []) c.abort(this.#revokedError(id, tenant));
  }

  /**
   * What the gate asks before anything else: may `tenant` use brain `ref` ("id" or "id@version")
   * for `skillId`? Returns the verified brain and skill manifests and the grant; throws
   * ERR_FORBIDDEN (not granted, other version, skill not in the grant), ERR_REVOKED, ERR_VERIFY
   * (a stored manifest no longer verifies).
   */
  async resolve(tenant: string, ref: string, skillId: string): Promise<Resolution> {
    checkTenant(tenant);
    const { id, version } = parseBrainRef(ref);
    const epoch = { grant: this.#grantEpoch.get(key(tenant, id)) ?? 0, brain: this.#brainEpoch.get(id) ?? 0 };
    const r = this.#db.prepare('SELECT * FROM brain_grants WHERE tenant = ? AND brain_id = ?').get(tenant, id);
    if (r === undefined) throw new SiosError('ERR_FORBIDDEN', `brain ${id} is not granted to tenant ${tenant}; an operator grants it with 'sios brain grant ${tenant} ${id}@<version> --skill <id>'`);
    const g = this.#grantOf(r as Record<string, unknown>);
    if (g.revoked !== null) throw new SiosError('ERR_REVOKED', `brain ${id} was revoked for tenant ${tenant}; it can no longer act there`);
    if (version !== undefined && version !== g.version) throw new SiosError('ERR_FORBIDDEN', `tenant ${tenant} is granted brain ${id}@${g.version}, not ${version}; use the granted version or have it re-granted`);
    const b = await this.#verifiedBrain(id, g.version);
    if (b.row['revoked_at'] !== null) throw new SiosError('ERR_REVOKED', `brain ${id}@${g.version} was revoked everywhere`);
    if (typeof skillId !== 'string' || !g.skills.includes(skillId)) {
      throw new SiosError('ERR_FORBIDDEN', `brain ${id}@${g.version} is not granted skill ${JSON.stringify(String(skillId).slice(0, 64))} in tenant ${tenant} (granted: ${g.skills.join(', ')})`);
    }
    const skill = await this.skill(skillId);
    const res: Resolution = {
      tenant, grant: g, skill, epoch,
      brain: { ref: `${id}@${g.version}`, manifest: b.manifest, digest: b.digest, verdictPublicKey: new Uint8Array(b.row['verdict_public'] as Uint8Array) },
    };
    this.assertCurrent(res); // a revoke that completed while we awaited
    return res;
  }

  /** Throws ERR_REVOKED if the grant or brain changed (revoked, re-granted) since `res` was taken. */
  assertCurrent(res: Resolution): void {
    const id = res.brain.manifest.id;
    if ((this.#grantEpoch.get(key(res.tenant, id)) ?? 0) !== res.epoch.grant || (this.#brainEpoch.get(id) ?? 0) !== res.epoch.brain) {
      throw new SiosError('ERR_REVOKED', `the grant of brain ${id} in tenant ${res.tenant} changed or was revoked after this action was resolved; the action does not run`);
    }
  }

  /**
   * Registers an in-flight call of brain `brainId` for `tenant`; revoke aborts its signal (reason:
   * a SiosError ERR_REVOKED). Call end() when the call is over, whatever the outcome.
   */
  beginCall(tenant: string, brainId: string): CallHandle {
    checkTenant(tenant);
    const { id } = parseBrainRef(brainId);
    const r = this.#db.prepare('SELECT g.revoked_at AS g, b.revoked_at AS b FROM brain_grants g JOIN brain_brains b ON b.id = g.brain_id AND b.version = g.version WHERE g.tenant = ? AND g.brain_id = ?').get(tenant, id);
    if (r === undefined) throw new SiosError('ERR_FORBIDDEN', `brain ${id} is not granted to tenant ${tenant}`);
    if (r['g'] !== null || r['b'] !== null) throw this.#revokedError(id, tenant);
    const k = key(tenant, id);
    const c = new AbortController();
    let set = this.#inflight.get(k);
    if (set === undefined) { set = new Set(); this.#inflight.set(k, set); }
    set.add(c);
    return {
      signal: c.signal,
      end: () => {
        const s = this.#inflight.get(k);
        if (s === undefined) return;
        s.delete(c);
        if (s.size === 0) this.#inflight.delete(k);
      },
    };
  }

  /** Number of registered in-flight calls (for diagnostics and tests). */
  inflight(tenant: string, brainId: string): number {
    return this.#inflight.get(key(tenant, brainId))?.size ?? 0;
  }

  // ---- loading runtimes and verdict keys ----

  /**
   * Loads the runtime of the brain granted to `tenant` (`ref` may pin the version: a different
   * version than granted fails). Re-verifies the manifest signature and re-hashes every weights
   * file; a scripted brain's script file is read once and hashed from the same bytes it runs.
   */
  async load(tenant: string, ref: string, opts: { endpoint?: string; timeoutMs?: number } = {}): Promise<{ runtime: BrainRuntime; brain: ResolvedBrain }> {
    checkTenant(tenant);
    const { id, version } = parseBrainRef(ref);
    const r = this.#db.prepare('SELECT * FROM brain_grants WHERE tenant = ? AND brain_id = ?').get(tenant, id);
    if (r === undefined) throw new SiosError('ERR_FORBIDDEN', `brain ${id} is not granted to tenant ${tenant}`);
    const g = this.#grantOf(r as Record<string, unknown>);
    if (g.revoked !== null) throw this.#revokedError(id, tenant);
    if (version !== undefined && version !== g.version) throw new SiosError('ERR_FORBIDDEN', `tenant ${tenant} is granted brain ${id}@${g.version}; loading ${id}@${version} is refused (versions are pinned)`);
    const b = await this.#verifiedBrain(id, g.version);
    if (b.row['revoked_at'] !== null) throw this.#revokedError(id);
    const m = b.manifest;
    const dir = b.row['weights_dir'] === null ? null : String(b.row['weights_dir']);
    let runtime: BrainRuntime;
    if (m.runtime.kind === 'scripted') {
      if (m.runtime.script !== undefined) {
        runtime = new ScriptedBrain(m.runtime.script);
      } else {
        const w = m.weights[0]!;
        if (dir === null) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)} has no weights directory recorded`);
        const p = path.join(dir, w.path);
        let bytes: Buffer;
        try { bytes = fs.readFileSync(p); } catch (cause) { throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: script file ${w.path} is missing; restore it`, { cause }); }
        const got = nodeCrypto.createHash('sha256').update(bytes).digest('hex');
        if (bytes.length !== w.bytes || got !== w.sha256) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: script file ${w.path} has SHA-256 ${got}, the signed manifest pins ${w.sha256}; restore the original`);
        let script: unknown;
        try { script = JSON.parse(bytes.toString('utf8')); } catch (cause) { throw new SiosError('ERR_INPUT', `brain ${brainRef(m)}: script file is not JSON`, { cause }); }
        runtime = new ScriptedBrain(parseScript(script, `brain ${brainRef(m)} script`));
      }
    } else {
      if (dir !== null) await verifyWeights(m, dir);
      else if (m.weights.length > 0) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)} has no weights directory recorded`);
      const endpoint = opts.endpoint ?? m.runtime.endpoint;
      if (endpoint === undefined) throw new SiosError('ERR_INPUT', `brain ${brainRef(m)} needs the loopback endpoint of its model server (for example http://127.0.0.1:8080/v1)`);
      runtime = new OpenAiChatRuntime({ endpoint, model: m.runtime.model, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
    }
    return { runtime, brain: { ref: brainRef(m), manifest: m, digest: b.digest, verdictPublicKey: new Uint8Array(b.row['verdict_public'] as Uint8Array) } };
  }

  /** The brain's verdict signer (seed unsealed with the key-encryption key). */
  async verdictSigner(ref: string): Promise<Signer> {
    const { id, version } = parseBrainRef(ref);
    if (version === undefined) throw new SiosError('ERR_INPUT', 'name the brain version: id@version');
    const row = this.#row(id, version);
    if (row['revoked_at'] !== null) throw this.#revokedError(id);
    const seed = openAead(this.#kek, row['verdict_seed'] as Uint8Array, seedAad(`${id}@${version}`), `verdict key of brain ${id}@${version}`);
    try { return softwareSigner(seed); } finally { seed.fill(0); }
  }

  /** Verifies a verdict against the registered verdict key of the brain it names. */
  async verifyVerdict(v: unknown, expect: { intent: string }): Promise<SignedVerdict> {
    const brain = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['brain'] : undefined;
    if (typeof brain !== 'string') throw new SiosError('ERR_INPUT', 'the verdict names no brain');
    const { id, version } = parseBrainRef(brain);
    if (version === undefined) throw new SiosError('ERR_VERIFY', 'the verdict must name the brain version');
    const b = await this.#verifiedBrain(id, version);
    const sv = await verifyVerdict(v, new Uint8Array(b.row['verdict_public'] as Uint8Array), { intent: expect.intent, brain });
    if (sv.manifest !== b.digest) throw new SiosError('ERR_VERIFY', `the verdict names manifest ${sv.manifest.slice(0, 80)}, but brain ${brain} is ${b.digest}`);
    return sv;
  }
}
