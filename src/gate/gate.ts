/**
 * The action gate: the one path every action of every brain (and every person acting directly)
 * takes. In order (issue 4):
 *   authenticate → resolve tenant, brain grant and skill → validate arguments → Sentinel →
 *   rate limits → tenant governance policy (Cedar) → for high-impact: dry run, then approvals
 *   (k brains, then a named human's WebAuthn assertion over the intent digest) →
 *   SEAL the intent OAR → execute → append the outcome OAR.
 * Every refusal is a clear error to the caller and a sealed record in the tenant's ledger.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import { toBase64url, fromBase64url } from '../encoding/bytes.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import { randomBytes } from './random.ts';
import type { Deployment } from '../deployment/deployment.ts';
import type { Receipt } from '../ledger/ledger.ts';
import { commitment } from '../ledger/entry.ts';
import type { PolicyPrincipal, TenantPolicy } from '../policy/engine.ts';
import type { Principal } from '../auth/principals.ts';
import type { PrincipalStore } from '../auth/principals.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { ApiTokens } from '../auth/tokens.ts';
import type { Passkeys } from '../auth/passkeys.ts';
import { evidenceToJson } from '../auth/evidence.ts';
import { RateLimiter, type RateState } from './rate-limit.ts';
import { intentDigest, type IntentDraft } from './intent.ts';
import { PendingApprovals, type Pending } from './pending.ts';
import { allowAllSentinel, type BrainHandle, type BrainVerdict, type Capabilities, type SentinelHook, type SkillHandle } from './types.ts';

export interface GateDeps {
  deployment: Deployment;
  principals: PrincipalStore;
  sessions: Sessions;
  tokens: ApiTokens;
  passkeys: Passkeys;
  capabilities: Capabilities;
  policy(tenant: string): TenantPolicy;
  limiter?: RateLimiter;
  sentinel?: SentinelHook;
  now?: () => number;
  /** How long a pending approval waits (default 15 minutes). */
  approvalTtlMs?: number;
}

export interface ActionRequest {
  /** A session token (siosS_…) or an API token (sios_…). */
  credential: string;
  tenant: string;
  /** The proposing brain (id@version), or null when a person acts directly. */
  brain: string | null;
  skill: string;
  args: unknown;
  /** Provenance labels of the arguments (Sentinel), if the caller tracked them. */
  labels?: Json;
}

export type ActionResult =
  | { status: 'done'; intent: number; outcome: number; result: Json; receipt: Receipt }
  | { status: 'pending'; approval: string; digest: string; dryRun: Json | null; needs: { brains: number; human: boolean }; verdicts: BrainVerdict[]; expiresAt: string };

interface Caller {
  principal: Principal;
  policyPrincipal: PolicyPrincipal;
  credential: { kind: 'session' | 'token'; id: string };
  sessionId: string | null;
}

export class Gate {
  private readonly d: GateDeps;
  private readonly limiter: RateLimiter;
  private readonly sentinel: SentinelHook;
  private readonly now: () => number;
  private readonly pendings = new Map<string, PendingApprovals>();
  readonly stats = { submitted: 0, done: 0, pending: 0, refused: 0 };

  constructor(d: GateDeps) {
    this.d = d;
    this.now = d.now ?? Date.now;
    this.limiter = d.limiter ?? new RateLimiter(this.now);
    this.sentinel = d.sentinel ?? allowAllSentinel;
  }

  get rateLimiter(): RateLimiter { return this.limiter; }

  private pending(tenant: string): PendingApprovals {
    let p = this.pendings.get(tenant);
    if (!p) { p = new PendingApprovals(this.d.deployment.tenantDb(tenant) as DatabaseSync, tenant); this.pendings.set(tenant, p); }
    return p;
  }

  /** Authenticate a credential for a tenant; cross-tenant use is refused. */
  authenticate(credential: string, tenant: string, operation: string): Caller {
    if (typeof credential !== 'string' || credential.length === 0 || credential.length > 512) {
      throw new SiosError('ERR_AUTH', 'no credential: send a session token or an API token');
    }
    let principal: Principal;
    let cred: Caller['credential'];
    let sessionId: string | null = null;
    if (credential.startsWith('siosS_')) {
      const s = this.d.sessions.authenticate(credential);
      principal = this.d.principals.requireActive(s.principalId);
      cred = { kind: 'session', id: s.id };
      sessionId = s.id;
      if (s.tenant !== tenant) throw cross(s.tenant, tenant);
    } else {
      const v = this.d.tokens.verify(credential, { operation, tenant });
      principal = v.principal;
      cred = { kind: 'token', id: v.token.id };
    }
    if (principal.tenant !== tenant) throw cross(principal.tenant, tenant);
    return { principal, policyPrincipal: toPolicyPrincipal(principal), credential: cred, sessionId };
  }

  /** Submit an action. Resolves with the result, or with a pending approval for high-impact work. */
  async submit(req: ActionRequest): Promise<ActionResult> {
    this.stats.submitted++;
    let caller: Caller | undefined;
    let stage = 'authenticate';
    let brain: BrainHandle | null = null;
    let skill: SkillHandle | undefined;
    try {
      checkRequest(req);
      caller = this.authenticate(req.credential, req.tenant, `skills.invoke.${req.skill}`);
      stage = 'resolve';
      const row = this.d.deployment.tenantRow(req.tenant);
      if (!row || row.status !== 'active') throw new SiosError('ERR_FORBIDDEN', `tenant ${req.tenant} is not active`);
      const r = await this.d.capabilities.resolve(req.tenant, req.brain, req.skill);
      brain = r.brain; skill = r.skill;
      stage = 'freshness';
      if (caller.sessionId) this.d.sessions.requireFresh(this.d.sessions.authenticate(req.credential), skill.clearance);
      stage = 'validate';
      skill.validateArgs(req.args);
      stage = 'sentinel';
      const sv = await this.sentinel.inspect({ tenant: req.tenant, principal: caller.policyPrincipal, brain, skill, args: req.args, ...(req.labels === undefined ? {} : { labels: req.labels }) });
      if (sv.decision === 'deny') throw new SiosError('ERR_QUARANTINED', `Sentinel refused this action: ${sv.reasons.join('; ') || 'untrusted data may not flow here'}`, { details: { reason: 'sentinel', ...(sv.labels === undefined ? {} : { labels: sv.labels }), sentinelReasons: sv.reasons } });
      stage = 'rate';
      const rate = this.limiter.take(req.tenant, `${caller.credential.kind}:${caller.credential.id}`, skill.id);
      stage = 'policy';
      const policy = this.d.policy(req.tenant);
      const decision = policy.decideInvoke({
        principal: caller.policyPrincipal, skill: { name: skill.id, risk: skill.risk, clearance: skill.clearance as 0 | 1 | 2 | 3 | 4 },
        at: this.now(), rate: { count: rate.credential.capacity - rate.credential.remaining - 1, limit: rate.credential.capacity },
      });
      if (decision.decision !== 'allow') {
        throw new SiosError('ERR_FORBIDDEN', `tenant policy denies ${skill.id}: ${decision.reasons.join('; ')}`, { details: { reason: 'policy', policyIds: decision.policyIds } });
      }
      const needs = {
        brains: Math.max(decision.approvals.brains, 0),
        human: decision.approvals.human || skill.risk === 'high-impact' || sv.decision === 'require-approval',
      };
      // Build the intent draft: everything the approvers see and the ledger seals.
      const salt = randomBytes(32);
      const draft: IntentDraft = {
        principal: { id: caller.principal.id, name: caller.principal.name, role: caller.principal.role, clearance: caller.principal.clearance },
        credential: caller.credential,
        brain: brain ? { id: brain.id, version: brain.version, digest: brain.digest } : null,
        skill: { id: skill.id, version: skill.version, digest: skill.digest, risk: skill.risk, clearance: skill.clearance },
        args: toBase64url(commitment(nodeVerifyCrypto, salt, req.args as Json)),
        policy: { version: decision.policyVersion, decision: decision.decision, policyIds: [...decision.policyIds], reasons: [...decision.reasons] },
        rate: rateJson(rate),
        sentinel: { decision: sv.decision, reasons: sv.reasons, ...(sv.labels === undefined ? {} : { labels: sv.labels }) },
        dryRun: null,
        needs,
        nonce: toBase64url(randomBytes(16)),
      };
      const ctx = { tenant: req.tenant, principal: caller.policyPrincipal };
      if (skill.risk === 'high-impact' || needs.human || needs.brains > 0) {
        stage = 'dry-run';
        const call = this.d.capabilities.beginCall(req.tenant, req.brain);
        let dry: Json | null = null;
        try {
          if (skill.hasDryRun) dry = await skill.dryRun({ ...ctx, signal: call.signal }, req.args);
        } finally { call.end(); }
        draft.dryRun = dry === null ? null : { digest: toBase64url(nodeVerifyCrypto.sha256(new TextEncoder().encode(JSON.stringify(dry)))), prediction: dry };
        const digest = intentDigest(draft);
        stage = 'approvals';
        let verdicts: BrainVerdict[] = [];
        if (needs.brains > 0) {
          const call2 = this.d.capabilities.beginCall(req.tenant, req.brain);
          try {
            verdicts = await this.d.capabilities.review(req.tenant, req.brain, needs.brains, { digest, proposal: { skill: skill.id, args: req.args as Json }, dryRun: dry, signal: call2.signal });
          } finally { call2.end(); }
          const approving = verdicts.filter((v) => v.verdict === 'approve');
          if (approving.length < needs.brains) {
            const why = verdicts.filter((v) => v.verdict === 'reject').map((v) => `${v.brain}: ${v.reason}`).join('; ');
            throw new SiosError('ERR_APPROVAL', `${needs.brains} approving brain(s) needed, ${approving.length} approved${why ? ` (${why})` : ''}`, { details: { reason: 'brain-approval' } });
          }
        }
        if (needs.human) {
          const id = toBase64url(randomBytes(12));
          const expiresAt = this.now() + (this.d.approvalTtlMs ?? 15 * 60_000);
          const pend: Pending = { id, tenant: req.tenant, requester: caller.principal.id, brain: req.brain, skill: skill.id, args: req.args as Json, salt: toBase64url(salt), draft, digest: toBase64url(digest), verdicts, createdAt: this.now(), expiresAt, status: 'pending' };
          this.pending(req.tenant).add(pend);
          await this.d.deployment.ledger(req.tenant).seal({ kind: 'pending', body: { approval: id, digest: pend.digest, skill: skill.id, principal: caller.principal.id, brain: req.brain, needs, expires: new Date(expiresAt).toISOString() } });
          this.stats.pending++;
          return { status: 'pending', approval: id, digest: pend.digest, dryRun: dry, needs, verdicts, expiresAt: new Date(expiresAt).toISOString() };
        }
        stage = 'execute';
        return await this.run(req.tenant, req.brain, skill, caller.policyPrincipal, req.args as Json, salt, draft, { brains: verdicts, human: null });
      }
      stage = 'execute';
      return await this.run(req.tenant, req.brain, skill, caller.policyPrincipal, req.args as Json, salt, draft, { brains: [], human: null });
    } catch (e) {
      // After the intent is sealed, the outcome entry records what happened; before, a refusal does.
      if (stage !== 'execute') await this.refuse(req, caller, stage, brain, skill, e);
      throw e;
    }
  }

  /** WebAuthn request options whose challenge is the pending intent's digest. */
  async approvalOptions(tenant: string, approvalId: string, credential: string): Promise<{ options: Json; pending: Pending }> {
    const approver = this.authenticate(credential, tenant, 'approvals.decide');
    const p = this.livePending(tenant, approvalId);
    const options = await this.d.passkeys.assertionForDigest(fromBase64url(p.digest), { principalId: approver.principal.id });
    return { options: options as unknown as Json, pending: p };
  }

  /** A named person approves with a passkey assertion over the intent digest; the action then runs. */
  async approve(tenant: string, approvalId: string, credential: string, assertion: unknown): Promise<ActionResult> {
    let approver: Caller | undefined;
    let executing = false;
    const p0 = this.pending(tenant).get(approvalId);
    try {
      approver = this.authenticate(credential, tenant, 'approvals.decide');
      const p = this.livePending(tenant, approvalId);
      const verified = await this.d.passkeys.verifyDigestAssertion(fromBase64url(p.digest), assertion);
      if (verified.principal.id !== approver.principal.id) throw new SiosError('ERR_APPROVAL', 'the passkey used belongs to another person than the signed-in approver');
      if (approver.principal.id === p.requester) throw new SiosError('ERR_APPROVAL', 'the person who asked for an action cannot approve it: another person must (four eyes)');
      if (approver.principal.clearance < p.draft.skill.clearance) throw new SiosError('ERR_APPROVAL', `approving ${p.skill} needs clearance ${p.draft.skill.clearance}`);
      if (approver.principal.role === 'auditor') throw new SiosError('ERR_APPROVAL', 'auditors read the ledger; they cannot approve actions');
      // Revocation since the request: re-resolve before anything runs.
      const r = await this.d.capabilities.resolve(tenant, p.brain, p.skill);
      this.pending(tenant).setStatus(approvalId, 'approved');
      const human = { principal: approver.principal.id, name: approver.principal.name, evidence: evidenceToJson(verified.evidence) as unknown as Json, at: new Date(this.now()).toISOString() };
      const requester = toPolicyPrincipal(this.d.principals.require(p.requester));
      executing = true;
      return await this.run(tenant, p.brain, r.skill, requester, p.args, fromBase64url(p.salt), p.draft, { brains: p.verdicts, human });
    } catch (e) {
      if (!executing) await this.refuse({ credential: '', tenant, brain: p0?.brain ?? null, skill: p0?.skill ?? 'unknown', args: null }, approver, 'human-approval', null, undefined, e);
      throw e;
    }
  }

  async reject(tenant: string, approvalId: string, credential: string, reason: string): Promise<void> {
    const approver = this.authenticate(credential, tenant, 'approvals.decide');
    const p = this.livePending(tenant, approvalId);
    this.pending(tenant).setStatus(approvalId, 'rejected');
    await this.d.deployment.ledger(tenant).seal({ kind: 'refusal', body: { stage: 'human-approval', reason: 'approval-rejected', approval: approvalId, digest: p.digest, skill: p.skill, principal: p.requester, by: approver.principal.id, message: String(reason).slice(0, 500) } });
  }

  listPending(tenant: string, credential: string): Pending[] {
    this.authenticate(credential, tenant, 'approvals.decide');
    return this.pending(tenant).list(this.now());
  }

  private livePending(tenant: string, id: string): Pending {
    const p = this.pending(tenant).get(id);
    if (!p || p.tenant !== tenant) throw new SiosError('ERR_NOT_FOUND', `no pending approval '${String(id).slice(0, 40)}' in tenant ${tenant}`);
    if (p.status !== 'pending') throw new SiosError('ERR_APPROVAL', `approval ${id} is already ${p.status}`, { details: { reason: `approval-${p.status}` } });
    if (p.expiresAt <= this.now()) {
      this.pending(tenant).setStatus(id, 'expired');
      throw new SiosError('ERR_APPROVAL', `approval ${id} expired at ${new Date(p.expiresAt).toISOString()}; submit the action again`, { details: { reason: 'approval-expired' } });
    }
    return p;
  }

  /** Seal the intent (sign-before-run), execute, record the outcome. */
  private async run(tenant: string, brainRef: string | null, skill: SkillHandle, principal: PolicyPrincipal, args: Json, salt: Uint8Array, draft: IntentDraft, approvals: { brains: BrainVerdict[]; human: Json | null }): Promise<ActionResult> {
    const ledger = this.d.deployment.ledger(tenant);
    const call = this.d.capabilities.beginCall(tenant, brainRef);
    try {
      const digest = toBase64url(intentDigest(draft));
      const body: Record<string, Json> = { ...(draft as unknown as Record<string, Json>), digest, approvals: { brains: approvals.brains as unknown as Json, human: approvals.human } };
      delete body['args'];
      const receipt = await ledger.seal({ kind: 'intent', body, payloads: { args }, salts: { args: salt } });
      if (call.signal.aborted || !isCurrent(skill)) {
        const o = await ledger.record({ status: 'cancelled', reason: 'brain revoked before execution' }, receipt);
        throw new SiosError('ERR_REVOKED', 'the brain was revoked before the action ran; nothing was done', { details: { intent: receipt.seq, outcome: o.seq } });
      }
      let result: Json;
      try {
        result = await skill.execute({ tenant, principal, signal: call.signal }, args);
        skill.validateResult(result);
      } catch (e) {
        const code = e instanceof SiosError ? e.code : 'ERR_INTERNAL';
        const status = call.signal.aborted ? 'cancelled' : 'error';
        await ledger.record({ status, error: code, message: e instanceof SiosError ? e.message.slice(0, 300) : 'skill failed' }, receipt);
        throw e;
      }
      // A read's result is the tenant's own data, already at rest in its store: the outcome records
      // its size, not a second (encrypted) copy. Writes and high-impact results are committed to
      // and kept encrypted beside the ledger, so they can be disclosed to an auditor.
      const outcome = skill.risk === 'read'
        ? await ledger.record({ status: 'ok', resultBytes: JSON.stringify(result).length }, receipt)
        : await ledger.record({ status: 'ok' }, receipt, { result });
      this.stats.done++;
      return { status: 'done', intent: receipt.seq, outcome: outcome.seq, result, receipt };
    } finally {
      call.end();
    }
  }

  /** Every refusal is sealed in the principal's own tenant ledger (or the system ledger if none). */
  private async refuse(req: ActionRequest, caller: Caller | undefined, stage: string, brain: BrainHandle | null, skill: SkillHandle | undefined, e: unknown): Promise<void> {
    this.stats.refused++;
    const err = e instanceof SiosError ? e : new SiosError('ERR_INTERNAL', 'internal error');
    const reason = String((err.details as Record<string, unknown>)['reason'] ?? err.code.replace(/^ERR_/, '').toLowerCase());
    const body: Record<string, Json> = {
      stage, reason, code: err.code, message: err.message.slice(0, 300),
      tenant: typeof req.tenant === 'string' ? req.tenant.slice(0, 64) : null,
      brain: brain ? `${brain.id}@${brain.version}` : (typeof req.brain === 'string' ? req.brain.slice(0, 100) : null),
      skill: skill ? skill.id : (typeof req.skill === 'string' ? req.skill.slice(0, 100) : null),
      principal: caller?.principal.id ?? null,
    };
    // Sentinel's evidence (labels, detector and canary reasons) is sealed in full with the refusal.
    if (err.details['labels'] !== undefined) body['labels'] = err.details['labels'] as Json;
    if (Array.isArray(err.details['sentinelReasons'])) body['sentinel'] = (err.details['sentinelReasons'] as string[]).map((r) => String(r).slice(0, 300));
    try {
      const home = caller?.principal.tenant;
      if (home && this.d.deployment.tenantRow(home)) await this.d.deployment.ledger(home).seal({ kind: 'refusal', body });
      const crossTenant = err.details['reason'] === 'cross-tenant' || err.details['reason'] === 'wrong-tenant';
      if (!home || crossTenant) await this.d.deployment.system.seal({ kind: 'refusal', body });
    } catch {
      // The refusal still reaches the caller; a ledger failure here is reported by the ledger itself.
    }
  }
}

function isCurrent(s: SkillHandle): boolean {
  try { s.assertCurrent(); return true; } catch { return false; }
}

function cross(home: string, asked: string): SiosError {
  return new SiosError('ERR_FORBIDDEN', `this credential belongs to another tenant than '${asked.slice(0, 64)}'; switch tenant with a fresh passkey confirmation`, { details: { reason: 'cross-tenant', home } });
}

const policyPrincipals = new WeakMap<Principal, PolicyPrincipal>();

/**
 * The policy engine's view of a principal, deeply frozen. Principal records are frozen, so while a
 * credential's verification is remembered (auth/tokens.ts) the same record maps to the same frozen
 * object, and the policy engine reuses what it checked and cached about it.
 */
export function toPolicyPrincipal(p: Principal): PolicyPrincipal {
  const known = Object.isFrozen(p) && Object.isFrozen(p.attributes) ? policyPrincipals.get(p) : undefined;
  if (known !== undefined) return known;
  const { roles, ...attrs } = p.attributes;
  const pp: PolicyPrincipal = Object.freeze({
    id: p.id, tenant: p.tenant, role: p.role, clearance: p.clearance,
    ...(roles ? { roles: Object.freeze(roles.split(',').map((r) => r.trim()).filter(Boolean)) } : {}),
    attrs: Object.freeze(attrs),
  });
  if (Object.isFrozen(p) && Object.isFrozen(p.attributes)) policyPrincipals.set(p, pp);
  return pp;
}

function rateJson(r: RateState): Json {
  return { credential: r.credential, skill: r.skill, tenant: r.tenant } as unknown as Json;
}

function checkRequest(req: ActionRequest): void {
  if (typeof req !== 'object' || req === null) throw new SiosError('ERR_INPUT', 'an action request is an object');
  for (const k of Object.keys(req)) if (!['credential', 'tenant', 'brain', 'skill', 'args', 'labels'].includes(k)) throw new SiosError('ERR_INPUT', `unknown field '${k.slice(0, 40)}' in the action request`);
  if (typeof req.tenant !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(req.tenant)) throw new SiosError('ERR_INPUT', 'tenant must be a tenant id');
  if (req.brain !== null && (typeof req.brain !== 'string' || req.brain.length > 200)) throw new SiosError('ERR_INPUT', 'brain must be id@version or null');
  if (typeof req.skill !== 'string' || req.skill.length === 0 || req.skill.length > 200) throw new SiosError('ERR_INPUT', 'skill must be a skill id');
}
