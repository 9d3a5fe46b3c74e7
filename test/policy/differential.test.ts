/**
 * Differential test: the fast path (slicing + Cedar partial evaluation + compiled residuals) must
 * give exactly what plain Cedar gives when every row and every column is evaluated one by one
 * against the whole tenant policy set (baseline included), under the SIOS decision rule
 * (allow = Cedar allow and no forbid policy errored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { TenantPolicy, type PolicyPrincipal, type Row } from '../../src/policy/engine.ts';
import { prng, largeTenant, largeTenantRows } from '../../src/policy/defaults.ts';
import type { CollectionSpec } from '../../src/policy/entities.ts';

type Rnd = () => number;
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const DESKS = ['d0', 'd1', 'd2', 'd3'];
const ROLES = ['r0', 'r1', 'r2', 'analyst', 'junior'];
const TAGS = ['a', 'b', 'c'];
const COLS: CollectionSpec = {
  name: 'trades', clearance: 1, idColumn: 'id', rowClearanceColumn: 'level',
  columns: {
    id: { clearance: 0, category: 'ref' }, desk: { clearance: 1, category: 'ref' }, price: { clearance: 1, category: 'trade' },
    notional: { clearance: 2, category: 'trade' }, tags: { clearance: 1, category: 'meta' }, counterparty: { clearance: 3, category: 'secret' },
    flagged: { clearance: 2, category: 'meta' }, level: { clearance: 0, category: 'ref' },
  },
};
const OTHER: CollectionSpec = { name: 'other', clearance: 0, idColumn: 'id', columns: { id: { clearance: 0 } } };
const DECL = {
  principal: { desk: 'String?', limit: 'Long?', desks: 'Set<String>?' },
  record: { desk: 'String?', notional: 'Long?', tags: 'Set<String>?', flagged: 'Boolean?' },
};
// Near 2^53 and near 2^63 so that arithmetic exercises the exact-value fallback and overflow errors.
const BIG = [0, 5, 999, 1_000_000, 2 ** 40, 2 ** 52, Number.MAX_SAFE_INTEGER, -(2 ** 45)];

function recordCond(r: Rnd): string {
  const n = pick(r, BIG);
  const k = pick(r, [2, 3, 1000, 1_000_000, 4_000_000_000]);
  const d = pick(r, DESKS);
  const forms = [
    () => `principal has desk && resource has desk && resource.desk == principal.desk`,
    () => `resource has desk && resource.desk == "${d}"`,
    () => `resource has desk && resource.desk != "${d}"`,
    () => `resource has desk && resource.desk like "d*${pick(r, ['0', '1', '', '9'])}"`,
    () => `resource has notional && resource.notional ${pick(r, ['<', '<=', '>', '>='])} ${n}`,
    () => `resource has notional && resource.notional * ${k} > ${n}`,
    () => `resource has notional && resource.notional + ${n} >= ${k}`,
    () => `resource has notional && resource.notional * ${k} != 7`,
    () => `resource has notional && -resource.notional - ${n} < ${k}`,
    () => `principal has limit && resource has notional && resource.notional <= principal.limit`,
    () => `principal has desks && resource has desk && principal.desks.contains(resource.desk)`,
    () => `resource has tags && resource.tags.containsAny(["${pick(r, TAGS)}", "${pick(r, TAGS)}"])`,
    () => `resource has tags && resource.tags.containsAll(["${pick(r, TAGS)}"])`,
    () => `resource has tags && resource.tags.isEmpty()`,
    () => `if resource has flagged then resource.flagged else ${pick(r, ['true', 'false'])}`,
    () => `resource.clearance <= principal.clearance - ${pick(r, [0, 1, 2])}`,
    () => `resource == Record::"trades/${Math.floor(r() * 12)}"`,
    () => `resource in Collection::"trades"`,
    () => `resource is Record`,
    () => `resource.collection == "trades"`,
    // Principal-only facts: partial evaluation folds these to a constant next to an unknown.
    () => `principal has desk && principal.desk == "${d}"`,
    () => `principal.clearance >= ${Math.floor(r() * 5)}`,
  ];
  const one = (): string => pick(r, forms)();
  const shape = r();
  if (shape < 0.5) return one();
  if (shape < 0.7) return `(${one()}) && (${one()})`;
  if (shape < 0.9) return `(${one()}) || (${one()})`;
  return `!(${one()})`;
}

function columnCond(r: Rnd): string {
  const forms = [
    () => `resource.category == "${pick(r, ['ref', 'trade', 'meta', 'secret'])}"`,
    () => `resource.name like "*${pick(r, ['e', 'o', 'ice', 'x'])}*"`,
    () => `["price", "desk", "${pick(r, ['notional', 'tags', 'level'])}"].contains(resource.name)`,
    () => `resource == Column::"trades/${pick(r, Object.keys(COLS.columns))}"`,
    () => `resource.clearance < principal.clearance`,
    () => `principal has desk && principal.desk == "${pick(r, DESKS)}"`,
  ];
  const one = (): string => pick(r, forms)();
  return r() < 0.6 ? one() : `(${one()}) ${pick(r, ['&&', '||'])} (${one()})`;
}

function randomPolicies(r: Rnd, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const effect = r() < 0.72 ? 'permit' : 'forbid';
    const prin = pick(r, [
      'principal', `principal in Role::"${pick(r, ROLES)}"`, `principal in Role::"${pick(r, ROLES)}"`,
      `principal == Principal::"u${Math.floor(r() * 6)}"`, `principal is Principal in Role::"${pick(r, ROLES)}"`,
    ]);
    const kind = r();
    let action: string, resource: string, cond: string;
    if (kind < 0.55) {
      action = pick(r, ['action == Action::"read"', 'action in [Action::"read", Action::"write"]', 'action == Action::"write"']);
      resource = pick(r, ['resource', 'resource in Collection::"trades"', 'resource is Record', 'resource is Record in Collection::"trades"', 'resource in Collection::"other"']);
      cond = recordCond(r);
    } else if (kind < 0.9) {
      action = pick(r, ['action == Action::"readColumn"', 'action in [Action::"readColumn", Action::"writeColumn"]', 'action == Action::"writeColumn"']);
      resource = pick(r, ['resource', 'resource in Collection::"trades"', 'resource is Column']);
      cond = columnCond(r);
    } else {
      action = 'action';
      resource = pick(r, ['resource', 'resource in Collection::"trades"']);
      cond = `principal.clearance >= ${Math.floor(r() * 5)}`;
    }
    const clause = r() < 0.15 ? 'unless' : 'when';
    out.push(`@id("p${i}") ${effect}(${prin}, ${action}, ${resource}) ${clause} { ${cond} };`);
  }
  return out.join('\n');
}

function randomPrincipal(r: Rnd, i: number): PolicyPrincipal {
  const attrs: Record<string, string | number | string[]> = {};
  if (r() < 0.8) attrs['desk'] = pick(r, DESKS);
  if (r() < 0.5) attrs['limit'] = pick(r, BIG);
  if (r() < 0.5) attrs['desks'] = DESKS.filter(() => r() < 0.5);
  const roles = ROLES.filter(() => r() < 0.3);
  return { id: `u${i}`, tenant: 'diff', role: pick(r, ROLES), roles, clearance: Math.floor(r() * 5) as 0 | 1 | 2 | 3 | 4, attrs };
}

function randomRow(r: Rnd, i: number): Row {
  const row: Record<string, unknown> = { id: i, price: Math.floor(r() * 1000), counterparty: 'cp', level: Math.floor(r() * 5) };
  if (r() < 0.85) row['desk'] = pick(r, DESKS);
  if (r() < 0.85) row['notional'] = pick(r, BIG) + (r() < 0.5 ? 0 : -Math.floor(r() * 3));
  if (r() < 0.6) row['tags'] = TAGS.filter(() => r() < 0.5);
  if (r() < 0.6) row['flagged'] = r() < 0.5;
  return row;
}

let refSeq = 0;
/** Plain Cedar, one request per row / column, whole policy set. */
function reference(tp: TenantPolicy, setId: string) {
  const effects = new Map<string, string>();
  for (const [id, text] of Object.entries(tp.fullPolicySet())) {
    const j = cedar.policyToJson(text);
    assert.equal(j.type, 'success');
    if (j.type === 'success') effects.set(id, j.json.effect);
  }
  const decide = (q: ReturnType<TenantPolicy['cedarRequest']>): boolean => {
    const a = cedar.statefulIsAuthorized({ ...q, preparsedPolicySetId: setId });
    assert.equal(a.type, 'success', JSON.stringify(a));
    if (a.type !== 'success') return false;
    const forbidErr = a.response.diagnostics.errors.some((e) => effects.get(e.policyId) === 'forbid');
    return a.response.decision === 'allow' && !forbidErr;
  };
  return {
    filter(p: PolicyPrincipal, coll: string, rows: readonly Row[], spec: CollectionSpec): Row[] {
      const cols = Object.keys(spec.columns).sort().filter((c) => decide(tp.cedarRequest(p, 'readColumn', coll, c)));
      const out: Row[] = [];
      if (cols.length === 0) return out; // documented: no readable column means no rows at all
      for (const row of rows) {
        if (!decide(tp.cedarRequest(p, 'read', coll, row))) continue;
        const o: Record<string, unknown> = {};
        for (const c of cols) if (Object.hasOwn(row, c)) o[c] = row[c];
        out.push(o);
      }
      return out;
    },
    write(p: PolicyPrincipal, coll: string, row: Row, changed: string[]): boolean {
      if (!decide(tp.cedarRequest(p, 'write', coll, row))) return false;
      return changed.every((c) => decide(tp.cedarRequest(p, 'writeColumn', coll, c)));
    },
  };
}

function prepare(tp: TenantPolicy): string {
  const id = `diff-ref-${++refSeq}`;
  const r = cedar.preparsePolicySet(id, { staticPolicies: tp.fullPolicySet() });
  assert.equal(r.type, 'success');
  return id;
}

test('fast path equals plain Cedar per-row evaluation on random policy sets, principals and rows', () => {
  let rowsCompared = 0, allowedRows = 0, deniedRows = 0, fallbacks = 0, writes = 0, writesAllowed = 0;
  for (let s = 1; s <= 40; s++) {
    const r = prng(1000 + s);
    const tp = TenantPolicy.load({ tenant: 'diff', version: `v${s}`, text: randomPolicies(r, 5 + Math.floor(r() * 40)), declarations: DECL, collections: [COLS, OTHER] });
    const ref = reference(tp, prepare(tp));
    const rows = Array.from({ length: 30 }, (_, i) => randomRow(r, i));
    for (let u = 0; u < 6; u++) {
      const p = randomPrincipal(r, u);
      const got = tp.filterRows(p, 'trades', rows);
      const want = ref.filter(p, 'trades', rows, COLS);
      assert.deepEqual(got, want, `policy set ${s}, principal ${JSON.stringify(p)}`);
      rowsCompared += rows.length;
      allowedRows += want.length;
      deniedRows += rows.length - want.length;
      for (const row of rows.slice(0, 8)) {
        const changed = Object.keys(COLS.columns).filter(() => r() < 0.3);
        const w = tp.authorizeWrite(p, 'trades', row, changed);
        assert.equal(w.allow, ref.write(p, 'trades', row, changed), `write: set ${s}, principal ${p.id}, row ${String(row['id'])}, columns ${changed.join(',')}`);
        writes++;
        if (w.allow) writesAllowed++;
      }
    }
    fallbacks += tp.stats().cedarFallbacks;
    assert.equal(tp.stats().uncompiled, 0, 'every residual in this grammar compiles');
  }
  // The comparison is only meaningful if both outcomes occur and the Cedar fallback ran.
  assert.ok(allowedRows > 200 && deniedRows > 200, `allowed ${allowedRows}, denied ${deniedRows}`);
  assert.ok(writesAllowed > 10 && writes - writesAllowed > 10, `writes ${writes}, allowed ${writesAllowed}`);
  assert.ok(fallbacks > 0, 'the exact-arithmetic fallback to Cedar was exercised');
  assert.ok(rowsCompared === 40 * 6 * 30);
});

test('fast path equals plain Cedar on the generated 1,000-policy bank', () => {
  const t = largeTenant(100, 7);
  const tp = TenantPolicy.load(t);
  assert.equal(tp.policyCount, 1002);
  const ref = reference(tp, prepare(tp));
  const rows = largeTenantRows(40, 12, 9);
  const r = prng(77);
  let allowed = 0;
  for (let i = 0; i < 6; i++) {
    const desk = `desk-${Math.floor(r() * 12)}`;
    const p: PolicyPrincipal = {
      id: `t${i}`, tenant: 'bigbank', role: pick(r, ['analyst', desk, 'risk-officer', 'ops']),
      roles: r() < 0.5 ? [desk] : r() < 0.5 ? ['junior', desk] : [], clearance: Math.floor(r() * 5) as 0 | 1 | 2 | 3 | 4, attrs: { desk },
    };
    const got = tp.filterRows(p, 'trades', rows);
    assert.deepEqual(got, ref.filter(p, 'trades', rows, t.collections[0]!), `principal ${JSON.stringify(p)}`);
    allowed += got.length;
  }
  assert.ok(allowed > 10, `some rows are readable (${allowed})`);
});
