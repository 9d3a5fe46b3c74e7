/**
 * Policy engine benchmark: row/column filtering of a 100-row, 10-column read in a tenant with
 * 1,000 Cedar policies, beside plain Cedar calls measured in the same run.
 *   node bench/policy.ts            (about 30 s on the 2-core reference machine)
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { TenantPolicy, type PolicyPrincipal } from '../src/policy/engine.ts';
import { largeTenant, largeTenantRows, LARGE_COLUMNS, prng } from '../src/policy/defaults.ts';
import { loadPolicySet, slice } from '../src/policy/policyset.ts';
import { stats, printTable } from './lib.ts';

function time(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const rowsOut: string[][] = [];
function row(what: string, s: { p50: number; p95: number; p99: number; n: number }, note = ''): void {
  rowsOut.push([what, s.p50.toFixed(3), s.p95.toFixed(3), s.p99.toFixed(3), String(s.n), note]);
}

const DESKS = 100;
const tenant = largeTenant(DESKS, 1);
const loadMs: number[] = [];
let tp!: TenantPolicy;
for (let i = 0; i < 3; i++) loadMs.push(time(() => { tp = TenantPolicy.load(tenant); }));
row(`load + validate ${tp.policyCount} policies`, stats(loadMs), 'once per policy version');

const rows = largeTenantRows(100, 20, 3); // 100 rows over 20 desks: a principal sees ~5 %
const rnd = prng(5);
const principals: PolicyPrincipal[] = [];
for (let i = 0; i < 40; i++) {
  const desk = `desk-${Math.floor(rnd() * 20)}`;
  const kind = i % 4;
  principals.push({
    id: `user-${i}`, tenant: 'bigbank', role: kind === 0 ? 'analyst' : kind === 3 ? 'risk-officer' : desk,
    roles: kind === 1 ? ['junior'] : kind === 0 ? [desk] : [], clearance: (1 + (i % 4)) as 1 | 2 | 3 | 4, attrs: { desk },
  });
}

// Cold: first read by each principal (slice, partial evaluation, compile, column decisions).
const cold: number[] = [];
for (const p of principals) cold.push(time(() => tp.filterRows(p, 'trades', rows)));
row('filterRows 100x10, cold (cache miss)', stats(cold), 'once per principal+collection+version');

// Hot: the authorised read the API goal is about.
const hot: number[] = [];
let returned = 0;
for (let i = 0; i < 20_000; i++) {
  const p = principals[i % principals.length]!;
  hot.push(time(() => { returned += tp.filterRows(p, 'trades', rows).length; }));
}
row('filterRows 100x10, warm (cache hit)', stats(hot), `avg ${(returned / 20_000).toFixed(1)} rows returned`);

// Writes (warm): row + 2 columns.
const wr: number[] = [];
for (let i = 0; i < 5000; i++) {
  const p = principals[i % principals.length]!;
  wr.push(time(() => tp.authorizeWrite(p, 'trades', rows[i % rows.length]!, ['price', 'quantity'])));
}
row('authorizeWrite row + 2 columns, warm', stats(wr));

// decideInvoke (Cedar on the per-skill slice).
const inv: number[] = [];
for (let i = 0; i < 2000; i++) {
  const p = principals[i % principals.length]!;
  const desk = (p.attrs as { desk: string }).desk;
  inv.push(time(() => tp.decideInvoke({ principal: { ...p, role: desk }, skill: { name: `order-${desk}`, risk: 'write', clearance: 1 }, at: 1_790_000_000_000, rate: { count: 1, limit: 10 }, args: { notional: 1000 } })));
}
row('decideInvoke (Cedar, per-skill slice)', stats(inv));

// Plain Cedar, one statefulIsAuthorized call, same machine, same run.
const set = loadPolicySet(tenant.text, tp.schema);
const p0 = principals[1]!;
const q = tp.cedarRequest(p0, 'read', 'trades', rows[0]!);
function plain(ids: string[], label: string, n: number): void {
  const id = `bench-${label}`;
  const all = tp.fullPolicySet();
  const r = cedar.preparsePolicySet(id, { staticPolicies: Object.fromEntries(ids.map((k) => [k, all[k]!])) });
  if (r.type !== 'success') throw new Error('preparse failed');
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(time(() => cedar.statefulIsAuthorized({ ...q, preparsedPolicySetId: id })));
  row(`plain Cedar isAuthorized, ${ids.length} policies`, stats(xs), 'one row, one decision');
}
const allIds = set.policies.map((p) => p.id);
plain(allIds.slice(0, 20), '20', 2000);
plain(allIds, '1000', 300);
const readSlice = slice(set, 'read', 'trades').map((p) => p.id);
plain(readSlice, 'slice', 1000);
rowsOut[rowsOut.length - 1]![0] = `plain Cedar, (read, trades) slice: ${readSlice.length} policies`;

// Naive: one Cedar call per row and per column on the whole set.
const naive: number[] = [];
const fid = 'bench-1000';
for (let k = 0; k < 3; k++) {
  naive.push(time(() => {
    for (const c of LARGE_COLUMNS) cedar.statefulIsAuthorized({ ...tp.cedarRequest(p0, 'readColumn', 'trades', c), preparsedPolicySetId: fid });
    for (const r of rows) cedar.statefulIsAuthorized({ ...tp.cedarRequest(p0, 'read', 'trades', r), preparsedPolicySetId: fid });
  }));
}
row('naive: Cedar per row + per column, 1000 pol.', stats(naive), '110 calls');

const st = tp.stats();
printTable(
  `SIOS policy engine: @cedar-policy/cedar-wasm ${cedar.getCedarVersion()}, Node ${process.version}, ${tp.policyCount} policies, 100 rows x ${LARGE_COLUMNS.length} columns (times in ms)`,
  ['measure', 'p50', 'p95', 'p99', 'n', 'note'], rowsOut,
);
console.log(`engine cache hits ${st.cacheHits}, misses ${st.cacheMisses}, Cedar fallbacks ${st.cedarFallbacks}, uncompiled residual sets ${st.uncompiled}`);
