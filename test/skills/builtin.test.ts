/** Built-in skills over a real tenant store and the hospital example policy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import * as nodeCrypto from 'node:crypto';
import { SiosError } from '../../src/errors.ts';
import { randomBytes } from '../../src/crypto/node.ts';
import { TenantStore } from '../../src/tenancy/store.ts';
import { TenantPolicy, type PolicyPrincipal } from '../../src/policy/engine.ts';
import { HOSPITAL, TRADING } from '../../src/policy/defaults.ts';
import { builtinSkillManifests, dryRunSkill, executeSkill, type SkillContext } from '../../src/skills/builtin.ts';

const skills = new Map(builtinSkillManifests().map((m) => [m.id, m]));
const sk = (id: string) => skills.get(id)!;
const policy = TenantPolicy.load(HOSPITAL);

function setup(): { store: TenantStore; ctx: (p: PolicyPrincipal, signal?: AbortSignal) => SkillContext } {
  const store = new TenantStore(new DatabaseSync(':memory:'), 'st-mary', randomBytes(32));
  // TenantStore.put refuses columns outside spec.columns, including the policy's rowClearanceColumn
  // ('level'); the store's copy of the spec declares it (reported to the lead).
  const spec = HOSPITAL.collections[0]!;
  store.defineCollection({ ...spec, columns: { ...spec.columns, level: { clearance: 1 } } });
  store.put('patients', { id: 'p1', name: 'Ada', ward: 'w1', medication: 'aspirin', diagnosis: 'flu', billing_code: 'B1', amount_due: 120, insurance_id: 'I-1', level: 1 });
  store.put('patients', { id: 'p2', name: 'Bob', ward: 'w2', medication: 'ibuprofen', diagnosis: 'sprain', billing_code: 'B2', amount_due: 80, insurance_id: 'I-2', level: 1 });
  store.put('patients', { id: 'p3', name: '=HYPERLINK("http://x")', ward: 'w1', medication: 'morphine', diagnosis: 'fracture', billing_code: 'B3', amount_due: 900, insurance_id: 'I-3', level: 1 });
  return { store, ctx: (principal, signal = new AbortController().signal) => ({ tenant: 'st-mary', principal, store, policy, signal }) };
}
const nurse: PolicyPrincipal = { id: 'nina', tenant: 'st-mary', role: 'nurse', clearance: 2, attrs: { ward: 'w1' } };
const doctor: PolicyPrincipal = { id: 'dr-who', tenant: 'st-mary', role: 'doctor', clearance: 3 };
const clerk: PolicyPrincipal = { id: 'carl', tenant: 'st-mary', role: 'billing-clerk', clearance: 3 };

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof SiosError && e.code === c && (re === undefined || re.test(e.message));

test('records.read returns only permitted rows and columns', async () => {
  const { ctx } = setup();
  const r = await executeSkill(sk('records.read'), ctx(nurse), { collection: 'patients' }) as { count: number; rows: Record<string, unknown>[] };
  assert.equal(r.count, 2);
  assert.deepEqual(r.rows.map((x) => x['id']), ['p1', 'p3']);
  for (const row of r.rows) assert.deepEqual(Object.keys(row).sort(), ['diagnosis', 'id', 'medication', 'name', 'ward']);
  const one = await executeSkill(sk('records.read'), ctx(nurse), { collection: 'patients', ids: ['p2', 'p1', 'missing'] }) as { rows: unknown[] };
  assert.equal(one.rows.length, 1, 'p2 (another ward) and a missing id are left out silently');
  const lim = await executeSkill(sk('records.read'), ctx(doctor), { collection: 'patients', limit: 2 }) as { rows: unknown[] };
  assert.equal(lim.rows.length, 2);
  await assert.rejects(executeSkill(sk('records.read'), ctx(nurse), { collection: 'patients', everything: true }), code('ERR_INPUT', /unknown field "everything"/));
  await assert.rejects(executeSkill(sk('records.read'), ctx(nurse), { collection: 'nothere' }), code('ERR_NOT_FOUND'));
});

test('records.read of an unknown collection is ERR_NOT_FOUND naming it, with or without ids', async () => {
  const { ctx, store } = setup();
  const unknown = code('ERR_NOT_FOUND', /^tenant st-mary has no collection 'nope'$/);
  await assert.rejects(executeSkill(sk('records.read'), ctx(nurse), { collection: 'nope' }), unknown);
  await assert.rejects(executeSkill(sk('records.read'), ctx(nurse), { collection: 'nope', ids: ['p1'] }), unknown);
  assert.throws(() => store.requireCollection('nope'), unknown);
  assert.throws(() => store.collection('nope'), unknown);
  assert.throws(() => store.all('nope'), unknown);
  store.requireCollection('patients');
});

test('records.write goes through authorizeWrite with the row before and after', async () => {
  const { ctx, store } = setup();
  const r = await executeSkill(sk('records.write'), ctx(nurse), { collection: 'patients', record: { id: 'p1', medication: 'paracetamol' } });
  assert.deepEqual(r, { collection: 'patients', id: 'p1', created: false, changed: ['medication'] });
  assert.equal(store.get('patients', 'p1')!['medication'], 'paracetamol');
  assert.equal(store.get('patients', 'p1')!['billing_code'], 'B1', 'a merge keeps the other columns');
  // Nurses may not write billing columns, nor rows of another ward, nor move a row to another ward.
  await assert.rejects(executeSkill(sk('records.write'), ctx(nurse), { collection: 'patients', record: { id: 'p1', billing_code: 'X' } }), code('ERR_FORBIDDEN', /billing_code/));
  await assert.rejects(executeSkill(sk('records.write'), ctx(nurse), { collection: 'patients', record: { id: 'p2', medication: 'x' } }), code('ERR_FORBIDDEN'));
  await assert.rejects(executeSkill(sk('records.write'), ctx(nurse), { collection: 'patients', record: { id: 'p1', ward: 'w2' } }), code('ERR_FORBIDDEN'));
  assert.equal(store.get('patients', 'p2')!['medication'], 'ibuprofen');
  // Dry run: what would change, no effect.
  const d = await dryRunSkill(sk('records.write'), ctx(doctor), { collection: 'patients', record: { id: 'p2', diagnosis: 'fracture' } });
  assert.deepEqual(d, { collection: 'patients', id: 'p2', created: false, changed: ['diagnosis'], dryRun: true });
  assert.equal(store.get('patients', 'p2')!['diagnosis'], 'sprain');
  // An aborted signal (revocation) stops the write before its effect.
  const ac = new AbortController();
  ac.abort(new SiosError('ERR_REVOKED', 'revoked'));
  await assert.rejects(executeSkill(sk('records.write'), ctx(doctor, ac.signal), { collection: 'patients', record: { id: 'p2', diagnosis: 'x' } }), code('ERR_REVOKED'));
  assert.equal(store.get('patients', 'p2')!['diagnosis'], 'sprain');
});

test('documents.generate renders only permitted data', async () => {
  const { ctx } = setup();
  const r = await executeSkill(sk('documents.generate'), ctx(nurse), { collection: 'patients', title: 'Ward | w1', columns: ['name', 'medication', 'billing_code'] }) as { document: string; rows: number };
  assert.equal(r.rows, 2);
  assert.match(r.document, /^# Ward \\\| w1\n/);
  assert.match(r.document, /\| name \| medication \|/);
  assert.ok(r.document.includes('aspirin'));
  assert.ok(!r.document.includes('B1') && !r.document.includes('billing_code') && !r.document.includes('Bob'));
  const t = await executeSkill(sk('documents.generate'), ctx(clerk), { collection: 'patients', title: 'Billing', format: 'text' }) as { document: string };
  assert.match(t.document, /billing_code: B2/);
  assert.ok(!t.document.includes('aspirin'));
});

test('records.export: the dry run predicts counts, columns and digest without the data; the export matches it', async () => {
  const { ctx } = setup();
  const d = await dryRunSkill(sk('records.export'), ctx(clerk), { collection: 'patients', format: 'csv' }) as Record<string, unknown>;
  assert.equal(d['rows'], 3);
  assert.deepEqual(d['columns'], ['amount_due', 'billing_code', 'id', 'insurance_id', 'name', 'ward']);
  assert.ok(!('content' in d));
  assert.ok(!JSON.stringify(d).includes('I-1'));
  const e = await executeSkill(sk('records.export'), ctx(clerk), { collection: 'patients', format: 'csv' }) as Record<string, unknown>;
  const content = e['content'] as string;
  assert.equal(e['sha256'], d['sha256']);
  assert.equal(e['bytes'], d['bytes']);
  assert.equal(nodeCrypto.createHash('sha256').update(content).digest('hex'), e['sha256']);
  assert.equal(content.split('\r\n')[0], 'amount_due,billing_code,id,insurance_id,name,ward');
  assert.ok(content.includes(`"'=HYPERLINK(""http://x"")"`), 'formula cells are neutralised and quoted');
  const j = await executeSkill(sk('records.export'), ctx(nurse), { collection: 'patients', format: 'jsonl', columns: ['name', 'insurance_id'] }) as Record<string, unknown>;
  assert.deepEqual(j['columns'], ['name'], 'an unreadable requested column is left out');
  assert.equal(j['content'], '{"name":"Ada"}\n{"name":"=HYPERLINK(\\"http://x\\")"}\n');
});

test('a skill context that mixes tenants is refused', async () => {
  const { ctx } = setup();
  const banker: PolicyPrincipal = { id: 'ann', tenant: 'northbank', role: 'analyst', clearance: 4, attrs: { desk: 'rates' } };
  await assert.rejects(executeSkill(sk('records.read'), ctx(banker), { collection: 'patients' }), code('ERR_FORBIDDEN', /mixes tenants/));
  await assert.rejects(executeSkill(sk('records.read'), { ...ctx(nurse), policy: TenantPolicy.load(TRADING) }, { collection: 'patients' }), code('ERR_FORBIDDEN'));
  await assert.rejects(dryRunSkill(sk('records.read'), ctx(nurse), { collection: 'patients' }), code('ERR_UNSUPPORTED'));
});
