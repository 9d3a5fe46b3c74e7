/** The example tenants (src/policy/defaults.ts): rows filtered, columns removed, clearance caps, writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TenantPolicy, type PolicyPrincipal } from '../../src/policy/engine.ts';
import { HOSPITAL, TRADING } from '../../src/policy/defaults.ts';
import { SiosError } from '../../src/errors.ts';

const hospital = TenantPolicy.load(HOSPITAL);
const trading = TenantPolicy.load(TRADING);

const patients = [
  { id: 1, name: 'Ada', ward: 'w1', medication: 'aspirin', diagnosis: 'flu', billing_code: 'B1', amount_due: 120, insurance_id: 'I-1', level: 1 },
  { id: 2, name: 'Bob', ward: 'w2', medication: 'ibuprofen', diagnosis: 'sprain', billing_code: 'B2', amount_due: 80, insurance_id: 'I-2', level: 1 },
  { id: 3, name: 'Cy', ward: 'w1', medication: 'morphine', diagnosis: 'fracture', billing_code: 'B3', amount_due: 900, insurance_id: 'I-3', level: 3 },
  { id: 4, name: 'Di', medication: 'none', diagnosis: 'unknown', billing_code: 'B4', amount_due: 0, insurance_id: 'I-4', level: 1 },
];
const nurse: PolicyPrincipal = { id: 'nina', tenant: 'st-mary', role: 'nurse', clearance: 2, attrs: { ward: 'w1' } };
const doctor: PolicyPrincipal = { id: 'dr-who', tenant: 'st-mary', role: 'doctor', clearance: 3 };
const clerk: PolicyPrincipal = { id: 'carl', tenant: 'st-mary', role: 'billing-clerk', clearance: 3 };

test('a nurse sees her own ward, medication but not billing; no error reveals the rest', () => {
  const got = hospital.filterRows(nurse, 'patients', patients);
  // Row 2 is another ward, row 3 needs clearance 3, row 4 has no ward: all silently left out.
  assert.deepEqual(got, [{ id: 1, name: 'Ada', ward: 'w1', medication: 'aspirin', diagnosis: 'flu' }]);
  assert.deepEqual(hospital.readableColumns(nurse, 'patients'), ['diagnosis', 'id', 'medication', 'name', 'ward']);
});

test('a nurse without a ward attribute sees no row; an agency nurse loses the diagnosis column', () => {
  assert.deepEqual(hospital.filterRows({ ...nurse, attrs: {} }, 'patients', patients), []);
  const agency = { ...nurse, roles: ['agency'] };
  assert.deepEqual(hospital.filterRows(agency, 'patients', patients), [{ id: 1, name: 'Ada', ward: 'w1', medication: 'aspirin' }]);
});

test('a doctor sees every patient and more columns, never the insurance id', () => {
  const got = hospital.filterRows(doctor, 'patients', patients);
  assert.equal(got.length, 4);
  for (const r of got) {
    assert.ok(!('insurance_id' in r));
    assert.ok('billing_code' in r && 'diagnosis' in r && 'medication' in r);
  }
  // At clearance 2 the level-3 row disappears and so do level-3 columns (none readable here anyway).
  assert.deepEqual(hospital.filterRows({ ...doctor, clearance: 2 }, 'patients', patients).map((r) => r['id']), [1, 2, 4]);
});

test('a billing clerk sees billing and identity columns, not clinical ones', () => {
  const got = hospital.filterRows(clerk, 'patients', patients);
  assert.equal(got.length, 4);
  assert.deepEqual(Object.keys(got[2]!).sort(), ['amount_due', 'billing_code', 'id', 'insurance_id', 'name', 'ward']);
  // Clearance 2 removes the level-3 insurance column and the level-3 row.
  const low = hospital.filterRows({ ...clerk, clearance: 2 }, 'patients', patients);
  assert.deepEqual(low.map((r) => r['id']), [1, 2, 4]);
  assert.ok(low.every((r) => !('insurance_id' in r)));
});

test('columns outside the collection spec are never returned', () => {
  const got = hospital.filterRows(doctor, 'patients', [{ ...patients[0]!, secret_note: 'x' }]);
  assert.equal(got.length, 1);
  assert.ok(!('secret_note' in got[0]!));
});

test('an analyst sees trades of their own desk only, without counterparty or jumbo trades', () => {
  const trades = [
    { id: 't1', desk: 'rates', instrument: 'UST10', side: 'buy', quantity: 10, price: 99, notional: 1_000_000, trader: 'x', counterparty: 'CP1', level: 1 },
    { id: 't2', desk: 'fx', instrument: 'EURUSD', side: 'sell', quantity: 5, price: 1, notional: 500_000, trader: 'y', counterparty: 'CP2', level: 1 },
    { id: 't3', desk: 'rates', instrument: 'UST30', side: 'buy', quantity: 1, price: 98, notional: 250_000_000, trader: 'x', counterparty: 'CP3', level: 1 },
  ];
  const analyst: PolicyPrincipal = { id: 'ann', tenant: 'northbank', role: 'analyst', clearance: 4, attrs: { desk: 'rates' } };
  const got = trading.filterRows(analyst, 'trades', trades);
  assert.deepEqual(got.map((r) => r['id']), ['t1']);
  assert.ok(!('counterparty' in got[0]!));
  assert.equal(got[0]!['notional'], 1_000_000);
  const risk: PolicyPrincipal = { id: 'rita', tenant: 'northbank', role: 'risk-officer', clearance: 3 };
  const all = trading.filterRows(risk, 'trades', trades);
  assert.deepEqual(all.map((r) => r['id']), ['t1', 't2', 't3']);
  assert.equal(all[2]!['counterparty'], 'CP3');
});

test('the clearance cap cannot be overridden by a permissive tenant policy', () => {
  const permissive = TenantPolicy.load({
    ...HOSPITAL, version: 'permit-all',
    text: '@id("everything") permit(principal, action, resource);',
  });
  const low: PolicyPrincipal = { id: 'v', tenant: 'st-mary', role: 'visitor', clearance: 1 };
  const got = permissive.filterRows(low, 'patients', patients);
  // Only level-1 rows; only level-1 columns (identity).
  assert.deepEqual(got, [
    { id: 1, name: 'Ada', ward: 'w1' }, { id: 2, name: 'Bob', ward: 'w2' }, { id: 4, name: 'Di' },
  ]);
  const w = permissive.authorizeWrite(low, 'patients', patients[2]!, ['name']);
  assert.equal(w.allow, false);
  assert.match(w.allow ? '' : w.reason, /higher clearance/);
  const inv = permissive.decideInvoke({ principal: low, skill: { name: 'x', risk: 'read', clearance: 2 }, at: 0, rate: { count: 0, limit: 1 } });
  assert.equal(inv.decision, 'deny');
  assert.deepEqual(inv.policyIds, ['sios.clearance.skill']);
  // A clearance-4 principal gets everything from the same policy.
  assert.equal(permissive.filterRows({ ...low, clearance: 4 }, 'patients', patients).length, 4);
});

test('writes: row and column rights both needed; "before" blocks moving a row out of reach', () => {
  assert.deepEqual(hospital.authorizeWrite(nurse, 'patients', patients[0]!, ['medication']), { allow: true, policyIds: ['nurse.write.medication', 'nurse.write.own-ward'] });
  const col = hospital.authorizeWrite(nurse, 'patients', patients[0]!, ['medication', 'amount_due']);
  assert.equal(col.allow, false);
  assert.match(col.allow ? '' : col.reason, /column "amount_due".*default deny/);
  const row = hospital.authorizeWrite(nurse, 'patients', patients[1]!, ['medication']);
  assert.equal(row.allow, false);
  // Moving a w1 patient to w2 is allowed on the old row but not on the new one.
  const moved = hospital.authorizeWrite(nurse, 'patients', { ...patients[0]!, ward: 'w2' }, ['ward'], { before: patients[0]! });
  assert.equal(moved.allow, false);
  const doc = hospital.authorizeWrite(doctor, 'patients', patients[1]!, ['billing_code']);
  assert.equal(doc.allow, false, 'doctors write clinical columns only');
  assert.equal(hospital.authorizeWrite(doctor, 'patients', patients[1]!, ['diagnosis']).allow, true);
  assert.throws(() => hospital.authorizeWrite(doctor, 'patients', patients[1]!, ['nope']), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT' && /not declared/.test(e.message));
});

test('caching: a second read hits the cache; a changed principal fact is a different entry', () => {
  const tp = TenantPolicy.load(HOSPITAL);
  tp.filterRows(nurse, 'patients', patients);
  const s1 = tp.stats();
  tp.filterRows(nurse, 'patients', patients);
  const s2 = tp.stats();
  assert.equal(s2.cacheMisses, s1.cacheMisses);
  assert.ok(s2.cacheHits > s1.cacheHits);
  // Same id, other ward: must not reuse the w1 decision.
  assert.deepEqual(tp.filterRows({ ...nurse, attrs: { ward: 'w2' } }, 'patients', patients).map((r) => r['id']), [2]);
  assert.ok(tp.stats().cacheMisses > s2.cacheMisses);
});

test('bad inputs are refused loudly, not silently dropped', () => {
  const isInput = (re: RegExp) => (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT' && re.test(e.message);
  assert.throws(() => hospital.filterRows(nurse, 'patients', [{ ...patients[0]!, ward: 7 }]), isInput(/attribute "ward" must be a String/));
  assert.throws(() => hospital.filterRows(nurse, 'patients', [{ ...patients[0]!, level: 9 }]), isInput(/clearance level 0\.\.4/));
  assert.throws(() => hospital.filterRows(nurse, 'patients', [{ name: 'no id', level: 1 }]), isInput(/id column "id"/));
  assert.throws(() => hospital.filterRows({ ...nurse, attrs: { ward: 'w1', shoe: 'x' } }, 'patients', patients), isInput(/undeclared attribute "shoe"/));
  assert.throws(() => hospital.filterRows({ ...nurse, clearance: 5 as 4 }, 'patients', patients), isInput(/clearance level/));
  assert.throws(() => hospital.filterRows({ ...nurse, tenant: 'northbank' }, 'patients', patients), (e: unknown) => e instanceof SiosError && e.code === 'ERR_FORBIDDEN');
  assert.throws(() => hospital.filterRows(nurse, 'nope', patients), (e: unknown) => e instanceof SiosError && e.code === 'ERR_NOT_FOUND');
});
