/**
 * Token buckets per credential, per skill and per tenant (issue 4: "rate limits (token buckets per
 * credential, per skill, per tenant; limits in tenant policy)"). A request takes one token from each
 * of its three buckets atomically — all or none — so concurrent callers can never exceed a budget:
 * JavaScript runs this check-and-take without interleaving. Time comes from an injected clock.
 */
import { SiosError } from '../errors.ts';

export interface RateLimit {
  /** Bucket size: the burst allowed. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

export interface RateLimits {
  perCredential: RateLimit;
  perSkill: RateLimit;
  perTenant: RateLimit;
  /** Overrides for named skills (per credential and skill). */
  skills?: Record<string, RateLimit>;
}

export const DEFAULT_LIMITS: RateLimits = {
  perCredential: { capacity: 120, refillPerSecond: 20 },
  perSkill: { capacity: 2000, refillPerSecond: 1000 },
  perTenant: { capacity: 10_000, refillPerSecond: 5000 },
};

interface Bucket { tokens: number; at: number; limit: RateLimit }

export interface RateState {
  credential: { remaining: number; capacity: number };
  skill: { remaining: number; capacity: number };
  tenant: { remaining: number; capacity: number };
}

export function checkLimits(l: RateLimits): RateLimits {
  const one = (r: RateLimit, what: string) => {
    if (!r || !Number.isFinite(r.capacity) || r.capacity < 1 || !Number.isFinite(r.refillPerSecond) || r.refillPerSecond < 0) {
      throw new SiosError('ERR_INPUT', `rate limit ${what} needs capacity >= 1 and refillPerSecond >= 0`);
    }
  };
  one(l.perCredential, 'perCredential'); one(l.perSkill, 'perSkill'); one(l.perTenant, 'perTenant');
  for (const [k, v] of Object.entries(l.skills ?? {})) one(v, `skills.${k}`);
  return l;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits = new Map<string, RateLimits>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  setLimits(tenant: string, limits: RateLimits): void {
    this.limits.set(tenant, checkLimits(limits));
    for (const k of [...this.buckets.keys()]) if (k.startsWith(tenant + '\u0000')) this.buckets.delete(k);
  }

  limitsFor(tenant: string): RateLimits {
    return this.limits.get(tenant) ?? DEFAULT_LIMITS;
  }

  private bucket(key: string, limit: RateLimit, t: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) { b = { tokens: limit.capacity, at: t, limit }; this.buckets.set(key, b); }
    const add = ((t - b.at) / 1000) * limit.refillPerSecond;
    if (add > 0) { b.tokens = Math.min(limit.capacity, b.tokens + add); b.at = t; }
    return b;
  }

  /** Take one token from each bucket or none; throws ERR_RATE_LIMITED naming the exhausted one. */
  take(tenant: string, credential: string, skill: string): RateState {
    const t = this.now();
    const L = this.limitsFor(tenant);
    const per = L.skills?.[skill] ?? L.perCredential;
    const c = this.bucket(`${tenant}\u0000c\u0000${credential}\u0000${skill}`, per, t);
    const s = this.bucket(`${tenant}\u0000s\u0000${skill}`, L.perSkill, t);
    const n = this.bucket(`${tenant}\u0000t`, L.perTenant, t);
    for (const [b, what] of [[c, 'this credential for this skill'], [s, 'this skill in this tenant'], [n, 'this tenant']] as const) {
      if (b.tokens < 1) {
        const wait = b.limit.refillPerSecond > 0 ? Math.ceil((1 - b.tokens) / b.limit.refillPerSecond * 1000) : Infinity;
        throw new SiosError('ERR_RATE_LIMITED', `rate limit reached for ${what}; retry in ${Number.isFinite(wait) ? `${wait} ms` : 'the next window set by the operator'}`, { details: { reason: 'rate-limited', scope: what } });
      }
    }
    c.tokens -= 1; s.tokens -= 1; n.tokens -= 1;
    const r = (b: Bucket) => ({ remaining: Math.floor(b.tokens), capacity: b.limit.capacity });
    return { credential: r(c), skill: r(s), tenant: r(n) };
  }
}
