/**
 * API tokens for machines: `sios_<id>_<secret>`, shown once at issue, stored only as a
 * domain-separated SHA-256 hash (see secrets.ts), bound to one principal, its tenant and a scope
 * (the operations it may call), optionally expiring, revocable. Verification compares in constant
 * time and re-reads the principal, so disabling the principal stops its tokens at once.
 *
 * Scope entries are operation names ("ledger.read", "skills.invoke.triage") or a prefix ending in
 * ".*" ("skills.invoke.*"). There is no bare "*": a token names what it may do.
 *
 * A busy machine token is verified thousands of times a second, so a successful verification is
 * remembered for at most VERIFIED_TTL_MS, keyed by token id and checked against the presented
 * secret's hash in constant time. The memory is dropped at once when any token is revoked or any
 * principal changed through this process, and when another process (a CLI command) commits to the
 * database (SQLite's data_version): revocation stays instant. Expiry, tenant and scope are checked
 * on every call.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { systemClock, type Clock } from './clock.ts';
import { Sql, blob, num, optNum, str, type Row } from './db.ts';
import type { Principal, PrincipalStore } from './principals.ts';
import { hashSecret, issueSecret, parseSecret } from './secrets.ts';
import { timingSafeEqual } from '../encoding/bytes.ts';
import { expectObject, expectString } from './validate.ts';

/** What an unknown id's (already hashed) secret is compared with: the same work as a known id. */
const ZERO_HASH = new Uint8Array(32);

export interface ApiToken {
  readonly id: string;
  readonly principalId: string;
  readonly tenant: string;
  readonly scope: readonly string[];
  readonly label: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface IssueTokenRequest {
  principalId: string;
  scope: string[];
  label?: string;
  /** Absolute expiry (ms since epoch); omitted or null: until revoked. */
  expiresAt?: number | null;
}

/** How long a successful verification is remembered (revocation invalidates it sooner). */
export const VERIFIED_TTL_MS = 1000;
const VERIFIED_MAX = 10_000;

interface Verified {
  readonly hash: Uint8Array;
  readonly token: ApiToken;
  readonly principal: Principal;
  readonly at: number;
  readonly generation: number;
  readonly principals: number;
  readonly dataVersion: number;
  lastUsedAt: number | null;
}

const OP_RE = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;
const SCOPE_RE = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*(?:\.\*)?$/;
const COLS = 'id, hash, principal_id, tenant, scope, label, created_at, expires_at, revoked_at, last_used_at';

function fromRow(r: Row): ApiToken {
  return Object.freeze({
    id: str(r, 'id'), principalId: str(r, 'principal_id'), tenant: str(r, 'tenant'),
    scope: Object.freeze(JSON.parse(str(r, 'scope')) as string[]), label: str(r, 'label'),
    createdAt: num(r, 'created_at'), expiresAt: optNum(r, 'expires_at'), revokedAt: optNum(r, 'revoked_at'), lastUsedAt: optNum(r, 'last_used_at'),
  });
}

export function scopeAllows(scope: readonly string[], operation: string): boolean {
  for (const s of scope) {
    if (s === operation) return true;
    if (s.endsWith('.*') && operation.startsWith(s.slice(0, -1))) return true;
  }
  return false;
}

export class ApiTokens {
  readonly #sql: Sql;
  readonly #principals: PrincipalStore;
  readonly #clock: Clock;
  readonly #verified = new Map<string, Verified>();
  #generation = 0;

  constructor(db: DatabaseSync, principals: PrincipalStore, options: { clock?: Clock } = {}) {
    this.#sql = new Sql(db);
    this.#principals = principals;
    this.#clock = options.clock ?? systemClock;
  }

  /** Issues a token. The returned `token` text is the only copy: hand it to the machine now. */
  issue(request: IssueTokenRequest): { token: string; record: ApiToken } {
    const o = expectObject(request, 'token request', ['principalId', 'scope', 'label', 'expiresAt'], ['principalId', 'scope']);
    const p = this.#principals.requireActive(String(o['principalId']));
    const scope = o['scope'];
    if (!Array.isArray(scope) || scope.length === 0 || scope.length > 64) throw new SiosError('ERR_INPUT', 'scope must list 1..64 operations the token may call');
    for (const s of scope) {
      if (typeof s !== 'string' || s.length > 128 || !SCOPE_RE.test(s)) {
        throw new SiosError('ERR_INPUT', 'each scope entry is an operation name like "ledger.read" or a prefix like "skills.invoke.*"');
      }
    }
    const label = o['label'] === undefined ? '' : expectString(o['label'], 'token label', 128, 0);
    const now = this.#clock();
    const expiresAt = o['expiresAt'] ?? null;
    if (expiresAt !== null && (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt <= now)) {
      throw new SiosError('ERR_INPUT', 'expiresAt must be a future time in milliseconds since the epoch, or null');
    }
    const s = issueSecret('api-token');
    this.#sql.run(`INSERT INTO auth_token (${COLS}) VALUES (?,?,?,?,?,?,?,?,NULL,NULL)`,
      s.id, s.hash, p.id, p.tenant, JSON.stringify([...new Set(scope as string[])].sort()), label, now, expiresAt);
    return { token: s.text, record: this.get(s.id)! };
  }

  /**
   * Checks a presented token for one operation in one tenant. Returns the principal and token.
   * Unknown or wrong secrets are ERR_AUTH, revoked ERR_REVOKED, out of scope or tenant ERR_FORBIDDEN.
   */
  verify(presented: string, need: { operation: string; tenant: string }): { principal: Principal; token: ApiToken } {
    if (typeof need.operation !== 'string' || !OP_RE.test(need.operation)) throw new SiosError('ERR_INPUT', 'operation must be a dotted operation name like "ledger.read"');
    const { id, secret } = parseSecret('api-token', presented);
    const hash = hashSecret('api-token', id, secret);
    const now = this.#clock();
    const dataVersion = this.#sql.dataVersion();
    const v = this.#verified.get(id);
    let t: ApiToken;
    let principal: Principal;
    let lastUsedAt: number | null;
    if (v !== undefined && now - v.at < VERIFIED_TTL_MS && now >= v.at && v.generation === this.#generation
      && v.principals === this.#principals.generation && v.dataVersion === dataVersion && timingSafeEqual(hash, v.hash)) {
      t = v.token; principal = v.principal; lastUsedAt = v.lastUsedAt;
      if (t.expiresAt !== null && now >= t.expiresAt) throw expired();
    } else {
      // A stale entry is dropped; a wrong secret leaves a fresh one alone (anyone who knows a token's id
      // must not be able to keep it out of the cache).
      if (v !== undefined && !timingSafeEqual(hash, v.hash)) throw unknownToken();
      if (v !== undefined) this.#verified.delete(id);
      const r = this.#sql.get(`SELECT ${COLS} FROM auth_token WHERE id = ?`, id);
      // The secret is already hashed: an unknown id costs one comparison, like a known one.
      if (!r) { timingSafeEqual(hash, ZERO_HASH); throw unknownToken(); }
      if (!timingSafeEqual(hash, blob(r, 'hash'))) throw unknownToken();
      t = fromRow(r);
      if (t.revokedAt !== null) throw new SiosError('ERR_REVOKED', 'this API token was revoked; issue a new one', { details: { reason: 'token-revoked' } });
      if (t.expiresAt !== null && now >= t.expiresAt) throw expired();
      principal = this.#principals.requireActive(t.principalId);
      lastUsedAt = t.lastUsedAt;
      if (this.#verified.size >= VERIFIED_MAX) this.#verified.clear();
      this.#verified.set(id, { hash, token: t, principal, at: now, generation: this.#generation, principals: this.#principals.generation, dataVersion, lastUsedAt });
    }
    if (principal.tenant !== t.tenant || need.tenant !== t.tenant) {
      throw new SiosError('ERR_FORBIDDEN', 'this API token is bound to another tenant; use a token issued in this tenant', { details: { reason: 'wrong-tenant' } });
    }
    if (!scopeAllows(t.scope, need.operation)) {
      throw new SiosError('ERR_FORBIDDEN', `this API token's scope does not include ${need.operation}; issue a token with that scope`, { details: { reason: 'out-of-scope' } });
    }
    // last-used is informational: write it at most once a minute, so a busy machine token does not
    // cost an fsync'd database commit per request.
    if (lastUsedAt === null || now - lastUsedAt >= 60_000) {
      this.#sql.run('UPDATE auth_token SET last_used_at = ? WHERE id = ?', now, id);
      const e = this.#verified.get(id);
      if (e !== undefined) e.lastUsedAt = now;
    }
    return { principal, token: { ...t, lastUsedAt: now } };
  }

  get(id: string): ApiToken | undefined {
    const r = this.#sql.get(`SELECT ${COLS} FROM auth_token WHERE id = ?`, id);
    return r ? fromRow(r) : undefined;
  }

  list(tenant: string): ApiToken[] {
    return this.#sql.all(`SELECT ${COLS} FROM auth_token WHERE tenant = ? ORDER BY created_at`, tenant).map(fromRow);
  }

  revoke(id: string): void {
    this.#generation++;
    this.#verified.clear();
    const n = this.#sql.run('UPDATE auth_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', this.#clock(), id);
    if (n === 0) throw new SiosError('ERR_NOT_FOUND', 'no active API token with that id; list the tenant\'s tokens');
  }
}

function expired(): SiosError {
  return new SiosError('ERR_AUTH', 'this API token has expired; issue a new one', { details: { reason: 'token-expired' } });
}

function unknownToken(): SiosError {
  return new SiosError('ERR_AUTH', 'the API token is not recognised; present the full token as issued, or issue a new one', { details: { reason: 'token-unknown' } });
}
