/**
 * Per-tenant egress policy: default deny, allowlisted host patterns with ports, operator-approved
 * internal ranges, an optional named upstream proxy, and byte/connection budgets.
 *
 * Host patterns:
 *   `api.example.com`     exactly that name
 *   `*.example.com`       any name strictly below example.com (not example.com itself)
 *   `203.0.113.7`, `[2001:db8::1]`  an IP literal (the client must use a literal too)
 * There is deliberately no `*` alone: "allow everything" must be written out as a decision the
 * operator can read, and is not offered.
 *
 * Address rule: a destination's resolved address must be globally reachable unicast
 * (address.ts classify() === 'global'), or fall inside an `internalRanges` CIDR the operator
 * listed. Cloud-metadata addresses need an exact host entry (/32 or /128): a broad internal range
 * such as 169.254.0.0/16 does not open them by accident. `0.0.0.0/8` and `::` are never allowed.
 */
import { SiosError } from '../errors.ts';
import { classify, cidrContains, parseCidr, parseHost } from './address.ts';
import type { AddressKind, Cidr, IpAddress } from './address.ts';

export interface EgressRule {
  /** Host pattern (see file comment). */
  readonly host: string;
  /** Allowed destination ports (1..65535), at least one. */
  readonly ports: readonly number[];
}

export interface EgressBudgets {
  /** Connections open at once. */
  readonly maxConcurrent: number;
  /** Connections (allowed ones) started per window. */
  readonly maxConnectionsPerWindow: number;
  /** Bytes up + down per window; a connection that crosses it is cut. */
  readonly maxBytesPerWindow: number;
  readonly windowMs: number;
}

export interface UpstreamProxy {
  /** Operator-visible name, recorded in every egress event. */
  readonly name: string;
  /** IP literal of the upstream proxy (operator-trusted; not subject to the address rule). */
  readonly host: string;
  readonly port: number;
  /**
   * 'gateway' (default): the gateway resolves and checks the name, then asks the upstream to
   * CONNECT to the checked IP literal (the checked address is the dialled one).
   * 'upstream': the name is passed on and the upstream resolves it (for sites without local DNS);
   * the address rule is then the upstream operator's job, and events say so.
   */
  readonly resolveVia: 'gateway' | 'upstream';
}

export interface EgressPolicy {
  readonly tenant: string;
  readonly allow: readonly EgressRule[];
  readonly internalRanges: readonly string[];
  readonly upstream?: UpstreamProxy;
  readonly budgets: EgressBudgets;
}

export const DEFAULT_BUDGETS: EgressBudgets = Object.freeze({
  maxConcurrent: 16,
  maxConnectionsPerWindow: 600,
  maxBytesPerWindow: 256 * 1024 * 1024,
  windowMs: 60_000,
});

/** The default: no outbound connection at all. */
export function denyAllPolicy(tenant: string): CompiledPolicy {
  return compilePolicy({ tenant, allow: [], internalRanges: [], budgets: DEFAULT_BUDGETS });
}

type Matcher =
  | { readonly t: 'exact'; readonly name: string; readonly ports: ReadonlySet<number>; readonly pattern: string }
  | { readonly t: 'suffix'; readonly suffix: string; readonly ports: ReadonlySet<number>; readonly pattern: string }
  | { readonly t: 'ip'; readonly ip: string; readonly ports: ReadonlySet<number>; readonly pattern: string };

export interface CompiledPolicy {
  readonly source: EgressPolicy;
  readonly tenant: string;
  readonly matchers: readonly Matcher[];
  readonly ranges: readonly Cidr[];
  readonly upstream: UpstreamProxy | undefined;
  readonly budgets: EgressBudgets;
}

function bad(msg: string): SiosError {
  return new SiosError('ERR_INPUT', `egress policy: ${msg}`);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw bad(`unknown key "${k}" in ${where}; allowed keys are ${allowed.join(', ')}`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function posInt(v: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw bad(`${where} must be an integer from 1 to ${max}`);
  return v;
}

function port(v: unknown, where: string): number {
  return posInt(v, where, 65535);
}

/** Validate an untrusted policy document (for example parsed JSON). Unknown keys are an error. */
export function parseEgressPolicy(input: unknown): EgressPolicy {
  if (!isObj(input)) throw bad('must be an object');
  onlyKeys(input, ['tenant', 'allow', 'internalRanges', 'upstream', 'budgets'], 'policy');
  const tenant = input['tenant'];
  if (typeof tenant !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(tenant)) throw bad('tenant must be a lower-case identifier ([a-z0-9_-], at most 63 characters)');
  const allowIn = input['allow'] ?? [];
  if (!Array.isArray(allowIn)) throw bad('allow must be an array of {host, ports}');
  const allow: EgressRule[] = allowIn.map((r: unknown, i) => {
    if (!isObj(r)) throw bad(`allow[${i}] must be an object {host, ports}`);
    onlyKeys(r, ['host', 'ports'], `allow[${i}]`);
    if (typeof r['host'] !== 'string') throw bad(`allow[${i}].host must be a string`);
    const ports = r['ports'];
    if (!Array.isArray(ports) || ports.length === 0) throw bad(`allow[${i}].ports must be a non-empty array of port numbers`);
    return { host: r['host'], ports: ports.map((p: unknown, j) => port(p, `allow[${i}].ports[${j}]`)) };
  });
  const rangesIn = input['internalRanges'] ?? [];
  if (!Array.isArray(rangesIn) || !rangesIn.every((x) => typeof x === 'string')) throw bad('internalRanges must be an array of CIDR strings');
  let upstream: UpstreamProxy | undefined;
  if (input['upstream'] !== undefined) {
    const u = input['upstream'];
    if (!isObj(u)) throw bad('upstream must be an object {name, host, port, resolveVia}');
    onlyKeys(u, ['name', 'host', 'port', 'resolveVia'], 'upstream');
    if (typeof u['name'] !== 'string' || u['name'].length === 0) throw bad('upstream.name must be a non-empty string');
    if (typeof u['host'] !== 'string') throw bad('upstream.host must be an IP literal');
    const rv = u['resolveVia'] ?? 'gateway';
    if (rv !== 'gateway' && rv !== 'upstream') throw bad('upstream.resolveVia must be "gateway" or "upstream"');
    upstream = { name: u['name'], host: u['host'], port: port(u['port'], 'upstream.port'), resolveVia: rv };
  }
  const b = input['budgets'] ?? {};
  if (!isObj(b)) throw bad('budgets must be an object');
  onlyKeys(b, ['maxConcurrent', 'maxConnectionsPerWindow', 'maxBytesPerWindow', 'windowMs'], 'budgets');
  const budgets: EgressBudgets = {
    maxConcurrent: b['maxConcurrent'] === undefined ? DEFAULT_BUDGETS.maxConcurrent : posInt(b['maxConcurrent'], 'budgets.maxConcurrent'),
    maxConnectionsPerWindow: b['maxConnectionsPerWindow'] === undefined ? DEFAULT_BUDGETS.maxConnectionsPerWindow : posInt(b['maxConnectionsPerWindow'], 'budgets.maxConnectionsPerWindow'),
    maxBytesPerWindow: b['maxBytesPerWindow'] === undefined ? DEFAULT_BUDGETS.maxBytesPerWindow : posInt(b['maxBytesPerWindow'], 'budgets.maxBytesPerWindow'),
    windowMs: b['windowMs'] === undefined ? DEFAULT_BUDGETS.windowMs : posInt(b['windowMs'], 'budgets.windowMs'),
  };
  const policy: EgressPolicy = upstream
    ? { tenant, allow, internalRanges: rangesIn as string[], upstream, budgets }
    : { tenant, allow, internalRanges: rangesIn as string[], budgets };
  compilePolicy(policy); // validates patterns and ranges
  return policy;
}

/** Compile a validated policy into matchers. Throws ERR_INPUT on a bad pattern or range. */
export function compilePolicy(policy: EgressPolicy): CompiledPolicy {
  const matchers: Matcher[] = policy.allow.map((r, i) => {
    const ports = new Set(r.ports.map((p, j) => port(p, `allow[${i}].ports[${j}]`)));
    if (r.host.startsWith('*.')) {
      const rest = parseHost(r.host.slice(2));
      if (rest.type !== 'name' || !rest.name.includes('.')) throw bad(`allow[${i}].host "${r.host}": a wildcard must be "*." followed by a DNS name with at least two labels`);
      return { t: 'suffix', suffix: `.${rest.name}`, ports, pattern: r.host };
    }
    if (r.host.includes('*')) throw bad(`allow[${i}].host "${r.host}": "*" is only allowed as a leading "*." label`);
    const h = parseHost(r.host);
    if (h.type === 'invalid') throw bad(`allow[${i}].host "${r.host}" is invalid: ${h.why}`);
    if (h.type === 'ip') return { t: 'ip', ip: h.ip.text, ports, pattern: r.host };
    return { t: 'exact', name: h.name, ports, pattern: r.host };
  });
  const ranges = policy.internalRanges.map((s, i) => {
    const c = parseCidr(s);
    if (!c) throw bad(`internalRanges[${i}] "${s}" is not a CIDR (for example 10.20.0.0/16 or fd00:1::/64)`);
    return c;
  });
  if (policy.upstream) {
    const h = parseHost(policy.upstream.host);
    if (h.type !== 'ip') throw bad('upstream.host must be an IP literal (the gateway does not resolve its own upstream)');
  }
  return { source: policy, tenant: policy.tenant, matchers, ranges, upstream: policy.upstream, budgets: policy.budgets };
}

/** The allowlist entry that admits host:port, if any. `host` is a parseHost() result. */
export function matchDestination(p: CompiledPolicy, host: { type: 'ip'; ip: IpAddress } | { type: 'name'; name: string }, port: number): string | undefined {
  for (const m of p.matchers) {
    if (!m.ports.has(port)) continue;
    if (host.type === 'ip') { if (m.t === 'ip' && m.ip === host.ip.text) return m.pattern; continue; }
    if (m.t === 'exact' && m.name === host.name) return m.pattern;
    if (m.t === 'suffix' && host.name.endsWith(m.suffix)) return m.pattern;
  }
  return undefined;
}

export type AddressVerdict =
  | { readonly ok: true; readonly kind: AddressKind; readonly via: 'global' | 'internal-range'; readonly range?: string }
  | { readonly ok: false; readonly kind: AddressKind; readonly reason: string };

/** The address rule (file comment). Decides on the address actually reached (mapped/NAT64 unwrapped). */
export function checkAddress(p: CompiledPolicy, ip: IpAddress): AddressVerdict {
  const c = classify(ip);
  if (c.kind === 'global') return { ok: true, kind: c.kind, via: 'global' };
  if (c.kind === 'unspecified') return { ok: false, kind: c.kind, reason: `${ip.text} is an unspecified address (reaches this host); never allowed` };
  for (const r of p.ranges) {
    if (!cidrContains(r, c.effective) && !cidrContains(r, ip)) continue;
    if (c.kind === 'metadata' && r.bits !== (r.family === 4 ? 32 : 128)) continue;
    return { ok: true, kind: c.kind, via: 'internal-range', range: r.text };
  }
  return {
    ok: false,
    kind: c.kind,
    reason: `${ip.text} is a ${c.kind} address${c.effective !== ip ? ` (reaches ${c.effective.text})` : ''}; an operator must list it in internalRanges to allow it`,
  };
}
