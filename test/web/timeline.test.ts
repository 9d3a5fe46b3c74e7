import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline } from '../../src/web/verifier/timeline.ts';
import type { Entry } from '../../src/ledger/entry.ts';

let seq = 0;
function entry(kind: string, body: Entry['body']): Entry {
  return { v: 1, tenant: 't', seq: seq++, time: `2026-11-22T10:00:${String(seq).padStart(2, '0')}.000Z`, kind, prev: 'x'.repeat(43), body };
}

test('timeline rows: who, brain, skill, decision, approvals; outcomes fold into their intents', () => {
  seq = 0;
  const tl = new Timeline();
  tl.add(entry('intent', { actor: 'dr.okafor', brain: 'triage-7b', skill: 'records.read', decision: { decision: 'allow' } }));
  tl.add(entry('intent', {
    actor: { id: 'nurse.lee', role: 'nurse' }, brain: 'pharmacy', skill: 'prescribe.draft', decision: 'allow',
    approvals: [{ brain: 'second-opinion', verdict: 'approve' }, { human: 'dr.moreau', method: 'webauthn' }],
  }));
  tl.add(entry('outcome', { status: 'ok', intent: { seq: 0, leaf: 'x' } }));
  tl.add(entry('intent', { actor: 'clerk', action: 'export' }));
  tl.add(entry('outcome', { status: 'error', error: 'timeout', intent: { seq: 1, leaf: 'x' } }));
  tl.add(entry('admin', { by: 'operator', what: 'policy update' }));
  const [a, b, c, d, e, f] = tl.rows;
  assert.deepEqual([a?.actor, a?.brain, a?.skill, a?.decision, a?.outcome, a?.link], ['dr.okafor', 'triage-7b', 'records.read', 'allow', 'ok', 2]);
  assert.equal(b?.actor, 'nurse.lee');
  assert.equal(b?.approvalCount, 2);
  assert.equal(b?.approvals, 'second-opinion (brain); dr.moreau (human, webauthn)');
  assert.deepEqual([b?.outcome, b?.link], ['error', 4]);
  assert.deepEqual([c?.kind, c?.actor, c?.skill, c?.link], ['outcome', 'dr.okafor', 'records.read', 0], 'an outcome shows what it closes');
  assert.deepEqual([d?.skill, d?.outcome, d?.link], ['export', '', null]);
  assert.equal(e?.outcome, 'error');
  assert.equal(f?.actor, 'operator');

  assert.deepEqual(tl.query('', 'in-doubt', 0, 10).rows.map((r) => r.seq), [3]);
  assert.deepEqual(tl.query('', 'not-ok', 0, 10).rows.map((r) => r.seq), [4]);
  assert.deepEqual(tl.query('', 'approvals', 0, 10).rows.map((r) => r.seq), [1]);
  assert.deepEqual(tl.query('', 'other', 0, 10).rows.map((r) => r.seq), [5]);
  assert.deepEqual(tl.query('OKAFOR records', 'all', 0, 10).rows.map((r) => r.seq), [0, 2], 'every word must match, case-insensitively');
  assert.deepEqual(tl.query('#4', 'all', 0, 10).rows.map((r) => r.seq), [4]);
  assert.equal(tl.query('nobody-here', 'all', 0, 10).total, 0);
  tl.markDisclosed(1, 'args');
  assert.deepEqual(tl.query('', 'disclosed', 0, 10).rows.map((r) => r.seq), [1]);
  assert.deepEqual(tl.query('disclosed args', 'all', 0, 10).rows.map((r) => r.seq), [1]);
});

test('paging and locating an entry within a filtered view', () => {
  seq = 0;
  const tl = new Timeline();
  for (let i = 0; i < 1000; i++) tl.add(entry('intent', { actor: i % 2 ? 'odd' : 'even', skill: 's' }));
  const p = tl.query('odd', 'all', 100, 100);
  assert.equal(p.total, 500);
  assert.equal(p.rows.length, 100);
  assert.equal(p.rows[0]?.seq, 201);
  assert.equal(tl.indexOf(201, 'odd', 'all'), 100);
  assert.equal(tl.indexOf(200, 'odd', 'all'), -1);
  assert.equal(tl.query('', 'all', 990, 100).rows.length, 10);
});

test('hostile bodies become text, never throw', () => {
  seq = 0;
  const tl = new Timeline();
  tl.add(entry('intent', { actor: ['not', 'a', 'name'], brain: 42, skill: { nested: { deep: true } }, approvals: 'many', decision: null }));
  tl.add(entry('outcome', { intent: { seq: 99 } }));
  tl.add(entry('outcome', { status: 'ok', intent: 'zero' }));
  tl.add(entry('intent', { actor: '<img src=x onerror=alert(1)>'.repeat(20) }));
  assert.equal(tl.rows[0]?.actor, '');
  assert.equal(tl.rows[0]?.brain, '42');
  assert.equal(tl.rows[1]?.outcome, 'recorded');
  assert.equal(tl.rows[1]?.link, 99);
  assert.ok((tl.rows[3]?.actor.length ?? 0) <= 120, 'long fields are clipped');
});
