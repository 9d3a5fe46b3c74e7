/**
 * The sign/commit pipeline under faults: a batch whose signature or commit fails is refused as a
 * whole and nothing of it is acknowledged; the batch prepared behind it is retried; every other
 * request is sealed; what is on disk is exactly what was acknowledged, and it verifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { nodeVerifyCrypto as c, newSeed, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { Ledger, type Receipt } from '../../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';
import type { LedgerStore } from '../../src/store/ledger-store.ts';
import type { Signer } from '../../src/crypto/suite.ts';
import { verifyBundle, verifyReceipt } from '../../src/ledger/verify.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { utf8 } from '../../src/encoding/bytes.ts';
import { SiosError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const signer = softwareSigner(newSeed());

/** A store whose n-th commit (counting from 1) fails, on the writer thread or inline. */
function faultyStore(file: string, failAt: number, mode: 'thread' | 'inline'): LedgerStore {
  const inner = new SqliteLedgerStore(file, { writer: mode });
  let n = 0;
  const fail = () => new SiosError('ERR_STORE', 'injected commit failure');
  const store: LedgerStore = Object.create(inner) as LedgerStore;
  store.appendBatch = (...a) => { if (++n === failAt) throw fail(); inner.appendBatch(...a); };
  if (inner.appendBatchAsync) {
    const original = inner.appendBatchAsync.bind(inner);
    store.appendBatchAsync = async (...a) => { if (++n === failAt) { await new Promise((r) => setTimeout(r, 2)); throw fail(); } return original(...a); };
  }
  return store;
}

/** A signer whose n-th signature fails. */
function faultySigner(failAt: number): Signer {
  let n = 0;
  return { publicKey: signer.publicKey, async sign(m) { if (++n === failAt) throw new SiosError('ERR_KEY', 'injected signing failure'); return signer.sign(m); } };
}

async function sealMany(l: Ledger, n: number): Promise<(Receipt | SiosError)[]> {
  // Waves of concurrent seals, so that several batches are in the pipeline at once.
  const out: Promise<Receipt | SiosError>[] = [];
  for (let w = 0; w < 10; w++) {
    for (let i = 0; i < n / 10; i++) out.push(l.seal({ kind: 'intent', body: { w, i } }).catch((e: SiosError) => e));
    await new Promise((r) => setTimeout(r, 1));
  }
  return Promise.all(out);
}

async function checkDisk(file: string, acked: Receipt[]): Promise<void> {
  const s = new SqliteLedgerStore(file, { writer: 'inline' });
  let out = '';
  try {
    exportBundle(s, { origin: 'sios/test/p', tenant: 'p', crypto: c, publicKeys: [signer.publicKey] }, (x) => { out += x; });
    const onDisk = s.readEntries(0, 1e9);
    assert.equal(onDisk.length, acked.length, 'exactly the acknowledged entries are on disk');
    const bySeq = new Map(acked.map((r) => [r.seq, r]));
    for (const e of onDisk) assert.equal(new TextDecoder().decode(e.bytes), bySeq.get(e.seq)?.entry, `entry ${e.seq}`);
  } finally { s.close(); }
  const rep = await verifyBundle(utf8(out), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(rep.ok, true, rep.failure?.message);
  for (const r of acked.slice(0, 10)) await verifyReceipt(c, r, [signer.publicKey]);
}

for (const mode of ['thread', 'inline'] as const) {
  for (const failAt of [1, 2, 3]) {
    test(`a failed commit (${mode}, commit #${failAt}) refuses its batch only`, async (t) => {
      const file = path.join(tempDir(t), 'p.db');
      const l = Ledger.open({ tenant: 'p', origin: 'sios/test/p', store: faultyStore(file, failAt, mode), signer, crypto: c, random: randomBytes });
      const results = await sealMany(l, 200);
      const acked = results.filter((r): r is Receipt => !(r instanceof Error));
      const failed = results.filter((r): r is SiosError => r instanceof Error);
      assert.ok(failed.length >= 1, 'the injected failure reached its batch');
      for (const e of failed) assert.equal(e.message, 'injected commit failure');
      assert.deepEqual(acked.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: acked.length }, (_, i) => i), 'acknowledged seqs are contiguous');
      assert.equal(l.size, acked.length);
      await l.close();
      await checkDisk(file, acked);
    });
  }
}

for (const failAt of [1, 3]) {
  test(`a failed signature (#${failAt}) refuses its batch only`, async (t) => {
    const file = path.join(tempDir(t), 'p.db');
    const l = Ledger.open({ tenant: 'p', origin: 'sios/test/p', store: new SqliteLedgerStore(file), signer: faultySigner(failAt), crypto: c, random: randomBytes });
    const results = await sealMany(l, 200);
    const acked = results.filter((r): r is Receipt => !(r instanceof Error));
    const failed = results.filter((r): r is SiosError => r instanceof Error);
    assert.ok(failed.length >= 1);
    for (const e of failed) assert.equal(e.message, 'injected signing failure');
    assert.deepEqual(acked.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: acked.length }, (_, i) => i));
    await l.close();
    await checkDisk(file, acked);
  });
}

test('receipts are frozen and an outcome links to its intent\'s leaf', async (t) => {
  const file = path.join(tempDir(t), 'p.db');
  const l = Ledger.open({ tenant: 'p', origin: 'sios/test/p', store: new SqliteLedgerStore(file), signer, crypto: c, random: randomBytes });
  const r = await l.seal({ kind: 'intent', body: { x: 1 } });
  assert.ok(Object.isFrozen(r) && Object.isFrozen(r.proof));
  const o = await l.record({ status: 'ok' }, r);
  const linked = JSON.parse(o.entry) as { body: { intent: { seq: number; leaf: string } } };
  assert.equal(linked.body.intent.seq, r.seq);
  // The same link is recomputed from a copy of a receipt (one this ledger did not hand out).
  const r2 = await l.seal({ kind: 'intent', body: { x: 2 } });
  const o2 = await l.record({ status: 'ok' }, { ...r2 });
  await l.close();
  // The bundle verifier checks each outcome's link against its intent's leaf hash.
  await checkDisk(file, [r, o, r2, o2]);
});
