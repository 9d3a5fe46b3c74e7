import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { nodeVerifyCrypto as c, newSeed, randomBytes, softwareSigner } from '../../src/crypto/node.ts';
import { Ledger, type Receipt } from '../../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../../src/store/sqlite-ledger.ts';
import { verifyBundle, verifyReceipt } from '../../src/ledger/verify.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { sealAead, openAead } from '../../src/crypto/aead.ts';
import { utf8 } from '../../src/encoding/bytes.ts';
import { tempDir } from '../helpers/tmp.ts';

const seed = newSeed();
const signer = softwareSigner(seed);
const key = randomBytes(32);
const cipher = { seal: (p: Uint8Array, a: Uint8Array) => sealAead(key, p, a), open: (s: Uint8Array, a: Uint8Array) => openAead(key, s, a) };

function open(dir: string, tenant = 'ward-7', s = signer) {
  const store = new SqliteLedgerStore(path.join(dir, `${tenant}.db`));
  return { store, ledger: Ledger.open({ tenant, origin: `sios/test/${tenant}`, store, signer: s, crypto: c, random: randomBytes, cipher }) };
}

function bundleOf(dir: string, tenant = 'ward-7', keys = [signer.publicKey]): Uint8Array {
  const store = new SqliteLedgerStore(path.join(dir, `${tenant}.db`));
  let out = '';
  exportBundle(store, { origin: `sios/test/${tenant}`, tenant, crypto: c, publicKeys: keys }, (s) => { out += s; });
  store.close();
  return utf8(out);
}

test('seal returns a receipt that verifies offline on its own', async (t) => {
  const { ledger } = open(tempDir(t));
  const r = await ledger.seal({ kind: 'intent', body: { actor: 'nurse-1', skill: 'records.read' } });
  const e = await verifyReceipt(c, r, [signer.publicKey]);
  assert.equal(e.seq, 0);
  assert.equal(e.kind, 'intent');
  // another key does not verify it
  await assert.rejects(verifyReceipt(c, r, [softwareSigner(newSeed()).publicKey]), /not signed by any trusted key/);
  // a changed entry does not verify
  const forged: Receipt = { ...r, entry: r.entry.replace('nurse-1', 'nurse-2') };
  await assert.rejects(verifyReceipt(c, forged, [signer.publicKey]), /inclusion proof/);
  await ledger.close();
});

test('group commit: 200 concurrent seals share signatures, all receipts verify, seqs are dense', async (t) => {
  const { ledger } = open(tempDir(t));
  const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => ledger.seal({ kind: 'intent', body: { i } })));
  assert.deepEqual(rs.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
  assert.ok(ledger.stats.batches < 200, `expected batching, got ${ledger.stats.batches} batches`);
  for (const r of rs.slice(0, 20)) await verifyReceipt(c, r, [signer.publicKey]);
  await ledger.close();
});

test('outcomes link to intents; an intent without outcome is reported in doubt after reopening', async (t) => {
  const dir = tempDir(t);
  const { ledger } = open(dir);
  const a = await ledger.seal({ kind: 'intent', body: { n: 1 } });
  const b = await ledger.seal({ kind: 'intent', body: { n: 2 } });
  await ledger.record({ status: 'ok' }, a);
  await ledger.close();
  const again = open(dir).ledger;
  assert.deepEqual(again.inDoubt(), [b.seq]);
  await again.close();
  const rep = await verifyBundle(bundleOf(dir), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(rep.ok, true, rep.failure?.message);
  assert.deepEqual(rep.inDoubt, [b.seq]);
});

test('payloads: committed not stored in clear; disclosed payload verifies; erased payload keeps the ledger verifiable', async (t) => {
  const dir = tempDir(t);
  const { ledger } = open(dir);
  const r = await ledger.seal({ kind: 'intent', body: { skill: 'records.read' }, payloads: { args: { patient: 'P-1234', diagnosis: 'flu' } } });
  assert.ok(!r.entry.includes('P-1234'));
  const d = ledger.disclose(r.seq, 'args');
  assert.deepEqual(d.payload, { patient: 'P-1234', diagnosis: 'flu' });
  await ledger.close();
  const store = new SqliteLedgerStore(path.join(dir, 'ward-7.db'));
  let out = '';
  exportBundle(store, { origin: 'sios/test/ward-7', tenant: 'ward-7', crypto: c, publicKeys: [signer.publicKey], disclosures: [d] }, (s) => { out += s; });
  const ok = await verifyBundle(utf8(out), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(ok.ok, true, ok.failure?.message);
  assert.equal(ok.disclosures, 1);
  const lied = out.replace('"diagnosis":"flu"', '"diagnosis":"none"');
  const bad = await verifyBundle(utf8(lied), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(bad.failure?.reason, 'bad-commitment');
  assert.equal(bad.failure?.seq, 0);
  assert.equal(store.erasePayload(r.seq, 'args'), true);
  store.close();
  const after = open(dir).ledger;
  assert.throws(() => after.disclose(r.seq, 'args'), /erased/);
  await after.close();
  assert.equal((await verifyBundle(bundleOf(dir), { crypto: c, trustedKeys: [signer.publicKey] })).ok, true);
});

test('a bundle verifies; against another tenant origin or key it fails clearly', async (t) => {
  const dir = tempDir(t);
  for (const tenant of ['ward-7', 'desk-3']) {
    const { ledger } = open(dir, tenant);
    for (let i = 0; i < 5; i++) await ledger.seal({ kind: 'intent', body: { i } });
    await ledger.close();
  }
  const a = bundleOf(dir, 'ward-7');
  assert.equal((await verifyBundle(a, { crypto: c, trustedKeys: [signer.publicKey] })).ok, true);
  const wrongOrigin = await verifyBundle(a, { crypto: c, trustedKeys: [signer.publicKey], expectedOrigin: 'sios/test/desk-3' });
  assert.equal(wrongOrigin.failure?.reason, 'wrong-tenant');
  const other = await verifyBundle(a, { crypto: c, trustedKeys: [softwareSigner(newSeed()).publicKey] });
  assert.equal(other.failure?.reason, 'unknown-key');
  // Relabelled: desk-3's entries presented as ward-7's fail at entry 0.
  const b = new TextDecoder().decode(bundleOf(dir, 'desk-3')).replaceAll('desk-3', 'ward-7');
  const relabelled = await verifyBundle(utf8(b), { crypto: c, trustedKeys: [signer.publicKey] });
  assert.equal(relabelled.ok, false);
  assert.equal(relabelled.failure?.seq, 0);
});

test('key rotation: announced in the ledger, verification across it works from either key', async (t) => {
  const dir = tempDir(t);
  const { ledger } = open(dir);
  await ledger.seal({ kind: 'intent', body: { before: true } });
  const next = softwareSigner(newSeed());
  const rot = await ledger.rotate(next);
  const after = await ledger.seal({ kind: 'intent', body: { after: true } });
  await verifyReceipt(c, after, [next.publicKey]);
  await assert.rejects(verifyReceipt(c, after, [signer.publicKey]));
  assert.equal(rot.seq, 1);
  await ledger.close();
  const bundle = bundleOf(dir, 'ward-7', [signer.publicKey, next.publicKey]);
  for (const k of [signer.publicKey, next.publicKey]) {
    const rep = await verifyBundle(bundle, { crypto: c, trustedKeys: [k] });
    assert.equal(rep.ok, true, rep.failure?.message);
    assert.equal(rep.keys.length, 2);
  }
  // reopening with the new key continues the ledger
  const again = open(dir, 'ward-7', next).ledger;
  await again.seal({ kind: 'intent', body: { later: true } });
  await again.close();
  assert.equal((await verifyBundle(bundleOf(dir), { crypto: c, trustedKeys: [signer.publicKey] })).ok, true);
});

test('--since: a ledger that extends an older checkpoint passes, a rewritten one fails', async (t) => {
  const dir = tempDir(t);
  const { ledger } = open(dir);
  for (let i = 0; i < 3; i++) await ledger.seal({ kind: 'intent', body: { i } });
  const old = ledger.latestCheckpoint() as string;
  for (let i = 0; i < 4; i++) await ledger.seal({ kind: 'intent', body: { j: i } });
  await ledger.close();
  const b = bundleOf(dir);
  assert.equal((await verifyBundle(b, { crypto: c, trustedKeys: [signer.publicKey], since: old })).ok, true);
  // a checkpoint from a different history (another ledger, same origin and key) is inconsistent
  const dir2 = tempDir(t);
  const other = open(dir2).ledger;
  for (let i = 0; i < 3; i++) await other.seal({ kind: 'intent', body: { other: i } });
  const foreign = other.latestCheckpoint() as string;
  await other.close();
  const rep = await verifyBundle(b, { crypto: c, trustedKeys: [signer.publicKey], since: foreign });
  assert.equal(rep.failure?.reason, 'inconsistent');
});

test('a store altered outside SIOS is refused at open', async (t) => {
  const dir = tempDir(t);
  const { ledger, store } = open(dir);
  await ledger.seal({ kind: 'intent', body: { x: 1 } });
  await ledger.close();
  const s = new SqliteLedgerStore(path.join(dir, 'ward-7.db'));
  s.db.prepare('UPDATE ledger_entries SET leaf = ? WHERE seq = 0').run(new Uint8Array(32));
  s.close();
  void store;
  assert.throws(() => open(dir), /does not match its last signed checkpoint/);
});
