/**
 * Ledger commits on writer threads: a seal resolves only once its batch is on disk, a batch the
 * writer could not append is refused and undone (nothing acknowledged is missing), and a process
 * that awaits a seal neither exits early nor hangs on an idle writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { newSeed, nodeVerifyCrypto as c, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';
import { stopLedgerWriters } from '../../src/store/ledger-writer.ts';
import { SiosError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const signer = softwareSigner(newSeed());
const open = (file: string, writer: 'thread' | 'inline' = 'thread') =>
  Ledger.open({ tenant: 'w', origin: 'sios/test/w', store: new SqliteLedgerStore(file, { writer }), signer, crypto: c, random: randomBytes });

test('a store opened by path with writer "thread" commits on a writer thread; others inline', (t) => {
  const dir = tempDir(t);
  const a = new SqliteLedgerStore(path.join(dir, 'a.db'), { writer: 'thread' });
  const b = new SqliteLedgerStore(path.join(dir, 'b.db'));
  const shared = new DatabaseSync(path.join(dir, 'c.db'));
  const s = new SqliteLedgerStore(shared);
  assert.equal(typeof a.appendBatchAsync, 'function');
  assert.equal(b.appendBatchAsync, undefined);
  assert.equal(s.appendBatchAsync, undefined);
  assert.throws(() => new SqliteLedgerStore(shared, { writer: 'thread' }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  assert.throws(() => new SqliteLedgerStore(path.join(dir, 'd.db'), { writer: 'elsewhere' as 'inline' }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  assert.throws(() => new SqliteLedgerStore(path.join(dir, 'd.db'), { threads: 2 } as never), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  a.close(); b.close(); s.close(); shared.close();
});

test('acknowledged seals are on disk, in order, with their checkpoints', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'w.db');
  const l = open(file);
  const receipts = await Promise.all(Array.from({ length: 300 }, (_, i) => l.seal({ kind: 'intent', body: { i } })));
  assert.deepEqual(receipts.map((r) => r.seq), Array.from({ length: 300 }, (_, i) => i));
  // Read through a separate connection before closing: everything acknowledged is already there.
  const check = new SqliteLedgerStore(file, { writer: 'inline' });
  assert.equal(check.readEntries(0, 300).length, 300);
  assert.equal(check.latestCheckpoint()?.size, 300);
  check.close();
  await l.close();
  const again = open(file);
  assert.equal(again.size, 300);
  await again.close();
});

test('a batch the writer cannot append is refused, undone, and never acknowledged', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'w.db');
  const l = open(file);
  await l.seal({ kind: 'admin', body: { first: true } });
  // Another writer appends behind this ledger's back (a second process on the same data folder).
  const intruder = open(file, 'inline');
  await intruder.seal({ kind: 'admin', body: { intruder: true } });
  await intruder.close();
  await assert.rejects(l.seal({ kind: 'admin', body: { second: true } }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_CONFLICT');
  assert.equal(l.size, 1, 'the refused batch left the in-memory tree');
  await l.close();
  const reopened = open(file);
  assert.equal(reopened.size, 2);
  await reopened.close();
});

test('stopping the writers fails pending commits safely; the next commit gets a new writer', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'w.db');
  const l = open(file);
  const pending = Array.from({ length: 50 }, (_, i) => l.seal({ kind: 'intent', body: { i } }).then((r) => r.seq, (e: unknown) => e));
  await stopLedgerWriters();
  const outcomes = await Promise.all(pending);
  const acked = outcomes.filter((x): x is number => typeof x === 'number');
  for (const x of outcomes) if (typeof x !== 'number') assert.ok(x instanceof SiosError && (x.code === 'ERR_STORE' || x.code === 'ERR_CONFLICT'), String(x));
  await l.close();
  // Whatever was acknowledged is durable, and the ledger opens and takes new entries.
  const reopened = open(file);
  assert.ok(reopened.size >= acked.length);
  // Every acknowledged sequence number is in the reopened ledger.
  assert.ok(acked.every((seq) => seq < reopened.size), `acked up to ${Math.max(-1, ...acked)}, ledger size ${reopened.size}`);
  const r = await reopened.seal({ kind: 'admin', body: { after: true } });
  assert.equal(r.seq, reopened.size - 1);
  await reopened.close();
});

test('a script that awaits one seal exits by itself once it is durable', (t) => {
  const dir = tempDir(t);
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(import.meta.dirname, '..', 'fixtures', 'seal-once.ts'), dir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'sealed 0\n');
  const s = new SqliteLedgerStore(path.join(dir, 'once.db'), { writer: 'inline' });
  assert.equal(s.readEntries(0, 1).length, 1);
  s.close();
});
