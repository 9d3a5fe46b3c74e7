/** The console's reading of ledger entries (pure, in Node): rows, joins, chart counts, hostile input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline, bytes, groupFingerprint, relative } from '../../src/web/console/model.ts';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const base = (seq: number, kind: string, body: Record<string, unknown>, min = seq) => ({ v: 1, tenant: 'northbank', seq, time: at(min), kind, prev: 'x', body });

const intent = base(3, 'intent', {
  principal: { id: 'p_analyst', name: 'kim', role: 'member', clearance: 3 }, brain: { id: 'sios.assistant', version: '1.0.0' },
  skill: { id: 'records.export' }, policy: { decision: 'allow' }, digest: 'abcdefghijklmnopqrstuvwxyz',
  approvals: { brains: [{ verdict: 'approve' }], human: { name: 'ola' } },
});
const entries = [
  base(0, 'admin', { action: 'tenant-genesis', actor: 'operator' }),
  base(1, 'session', { action: 'login', principal: 'p_analyst' }),
  base(2, 'pending', { principal: 'p_analyst', skill: 'records.export', brain: 'sios.assistant@1.0.0', needs: { brains: 1, human: true }, approval: 'A1' }),
  intent,
  base(4, 'outcome', { status: 'ok', intent: { seq: 3, leaf: 'l' } }),
  base(5, 'refusal', { stage: 'approvals', reason: 'brain-approval', principal: 'p_unknown_principal_id', skill: 'records.export', message: 'would include counterparties' }, 70),
  base(6, 'refusal', { stage: 'resolve', reason: 'forbidden', principal: 'p_analyst' }, 75),
  base(7, 'refusal', { stage: 'resolve', reason: 'forbidden', principal: 'p_analyst' }, 200),
];

test('rows join outcomes to intents, name people, and mark refusals', () => {
  const tl = new Timeline();
  assert.equal(tl.add([entries[4], ...entries]), 8, 'duplicates are ignored, order does not matter');
  assert.equal(tl.last, 7);
  const rows = tl.rows();
  assert.deepEqual(rows.map((r) => r.seq), [7, 6, 5, 4, 3, 2, 1, 0]);
  const byseq = new Map(rows.map((r) => [r.seq, r]));
  assert.deepEqual(byseq.get(3), { seq: 3, time: at(3), kind: 'intent', who: 'kim', brain: 'sios.assistant@1.0.0', skill: 'records.export', decision: 'policy allow · 1/1 brain approve · approved by ola', outcome: 'ok (#4)', tone: 'ok', detail: 'intent digest abcdefghijklmnop…' });
  assert.equal(byseq.get(4)!.decision, 'closes intent #3');
  assert.equal(byseq.get(4)!.who, 'kim');
  assert.equal(byseq.get(2)!.who, 'kim', 'the name learnt from the intent applies to the earlier pending entry');
  assert.equal(byseq.get(2)!.tone, 'pending');
  assert.equal(byseq.get(1)!.who, 'kim');
  assert.equal(byseq.get(5)!.who, 'p_unknown_pr…');
  assert.equal(byseq.get(5)!.tone, 'refused');
  assert.equal(byseq.get(0)!.who, 'operator');
  assert.deepEqual(tl.refusalsByReason(), [{ reason: 'forbidden', count: 2 }, { reason: 'brain-approval', count: 1 }]);
});

test('an intent without its outcome is running; a failed outcome is an error', () => {
  const tl = new Timeline();
  tl.add([intent]);
  assert.equal(tl.rows()[0]!.outcome, 'running…');
  tl.add([base(4, 'outcome', { status: 'error', message: 'boom', intent: { seq: 3 } })]);
  assert.equal(tl.rows()[1]!.tone, 'error');
  assert.equal(tl.rows()[0]!.detail, 'boom');
});

test('per-hour buckets count intents and refusals inside the window only', () => {
  const tl = new Timeline();
  tl.add(entries);
  const b = tl.perHour(T0 + 90 * 60_000, 3); // hours 08:00, 09:00, 10:00
  assert.deepEqual(b.map((x) => [new Date(x.start).getUTCHours(), x.actions, x.refusals]), [[8, 0, 0], [9, 1, 0], [10, 0, 2]]);
});

test('hostile entries are skipped or read as text, never thrown on', () => {
  const tl = new Timeline();
  assert.equal(tl.add([null, 1, 'x', { seq: -1 }, { seq: 1.5 }, { seq: '2' }, { seq: 9, kind: 'intent', body: 'nope' }, { seq: 10, kind: 'refusal', body: { reason: { toString: 1 } } }]), 2);
  const rows = tl.rows();
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.outcome, 'refused');
  assert.deepEqual(tl.refusalsByReason(), [{ reason: 'unspecified', count: 1 }]);
});

test('relative times', () => {
  assert.equal(relative(T0 + 14 * 60_000 + 20_000, T0), 'in 14 min');
  assert.equal(relative(T0 - 30_000, T0), '30 s ago');
  assert.equal(relative(T0 + 2 * 3600_000, T0), 'in 2 h');
});

test('quarantine entries read as Sentinel holds and named releases', () => {
  const tl = new Timeline();
  tl.add([
    base(0, 'quarantine', { action: 'quarantine', item: 'q_AAAAAAAAAAAAAAAA', source: 'mail/1', verdict: 'injection', score: 0.97, reasons: ['rule:en.override', 'classifier:0.998'], commitment: 'c', chars: 54 }),
    base(1, 'quarantine', { action: 'release', item: 'q_AAAAAAAAAAAAAAAA', by: 'p_admin', name: 'lee-admin', reason: 'a test mail', commitment: 'c', quarantineSeq: 0 }),
  ]);
  const [release, hold] = tl.rows();
  assert.deepEqual([hold!.who, hold!.decision, hold!.outcome, hold!.tone, hold!.detail], ['Sentinel', 'quarantined mail/1', 'held (injection)', 'refused', 'rule:en.override, classifier:0.998']);
  assert.deepEqual([release!.who, release!.decision, release!.outcome, release!.tone, release!.detail], ['lee-admin', 'released q_AAAAAAAAAAAAAAAA from quarantine', 'released', 'info', 'a test mail']);
});

test('fingerprints in groups of four; byte budgets in binary units', () => {
  const hex = '2e7a5e762967029aa2b840b639e7a15e7af84e716a4513445798acd7f35c07d7';
  assert.equal(groupFingerprint(`SHA256:${hex}`), 'SHA256: 2e7a 5e76 2967 029a a2b8 40b6 39e7 a15e 7af8 4e71 6a45 1344 5798 acd7 f35c 07d7');
  assert.equal(groupFingerprint('abcdef'), 'abcd ef');
  assert.equal(bytes(268435456), '256 MiB');
  assert.equal(bytes(1000), '1000 bytes');
  assert.equal(bytes(1536 * 1024), '1.5 MiB');
});
