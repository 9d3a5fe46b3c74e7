/** RFC 9162 Merkle tree against the public reference vectors, plus exhaustive self-consistency. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeVerifyCrypto as c } from '../../src/crypto/node.ts';
import { webVerifyCrypto } from '../../src/crypto/web.ts';
import { MerkleTree, leafHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.ts';
import { fromHex, toHex } from '../../src/encoding/bytes.ts';

const V = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'vectors', 'rfc9162-merkle.json'), 'utf8')) as {
  leaves: string[]; roots: string[];
  inclusion: { leaf: number; size: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
};

function tree(n: number, crypto = c): MerkleTree {
  const t = new MerkleTree(crypto);
  for (const l of V.leaves.slice(0, n)) t.appendLeafHash(leafHash(crypto, fromHex(l)));
  return t;
}

test('roots for every size 0..8 match the reference (node:crypto and the browser implementation)', async () => {
  const web = await webVerifyCrypto();
  for (const crypto of [c, web]) {
    const t = tree(8, crypto);
    for (let n = 0; n <= 8; n++) assert.equal(toHex(t.root(n)), V.roots[n], `size ${n} with ${crypto.name}`);
  }
});

test('inclusion proofs: generated equal the reference, verify, and every corruption fails', () => {
  const t = tree(8);
  for (const v of V.inclusion) {
    const idx = v.leaf - 1;
    const proof = v.proof.map((h) => fromHex(h));
    assert.deepEqual(t.inclusionProof(idx, v.size).map(toHex), v.proof);
    const leaf = t.leaf(idx);
    const root = t.root(v.size);
    verifyInclusion(c, leaf, idx, v.size, proof, root);
    const bad: [string, () => void][] = [
      ['index-1', () => verifyInclusion(c, leaf, idx - 1, v.size, proof, root)],
      ['index+1', () => verifyInclusion(c, leaf, idx + 1, v.size, proof, root)],
      ['size*2', () => verifyInclusion(c, leaf, idx, v.size * 2, proof, root)],
      ['wrong leaf', () => verifyInclusion(c, new Uint8Array(32), idx, v.size, proof, root)],
      ['trailing root', () => verifyInclusion(c, leaf, idx, v.size, [...proof, root], root)],
      ['preceding root', () => verifyInclusion(c, leaf, idx, v.size, [root, ...proof], root)],
      ['removed component', () => verifyInclusion(c, leaf, idx, v.size, proof.slice(0, -1), root)],
      ...proof.map((_, i): [string, () => void] => [`bit flip ${i}`, () => {
        const p = proof.map((x) => Uint8Array.from(x)); (p[i] as Uint8Array)[0]! ^= 8;
        verifyInclusion(c, leaf, idx, v.size, p, root);
      }]),
    ];
    for (const [name, f] of bad) assert.throws(f, /inclusion/, `${name} for leaf ${v.leaf}/${v.size} must fail`);
  }
});

test('consistency proofs: generated equal the reference, verify, and every corruption fails', () => {
  const t = tree(8);
  for (const v of V.consistency) {
    const proof = v.proof.map((h) => fromHex(h));
    assert.deepEqual(t.consistencyProof(v.size1, v.size2).map(toHex), v.proof);
    const r1 = t.root(v.size1), r2 = t.root(v.size2);
    verifyConsistency(c, v.size1, v.size2, r1, r2, proof);
    const bad: [string, () => void][] = [
      ['size1+1', () => verifyConsistency(c, v.size1 + 1, v.size2, r1, r2, proof)],
      ['size2*2', () => verifyConsistency(c, v.size1, v.size2 * 2, r1, r2, proof)],
      ['swapped roots', () => verifyConsistency(c, v.size1, v.size2, r2, r1, proof)],
      ['empty proof', () => verifyConsistency(c, v.size1, v.size2, r1, r2, [])],
      ['trailing root', () => verifyConsistency(c, v.size1, v.size2, r1, r2, [...proof, r2])],
      ['truncated', () => verifyConsistency(c, v.size1, v.size2, r1, r2, proof.slice(0, -1))],
      ...proof.map((_, i): [string, () => void] => [`bit flip ${i}`, () => {
        const p = proof.map((x) => Uint8Array.from(x)); (p[i] as Uint8Array)[0]! ^= 16;
        verifyConsistency(c, v.size1, v.size2, r1, r2, p);
      }]),
    ];
    for (const [name, f] of bad) assert.throws(f, /consistency/, `${name} for ${v.size1}->${v.size2} must fail`);
  }
});

test('every leaf of every tree up to 70 has a verifying inclusion proof; every pair of sizes a consistency proof', () => {
  const t = new MerkleTree(c);
  for (let i = 0; i < 70; i++) t.appendLeafHash(leafHash(c, Uint8Array.of(i, i * 7 & 255)));
  for (let n = 1; n <= 70; n++) {
    const root = t.root(n);
    for (let i = 0; i < n; i++) verifyInclusion(c, t.leaf(i), i, n, t.inclusionProof(i, n), root);
    for (let m = 1; m <= n; m++) verifyConsistency(c, m, n, t.root(m), root, m === n ? [] : t.consistencyProof(m, n));
  }
  // truncate then re-append gives the same roots
  const r40 = toHex(t.root(40));
  t.truncate(40);
  assert.equal(toHex(t.root()), r40);
});
