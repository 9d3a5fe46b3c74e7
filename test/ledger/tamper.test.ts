/**
 * Tamper test over a real exported bundle: at every entry position, flip bytes (in the chain link,
 * the body, the sequence number, the tenant), delete the entry, duplicate it, and swap it with its
 * neighbour; corrupt every checkpoint. Each must be detected and located at the right entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { nodeVerifyCrypto as c, newSeed, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { utf8 } from '../../src/encoding/bytes.ts';
import { tempDir } from '../helpers/tmp.ts';

const signer = softwareSigner(newSeed());

async function makeBundle(dir: string): Promise<string> {
  const store = new SqliteLedgerStore(path.join(dir, 't.db'));
  const ledger = Ledger.open({ tenant: 'acme', origin: 'sios/tamper/acme', store, signer, crypto: c, random: randomBytes });
  // One at a time (a checkpoint each), then a concurrent burst (group commit), then singles again.
  for (let i = 0; i < 4; i++) await ledger.seal({ kind: 'intent', body: { actor: 'alice', n: i } });
  await Promise.all(Array.from({ length: 6 }, (_, i) => ledger.seal({ kind: 'intent', body: { actor: 'bob', burst: i } })));
  for (let i = 0; i < 3; i++) await ledger.seal({ kind: 'admin', body: { actor: 'carol', n: i } });
  await ledger.close();
  let out = '';
  const s2 = new SqliteLedgerStore(path.join(dir, 't.db'));
  exportBundle(s2, { origin: 'sios/tamper/acme', tenant: 'acme', crypto: c, publicKeys: [signer.publicKey] }, (s) => { out += s; });
  s2.close();
  return out;
}

async function check(lines: string[]) {
  return verifyBundle(utf8(lines.join('\n')), { crypto: c, trustedKeys: [signer.publicKey] });
}

function flipAt(s: string, i: number): string {
  const ch = s.charCodeAt(i);
  // Change to another printable character so the edit survives as text (the hardest case).
  const repl = ch === 0x41 ? 'B' : ch >= 0x30 && ch <= 0x39 ? String((ch - 0x30 + 1) % 10) : 'A';
  return s.slice(0, i) + repl + s.slice(i + 1);
}

test('every tampering of every entry is detected and located', async (t) => {
  const text = await makeBundle(tempDir(t));
  const lines = text.split('\n');
  const n = JSON.parse(lines[0] as string).entries as number;
  assert.equal((await check(lines)).ok, true);
  let cases = 0;
  for (let i = 0; i < n; i++) {
    const L = i + 1;
    const line = lines[L] as string;
    // byte flips at chosen places of the entry
    const places = [
      line.indexOf('"prev":"') + 10,      // the chain link
      line.indexOf('"body":{') + 9,       // inside the body
      line.indexOf('"seq":') + 6,         // the sequence number
      line.indexOf('"tenant":"') + 10,    // the tenant
      line.indexOf('"time":"') + 12,      // the time
      line.length - 2,                     // near the end
      1,                                   // a structural byte
    ];
    for (const p of places) {
      const copy = [...lines];
      copy[L] = flipAt(line, p);
      const r = await check(copy);
      assert.equal(r.ok, false, `flip at entry ${i} offset ${p} not detected`);
      assert.equal(r.failure?.seq, i, `flip at entry ${i} offset ${p}: located at ${r.failure?.seq} (${r.failure?.reason}: ${r.failure?.message})`);
      cases++;
    }
    // deletion
    {
      const copy = [...lines]; copy.splice(L, 1);
      const r = await check(copy);
      assert.equal(r.ok, false, `deleting entry ${i} not detected`);
      assert.equal(r.failure?.seq, i, `deleting entry ${i}: located at ${r.failure?.seq} (${r.failure?.message})`);
      cases++;
    }
    // duplication
    {
      const copy = [...lines]; copy.splice(L, 0, line);
      const r = await check(copy);
      assert.equal(r.ok, false, `duplicating entry ${i} not detected`);
      assert.equal(r.failure?.seq, i + 1, `duplicating entry ${i}: located at ${r.failure?.seq} (${r.failure?.message})`);
      cases++;
    }
    // reordering with the next entry
    if (i + 1 < n) {
      const copy = [...lines]; copy[L] = lines[L + 1] as string; copy[L + 1] = line;
      const r = await check(copy);
      assert.equal(r.ok, false, `swapping entries ${i},${i + 1} not detected`);
      assert.equal(r.failure?.reason, 'reordered');
      assert.equal(r.failure?.seq, i);
      cases++;
    }
  }
  // every checkpoint: a flipped signature, a flipped root
  const firstCp = n + 1;
  const cps = JSON.parse(lines[0] as string).checkpoints as number;
  for (let j = 0; j < cps; j++) {
    const obj = JSON.parse(lines[firstCp + j] as string) as { checkpoint: string };
    const size = Number(obj.checkpoint.split('\n')[1]);
    for (const where of [obj.checkpoint.length - 30, obj.checkpoint.indexOf('\n', obj.checkpoint.indexOf('\n') + 1) + 5]) {
      const copy = [...lines];
      copy[firstCp + j] = JSON.stringify({ checkpoint: flipAt(obj.checkpoint, where) });
      const r = await check(copy);
      assert.equal(r.ok, false, `checkpoint ${size} tampering not detected`);
      assert.equal(r.failure?.seq, size - 1, `checkpoint ${size}: located at ${r.failure?.seq} (${r.failure?.message})`);
      cases++;
    }
  }
  // truncation anywhere is reported, never "verified"
  for (const cut of [10, text.length / 3, text.length / 2, text.length - 5]) {
    const r = await verifyBundle(utf8(text.slice(0, Math.floor(cut))), { crypto: c, trustedKeys: [signer.publicKey] });
    assert.equal(r.ok, false, `truncation at ${cut} not detected`);
    cases++;
  }
  t.diagnostic(`${cases} tamperings detected and located`);
});

test('bad input gives a clear failure, never a crash or "verified"', async () => {
  const bad: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['not json', utf8('hello\n')],
    ['non-utf8', Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d, 0x0a)],
    ['json array', utf8('[1,2,3]\n')],
    ['wrong format', utf8('{"format":"other"}\n')],
    ['huge counts', utf8('{"format":"sios-ledger-bundle","v":1,"origin":"a/b","tenant":"b","entries":1e300,"checkpoints":0,"disclosures":0,"evidence":0,"keys":[]}\n')],
    ['oversized line', utf8('{"a":"' + 'x'.repeat(1100 * 1024) + '"}\n')],
  ];
  for (const [name, bytes] of bad) {
    const r = await verifyBundle(bytes, { crypto: c, trustedKeys: [signer.publicKey] });
    assert.equal(r.ok, false, name);
    assert.ok(r.failure && r.failure.message.length > 10, name);
  }
});

test('large bundles (leaf hashes computed on worker threads) verify and locate tampering the same way', async (t) => {
  const dir = tempDir(t);
  const store = new SqliteLedgerStore(path.join(dir, 'big.db'));
  const ledger = Ledger.open({ tenant: 'acme', origin: 'sios/tamper/acme', store, signer, crypto: c, random: randomBytes, maxBatch: 4096 });
  for (let k = 0; k < 10; k++) await Promise.all(Array.from({ length: 4096 }, (_, i) => ledger.seal({ kind: 'intent', body: { actor: 'bob', k, i } })));
  await ledger.close();
  let out = '';
  const s2 = new SqliteLedgerStore(path.join(dir, 'big.db'));
  exportBundle(s2, { origin: 'sios/tamper/acme', tenant: 'acme', crypto: c, publicKeys: [signer.publicKey] }, (s) => { out += s; });
  s2.close();
  assert.ok(c.leafHashes, 'the Node suite hashes leaves on worker threads');
  const ok = await verifyBundle(utf8(out), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(ok.ok, true, ok.failure?.message);
  const lines = out.split('\n');
  for (const seq of [5, 20_000, 40_959]) {
    const copy = [...lines];
    copy[seq + 1] = (copy[seq + 1] as string).replace('"actor":"bob"', '"actor":"eve"');
    const r = await verifyBundle(utf8(copy.join('\n')), { crypto: c, trustedKeys: [signer.publicKey] });
    assert.equal(r.ok, false);
    assert.equal(r.failure?.seq, seq, r.failure?.message);
  }
});
