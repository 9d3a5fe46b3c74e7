/**
 * One running SIOS: the deployment (keys, ledgers, tenant stores), identities and sessions, the
 * brain and skill registry, per-tenant Cedar policies, and the gate that composes them — plus the
 * HTTP API over it. `sios serve`, `sios demo` and the integration tests all assemble SIOS here.
 */
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { toBase64url, utf8 } from '../encoding/bytes.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import { Deployment, type OpenOptions, type Unlock } from '../deployment/deployment.ts';
import { migrateAuth, PrincipalStore, Passkeys, Sessions, ApiTokens, createAuthHandler, type Clock } from '../auth/index.ts';
import { TenantPolicy, type CollectionSpec } from '../policy/engine.ts';
import type { TenantDeclarations } from '../policy/schema.ts';
import { BrainRegistry } from '../brains/registry.ts';
import { WorkingMemory } from '../brains/memory.ts';
import { TrustedPublishers } from '../skills/envelope.ts';
import { collectApprovals } from '../brains/approval.ts';
import { builtinManifests } from '../brains/defaults.ts';
import { executeSkill, dryRunSkill } from '../skills/builtin.ts';
import { validateArgs, validateResult, type VerifiedSkill } from '../skills/manifest.ts';
import { Gate } from '../gate/gate.ts';
import { RateLimiter } from '../gate/rate-limit.ts';
import type { BrainHandle, BrainVerdict, Capabilities, SentinelHook, SkillHandle } from '../gate/types.ts';
import type { Resolution } from '../brains/registry.ts';
import { dataVersion } from '../store/data-version.ts';
import { withStatementCache } from '../store/statement-cache.ts';
import { createApi, type FetchHandler } from '../api/server.ts';
import { doctor } from '../deployment/doctor.ts';
import { readEgressStates } from '../perimeter/store.ts';
import { runEgressSkill } from '../perimeter/egress-skill.ts';
import { createSentinel, type Sentinel } from '../sentinel/turn.ts';
import { scan, type Verdict } from '../sentinel/index.ts';

export interface PolicySpec {
  version: string;
  text: string;
  declarations?: TenantDeclarations;
  collections: CollectionSpec[];
}

export interface AppOptions extends OpenOptions {
  /** WebAuthn relying party (default localhost) and allowed origins. */
  rpID?: string;
  origins?: string[];
  /** Clock for sessions and challenges (seconds-resolution logic inside auth). */
  authClock?: Clock;
  /**
   * Sentinel (default: on). 'off' replaces it with the allow-all hook (tests of other parts only);
   * an object replaces the hook. By default, calls submitted through the API without labels are
   * taken as the authenticated principal's own input ('trusted'); calls made by SIOS's agent loop
   * carry labels it vouches for, derived from what the brain actually read.
   */
  sentinel?: SentinelHook | 'off' | { unlabelledBrain: 'trusted' | 'untrusted' };
  /**
   * Sentinel's detector (default: the built-in one). `sios serve --sentinel-plugin DIR` passes the
   * built-in detector combined with an operator-signed ONNX pack (src/sentinel/onnx).
   */
  detector?: (text: string) => Verdict | Promise<Verdict>;
  approvalTtlMs?: number;
  pages?: Record<string, () => Promise<string> | string>;
  /** Structured log events (no secrets, no tenant payloads): request method, path shape, status, time. */
  log?: (event: Record<string, unknown>) => void;
}

export class App {
  readonly deployment: Deployment;
  readonly principals: PrincipalStore;
  readonly passkeys: Passkeys;
  readonly sessions: Sessions;
  readonly tokens: ApiTokens;
  readonly registry: BrainRegistry;
  readonly gate: Gate;
  readonly limiter: RateLimiter;
  readonly sentinel: Sentinel | null;
  private readonly policies = new Map<string, TenantPolicy>();
  private readonly memories = new Map<string, WorkingMemory>();
  private readonly o: AppOptions;
  private apiHandler: FetchHandler | undefined;

  private constructor(d: Deployment, o: AppOptions) {
    this.deployment = d;
    this.o = o;
    const db = d.systemDb;
    migrateAuth(db);
    const clock = o.authClock ? { clock: o.authClock } : {};
    this.principals = new PrincipalStore(db, clock);
    this.passkeys = new Passkeys(db, this.principals, { rpID: o.rpID ?? 'localhost', rpName: `SIOS ${d.id}`, origins: o.origins ?? ['http://localhost'], ...clock });
    this.sessions = new Sessions(db, this.principals, clock);
    this.tokens = new ApiTokens(db, this.principals, clock);
    this.registry = new BrainRegistry({
      // The registry prepares its SQL on every call, and the gate asks it on every action.
      db: withStatementCache(db), trust: new TrustedPublishers(d.signer.publicKey), keyEncryptionKey: d.deriveKey('brain verdict keys'),
      seal: (tenant, kind, body) => d.ledger(tenant).seal({ kind, body }),
      ...(o.now ? { now: o.now } : {}),
    });
    this.limiter = new RateLimiter(o.now ?? Date.now);
    const custom = typeof o.sentinel === 'object' && 'inspect' in o.sentinel ? o.sentinel : undefined;
    this.sentinel = o.sentinel === 'off' || custom ? null : createSentinel(d, {
      scan: o.detector ?? scan,
      person: (t, id) => {
        const p = this.principals.requireActive(id);
        if (p.tenant !== t) throw new SiosError('ERR_FORBIDDEN', `principal ${id} is not a person of tenant ${t}`);
        return { name: p.name };
      },
      hook: { unlabelledBrain: typeof o.sentinel === 'object' && 'unlabelledBrain' in o.sentinel ? o.sentinel.unlabelledBrain : 'trusted' },
    });
    const hook = custom ?? this.sentinel?.hook;
    this.gate = new Gate({
      deployment: d, principals: this.principals, sessions: this.sessions, tokens: this.tokens, passkeys: this.passkeys,
      capabilities: this.capabilities(), policy: (t) => this.policy(t), limiter: this.limiter,
      ...(hook ? { sentinel: hook } : {}), ...(o.now ? { now: o.now } : {}),
      ...(o.approvalTtlMs ? { approvalTtlMs: o.approvalTtlMs } : {}),
    });
  }

  static async open(dir: string, unlock: Unlock, o: AppOptions = {}): Promise<App> {
    return new App(await Deployment.open(dir, unlock, o), o);
  }

  static fromDeployment(d: Deployment, o: AppOptions = {}): App {
    return new App(d, o);
  }

  /** Register the built-in skills and default brains (signed by the operator key) once. */
  async installBuiltins(actor = 'operator'): Promise<void> {
    const have = new Set(this.registry.listSkills().map((s) => `${s.id}@${s.version}`));
    const haveBrains = new Set(this.registry.listBrains().map((b) => b.ref));
    const { skills, brains } = await builtinManifests(this.deployment.signer);
    for (const s of skills) if (!have.has(`${s.manifest.id}@${s.manifest.version}`)) await this.registry.addSkill(s, { actor });
    for (const b of brains) if (!haveBrains.has(`${b.manifest.id}@${b.manifest.version}`)) await this.registry.addBrain(b, { actor });
  }

  /** Set a tenant's governance policy; sealed in the tenant's ledger before it takes effect. */
  async setPolicy(tenant: string, spec: PolicySpec, actor: string): Promise<void> {
    const loaded = TenantPolicy.load({ tenant, version: spec.version, text: spec.text, collections: spec.collections, ...(spec.declarations ? { declarations: spec.declarations } : {}) });
    const doc = canonicalize(spec as unknown as Json);
    const digest = toBase64url(nodeVerifyCrypto.sha256(utf8(doc)));
    await this.deployment.ledger(tenant).seal({ kind: 'admin', body: { action: 'policy-set', actor, version: spec.version, digest, policies: loaded.policyCount } });
    const db = this.deployment.tenantDb(tenant);
    db.exec('CREATE TABLE IF NOT EXISTS tenant_policy (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)');
    db.prepare('INSERT INTO tenant_policy (id, doc) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc').run(doc);
    const store = this.deployment.store(tenant);
    for (const c of spec.collections) store.defineCollection(c);
    this.policies.set(tenant, loaded);
  }

  policy(tenant: string): TenantPolicy {
    const cached = this.policies.get(tenant);
    if (cached) return cached;
    const db = this.deployment.tenantDb(tenant);
    db.exec('CREATE TABLE IF NOT EXISTS tenant_policy (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)');
    const r = db.prepare('SELECT doc FROM tenant_policy WHERE id = 1').get();
    if (!r) throw new SiosError('ERR_FORBIDDEN', `tenant ${tenant} has no governance policy yet, so everything is denied; set one with 'sios tenant policy ${tenant} FILE'`, { details: { reason: 'no-policy' } });
    const spec = JSON.parse(String(r['doc'])) as PolicySpec;
    const p = TenantPolicy.load({ tenant, version: spec.version, text: spec.text, collections: spec.collections, ...(spec.declarations ? { declarations: spec.declarations } : {}) });
    this.policies.set(tenant, p);
    return p;
  }

  /** The gate's view of brains and skills, over the registry. */
  private capabilities(): Capabilities {
    const app = this;
    const handle = (tenant: string, v: VerifiedSkill, assertCurrent: () => void): SkillHandle => {
      const m = v.manifest;
      const ctx = (c: { tenant: string; principal: Parameters<SkillHandle['execute']>[0]['principal']; signal: AbortSignal }) => ({
        tenant: c.tenant, principal: c.principal, signal: c.signal, store: app.deployment.store(tenant), policy: app.policy(tenant),
        // Work that needs the outside runs in a cell whose only way out is this tenant's gateway.
        egress: async (url: string): Promise<Json> => {
          const r = await runEgressSkill({ deployment: app.deployment, tenant, skill: m.id, url });
          if (r.outcome !== 'fetched') throw new SiosError('ERR_EGRESS', `${m.id}: ${r.message}`, { details: { reason: r.reason ?? r.outcome } });
          return { outcome: r.outcome, message: r.message.slice(0, 2000), cell: r.cell, ...(r.status === undefined ? {} : { status: r.status }), ...(r.bytes === undefined ? {} : { bytes: r.bytes }), ...(r.reason === undefined ? {} : { reason: r.reason }) };
        },
      });
      return {
        id: m.id, version: m.version, digest: v.digest, risk: m.risk, clearance: m.clearance,
        untrustedArgs: m.untrustedArgs, maxConfidentiality: m.maxConfidentiality, hasDryRun: m.dryRun,
        validateArgs: (a) => validateArgs(m, a), validateResult: (r) => validateResult(m, r), assertCurrent,
        execute: (c, a) => executeSkill(m, ctx(c), a),
        dryRun: (c, a) => dryRunSkill(m, ctx(c), a),
      };
    };
    // Resolutions are remembered per (tenant, brain, skill): resolving reads and re-verifies the
    // grant, the brain and the skill manifest on every action otherwise. A remembered one is used
    // only while (a) no grant or revocation of that brain happened in this process (the registry's
    // revocation epochs, the same check assertCurrent makes before a skill runs) and (b) no other
    // connection or process committed to the system database (SQLite's data_version), so a
    // revocation is seen by the next action exactly as before.
    const resolutions = new Map<string, { version: number; res: Resolution | null; value: { brain: BrainHandle | null; skill: SkillHandle } }>();
    const systemVersion = dataVersion(app.deployment.systemDb);
    const current = (res: Resolution): boolean => {
      try { app.registry.assertCurrent(res); return true; } catch { return false; }
    };
    return {
      async resolve(tenant, brain, skill) {
        const key = `${tenant}\u0000${brain ?? '\u0001'}\u0000${skill}`;
        const version = systemVersion();
        const hit = resolutions.get(key);
        if (hit !== undefined && hit.version === version && (hit.res === null || current(hit.res))) return hit.value;
        let res: Resolution | null = null;
        let value: { brain: BrainHandle | null; skill: SkillHandle };
        if (brain === null) {
          // A person acting directly: any registered skill; the tenant's policy decides.
          const v = await app.registry.skill(skill);
          value = { brain: null, skill: handle(tenant, v, () => undefined) };
        } else {
          const r = await app.registry.resolve(tenant, brain, skill);
          res = r;
          value = {
            brain: { id: r.brain.manifest.id, version: r.brain.manifest.version, digest: r.brain.digest },
            skill: handle(tenant, r.skill, () => app.registry.assertCurrent(r)),
          };
        }
        if (resolutions.size >= 4096) resolutions.clear();
        resolutions.set(key, { version, res, value });
        return value;
      },
      beginCall(tenant, brain) {
        if (brain === null) {
          const c = new AbortController();
          return { signal: c.signal, end() { /* nothing to release */ } };
        }
        return app.registry.beginCall(tenant, brain);
      },
      async review(tenant, exclude, k, req) {
        const proposer = exclude ?? 'sios.person';
        const proposerId = proposer.split('@')[0];
        const approvers = app.registry.grants(tenant)
          .filter((g) => g.revoked === null && g.brain !== proposerId && g.skills.includes(String((req.proposal as { skill?: unknown }).skill)))
          .map((g) => `${g.brain}@${g.version}`);
        const res = await collectApprovals({
          registry: app.registry, tenant, proposer, approvers, k, intent: toBase64url(req.digest),
          proposal: req.proposal as { skill: string; args: Json }, dryRun: req.dryRun,
        });
        const keys = new Map(app.registry.listBrains().map((b) => [b.ref, b.verdictKey]));
        return res.verdicts.map((v): BrainVerdict => ({ brain: v.brain, verdict: v.verdict, reason: v.reason, signature: v.signature, publicKey: keys.get(v.brain) ?? '' }));
      },
    };
  }

  /**
   * What an operator sees: deployment health (the doctor checks), tenants, brains and their grants,
   * skills, egress policies, keys and fingerprints. Operators run the machine; they see no tenant data.
   */
  async operatorOverview(credential: string): Promise<Record<string, unknown>> {
    const s = this.sessions.authenticate(credential);
    const p = this.principals.requireActive(s.principalId);
    if (p.role !== 'operator') throw new SiosError('ERR_FORBIDDEN', 'the operator overview is for operators', { details: { reason: 'not-operator' } });
    const d = this.deployment;
    const checks = await doctor(d.dir);
    const { states } = readEgressStates(d.dir, nodeVerifyCrypto);
    return {
      deployment: { id: d.id, attestation: d.config.attestation.mode, operatorKey: d.fingerprint },
      health: checks,
      tenants: d.tenants().map((t) => ({ ...t, ledger: t.status === 'deleted' ? null : d.ledger(t.id).size })),
      brains: this.registry.listBrains(),
      skills: this.registry.listSkills(),
      grants: d.tenants().filter((t) => t.status !== 'deleted').flatMap((t) => this.registry.grants(t.id)),
      egress: states,
    };
  }

  /** A tenant's brain working memory (per session and brain, encrypted under the tenant's key). */
  memory(tenant: string): WorkingMemory {
    let m = this.memories.get(tenant);
    if (!m) { m = new WorkingMemory(this.deployment.tenantDb(tenant), tenant, this.deployment.tenantDataKey(tenant)); this.memories.set(tenant, m); }
    return m;
  }

  /** The HTTP API (fetch handler) with the passkey ceremonies mounted at /v1/auth. */
  api(): FetchHandler {
    if (!this.apiHandler) {
      const d = this.deployment;
      const auth = createAuthHandler({
        principals: this.principals, passkeys: this.passkeys, sessions: this.sessions, basePath: '/v1/auth',
        // Operators live in auth's reserved '_system' tenant; their events go to the system ledger.
        audit: async (tenant, event) => { await d.ledger(tenant === '_system' ? 'system' : tenant).seal({ kind: 'session', body: event }); },
      });
      this.apiHandler = createApi({
        deployment: this.deployment, gate: this.gate, auth, ...(this.o.pages ? { pages: this.o.pages } : {}), ...(this.o.log ? { log: this.o.log } : {}),
        operatorOverview: (credential) => this.operatorOverview(credential),
        quarantine: (tenant) => this.sentinel ? this.sentinel.quarantine(tenant).list({ limit: 500 }) : [],
      });
    }
    return this.apiHandler;
  }

  async close(): Promise<void> {
    await this.deployment.close();
  }
}
