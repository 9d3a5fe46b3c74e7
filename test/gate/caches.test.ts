/**
 * What the gate remembers between actions (verified tokens, grant resolutions, invoke decisions)
 * never outlives a revocation: made in this process, in another process (a CLI command on the same
 * data folder), or by suspending the tenant, the very next action is refused and sealed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { fixture, lastEntry } from './fixture.ts';

const read = { brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'patients' } };
const code = (r: { body: Record<string, unknown> }): string => (r.body['error'] as { code: string }).code;

test('a brain revoked by another process is refused at the next action', async (t) => {
  const f = await fixture(t);
  for (let i = 0; i < 3; i++) assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)).status, 200);
  const other = new DatabaseSync(f.app.deployment.systemDb.location()!);
  try {
    other.prepare("UPDATE brain_grants SET revoked_at = ? WHERE tenant = 'st-mary' AND brain_id = 'sios.assistant'").run(Date.now());
  } finally { other.close(); }
  const r = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(code(r), 'ERR_REVOKED');
  assert.equal(lastEntry(f, 'st-mary').kind, 'refusal');
});

test('revoke-everywhere, a narrower grant and a suspended tenant take effect at the next action', async (t) => {
  const f = await fixture(t);
  const trades = { ...read, args: { collection: 'trades' } };
  assert.equal((await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, trades)).status, 200);
  // A narrower grant: the skill left out is refused although its resolution was remembered.
  await f.app.registry.grant('northbank', 'sios.assistant@1.0.0', ['records.write'], { actor: 'operator' });
  const narrowed = await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, trades);
  assert.equal(narrowed.status, 403);
  assert.equal(code(narrowed), 'ERR_FORBIDDEN');
  await f.app.registry.grant('northbank', 'sios.assistant@1.0.0', ['records.read'], { actor: 'operator' });
  assert.equal((await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, trades)).status, 200);
  // A suspended tenant.
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)).status, 200);
  await f.app.deployment.setTenantStatus('st-mary', 'suspended', 'operator');
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)).status, 403);
  await f.app.deployment.setTenantStatus('st-mary', 'active', 'operator');
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read)).status, 200);
  // Revoked everywhere.
  await f.app.registry.revokeEverywhere('sios.assistant@1.0.0', { actor: 'operator', reason: 'test' });
  for (const [tenant, token, args] of [['st-mary', f.tokens.nurse, { collection: 'patients' }], ['northbank', f.tokens.analyst, { collection: 'trades' }]] as const) {
    const r = await f.call('POST', `/v1/tenants/${tenant}/actions`, token, { ...read, args });
    assert.equal(r.status, 403, tenant);
    assert.equal(code(r), 'ERR_REVOKED', tenant);
  }
});

test('a revoked token and a disabled or changed principal are refused at the next action', async (t) => {
  const f = await fixture(t);
  const issued = f.app.tokens.issue({ principalId: f.ids.nurse, scope: ['skills.invoke.*'] });
  assert.equal((await f.call('POST', '/v1/tenants/st-mary/actions', issued.token, read)).status, 200);
  f.app.tokens.revoke(issued.record.id);
  const r = await f.call('POST', '/v1/tenants/st-mary/actions', issued.token, read);
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(code(r), 'ERR_REVOKED');
  // The nurse's clearance is lowered: the rows she sees change at once (remembered decisions and
  // principal facts belong to the old facts).
  const before = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.deepEqual((before.body['result'] as { rows: { id: string }[] }).rows.map((x) => x.id).sort(), ['P-1001', 'P-1002']);
  f.app.principals.update(f.ids.nurse, { clearance: 0 });
  const after = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.equal(after.status, 403, JSON.stringify(after.body));
  assert.equal(code(after), 'ERR_FORBIDDEN', JSON.stringify(after.body));
  f.app.principals.disable(f.ids.nurse);
  const disabled = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, read);
  assert.equal(disabled.status, 403);
  assert.equal(code(disabled), 'ERR_REVOKED');
});
