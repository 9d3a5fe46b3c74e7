/**
 * Sessions of people, with an injected clock. A session belongs to one principal and one active
 * tenant. Freshness is decided per clearance level c (0 public … 4 restricted) by the active
 * tenant's policy {idleSeconds, absoluteSeconds}:
 *   fresh(c) ⇔ now − lastActivity(c) ≤ idle(c)  and  now − lastUserVerification ≤ absolute(c)
 * where lastActivity(c) is the last successful use at level c or above (or the last user
 * verification). Using the session at a low level therefore never keeps a higher level warm: a
 * forgotten, unlocked terminal polling a public page reaches nothing sensitive once idle(1) passes.
 * Level 0 is the session's own lifetime: past it the session is dead and the person logs in again.
 * Above 0, a stale session needs step-up: a new user-verified passkey assertion bound to it.
 * Switching the active tenant always needs such an assertion, and issues a new token.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { systemClock, type Clock } from './clock.ts';
import { Sql, blob, num, optNum, str, type Row } from './db.ts';
import { consumeVerifiedAssertion, type VerifiedAssertion } from './passkeys.ts';
import { MAX_CLEARANCE, SYSTEM_TENANT, checkClearance, type Clearance, type Principal, type PrincipalStore } from './principals.ts';
import { dummyCompare, issueSecret, parseSecret, secretMatches } from './secrets.ts';
import { TENANT_RE, expectInt, expectObject } from './validate.ts';

export interface SessionPolicy { readonly idleSeconds: number; readonly absoluteSeconds: number }
/** One policy per clearance level, index = level. */
export type ClearancePolicies = readonly [SessionPolicy, SessionPolicy, SessionPolicy, SessionPolicy, SessionPolicy];

/** Defaults in the spirit of NIST SP 800-63B-4 §2.3.3 (AAL3: 15 min idle, 12 h overall), tightened per level. */
export const DEFAULT_POLICIES: ClearancePolicies = Object.freeze([
  { idleSeconds: 8 * 3600, absoluteSeconds: 12 * 3600 },
  { idleSeconds: 30 * 60, absoluteSeconds: 8 * 3600 },
  { idleSeconds: 15 * 60, absoluteSeconds: 4 * 3600 },
  { idleSeconds: 5 * 60, absoluteSeconds: 3600 },
  { idleSeconds: 2 * 60, absoluteSeconds: 15 * 60 },
]) as ClearancePolicies;

export type Freshness = 'fresh' | 'stale' | 'expired';

export interface Session {
  readonly id: string;
  readonly principalId: string;
  readonly tenant: string;
  readonly credentialId: string;
  readonly createdAt: number;
  /** Time of the last user-verified passkey assertion (login, step-up or tenant switch). */
  readonly verifiedAt: number;
  /** activeAt[c]: last successful use at level ≥ c (or the last verification). */
  readonly activeAt: readonly [number, number, number, number, number];
}

const COLS = 'id, hash, principal_id, tenant, credential_id, created_at, verified_at, active0, active1, active2, active3, active4, revoked_at';

function fromRow(r: Row): Session {
  return Object.freeze({
    id: str(r, 'id'), principalId: str(r, 'principal_id'), tenant: str(r, 'tenant'), credentialId: str(r, 'credential_id'),
    createdAt: num(r, 'created_at'), verifiedAt: num(r, 'verified_at'),
    activeAt: Object.freeze([num(r, 'active0'), num(r, 'active1'), num(r, 'active2'), num(r, 'active3'), num(r, 'active4')]) as Session['activeAt'],
  });
}

function stepUpRequired(c: number): SiosError {
  return new SiosError('ERR_AUTH', `this needs clearance ${c} and the session is stale; confirm with your passkey (step-up) and retry`,
    { details: { reason: 'step-up-required', clearance: c } });
}

function expired(): SiosError {
  return new SiosError('ERR_AUTH', 'the session has ended (idle too long or past its lifetime); sign in again with your passkey', { details: { reason: 'session-expired' } });
}

export function checkPolicies(v: unknown): ClearancePolicies {
  if (!Array.isArray(v) || v.length !== MAX_CLEARANCE + 1) throw new SiosError('ERR_INPUT', `give exactly ${MAX_CLEARANCE + 1} policies, one per clearance level 0..${MAX_CLEARANCE}`);
  const out: SessionPolicy[] = [];
  for (let c = 0; c <= MAX_CLEARANCE; c++) {
    const o = expectObject(v[c], `policy for clearance ${c}`, ['idleSeconds', 'absoluteSeconds'], ['idleSeconds', 'absoluteSeconds']);
    const idleSeconds = expectInt(o['idleSeconds'], `idleSeconds of clearance ${c}`, 10, 7 * 24 * 3600);
    const absoluteSeconds = expectInt(o['absoluteSeconds'], `absoluteSeconds of clearance ${c}`, 10, 30 * 24 * 3600);
    if (idleSeconds > absoluteSeconds) throw new SiosError('ERR_INPUT', `clearance ${c}: idleSeconds cannot exceed absoluteSeconds`);
    const prev = out[c - 1];
    // A higher level must never stay fresh longer than a lower one.
    if (prev && (idleSeconds > prev.idleSeconds || absoluteSeconds > prev.absoluteSeconds)) {
      throw new SiosError('ERR_INPUT', `clearance ${c} has a longer timeout than clearance ${c - 1}; higher levels must be as strict or stricter`);
    }
    out.push(Object.freeze({ idleSeconds, absoluteSeconds }));
  }
  return Object.freeze(out) as unknown as ClearancePolicies;
}

export class Sessions {
  readonly #sql: Sql;
  readonly #principals: PrincipalStore;
  readonly #clock: Clock;
  readonly #defaults: ClearancePolicies;

  constructor(db: DatabaseSync, principals: PrincipalStore, options: { clock?: Clock; defaults?: ClearancePolicies } = {}) {
    this.#sql = new Sql(db);
    this.#principals = principals;
    this.#clock = options.clock ?? systemClock;
    this.#defaults = checkPolicies(options.defaults ?? DEFAULT_POLICIES);
  }

  // ---- policy -----------------------------------------------------------------------------------

  setPolicy(tenant: string, policies: readonly SessionPolicy[]): void {
    checkTenantId(tenant);
    const p = checkPolicies(policies);
    this.#sql.tx(() => {
      this.#sql.run('DELETE FROM auth_session_policy WHERE tenant = ?', tenant);
      p.forEach((x, c) => this.#sql.run('INSERT INTO auth_session_policy (tenant, clearance, idle_seconds, absolute_seconds) VALUES (?,?,?,?)',
        tenant, c, x.idleSeconds, x.absoluteSeconds));
    });
  }

  policy(tenant: string): ClearancePolicies {
    const rows = this.#sql.all('SELECT clearance, idle_seconds, absolute_seconds FROM auth_session_policy WHERE tenant = ? ORDER BY clearance', tenant);
    if (rows.length === 0) return this.#defaults;
    return checkPolicies(rows.map((r) => ({ idleSeconds: num(r, 'idle_seconds'), absoluteSeconds: num(r, 'absolute_seconds') })));
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Starts a session from a verified login assertion. The token is shown once; only its hash is kept. */
  start(login: VerifiedAssertion): { token: string; session: Session } {
    if (login.purpose !== 'login') throw new SiosError('ERR_INPUT', 'a session starts from a login assertion');
    if (!consumeVerifiedAssertion(login)) throw new SiosError('ERR_AUTH', 'this assertion was not verified here or was already used; sign in again', { details: { reason: 'assertion-reused' } });
    const p = this.#principals.requireActive(login.principal.id);
    return this.#insert(p, p.tenant, login.credentialId);
  }

  /** Resolves a presented session token. Dead, revoked or unknown sessions are ERR_AUTH. */
  authenticate(token: string): Session {
    const { id, secret } = parseSecret('session', token);
    const r = this.#sql.get(`SELECT ${COLS} FROM auth_session WHERE id = ?`, id);
    if (!r) { dummyCompare('session', secret); throw unknownSession(); }
    if (!secretMatches('session', id, secret, blob(r, 'hash'))) throw unknownSession();
    if (optNum(r, 'revoked_at') !== null) throw new SiosError('ERR_AUTH', 'this session was signed out or revoked; sign in again', { details: { reason: 'session-revoked' } });
    const s = fromRow(r);
    if (this.state(s, 0) !== 'fresh') throw expired();
    this.#principals.requireActive(s.principalId);
    return s;
  }

  /** Freshness of the session for clearance c now; 'expired' when the session itself is over. */
  state(session: Session, c: number): Freshness {
    const level = checkClearance(c, 'needed clearance');
    const pol = this.policy(session.tenant);
    const now = this.#clock();
    const within = (l: Clearance): boolean => {
      const p = pol[l];
      return now - session.activeAt[l] <= p.idleSeconds * 1000 && now - session.verifiedAt <= p.absoluteSeconds * 1000;
    };
    if (!within(0)) return 'expired';
    return within(level) ? 'fresh' : 'stale';
  }

  /**
   * Gate check: the session is live, its principal holds neededClearance, and (above level 0) the
   * session is fresh for it. Records the activity. Throws ERR_AUTH with details.reason
   * 'step-up-required' when a step-up would make the call pass.
   */
  requireFresh(session: Session, neededClearance: number): Session {
    const level = checkClearance(neededClearance, 'needed clearance');
    const cur = this.#reload(session.id);
    const p = this.#principals.requireActive(cur.principalId);
    const st = this.state(cur, level);
    if (st === 'expired') throw expired();
    if (level > p.clearance) {
      throw new SiosError('ERR_FORBIDDEN', `this needs clearance ${level}; ${p.name} holds ${p.clearance}. Ask a tenant administrator if you need more`,
        { details: { reason: 'clearance', clearance: level } });
    }
    if (st === 'stale') throw stepUpRequired(level);
    const now = this.#clock();
    // Activity is recorded with one-second resolution: idle timeouts are minutes, and a busy session
    // should not cost an fsync'd commit per request.
    if (cur.activeAt.slice(0, level + 1).every((t) => now - t < 1000)) return cur;
    const cols = ['active0', 'active1', 'active2', 'active3', 'active4'].slice(0, level + 1).map((c) => `${c} = ?`).join(', ');
    this.#sql.run(`UPDATE auth_session SET ${cols} WHERE id = ?`, ...Array<number>(level + 1).fill(now), cur.id);
    return this.#reload(cur.id);
  }

  /** Refreshes a live session with a new user-verified assertion made for this session's step-up. */
  stepUp(session: Session, assertion: VerifiedAssertion): Session {
    const cur = this.#reload(session.id);
    this.#checkBinding(cur, assertion, 'step-up');
    if (assertion.principal.id !== cur.principalId) {
      throw new SiosError('ERR_FORBIDDEN', 'the step-up passkey belongs to another person than the session\'s; use your own passkey', { details: { reason: 'wrong-principal' } });
    }
    this.#principals.requireActive(cur.principalId);
    const now = this.#clock();
    this.#sql.run('UPDATE auth_session SET verified_at = ?, credential_id = ?, active0 = ?, active1 = ?, active2 = ?, active3 = ?, active4 = ? WHERE id = ?',
      now, assertion.credentialId, now, now, now, now, now, cur.id);
    return this.#reload(cur.id);
  }

  /**
   * Moves the session to another tenant, always with a fresh assertion bound to this session and
   * this target (purpose 'switch-tenant', context = tenant). An operator moves its own session;
   * anyone else switches to their principal in the target tenant, proven by that principal's passkey.
   * The old token stops working; a new one is returned.
   */
  switchTenant(session: Session, assertion: VerifiedAssertion): { token: string; session: Session } {
    const cur = this.#reload(session.id);
    this.#checkBinding(cur, assertion, 'switch-tenant');
    const target = assertion.context;
    if (target === null) throw new SiosError('ERR_INPUT', 'the switch-tenant assertion names no target tenant; request options for a tenant');
    checkTenantId(target);
    if (target === cur.tenant) throw new SiosError('ERR_INPUT', `the session is already in tenant ${target}`);
    const me = this.#principals.requireActive(cur.principalId);
    let next: Principal;
    if (assertion.principal.id === me.id) {
      if (me.role !== 'operator') {
        throw new SiosError('ERR_FORBIDDEN', `${me.name} belongs to tenant ${me.tenant} only; sign in with your principal of tenant ${target}`, { details: { reason: 'not-a-member' } });
      }
      next = me;
    } else {
      next = this.#principals.requireActive(assertion.principal.id);
      if (next.tenant !== target) throw new SiosError('ERR_FORBIDDEN', `that passkey's principal is not in tenant ${target}`, { details: { reason: 'not-a-member' } });
    }
    return this.#sql.tx(() => {
      this.#sql.run('UPDATE auth_session SET revoked_at = ? WHERE id = ?', this.#clock(), cur.id);
      return this.#insert(next, target, assertion.credentialId);
    });
  }

  revoke(sessionId: string): void {
    this.#sql.run('UPDATE auth_session SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', this.#clock(), sessionId);
  }

  /** Signs out every session of a principal (for example when a passkey is lost). */
  revokeAll(principalId: string): number {
    return this.#sql.run('UPDATE auth_session SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL', this.#clock(), principalId);
  }

  /** Deletes rows of sessions that ended more than `olderThanSeconds` ago. */
  prune(olderThanSeconds = 7 * 24 * 3600): number {
    const cutoff = this.#clock() - olderThanSeconds * 1000;
    return this.#sql.run('DELETE FROM auth_session WHERE (revoked_at IS NOT NULL AND revoked_at < ?) OR active0 < ?', cutoff, cutoff);
  }

  // ---- internals --------------------------------------------------------------------------------

  #insert(p: Principal, tenant: string, credentialId: string): { token: string; session: Session } {
    const s = issueSecret('session');
    const now = this.#clock();
    this.#sql.run(`INSERT INTO auth_session (${COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,NULL)`,
      s.id, s.hash, p.id, tenant, credentialId, now, now, now, now, now, now, now);
    return { token: s.text, session: this.#reload(s.id) };
  }

  #reload(id: string): Session {
    const r = this.#sql.get(`SELECT ${COLS} FROM auth_session WHERE id = ?`, id);
    if (!r) throw unknownSession();
    if (optNum(r, 'revoked_at') !== null) throw new SiosError('ERR_AUTH', 'this session was signed out or revoked; sign in again', { details: { reason: 'session-revoked' } });
    return fromRow(r);
  }

  #checkBinding(cur: Session, a: VerifiedAssertion, purpose: 'step-up' | 'switch-tenant'): void {
    if (a.purpose !== purpose || a.sessionId !== cur.id) {
      throw new SiosError('ERR_AUTH', `this passkey assertion was not made for this session's ${purpose}; request new options and retry`, { details: { reason: 'wrong-purpose' } });
    }
    if (this.state(cur, 0) === 'expired') throw expired();
    if (!consumeVerifiedAssertion(a)) throw new SiosError('ERR_AUTH', 'this assertion was not verified here or was already used; confirm with your passkey again', { details: { reason: 'assertion-reused' } });
  }
}

function unknownSession(): SiosError {
  return new SiosError('ERR_AUTH', 'the session token is not recognised; sign in again', { details: { reason: 'session-unknown' } });
}

function checkTenantId(t: unknown): void {
  if (t === SYSTEM_TENANT) return;
  if (typeof t !== 'string' || !TENANT_RE.test(t)) throw new SiosError('ERR_INPUT', 'tenant must be a tenant id of lower-case letters, digits and inner hyphens');
}
