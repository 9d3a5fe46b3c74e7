/**
 * Run a skill that needs the outside, for one tenant, the governed way:
 *   tenant egress state (checked against its sealed admin record) -> the tenant's gateway with that
 *   policy, every decision sealed in the tenant ledger before dialling -> a bubblewrap cell whose
 *   only way out is that gateway's Unix socket -> cell-start / cell-end sealed -> result.
 *
 * The gate calls runEgressSkill() in its execute step; `sios cell fetch` is a thin shell over it.
 * A gateway is created per run with the policy as it is now, so an allowlist change applies to the
 * next run; the kill switch also reaches a run in progress (store.ts registers the gateway).
 * Budgets (connections and bytes per window) therefore count per run; a long-running server that
 * wants per-tenant windows should keep one gateway per tenant instead.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SiosError } from '../errors.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';
import { CellRunner, nodeRuntime } from './cell.ts';
import type { CellLimits } from './cell.ts';
import { EgressGateway } from './gateway.ts';
import type { GatewayLimits, Resolver } from './gateway.ts';
import type { AuditSink, PerimeterEvent } from './events.ts';
import { ledgerAuditSink } from './audit-ledger.ts';
import { egressState, registerLiveGateway } from './store.ts';
import type { TenantHost } from './store.ts';

const SKILL_FILE = fileURLToPath(new URL('./fetch-skill.ts', import.meta.url));
const CLIENT_FILE = fileURLToPath(new URL('./cell-client.ts', import.meta.url));
const SKILL_RE = /^[a-z][a-z0-9._-]{0,63}$/;
const OPTIONS = ['deployment', 'tenant', 'skill', 'url', 'crypto', 'resolver', 'limits', 'gatewayLimits', 'workRoot', 'onEvent'];

export interface EgressSkillOptions {
  /** The deployment (anything with ledger(tenant) and tenantDb(tenant)). */
  readonly deployment: TenantHost;
  readonly tenant: string;
  /** Skill name recorded in every event; default 'fetch'. */
  readonly skill?: string;
  /** http:// URL to GET from inside the cell. */
  readonly url: string;
  readonly crypto?: VerifyCrypto;
  /** Name resolution for the gateway; default the system resolver (/etc/hosts, then site DNS). */
  readonly resolver?: Resolver;
  readonly limits?: Partial<CellLimits>;
  readonly gatewayLimits?: Partial<GatewayLimits>;
  /** Where per-cell socket directories go; default <tmpdir>/sios-cells. */
  readonly workRoot?: string;
  /** Told of every event after it was sealed (progress display). */
  readonly onEvent?: (e: PerimeterEvent) => void;
}

export interface EgressSkillResult {
  readonly outcome: 'fetched' | 'refused' | 'failed';
  /** HTTP status from the destination (fetched) or from the gateway (refused). */
  readonly status?: number;
  readonly bytes?: number;
  /** Gateway reason code when refused (for example 'not-allowlisted', 'kill-switch'). */
  readonly reason?: string;
  readonly message: string;
  readonly cell: string;
  readonly exitCode: number | null;
  /** Outcome records that could not be sealed (the connection had already happened): in doubt. */
  readonly auditFailures: readonly string[];
}

function checkUrl(url: string): URL {
  let u: URL;
  try { u = new URL(url); } catch (cause) { throw new SiosError('ERR_INPUT', `'${url.slice(0, 200)}' is not a URL (for example http://intranet.example:8080/status)`, { cause }); }
  if (u.protocol !== 'http:') throw new SiosError('ERR_INPUT', `the fetch skill speaks plain http:// (got ${u.protocol}); a TLS skill opens a tunnel with egressConnect() and wraps it itself`);
  if (u.username || u.password) throw new SiosError('ERR_INPUT', 'credentials in the URL are refused: they would travel in the cell\'s command line');
  return u;
}

export async function runEgressSkill(o: EgressSkillOptions): Promise<EgressSkillResult> {
  for (const k of Object.keys(o)) if (!OPTIONS.includes(k)) throw new SiosError('ERR_INPUT', `runEgressSkill: unknown option "${k}"; known options are ${OPTIONS.join(', ')}`);
  const skill = o.skill ?? 'fetch';
  if (!SKILL_RE.test(skill)) throw new SiosError('ERR_INPUT', `skill name '${skill.slice(0, 64)}' is invalid (lower-case letters, digits, '.', '_', '-')`);
  const url = checkUrl(o.url);
  const crypto = o.crypto ?? nodeVerifyCrypto;
  const state = egressState(o.deployment, o.tenant, { crypto });
  const sink = ledgerAuditSink(o.deployment.ledger(o.tenant), { crypto });
  const pending = new Set<Promise<void>>();
  const auditFailures: string[] = [];
  let starting = state.killed !== null;
  const audit: AuditSink = (e) => {
    // Arming a fresh gateway from the stored kill switch is not a new kill: that was sealed as the
    // operator's admin record already.
    if (starting && e.type === 'egress-kill') return Promise.resolve();
    const p = sink(e).then(() => { o.onEvent?.(e); });
    pending.add(p);
    void p.catch(() => undefined).finally(() => pending.delete(p));
    return p;
  };
  const gw = new EgressGateway({
    policy: state.policy, audit,
    ...(o.resolver ? { resolver: o.resolver } : {}),
    ...(o.gatewayLimits ? { limits: o.gatewayLimits } : {}),
    onAuditFailure: (err, ev) => { auditFailures.push(`${ev.connection} ${ev.destination}: ${(err as Error)?.message ?? String(err)}`); },
  });
  if (state.killed) await gw.kill(`stored kill switch (${state.killed.reason}, by ${state.killed.actor})`);
  starting = false;
  const unregister = registerLiveGateway(o.deployment, o.tenant, gw);
  try {
    const runner = new CellRunner({
      tenant: o.tenant, audit,
      ...(state.optOut ? { optOut: state.optOut } : {}),
      ...(o.workRoot ? { workRoot: o.workRoot } : {}),
    });
    const rt = nodeRuntime();
    // Opted out (recorded), the skill runs as a plain process: host paths instead of cell binds.
    const res = await runner.run({
      skill, gateway: gw,
      argv: state.optOut ? [realpathSync(process.execPath), SKILL_FILE, url.href] : [rt.program, '/sios/lib/fetch-skill.ts', url.href],
      readOnly: [...rt.readOnly, { host: SKILL_FILE, cell: '/sios/lib/fetch-skill.ts' }, { host: CLIENT_FILE, cell: '/sios/lib/cell-client.ts' }],
      ...(o.limits ? { limits: o.limits } : {}),
    });
    const line = Buffer.from(res.stdout).toString('utf8').trim().split('\n').pop() ?? '';
    let r: { outcome?: unknown; status?: unknown; bytes?: unknown; reason?: unknown; message?: unknown } = {};
    try { r = JSON.parse(line) as typeof r; } catch { /* reported below */ }
    const base = { cell: res.cell, exitCode: res.exitCode, auditFailures };
    if (r.outcome === 'fetched' && res.exitCode === 0) {
      return { outcome: 'fetched', status: Number(r.status), bytes: Number(r.bytes), message: `HTTP ${Number(r.status)}, ${Number(r.bytes)} bytes`, ...base };
    }
    if (r.outcome === 'refused' && res.exitCode === 3) {
      return { outcome: 'refused', status: Number(r.status), reason: String(r.reason), message: String(r.message), ...base };
    }
    const why = typeof r.message === 'string' ? r.message
      : `the cell ended (${res.reason}${res.exitCode === null ? '' : ` ${res.exitCode}`}${res.signal ? ` ${res.signal}` : ''}) without a result: ${Buffer.from(res.stderr).toString('utf8').trim().slice(0, 500)}`;
    return { outcome: 'failed', ...(typeof r.status === 'number' ? { status: r.status } : {}), ...(typeof r.bytes === 'number' ? { bytes: r.bytes } : {}), message: why, ...base };
  } finally {
    unregister();
    await gw.close();
    // Outcome records are sealed when their connection closes: wait for every one of them.
    for (let i = 0; i < 500 && gw.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await Promise.allSettled([...pending]);
  }
}
