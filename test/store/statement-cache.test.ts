/** withStatementCache: shared compiled statements for get/all/run, a caller's own for anything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { withStatementCache } from '../../src/store/statement-cache.ts';

function db(): DatabaseSync {
  const d = withStatementCache(new DatabaseSync(':memory:'));
  d.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)');
  for (let i = 0; i < 5; i++) d.prepare('INSERT INTO t (a, b) VALUES (?, ?)').run(i, `v${i}`);
  return d;
}

test('get, all and run behave as on fresh statements', () => {
  const d = db();
  assert.equal(d instanceof DatabaseSync, true);
  assert.deepEqual({ ...d.prepare('SELECT COUNT(*) AS n FROM t').get() }, { n: 5 });
  assert.deepEqual(d.prepare('SELECT a FROM t WHERE a >= ? ORDER BY a').all(3).map((r) => r['a']), [3, 4]);
  assert.equal(Number(d.prepare('UPDATE t SET b = ? WHERE a = ?').run('w', 1).changes), 1);
  assert.deepEqual({ ...d.prepare('SELECT b FROM t WHERE a = ?').get(1) }, { b: 'w' });
  assert.throws(() => d.prepare('SELECT nope FROM t').get(), /no such column/);
  d.close();
  assert.equal(d.isOpen, false);
  assert.throws(() => d.prepare('SELECT a FROM t').get(), /not open/);
});

test('an iteration in progress is not disturbed by other callers of the same SQL', () => {
  const d = db();
  const sql = 'SELECT a FROM t ORDER BY a';
  const it = d.prepare(sql).iterate();
  assert.equal(it.next().value?.['a'], 0);
  assert.equal(d.prepare(sql).get()?.['a'], 0);
  assert.deepEqual(d.prepare(sql).all().map((r) => r['a']), [0, 1, 2, 3, 4]);
  assert.deepEqual([...it].map((r) => r['a']), [1, 2, 3, 4]);
  d.close();
});

test('options set on one handle stay on that handle', () => {
  const d = db();
  const sql = 'SELECT a FROM t WHERE a = ?';
  const big = d.prepare(sql);
  big.setReadBigInts(true);
  assert.equal(big.get(2)?.['a'], 2n);
  assert.equal(d.prepare(sql).get(2)?.['a'], 2);
  assert.equal(d.prepare(sql, { readBigInts: true }).get(3)?.['a'], 3n);
  assert.equal(d.prepare(sql).get(3)?.['a'], 3);
  assert.equal(big.sourceSQL, sql);
  d.close();
});

test('many distinct statements stay correct beyond the cache bound', () => {
  const d = db();
  for (let i = 0; i < 600; i++) assert.equal(d.prepare(`SELECT ${i} AS x, COUNT(*) AS n FROM t`).get()?.['x'], i);
  const kept = d.prepare('SELECT COUNT(*) AS n FROM t');
  for (let i = 0; i < 600; i++) d.prepare(`SELECT ${i} AS y`).get();
  assert.equal(kept.get()?.['n'], 5, 'a handle keeps working after its statement left the cache');
  d.close();
});
