/** Working memory: per tenant, session and brain; encrypted at rest; bound by AAD; cleared at session end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../../src/errors.ts';
import { randomBytes } from '../../src/crypto/node.ts';
import { WorkingMemory } from '../../src/brains/memory.ts';
import { tempDir } from '../helpers/tmp.ts';

test('memory round-trips per session and brain and is not visible from another', () => {
  const db = new DatabaseSync(':memory:');
  const mem = new WorkingMemory(db, 'st-mary', randomBytes(32));
  const a = mem.session('s1', 'sios.assistant');
  assert.equal(a.append('turn', { role: 'user', content: 'list patients' }), 0);
  assert.equal(a.append('turn', { role: 'assistant', content: 'ok' }), 1);
  a.append('context', { source: 'patients/p1', text: 'Ada, ward w1' });
  a.setScratch('plan', ['read', 'summarise']);
  assert.deepEqual(a.list('turn').map((e) => e.value), [{ role: 'user', content: 'list patients' }, { role: 'assistant', content: 'ok' }]);
  assert.equal(a.list().length, 3);
  assert.deepEqual(a.getScratch('plan'), ['read', 'summarise']);
  assert.deepEqual(mem.session('s2', 'sios.assistant').list(), [], 'another session sees nothing');
  assert.deepEqual(mem.session('s1', 'sios.reviewer').list(), [], 'another brain sees nothing');
  assert.equal(mem.session('s2', 'sios.assistant').getScratch('plan'), undefined);
  // Another tenant's memory over the same database (and even the same key) sees nothing and cannot open the rows.
  const other = new WorkingMemory(db, 'northbank', randomBytes(32));
  assert.deepEqual(other.session('s1', 'sios.assistant').list(), []);
  assert.equal(mem.endSession('s1'), 4);
  assert.deepEqual(a.list(), []);
  assert.throws(() => mem.session('../s1', 'sios.assistant'), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
});

test('ciphertext at rest holds no plaintext; moved rows and a wrong key fail to open', (t) => {
  const file = path.join(tempDir(t), 'tenant.db');
  const db = new DatabaseSync(file);
  const key = randomBytes(32);
  const mem = new WorkingMemory(db, 'st-mary', key);
  const secret = 'diagnosis: tuberculosis (patient Ada Lovelace)';
  mem.session('s1', 'sios.assistant').append('context', { text: secret });
  mem.session('s1', 'sios.assistant').setScratch('note', secret);
  db.close();
  const raw = new DatabaseSync(file);
  for (const r of raw.prepare('SELECT sealed FROM brain_memory UNION ALL SELECT sealed FROM brain_scratch').all()) {
    const bytes = Buffer.from(r['sealed'] as Uint8Array);
    assert.equal(bytes.includes(Buffer.from('tuberculosis')), false);
    assert.equal(bytes.includes(Buffer.from('Lovelace')), false);
  }
  // Move s1's row to session s2: AAD binds the session, so it fails to open there.
  raw.prepare("UPDATE brain_memory SET session = 's2'").run();
  const again = new WorkingMemory(raw, 'st-mary', key);
  assert.throws(() => again.session('s2', 'sios.assistant').list(), (e: unknown) => e instanceof SiosError && e.code === 'ERR_KEY');
  // Wrong tenant data key.
  assert.throws(() => new WorkingMemory(raw, 'st-mary', randomBytes(32)).session('s1', 'sios.assistant').getScratch('note'), (e: unknown) => e instanceof SiosError && e.code === 'ERR_KEY');
  assert.equal(again.session('s1', 'sios.assistant').getScratch('note'), secret);
  raw.close();
});
