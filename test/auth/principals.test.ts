import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SiosError } from '../../src/errors.ts';
import { PrincipalStore, SYSTEM_TENANT } from '../../src/auth/principals.ts';
import { Sessions } from '../../src/auth/sessions.ts';
import type { VerifiedAssertion } from '../../src/auth/passkeys.ts';
import { migrateAuth } from '../../src/auth/schema.ts';
import { tempAuthDb } from './store.ts';
import { TestClock } from './clock.ts';

const store = tempAuthDb();
after(() => store.close());
const clock = new TestClock();
const principals = new PrincipalStore(store.db, { clock: clock.fn });

const input = (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT';

test('principals: create, read, update, disable, delete', () => {
  const p = principals.create({ tenant: 'clinic-1', name: 'Dr Ada', role: 'member', clearance: 3, attributes: { ward: 'b2', desk: '7' } });
  assert.match(p.id, /^p_[0-9a-f]{32}$/);
  assert.deepEqual(principals.require(p.id), p);
  assert.deepEqual(p.attributes, { desk: '7', ward: 'b2' });
  assert.equal(principals.findByName('clinic-1', 'Dr Ada')?.id, p.id);
  const q = principals.update(p.id, { clearance: 1, attributes: { ward: 'c1' } });
  assert.equal(q.clearance, 1);
  assert.deepEqual(q.attributes, { ward: 'c1' });
  assert.equal(principals.disable(p.id).disabled, true);
  assert.throws(() => principals.requireActive(p.id), (e: unknown) => e instanceof SiosError && e.code === 'ERR_REVOKED');
  assert.throws(() => principals.create({ tenant: 'clinic-1', name: 'Dr Ada', role: 'auditor', clearance: 0 }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_CONFLICT');
  principals.delete(p.id);
  assert.equal(principals.get(p.id), undefined);
  assert.throws(() => principals.delete(p.id), (e: unknown) => e instanceof SiosError && e.code === 'ERR_NOT_FOUND');
});

test('principals: validation refuses bad roles, tenants, clearances, attributes and fields', () => {
  const ok = { tenant: 'clinic-1', name: 'x', role: 'member' as const, clearance: 0 };
  assert.throws(() => principals.create({ ...ok, clearance: 5 }), input);
  assert.throws(() => principals.create({ ...ok, clearance: 1.5 }), input);
  assert.throws(() => principals.create({ ...ok, role: 'root' as never }), input);
  assert.throws(() => principals.create({ ...ok, tenant: 'Clinic 1' }), input);
  assert.throws(() => principals.create({ ...ok, tenant: SYSTEM_TENANT }), input);
  assert.throws(() => principals.create({ ...ok, role: 'operator' }), input, 'operators live in the system tenant');
  assert.throws(() => principals.create({ ...ok, name: 'a\u0000b' }), input);
  assert.throws(() => principals.create({ ...ok, name: '' }), input);
  assert.throws(() => principals.create({ ...ok, attributes: { Ward: 'x' } }), input);
  assert.throws(() => principals.create({ ...ok, attributes: { ward: 1 as never } }), input);
  assert.throws(() => principals.create({ ...ok, isRoot: true } as never), input);
  const op = principals.create({ tenant: SYSTEM_TENANT, name: 'op', role: 'operator', clearance: 4 });
  assert.throws(() => principals.update(op.id, { role: 'member' }), input);
  assert.throws(() => principals.get('not-an-id'), input);
  migrateAuth(store.db); // idempotent
});

test('sessions refuse assertions that Passkeys did not verify, and unknown tokens', () => {
  const sessions = new Sessions(store.db, principals, { clock: clock.fn });
  const p = principals.create({ tenant: 'clinic-1', name: 'forger', role: 'member', clearance: 4 });
  const forged = { principal: p, credentialId: 'x', purpose: 'login', sessionId: null, context: null, counter: 1, verifiedAt: clock.now } as unknown as VerifiedAssertion;
  assert.throws(() => sessions.start(forged), (e: unknown) => e instanceof SiosError && e.code === 'ERR_AUTH' && e.details['reason'] === 'assertion-reused');
  for (const t of ['', 'siosS_0000000000000000_' + 'A'.repeat(43), 'garbage']) {
    assert.throws(() => sessions.authenticate(t), (e: unknown) => e instanceof SiosError && e.code === 'ERR_AUTH');
  }
  assert.throws(() => sessions.setPolicy('clinic-1', [{ idleSeconds: 60, absoluteSeconds: 30 }] as never), input);
});
