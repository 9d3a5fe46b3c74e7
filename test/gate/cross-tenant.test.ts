/**
 * Cross-tenant attacks (issue 3): every tenant route tried with another tenant's token, with a
 * tampered tenant id, and with another tenant's collection and record ids. Each is refused, none
 * leaks data, and the attempts are sealed (the attacker's home ledger or the system ledger).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, lastEntry } from './fixture.ts';

const ROUTES: [string, (t: string) => string, unknown][] = [
  ['POST', (t) => `/v1/tenants/${t}/actions`, { brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'trades' } }],
  ['POST', (t) => `/v1/tenants/${t}/actions`, { brain: null, skill: 'records.read', args: { collection: 'trades' } }],
  ['GET', (t) => `/v1/tenants/${t}/records/trades`, undefined],
  ['PUT', (t) => `/v1/tenants/${t}/records/trades`, { record: { id: 'T-1', price: 1 } }],
  ['GET', (t) => `/v1/tenants/${t}/approvals`, undefined],
  ['POST', (t) => `/v1/tenants/${t}/approvals/AAAAAAAAAAAAAAAA/options`, {}],
  ['POST', (t) => `/v1/tenants/${t}/approvals/AAAAAAAAAAAAAAAA/approve`, { response: {} }],
  ['POST', (t) => `/v1/tenants/${t}/approvals/AAAAAAAAAAAAAAAA/reject`, { reason: 'x' }],
  ['GET', (t) => `/v1/tenants/${t}/ledger/events`, undefined],
  ['GET', (t) => `/v1/tenants/${t}/ledger/export`, undefined],
];

test('every tenant route refuses another tenant\'s credential and leaks nothing', async (t) => {
  const f = await fixture(t);
  const systemBefore = f.app.deployment.system.size;
  for (const [method, path, body] of ROUTES) {
    const r = await f.call(method, path('northbank'), f.tokens.nurse, body);
    assert.ok(r.status === 403 || r.status === 401, `${method} ${path('northbank')} with a st-mary token gave ${r.status}`);
    const text = JSON.stringify(r.body);
    for (const secret of ['Bank A', 'UST', 'counterparty', 'T-1"', 'kim']) assert.ok(!text.includes(secret), `${method} ${path('northbank')} leaked ${secret}`);
  }
  // the action attempts were sealed in the system ledger (operators see cross-tenant attempts)
  assert.ok(f.app.deployment.system.size > systemBefore, 'cross-tenant attempts are recorded');
  assert.equal(lastEntry(f, 'system').kind, 'refusal');
});

test('tampered tenant ids are rejected before anything is looked up', async (t) => {
  const f = await fixture(t);
  for (const bad of ['ST-MARY', 'st-mary%20', '..%2Fnorthbank', 'st_mary', 'northbank%00', '-x']) {
    const r = await f.call('POST', `/v1/tenants/${bad}/actions`, f.tokens.nurse, { brain: null, skill: 'records.read', args: { collection: 'patients' } });
    assert.ok(r.status === 404 || r.status === 400 || r.status === 403, `tenant id ${bad}: ${r.status}`);
  }
});

test('another tenant\'s collections and record ids are not reachable from inside a tenant', async (t) => {
  const f = await fixture(t);
  // st-mary has no 'trades' collection: the nurse's read of it is refused, not answered from northbank
  const r = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, { brain: null, skill: 'records.read', args: { collection: 'trades', ids: ['T-1'] } });
  assert.ok(r.status >= 400, JSON.stringify(r.body));
  assert.ok(!JSON.stringify(r.body).includes('Bank A'));
  // a northbank record id asked for in st-mary's patients returns nothing
  const r2 = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.doctor, { brain: null, skill: 'records.read', args: { collection: 'patients', ids: ['T-1'] } });
  assert.equal(r2.status, 200, JSON.stringify(r2.body));
  assert.equal((r2.body['result'] as { count: number }).count, 0);
  // a row ciphertext copied from northbank's database into st-mary's does not decrypt there
  const nb = f.app.deployment.tenantDb('northbank').prepare("SELECT sealed FROM data_records WHERE collection = 'trades' AND id = 'T-1'").get();
  f.app.deployment.tenantDb('st-mary').prepare("INSERT INTO data_records (collection, id, sealed) VALUES ('patients', 'P-9999', ?)").run(nb!['sealed'] as Uint8Array);
  assert.throws(() => f.app.deployment.store('st-mary').get('patients', 'P-9999'), /failed to decrypt/);
});

test('an auditor reads the ledger but cannot act', async (t) => {
  const f = await fixture(t);
  const ev = await f.call('GET', '/v1/tenants/st-mary/ledger/events', f.tokens.auditor);
  assert.equal(ev.status, 200);
  const act = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.auditor, { brain: null, skill: 'records.read', args: { collection: 'patients' } });
  assert.equal(act.status, 403, JSON.stringify(act.body));
});

test('the operator overview is for operators only and shows no tenant data', async (t) => {
  const f = await fixture(t);
  const { SoftPasskey } = await import('../../src/demo/soft-passkey.ts');
  const op = f.app.principals.create({ tenant: '_system', name: 'ops', role: 'operator', clearance: 4 });
  const key = new SoftPasskey('localhost', 'http://localhost');
  const code = f.app.passkeys.createEnrolment(op.id).code;
  await f.app.passkeys.verifyRegistration(key.create(await f.app.passkeys.registrationOptionsForEnrolment(code) as never));
  const login = await f.app.passkeys.verifyAuthentication(key.get(await f.app.passkeys.authenticationOptions({ purpose: 'login' }) as never), 'login');
  const session = f.app.sessions.start(login).token;
  const r = await f.call('GET', '/v1/operator/overview', session);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const body = JSON.stringify(r.body);
  for (const want of ['st-mary', 'northbank', 'sios.assistant', 'records.read', 'health']) assert.ok(body.includes(want), `overview lacks ${want}`);
  for (const secret of ['Ada Byron', 'Bank A', 'amoxicillin']) assert.ok(!body.includes(secret), `overview leaks ${secret}`);
  // a tenant member's token is refused
  assert.notEqual((await f.call('GET', '/v1/operator/overview', f.tokens.nurse)).status, 200);
  // and the operator session reaches no tenant's records
  assert.equal((await f.call('GET', '/v1/tenants/st-mary/records/patients', session)).status, 403);
});
