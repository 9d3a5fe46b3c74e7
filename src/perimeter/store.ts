/**
 * Per-tenant egress state, kept in the tenant's own database (table `egress_policy`): the
 * allowlist and operator-approved internal ranges (an EgressPolicy), the kill switch, and the
 * sandbox opt-out. Default: no row, which means deny everything, kill switch off, sandbox on.
 *
 * Every change goes through a function here that FIRST seals an 'admin' OAR in the tenant's ledger
 *   { action: 'egress-allow' | 'egress-deny' | 'egress-kill' | 'egress-restore' | 'sandbox-opt-out',
 *     actor, host?, ports?, internalRanges?, reason?, state }
 * and only then writes the row. `state` is the digest of the whole resulting state, and the row
 * keeps the seq of that entry, so a reader checks the row against the signed ledger: a policy
 * edited in the database behind SIOS's back no longer matches and is refused (ERR_STORE), both when
 * a skill runs and in `sios doctor`. If the process dies between the seal and the write, the ledger
 * records a change that was not applied (the row still matches its own, older entry); run it again.
 *
 * The kill switch is the one change that also acts on what is running: killEgress() cuts every live
 * connection of the tenant's gateways in this process. It cuts even if the seal fails (stopping is
 * the safe direction), and then reports the failure.
 */
import type { DatabaseSync } from 'node:sqlite';
import * as fs from 'node:fs';
import { DatabaseSync as Db } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fromUtf8, toBase64url, utf8 } from '../encoding/bytes.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { parseEntry } from '../ledger/entry.ts';
import { layout } from '../deployment/layout.ts';
import { DEFAULT_BUDGETS, parseEgressPolicy } from './policy.ts';
import type { EgressPolicy } from './policy.ts';
import type { EgressGateway } from './gateway.ts';
import { perimeterDoctor } from './doctor.ts';
import type { DoctorCheck, PerimeterDoctorOptions } from './doctor.ts';

/** What this module needs of a deployment (Deployment satisfies it). */
export interface TenantHost {
  ledger(tenant: string): Ledger;
  tenantDb(tenant: string): DatabaseSync;
}

export interface EgressState {
  readonly tenant: string;
  readonly policy: EgressPolicy;
  readonly killed: { readonly actor: string; readonly reason: string } | null;
  readonly optOut: { readonly operator: string; readonly reason: string } | null;
  /** Ledger seq of the admin OAR that produced this state; null when never configured (default). */
  readonly seq: number | null;
}

export type EgressAdminAction = 'egress-allow' | 'egress-deny' | 'egress-kill' | 'egress-restore' | 'sandbox-opt-out';

const TABLE = `CREATE TABLE IF NOT EXISTS egress_policy (
  id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, digest TEXT NOT NULL, seq INTEGER NOT NULL, updated TEXT NOT NULL)`;

function defaultState(tenant: string): EgressState {
  return { tenant, policy: { tenant, allow: [], internalRanges: [], budgets: DEFAULT_BUDGETS }, killed: null, optOut: null, seq: null };
}

function stateDoc(s: EgressState): Json {
  return { tenant: s.tenant, policy: s.policy as unknown as Json, killed: s.killed, optOut: s.optOut } as Json;
}

/** Domain-separated digest of a state (what the admin OAR commits to). */
export function egressStateDigest(c: VerifyCrypto, s: EgressState): string {
  return toBase64url(c.sha256(utf8(`sios egress state v1\n${canonicalize(stateDoc(s))}`)));
}

function parseStoredState(tenant: string, text: string, seq: number): EgressState {
  let o: Record<string, unknown>;
  try { o = JSON.parse(text) as Record<string, unknown>; } catch (cause) {
    throw new SiosError('ERR_STORE', `the egress policy of tenant ${tenant} is not valid JSON; restore the tenant database from backup`, { cause });
  }
  const policy = parseEgressPolicy(o['policy']);
  const killed = o['killed'] as EgressState['killed'];
  const optOut = o['optOut'] as EgressState['optOut'];
  if (o['tenant'] !== tenant || policy.tenant !== tenant) throw new SiosError('ERR_STORE', `the egress policy stored for tenant ${tenant} names another tenant`);
  return { tenant, policy, killed: killed ?? null, optOut: optOut ?? null, seq };
}

/**
 * Read and check one tenant's state from its database: the row's digest must be the one sealed in
 * the admin OAR at the row's seq. Reads the ledger tables directly, so it works without the key.
 */
function readState(db: DatabaseSync, tenant: string, c: VerifyCrypto): EgressState {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'egress_policy'`).get();
  if (!has) return defaultState(tenant);
  const row = db.prepare('SELECT state, digest, seq FROM egress_policy WHERE id = 1').get();
  if (!row) return defaultState(tenant);
  const seq = Number(row['seq']);
  const s = parseStoredState(tenant, String(row['state']), seq);
  const digest = egressStateDigest(c, s);
  const tampered = (why: string): SiosError => new SiosError('ERR_STORE',
    `the egress policy of tenant ${tenant} does not match the ledger (${why}): it was changed outside SIOS. Refusing to use it; restore the tenant database from backup or re-apply the policy with 'sios egress'`);
  if (digest !== row['digest']) throw tampered('stored digest differs from the stored policy');
  const e = db.prepare('SELECT bytes FROM ledger_entries WHERE seq = ?').get(seq);
  const covered = db.prepare('SELECT MAX(size) AS n FROM ledger_checkpoints').get();
  if (!e || covered === undefined || Number(covered['n'] ?? 0) <= seq) throw tampered(`admin entry ${seq} is missing or not covered by a signed checkpoint`);
  const entry = parseEntry(fromUtf8(e['bytes'] as Uint8Array, `ledger entry ${seq}`), seq);
  const action = String(entry.body['action'] ?? '');
  if (entry.kind !== 'admin' || entry.tenant !== tenant || !/^(egress-|sandbox-opt-out$)/.test(action) || entry.body['state'] !== digest) {
    throw tampered(`admin entry ${seq} does not seal this policy`);
  }
  return s;
}

function checkActor(actor: unknown): string {
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > 128 || /[\u0000-\u001f]/.test(actor)) {
    throw new SiosError('ERR_INPUT', 'actor must name who makes the change (1-128 printable characters)');
  }
  return actor;
}

function checkReason(reason: unknown, what: string): string {
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 500) throw new SiosError('ERR_INPUT', `${what} needs a reason (1-500 characters); it is recorded in the ledger`);
  return reason;
}

// ---- live gateways (this process), so the kill switch reaches what is running ----

const live = new WeakMap<object, Map<string, Set<EgressGateway>>>();

/** Register a running gateway of `tenant`; returns the function that unregisters it. */
export function registerLiveGateway(host: TenantHost, tenant: string, gw: EgressGateway): () => void {
  let m = live.get(host);
  if (!m) { m = new Map(); live.set(host, m); }
  let set = m.get(tenant);
  if (!set) { set = new Set(); m.set(tenant, set); }
  set.add(gw);
  return () => { set.delete(gw); };
}

/** The running gateways of a tenant in this process (for status and tests). */
export function liveGateways(host: TenantHost, tenant: string): EgressGateway[] {
  return [...(live.get(host)?.get(tenant) ?? [])];
}

// ---- changes: seal first, then write ----

const locks = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Serialise changes per tenant in this process (read, seal, write must not interleave). */
function serial<T>(host: TenantHost, tenant: string, fn: () => Promise<T>): Promise<T> {
  let m = locks.get(host);
  if (!m) { m = new Map(); locks.set(host, m); }
  const prev = m.get(tenant) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  m.set(tenant, next.catch(() => undefined));
  return next;
}

export interface EgressStoreOptions {
  readonly crypto: VerifyCrypto;
  readonly now?: () => number;
}

/** The tenant's current egress state (checked against the ledger). */
export function egressState(host: TenantHost, tenant: string, o: EgressStoreOptions): EgressState {
  return readState(host.tenantDb(tenant), tenant, o.crypto);
}

async function change(
  host: TenantHost, tenant: string, o: EgressStoreOptions, action: EgressAdminAction, fields: Record<string, Json>,
  next: (s: EgressState) => EgressState,
): Promise<{ state: EgressState; seq: number }> {
  return serial(host, tenant, async () => {
    const db = host.tenantDb(tenant);
    const cur = readState(db, tenant, o.crypto);
    const proposed = next(cur);
    // Validate before sealing: an invalid change never reaches the ledger.
    const policy = parseEgressPolicy(JSON.parse(JSON.stringify(proposed.policy)));
    const candidate: EgressState = { ...proposed, policy };
    const digest = egressStateDigest(o.crypto, candidate);
    const receipt = await host.ledger(tenant).seal({ kind: 'admin', body: { action, ...fields, state: digest } });
    const state: EgressState = { ...candidate, seq: receipt.seq };
    db.exec(TABLE);
    db.prepare(`INSERT INTO egress_policy (id, state, digest, seq, updated) VALUES (1, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, digest = excluded.digest, seq = excluded.seq, updated = excluded.updated`)
      .run(canonicalize(stateDoc(state)), digest, receipt.seq, new Date((o.now ?? Date.now)()).toISOString());
    return { state, seq: receipt.seq };
  });
}

function checkPorts(ports: readonly number[]): number[] {
  if (ports.length === 0) throw new SiosError('ERR_INPUT', 'name at least one port (for example --port 443)');
  for (const p of ports) if (!Number.isSafeInteger(p) || p < 1 || p > 65535) throw new SiosError('ERR_INPUT', `port ${String(p)} is not between 1 and 65535`);
  return [...new Set(ports)].sort((a, b) => a - b);
}

function normHost(h: string): string {
  if (typeof h !== 'string' || h.length === 0) throw new SiosError('ERR_INPUT', 'name the host to allow (for example --host api.example.com)');
  return h.toLowerCase().replace(/\.$/, '');
}

/** Allow `host` on `ports` (merged with what is already allowed), optionally approving internal ranges. */
export function allowEgress(host: TenantHost, tenant: string, a: { host: string; ports: readonly number[]; actor: string; internalRanges?: readonly string[] }, o: EgressStoreOptions): Promise<{ state: EgressState; seq: number }> {
  const h = normHost(a.host);
  const ports = checkPorts(a.ports);
  const ranges = [...(a.internalRanges ?? [])];
  const fields: Record<string, Json> = { actor: checkActor(a.actor), host: h, ports };
  if (ranges.length) fields['internalRanges'] = ranges;
  return change(host, tenant, o, 'egress-allow', fields, (s) => {
    const allow = s.policy.allow.map((r) => r.host === h ? { host: h, ports: [...new Set([...r.ports, ...ports])].sort((x, y) => x - y) } : r);
    if (!allow.some((r) => r.host === h)) allow.push({ host: h, ports });
    const internalRanges = [...new Set([...s.policy.internalRanges, ...ranges])];
    return { ...s, policy: { ...s.policy, allow, internalRanges } };
  });
}

/** Remove `host` (all ports, or only `ports`) and/or approved internal ranges. */
export function denyEgress(host: TenantHost, tenant: string, a: { host?: string; ports?: readonly number[]; actor: string; internalRanges?: readonly string[] }, o: EgressStoreOptions): Promise<{ state: EgressState; seq: number }> {
  const h = a.host === undefined ? undefined : normHost(a.host);
  const ports = a.ports && a.ports.length ? checkPorts(a.ports) : undefined;
  const ranges = [...(a.internalRanges ?? [])];
  if (h === undefined && ranges.length === 0) throw new SiosError('ERR_INPUT', 'name a host (--host) or an internal range (--internal-range) to remove');
  const fields: Record<string, Json> = { actor: checkActor(a.actor) };
  if (h !== undefined) fields['host'] = h;
  if (ports) fields['ports'] = ports;
  if (ranges.length) fields['internalRanges'] = ranges;
  return change(host, tenant, o, 'egress-deny', fields, (s) => {
    if (h !== undefined && !s.policy.allow.some((r) => r.host === h)) throw new SiosError('ERR_NOT_FOUND', `${h} is not in tenant ${tenant}'s egress allowlist ('sios egress list --tenant ${tenant}' shows it)`);
    for (const r of ranges) if (!s.policy.internalRanges.includes(r)) throw new SiosError('ERR_NOT_FOUND', `internal range ${r} is not approved for tenant ${tenant}`);
    const allow = s.policy.allow
      .map((r) => r.host !== h ? r : { host: r.host, ports: ports ? r.ports.filter((p) => !ports.includes(p)) : [] })
      .filter((r) => r.ports.length > 0);
    return { ...s, policy: { ...s.policy, allow, internalRanges: s.policy.internalRanges.filter((r) => !ranges.includes(r)) } };
  });
}

/**
 * Engage the kill switch: sealed, persisted (later runs are refused), and every live connection of
 * the tenant in this process is cut. Returns the number of connections cut.
 */
export async function killEgress(host: TenantHost, tenant: string, a: { actor: string; reason: string }, o: EgressStoreOptions): Promise<{ state: EgressState; seq: number; destroyed: number }> {
  const actor = checkActor(a.actor);
  const reason = checkReason(a.reason, 'the kill switch');
  let r: { state: EgressState; seq: number };
  try {
    r = await change(host, tenant, o, 'egress-kill', { actor, reason }, (s) => ({ ...s, killed: { actor, reason } }));
  } catch (e) {
    // Stop anyway: refusing to stop because the record failed would be the wrong way round.
    for (const gw of liveGateways(host, tenant)) await gw.kill(`${reason} (by ${actor}; the admin record failed)`).catch(() => 0);
    throw e;
  }
  let destroyed = 0;
  for (const gw of liveGateways(host, tenant)) destroyed += await gw.kill(`${reason} (by ${actor})`);
  return { ...r, destroyed };
}

/** Lift the kill switch (sealed first; live gateways of this process resume accepting). */
export async function restoreEgress(host: TenantHost, tenant: string, a: { actor: string; reason: string }, o: EgressStoreOptions): Promise<{ state: EgressState; seq: number }> {
  const actor = checkActor(a.actor);
  const reason = checkReason(a.reason, 'lifting the kill switch');
  const cur = egressState(host, tenant, o);
  if (cur.killed === null) throw new SiosError('ERR_CONFLICT', `the kill switch of tenant ${tenant} is not engaged`);
  const r = await change(host, tenant, o, 'egress-restore', { actor, reason }, (s) => ({ ...s, killed: null }));
  for (const gw of liveGateways(host, tenant)) await gw.restore(`${reason} (by ${actor})`);
  return r;
}

/** Opt the tenant out of (optOut: true) or back into the sandbox. Recorded; doctor flags an opt-out. */
export function setSandboxOptOut(host: TenantHost, tenant: string, a: { actor: string; reason: string; optOut: boolean }, o: EgressStoreOptions): Promise<{ state: EgressState; seq: number }> {
  const actor = checkActor(a.actor);
  const reason = checkReason(a.reason, 'a sandbox opt-out');
  return change(host, tenant, o, 'sandbox-opt-out', { actor, reason, optOut: a.optOut }, (s) => ({ ...s, optOut: a.optOut ? { operator: actor, reason } : null }));
}

// ---- reading without the operator key (doctor, list) ----

/** Every tenant's egress state from a data folder, read-only. A state that fails its check is reported in `problems`. */
export function readEgressStates(dir: string, c: VerifyCrypto): { states: EgressState[]; problems: Array<{ tenant: string; message: string }> } {
  const L = layout(dir);
  const states: EgressState[] = [];
  const problems: Array<{ tenant: string; message: string }> = [];
  const tenants = fs.existsSync(L.tenantsDir) ? fs.readdirSync(L.tenantsDir).sort() : [];
  for (const t of tenants) {
    const p = L.tenantDb(t);
    if (!fs.existsSync(p)) continue;
    let db: DatabaseSync | undefined;
    try {
      db = new Db(p, { readOnly: true });
      states.push(readState(db, t, c));
    } catch (e) {
      problems.push({ tenant: t, message: (e as Error).message });
    } finally { db?.close(); }
  }
  return { states, problems };
}

/**
 * The perimeter checks of `sios doctor` with the deployment's stored policies, opt-outs and kill
 * switches (read from `dir`, no passphrase needed).
 */
export function perimeterDoctorFor(dir: string, c: VerifyCrypto, o: Omit<PerimeterDoctorOptions, 'policies' | 'optOuts'> = {}): DoctorCheck[] {
  const { states, problems } = readEgressStates(dir, c);
  const checks = perimeterDoctor({
    ...o,
    policies: states.map((s) => s.policy),
    optOuts: states.filter((s) => s.optOut !== null).map((s) => ({ tenant: s.tenant, operator: s.optOut?.operator ?? '', reason: s.optOut?.reason ?? '' })),
  });
  for (const s of states) {
    if (s.killed) checks.push({ name: `egress-kill-switch:${s.tenant}`, ok: true, detail: `tenant ${s.tenant}: egress stopped by ${s.killed.actor} (${s.killed.reason}); lift with 'sios egress restore --tenant ${s.tenant}'` });
  }
  for (const p of problems) checks.push({ name: `egress-policy:${p.tenant}`, ok: false, detail: p.message });
  return checks;
}
