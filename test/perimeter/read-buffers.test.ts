import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadBufferPool } from '../../src/perimeter/read-buffers.ts';

test('read buffer pool: zero-filled, reused, bounded, and only takes back buffers of its size', () => {
  const pool = new ReadBufferPool(1024, 2);
  const a = pool.take(), b = pool.take(), c = pool.take();
  assert.equal(a.length, 1024);
  assert.ok(a.every((x) => x === 0), 'a new buffer starts zero-filled');
  assert.notEqual(a, b);
  pool.give(a); pool.give(b); pool.give(c); // only two are kept: c is left to the GC
  pool.give(Buffer.alloc(10)); // a foreign size is never handed out
  const got = new Set([pool.take(), pool.take()]);
  assert.ok(got.has(a) && got.has(b), 'kept buffers are handed out again');
  const fresh = pool.take();
  assert.ok(fresh !== a && fresh !== b && fresh !== c && fresh.length === 1024, 'an empty pool allocates');
});
