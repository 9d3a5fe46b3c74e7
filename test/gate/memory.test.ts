/** A brain's working memory is per tenant and per session, encrypted at rest, never shared. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from './fixture.ts';
import { runTurn } from '../../src/gate/agent.ts';

test('a brain turn is remembered in the session\'s encrypted memory, invisible to another session or tenant', async (t) => {
  const f = await fixture(t);
  const memory = f.app.memory('st-mary');
  await runTurn({ gate: f.app.gate, registry: f.app.registry, guard: f.app.sentinel?.guard, memory, clearance: 2, credential: f.tokens.nurse, tenant: 'st-mary', brain: 'sios.assistant@1.0.0', task: 'patients', context: [{ source: 'note-1', text: 'ward round at nine, patient P-1001 asked about discharge' }] });
  const token = f.app.gate.authenticate(f.tokens.nurse, 'st-mary', 'skills.invoke.records.read');
  const mine = memory.session(`token-${token.credential.id}`, 'sios.assistant').list();
  assert.ok(mine.some((e) => e.kind === 'turn'), 'the turn is remembered');
  assert.ok(JSON.stringify(mine).includes('ward round at nine'), 'the context the brain read is remembered');
  // another session of the same brain sees nothing
  const doctor = f.app.gate.authenticate(f.tokens.doctor, 'st-mary', 'skills.invoke.records.read');
  assert.equal(memory.session(`token-${doctor.credential.id}`, 'sios.assistant').list().length, 0);
  // at rest it is ciphertext
  const rows = f.app.deployment.tenantDb('st-mary').prepare('SELECT sealed FROM brain_memory').all();
  assert.ok(rows.length > 0);
  for (const r of rows) assert.ok(!Buffer.from(r['sealed'] as Uint8Array).toString('latin1').includes('ward round'));
  // another tenant's memory store has none of it
  assert.equal(f.app.deployment.tenantDb('northbank').prepare("SELECT name FROM sqlite_master WHERE name = 'brain_memory'").all().length === 0 || f.app.deployment.tenantDb('northbank').prepare('SELECT COUNT(*) AS n FROM brain_memory').get()!['n'] === 0, true);
});
