/** docs/formats.md's worked example, recomputed: the documentation cannot drift from the code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeVerifyCrypto as c } from '../../src/crypto/node.ts';
import { leafHash, MerkleTree } from '../../src/ledger/merkle.ts';
import { commitment, encodeEntry, genesisPrev, type Entry } from '../../src/ledger/entry.ts';
import { fromHex, toBase64, toBase64url, toHex } from '../../src/encoding/bytes.ts';

const doc = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'formats.md'), 'utf8');

test('worked example in docs/formats.md matches the implementation', () => {
  const origin = 'sios/acme-bank/ward-7';
  const g = toBase64url(genesisPrev(c, origin));
  const com = toBase64url(commitment(c, fromHex('00'.repeat(31) + '01'), { patient: 'P-1234' }));
  const e0: Entry = { v: 1, tenant: 'ward-7', seq: 0, time: '2026-11-22T10:00:00.000Z', kind: 'intent', prev: g, body: { actor: 'nurse-1', action: 'records.read', commitments: { args: com } } };
  const b0 = encodeEntry(e0);
  const l0 = leafHash(c, b0);
  const e1: Entry = { v: 1, tenant: 'ward-7', seq: 1, time: '2026-11-22T10:00:00.120Z', kind: 'outcome', prev: toBase64url(l0), body: { status: 'ok', intent: { seq: 0, leaf: toBase64url(l0) } } };
  const b1 = encodeEntry(e1);
  const l1 = leafHash(c, b1);
  const t = new MerkleTree(c);
  t.appendLeafHash(l0); t.appendLeafHash(l1);
  for (const s of [g, com, new TextDecoder().decode(b0), toHex(l0), new TextDecoder().decode(b1), toHex(l1), toHex(t.root()), toBase64(t.root())]) {
    assert.ok(doc.includes(s), `docs/formats.md lacks ${s.slice(0, 60)}`);
  }
});
