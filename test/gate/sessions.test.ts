/**
 * Stale sessions through the real API (issue 3): a signed-in nurse acts, goes idle past her
 * clearance's idle timeout (injected clock), is asked for step-up, confirms with her passkey and
 * continues; every one of those events is sealed in her tenant's ledger; her session cannot be used
 * on another tenant; a session past its absolute lifetime is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, lastEntry, type Fixture } from './fixture.ts';
import { SoftPasskey } from '../../src/demo/soft-passkey.ts';

async function post(f: Fixture, url: string, body: unknown, token?: string) {
  const r = await fetch(f.server.url + url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
}

test('idle timeout demands step-up; step-up, refusals and sign-in are sealed in the tenant ledger', async (t) => {
  let now = Date.now();
  const f = await fixture(t, { authClock: () => now });
  const key = new SoftPasskey('localhost', 'http://localhost');
  const code = f.app.passkeys.createEnrolment(f.ids.nurse).code;
  const ro = await post(f, '/v1/auth/register/options', { enrolment: code });
  assert.equal((await post(f, '/v1/auth/register/verify', { response: key.create(ro.body['options'] as never) })).status, 200);
  assert.equal(lastEntry(f, 'st-mary').body['action'], 'passkey-registered');
  const lo = await post(f, '/v1/auth/login/options', {});
  const login = await post(f, '/v1/auth/login/verify', { response: key.get(lo.body['options'] as never) });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(lastEntry(f, 'st-mary').body['action'], 'login');
  const session = String(login.body['token']);
  const write = { brain: null, skill: 'records.write', args: { collection: 'patients', record: { id: 'P-1001', medication: 'ibuprofen 200 mg' } } };
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', session, write)).status, 200);
  // 20 minutes idle: clearance-2 work needs a fresh confirmation
  now += 20 * 60_000;
  const stale = await f.call('POST', '/v1/tenants/st-mary/actions', session, write);
  assert.equal(stale.status, 401, JSON.stringify(stale.body));
  assert.equal((stale.body['error'] as { reason: string }).reason, 'step-up-required');
  const refusal = lastEntry(f, 'st-mary');
  assert.equal(refusal.kind, 'refusal');
  assert.equal(refusal.body['reason'], 'step-up-required');
  // step up with the passkey, then the same action passes
  const so = await post(f, '/v1/auth/step-up/options', {}, session);
  const up = await post(f, '/v1/auth/step-up/verify', { response: key.get(so.body['options'] as never) }, session);
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(lastEntry(f, 'st-mary').body['action'], 'step-up');
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', session, write)).status, 200);
  // the session never reaches another tenant, even fresh
  assert.equal((await f.call('POST', '/v1/tenants/northbank/actions', session, { brain: null, skill: 'records.read', args: { collection: 'trades' } })).status, 403);
  // switching needs a passkey of a principal in the target tenant: the nurse has none there
  const sw = await post(f, '/v1/auth/tenant/options', { tenant: 'northbank' }, session);
  if (sw.status === 200) {
    const done = await post(f, '/v1/auth/tenant/verify', { response: key.get(sw.body['options'] as never) }, session);
    assert.notEqual(done.status, 200, 'a st-mary passkey must not open northbank');
  }
  // past the absolute lifetime the session is over
  now += 13 * 3600_000;
  const over = await f.call('POST', '/v1/tenants/st-mary/actions', session, write);
  assert.equal(over.status, 401);
});
