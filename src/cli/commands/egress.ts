import { SiosError } from '../../errors.ts';
import { nodeVerifyCrypto } from '../../crypto/node.ts';
import { allowEgress, denyEgress, killEgress, readEgressStates, restoreEgress } from '../../perimeter/store.ts';
import type { EgressState } from '../../perimeter/store.ts';
import { flag, need, str, type CommandSpec, type ParsedArgs } from '../args.ts';
import { dataDir, dataOption, openDeployment, out, passOption, table } from '../context.ts';

export const command: CommandSpec = {
  help: `sios egress — what a tenant's sandboxed skills may reach (default: nothing)

usage:
  sios egress allow --tenant T --host H [--port 443 ...] [--internal-range CIDR ...]
        allow H (a DNS name, *.example.com, or an IP literal) on the given ports; a destination that
        resolves to a non-public address (10/8, 192.168/16, a test network...) also needs its range
        approved with --internal-range (for example 10.20.0.0/16, or 10.20.0.7/32 for one host)
  sios egress deny --tenant T [--host H] [--port P ...] [--internal-range CIDR ...]
        remove H (all ports, or only those given) and/or approved ranges
  sios egress list [--tenant T] [--json]          the allowlists, kill switches and sandbox opt-outs
  sios egress kill --tenant T [--reason TEXT]     stop all egress of T now (cuts live connections)
  sios egress restore --tenant T [--reason TEXT]  lift the kill switch

Every change is sealed as an 'admin' entry in the tenant's ledger before it applies
('sios ledger show --tenant T'); the stored policy is checked against that entry whenever it is
used, so an edit made behind SIOS's back is refused. --actor names who made it (default: operator).
`,
  options: {
    ...dataOption, ...passOption, tenant: { type: 'string' }, host: { type: 'string' }, port: { type: 'string', multiple: true },
    'internal-range': { type: 'string', multiple: true }, reason: { type: 'string' }, actor: { type: 'string' }, json: { type: 'boolean' },
  },
  async run(args) {
    const sub = args.positionals[0];
    if (args.positionals.length > 1) throw new SiosError('ERR_INPUT', `unexpected argument '${args.positionals[1]}'. See --help`);
    if (sub === 'list') return list(args);
    if (sub !== 'allow' && sub !== 'deny' && sub !== 'kill' && sub !== 'restore') {
      throw new SiosError('ERR_INPUT', `unknown 'sios egress' action '${sub ?? ''}': use allow, deny, list, kill or restore`);
    }
    const tenant = need(args, 'tenant');
    const actor = str(args, 'actor') ?? 'operator';
    const o = { crypto: nodeVerifyCrypto };
    const ranges = (args.values['internal-range'] as string[] | undefined) ?? [];
    const d = await openDeployment(args);
    try {
      switch (sub) {
        case 'allow': {
          const ports = portsOf(args, [443]);
          const r = await allowEgress(d, tenant, { host: need(args, 'host'), ports, actor, internalRanges: ranges }, o);
          out(`Tenant ${tenant} may now reach ${need(args, 'host').toLowerCase()} on port ${ports.join(', ')}${ranges.length ? ` (approved internal ranges: ${ranges.join(', ')})` : ''}.`);
          out(`Sealed as admin entry ${r.seq} of ${tenant}'s ledger. Allowlist: ${describe(r.state)}`);
          return 0;
        }
        case 'deny': {
          const host = str(args, 'host');
          const ports = portsOf(args, []);
          const r = await denyEgress(d, tenant, { ...(host === undefined ? {} : { host }), ports, actor, internalRanges: ranges }, o);
          out(`Removed from tenant ${tenant}'s egress: ${[host === undefined ? '' : `${host}${ports.length ? ` port ${ports.join(', ')}` : ''}`, ...ranges].filter(Boolean).join(', ')}.`);
          out(`Sealed as admin entry ${r.seq}. Allowlist: ${describe(r.state)}`);
          return 0;
        }
        case 'kill': {
          const r = await killEgress(d, tenant, { actor, reason: str(args, 'reason') ?? 'stopped by the operator' }, o);
          out(`Egress of tenant ${tenant} is STOPPED (kill switch sealed as admin entry ${r.seq}; ${r.destroyed} live connection(s) in this process cut).`);
          out(`Every new connection is refused until 'sios egress restore --tenant ${tenant}'.`);
          return 0;
        }
        case 'restore': {
          const r = await restoreEgress(d, tenant, { actor, reason: str(args, 'reason') ?? 'restored by the operator' }, o);
          out(`Kill switch of tenant ${tenant} lifted (sealed as admin entry ${r.seq}). Allowlist: ${describe(r.state)}`);
          return 0;
        }
      }
    } finally {
      await d.close();
    }
  },
};

function portsOf(args: ParsedArgs, dflt: number[]): number[] {
  const raw = (args.values['port'] as string[] | undefined) ?? [];
  if (raw.length === 0) return dflt;
  return raw.flatMap((s) => s.split(',')).map((s) => {
    if (!/^\d{1,5}$/.test(s.trim()) || Number(s) < 1 || Number(s) > 65535) throw new SiosError('ERR_INPUT', `--port '${s}' is not a port number (1-65535)`);
    return Number(s);
  });
}

function describe(s: EgressState): string {
  return s.policy.allow.length === 0 ? 'nothing (default deny)' : s.policy.allow.map((r) => `${r.host}:${r.ports.join('|')}`).join(', ');
}

function list(args: ParsedArgs): number {
  const want = str(args, 'tenant');
  const { states, problems } = readEgressStates(dataDir(args), nodeVerifyCrypto);
  const shown = want === undefined ? states : states.filter((s) => s.tenant === want);
  const bad = want === undefined ? problems : problems.filter((p) => p.tenant === want);
  if (want !== undefined && shown.length === 0 && bad.length === 0) throw new SiosError('ERR_NOT_FOUND', `no tenant '${want}' in ${dataDir(args)}; 'sios tenant list' shows the tenants`);
  if (flag(args, 'json')) {
    out(JSON.stringify({ tenants: shown, problems: bad }, null, 2));
  } else {
    out(table(['tenant', 'allowed', 'internal ranges', 'kill switch', 'sandbox', 'sealed at'], shown.map((s) => [
      s.tenant, describe(s), s.policy.internalRanges.join(', ') || '-', s.killed ? `ENGAGED (${s.killed.reason})` : 'off',
      s.optOut ? `OPTED OUT by ${s.optOut.operator}` : 'bubblewrap', s.seq === null ? 'default' : `entry ${s.seq}`,
    ])));
    for (const p of bad) out(`✘ ${p.tenant}: ${p.message}`);
  }
  return bad.length ? 1 : 0;
}
