/** The compiled residual evaluator on its own, and the Cedar fallback when a residual cannot be compiled. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { compileExpressionForTest, CSet, EntityRef, entityKey, NeedsCedar, type EvalEnv } from '../../src/policy/residual.ts';
import { TenantPolicy } from '../../src/policy/engine.ts';
import { HOSPITAL } from '../../src/policy/defaults.ts';

const resource = { type: 'Record', id: 'c/1', key: entityKey('Record', 'c/1'), attrs: new Map<string, import('../../src/policy/residual.ts').CVal>([['s', 'a*b'], ['n', 9007199254740991], ['t', new CSet(['x', 'y'])]]), ancestors: new Set([entityKey('Collection', 'c')]) };
const env: EvalEnv = { resource, store: new Map() };
const R = { unknown: [{ Value: 'resource' }] };

function ev(e: object): unknown {
  const f = compileExpressionForTest(e as never);
  assert.ok(f !== null);
  return f(env);
}

test('like matches Unicode characters with wildcards, as Cedar does', () => {
  const cases: [string, ('Wildcard' | { Literal: string })[], boolean][] = [
    ['ab', ['Wildcard'], true], ['', ['Wildcard'], true], ['ab', [{ Literal: 'a' }, 'Wildcard'], true],
    ['ab', [{ Literal: 'b' }, 'Wildcard'], false], ['aXbYb', [{ Literal: 'a' }, 'Wildcard', { Literal: 'b' }], true],
    ['a*b', [{ Literal: 'a*b' }], true], ['axb', [{ Literal: 'a*b' }], false], ['€x😀', ['Wildcard', { Literal: '😀' }], true],
    ['ab', [{ Literal: 'a' }, 'Wildcard', { Literal: 'b' }, 'Wildcard', { Literal: 'c' }], false],
  ];
  for (const [s, pattern, want] of cases) {
    const f = compileExpressionForTest({ like: { left: { Value: s }, pattern } } as never)!;
    const got = f(env);
    // Cross-check with Cedar itself on the same pattern.
    const text = pattern.map((p) => (p === 'Wildcard' ? '*' : p.Literal.replace(/\*/g, '\\*'))).join('');
    const c = cedar.isAuthorized({
      principal: { type: 'A', id: 'a' }, action: { type: 'Action', id: 'x' }, resource: { type: 'A', id: 'b' }, context: {}, entities: [],
      policies: { staticPolicies: `permit(principal, action, resource) when { ${JSON.stringify(s)} like "${text}" };` },
    });
    assert.equal(c.type, 'success');
    assert.equal(got, want, `${s} like ${text}`);
    assert.equal(c.type === 'success' && c.response.decision === 'allow', want, `cedar: ${s} like ${text}`);
  }
});

test('equality is by type and value; sets compare as sets', () => {
  assert.equal(ev({ '==': { left: { Value: 1 }, right: { Value: '1' } } }), false);
  assert.equal(ev({ '==': { left: { '.': { left: R, attr: 't' } }, right: { Set: [{ Value: 'y' }, { Value: 'x' }, { Value: 'x' }] } } }), true);
  assert.equal(ev({ '==': { left: R, right: { Value: { __entity: { type: 'Record', id: 'c/1' } } } } }), true);
  assert.equal(ev({ in: { left: R, right: { Value: { __entity: { type: 'Collection', id: 'c' } } } } }), true);
  assert.equal(ev({ in: { left: R, right: { Value: { __entity: { type: 'Collection', id: 'd' } } } } }), false);
  assert.ok(ev({ Value: { __entity: { type: 'T', id: 'x' } } }) instanceof EntityRef);
});

test('Longs: beyond 2^53 defers to Cedar, beyond i64 is a Cedar error', () => {
  const plus = compileExpressionForTest({ '+': { left: { '.': { left: R, attr: 'n' } }, right: { Value: 1 } } } as never)!;
  assert.throws(() => plus(env), NeedsCedar);
  const times = compileExpressionForTest({ '*': { left: { '.': { left: R, attr: 'n' } }, right: { Value: 4096 } } } as never)!;
  assert.throws(() => times(env), (e: unknown) => !(e instanceof NeedsCedar) && e instanceof Error);
  assert.equal(ev({ '-': { left: { Value: 5 }, right: { Value: 7 } } }), -2);
});

test('forms outside the compiled subset are reported, not guessed', () => {
  assert.equal(compileExpressionForTest({ lessThan: [{ Value: { __extn: { fn: 'decimal', arg: '1.0' } } }, { Value: 1 }] } as never), null);
  assert.equal(compileExpressionForTest({ getTag: { left: R, right: { Value: 'x' } } } as never), null);
  assert.equal(compileExpressionForTest({ Slot: '?principal' } as never), null);
});

test('a residual that cannot be compiled is evaluated by Cedar per row, with the same result', () => {
  const tp = TenantPolicy.load({
    ...HOSPITAL, version: 'decimal',
    text: `@id("cols") permit(principal, action == Action::"readColumn", resource);
           @id("dec") permit(principal, action == Action::"read", resource)
             when { (if resource has ward then decimal("1.5") else decimal("2.5")).lessThan(decimal("2.0")) };`,
  });
  const p = { id: 'x', tenant: 'st-mary', role: 'any', clearance: 4 as const };
  const rows = [{ id: 1, ward: 'w1', level: 0 }, { id: 2, level: 0 }, { id: 3, ward: 'w2', level: 0 }];
  assert.deepEqual(tp.filterRows(p, 'patients', rows).map((r) => r['id']), [1, 3]);
  const s = tp.stats();
  assert.equal(s.uncompiled, 1);
  assert.equal(s.cedarFallbacks, 3);
});

test('a forbid whose residual errors before a folded false still denies (no unsafe short-cut)', () => {
  const tp = TenantPolicy.load({
    tenant: 't', version: '1', declarations: { principal: { ward: 'String?' }, record: { n: 'Long?' } },
    collections: [{ name: 'c', clearance: 0, idColumn: 'id', columns: { id: { clearance: 0 } } }],
    text: `@id("all") permit(principal, action, resource);
           @id("f") forbid(principal, action == Action::"read", resource)
             when { resource has n && resource.n * 4000000000 != 7 && principal has ward && principal.ward == "zz" };`,
  });
  const p = { id: 'u', tenant: 't', role: 'r', clearance: 4 as const, attrs: { ward: 'w1' } };
  // n = 2^52: the multiplication overflows i64, the forbid errors, the row is denied (fail closed).
  const rows = [{ id: 1, n: 1 }, { id: 2, n: 2 ** 52 }, { id: 3 }];
  assert.deepEqual(tp.filterRows(p, 'c', rows).map((r) => r['id']), [1, 3]);
  const q = tp.cedarRequest(p, 'read', 'c', rows[1]!);
  const a = cedar.isAuthorized({ ...q, policies: { staticPolicies: tp.fullPolicySet() } });
  assert.ok(a.type === 'success' && a.response.diagnostics.errors.some((e) => e.policyId === 'f'));
});
