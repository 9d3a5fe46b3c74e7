/**
 * Every refusal path of the gate, against the real HTTP server on loopback: each is a clear error
 * to the caller AND a sealed refusal in the right ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, lastEntry } from './fixture.ts';
import { SoftPasskey } from '../../src/demo/soft-passkey.ts';

const read = { brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'patients' } };

test('allowed read: only permitted rows and columns, intent and outcome sealed', async (t) => {
  const f = await fixture(t);
  const r = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rows = (r.body['result'] as { rows: Record<string, unknown>[] }).rows;
  assert.deepEqual(rows.map((x) => x['id']).sort(), ['P-1001', 'P-1002']);   // own ward, clearance ≤ 2
  for (const row of rows) { assert.ok(!('billing_code' in row)); assert.ok(!('insurance_id' in row)); assert.ok('medication' in row); }
  const e = lastEntry(f, 'st-mary');
  assert.equal(e.kind, 'outcome');
  assert.equal((e.body['intent'] as { seq: number }).seq, r.body['intent']);
});

test('refusals: unknown skill, bad arguments, ungranted brain, wrong version, policy, clearance — each sealed', async (t) => {
  const f = await fixture(t);
  const cases: [string, unknown, number, string][] = [
    ['unknown skill', { brain: 'sios.assistant@1.0.0', skill: 'records.purge', args: {} }, 403, 'ERR_FORBIDDEN'],
    ['unknown skill, person', { brain: null, skill: 'records.purge', args: {} }, 404, 'ERR_NOT_FOUND'],
    ['ill-typed arguments', { brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'Patients!; DROP' } }, 400, 'ERR_INPUT'],
    ['extra argument', { brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'patients', sql: 'x' } }, 400, 'ERR_INPUT'],
    ['brain not granted', { brain: 'sios.obedient@1.0.0', skill: 'records.read', args: { collection: 'patients' } }, 403, 'ERR_FORBIDDEN'],
    ['other version', { brain: 'sios.assistant@2.0.0', skill: 'records.read', args: { collection: 'patients' } }, 403, 'ERR_FORBIDDEN'],
    ['above clearance', { brain: 'sios.assistant@1.0.0', skill: 'records.export', args: { collection: 'patients', format: 'csv' } }, 403, 'ERR_FORBIDDEN'],
  ];
  for (const [name, body, status, code] of cases) {
    const before = f.app.deployment.ledger('st-mary').size;
    const r = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, body);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal((r.body['error'] as { code: string }).code, code, name);
    assert.ok(((r.body['error'] as { message: string }).message).length > 20, `${name}: the message says what to do`);
    assert.equal(f.app.deployment.ledger('st-mary').size, before + 1, `${name}: one sealed refusal`);
    const e = lastEntry(f, 'st-mary');
    assert.equal(e.kind, 'refusal', name);
    assert.equal(e.body['code'], code, name);
  }
});

test('rate limits: token buckets per credential hold exactly; the excess is refused and sealed', async (t) => {
  const f = await fixture(t);
  f.app.limiter.setLimits('st-mary', { perCredential: { capacity: 5, refillPerSecond: 0 }, perSkill: { capacity: 1000, refillPerSecond: 0 }, perTenant: { capacity: 1000, refillPerSecond: 0 } });
  const results = await Promise.all(Array.from({ length: 12 }, () => f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)));
  assert.equal(results.filter((r) => r.status === 200).length, 5);
  const limited = results.filter((r) => r.status === 429);
  assert.equal(limited.length, 7);
  assert.equal((limited[0]!.body['error'] as { code: string }).code, 'ERR_RATE_LIMITED');
  // another credential has its own bucket
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.doctor, read)).status, 200);
});

test('high impact: approving brain veto is refused and sealed; approval, expiry, four eyes and replay', async (t) => {
  let now = Date.now();
  const f = await fixture(t, { now: () => now, approvalTtlMs: 60_000 });
  // the reviewer vetoes an export that would include billing columns
  const veto = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.doctor, { brain: 'sios.assistant@1.0.0', skill: 'records.export', args: { collection: 'patients', format: 'csv' } });
  assert.equal(veto.status, 409, JSON.stringify(veto.body));
  assert.equal((veto.body['error'] as { reason: string }).reason, 'brain-approval');
  assert.equal(lastEntry(f, 'st-mary').kind, 'refusal');
  // the analyst's export is approved by the reviewer and waits for a person
  const exp = { brain: 'sios.assistant@1.0.0', skill: 'records.export', args: { collection: 'trades', format: 'csv' } };
  const p1 = await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, exp);
  assert.equal(p1.status, 202, JSON.stringify(p1.body));
  assert.equal(lastEntry(f, 'northbank').kind, 'pending');
  // rita's passkey
  const key = new SoftPasskey('localhost', 'http://localhost');
  const enrol = f.app.passkeys.createEnrolment(f.ids.risk);
  await f.app.passkeys.verifyRegistration(key.create(await f.app.passkeys.registrationOptionsForEnrolment(enrol.code) as never));
  // four eyes: the analyst, with her own passkey, cannot approve her own request
  const anaKey = new SoftPasskey('localhost', 'http://localhost');
  const enrolAna = f.app.passkeys.createEnrolment(f.ids.analyst);
  await f.app.passkeys.verifyRegistration(anaKey.create(await f.app.passkeys.registrationOptionsForEnrolment(enrolAna.code) as never));
  const own = await f.call('POST', `/v1/tenants/northbank/approvals/${p1.body['approval']}/options`, f.tokens.analyst, {});
  assert.equal(own.status, 200, JSON.stringify(own.body));
  const ownApproval = await f.call('POST', `/v1/tenants/northbank/approvals/${p1.body['approval']}/approve`, f.tokens.analyst, { response: anaKey.get(own.body['options'] as { challenge: string }) });
  assert.equal(ownApproval.status, 409, JSON.stringify(ownApproval.body));
  assert.match((ownApproval.body['error'] as { message: string }).message, /four eyes/);
  // replay: an assertion for one pending action does not approve another
  const p2 = await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, exp);
  const o1 = await f.call('POST', `/v1/tenants/northbank/approvals/${p1.body['approval']}/options`, f.tokens.risk, {});
  const signedFor1 = key.get(o1.body['options'] as { challenge: string });
  const replay = await f.call('POST', `/v1/tenants/northbank/approvals/${p2.body['approval']}/approve`, f.tokens.risk, { response: signedFor1 });
  assert.notEqual(replay.status, 200, 'an approval for one action must never approve another');
  assert.equal(lastEntry(f, 'northbank').kind, 'refusal');
  const ok = await f.call('POST', `/v1/tenants/northbank/approvals/${p1.body['approval']}/approve`, f.tokens.risk, { response: signedFor1 });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const intent = f.app.deployment.ledgerStore('northbank');
  // approving twice is refused
  const again = await f.call('POST', `/v1/tenants/northbank/approvals/${p1.body['approval']}/approve`, f.tokens.risk, { response: signedFor1 });
  assert.equal(again.status, 409);
  intent.close();
  // expiry
  now += 61_000;
  const o2 = await f.call('POST', `/v1/tenants/northbank/approvals/${p2.body['approval']}/options`, f.tokens.risk, {});
  assert.equal(o2.status, 409);
  assert.equal((o2.body['error'] as { reason: string }).reason, 'approval-expired');
});

test('revocation is instant: the next action of the brain is refused and both are sealed', async (t) => {
  const f = await fixture(t);
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)).status, 200);
  await f.app.registry.revoke('st-mary', 'sios.assistant', { actor: 'operator', reason: 'test' });
  const revokeEntry = lastEntry(f, 'st-mary');
  assert.equal(revokeEntry.kind, 'revoke');
  const r = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.equal(r.status, 403);
  assert.equal((r.body['error'] as { code: string }).code, 'ERR_REVOKED');
  assert.equal(lastEntry(f, 'st-mary').kind, 'refusal');
  // the other tenant's grant is untouched
  assert.equal((await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, { ...read, args: { collection: 'trades' } })).status, 200);
});
