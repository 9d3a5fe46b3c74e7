/**
 * RFC 9162 §2.1 Merkle tree: leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || l || r),
 * inclusion proofs (§2.1.3) and consistency proofs (§2.1.4), with their verification algorithms.
 *
 * The tree keeps, per level k, the hashes of every complete aligned subtree of 2^k leaves, in flat
 * growable buffers: appending costs one leaf hash plus on average one node hash, any root or proof
 * for any earlier size is O(log² n) lookups. Runtime-agnostic: hashing comes from VerifyCrypto.
 */
import { VerifyError } from '../errors.ts';
import type { VerifyCrypto } from '../crypto/suite.ts';

const HASH = 32;

export function leafHash(c: VerifyCrypto, entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return c.sha256(buf);
}

// Hashing is synchronous, so one scratch buffer serves every node hash (no allocation per node).
const nodeScratch = new Uint8Array(1 + 2 * HASH);
nodeScratch[0] = 0x01;

export function nodeHash(c: VerifyCrypto, left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH);
  return c.sha256(nodeScratch);
}

/**
 * Leaf hash of `buf[start:end]` where `buf[start-1]` exists (a bundle's preceding newline): the
 * byte before the entry is set to the 0x00 leaf prefix for the hash and restored, so a million
 * entries are hashed without a million copies.
 */
export function leafHashAt(c: VerifyCrypto, buf: Uint8Array, start: number, end: number): Uint8Array {
  if (start < 1) return leafHash(c, buf.subarray(start, end));
  const saved = buf[start - 1] as number;
  buf[start - 1] = 0x00;
  try {
    return c.sha256(buf.subarray(start - 1, end));
  } finally {
    buf[start - 1] = saved;
  }
}

/** Largest power of two strictly less than n (n > 1), RFC 9162 §2.1.1's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

class HashArray {
  buf = new Uint8Array(HASH * 64);
  length = 0;
  push(h: Uint8Array): void {
    if ((this.length + 1) * HASH > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf.set(h, this.length * HASH);
    this.length++;
  }
  get(i: number): Uint8Array {
    return this.buf.subarray(i * HASH, (i + 1) * HASH);
  }
}

export class MerkleTree {
  private readonly c: VerifyCrypto;
  private readonly levels: HashArray[] = [new HashArray()];

  constructor(c: VerifyCrypto) {
    this.c = c;
  }

  get size(): number {
    return (this.levels[0] as HashArray).length;
  }

  /** Append a leaf by its leaf hash (already computed with leafHash). */
  appendLeafHash(h: Uint8Array): void {
    let level = 0;
    let node = h;
    for (;;) {
      const arr = this.levels[level] ?? (this.levels[level] = new HashArray());
      arr.push(node);
      if (arr.length % 2 !== 0) return;
      node = nodeHash(this.c, arr.get(arr.length - 2), arr.get(arr.length - 1));
      level++;
    }
  }

  leaf(i: number): Uint8Array {
    if (i < 0 || i >= this.size) throw new RangeError(`leaf ${i} outside tree of size ${this.size}`);
    return (this.levels[0] as HashArray).get(i);
  }

  /** Drop leaves beyond `size` (used to undo a batch whose commit failed). */
  truncate(size: number): void {
    if (size > this.size) throw new RangeError('cannot truncate upwards');
    for (let k = 0; k < this.levels.length; k++) (this.levels[k] as HashArray).length = Math.floor(size / 2 ** k);
  }

  /** MTH(D[start:end]) for the ranges RFC 9162's recursions produce (start aligned to the split). */
  private rangeHash(start: number, end: number): Uint8Array {
    const n = end - start;
    if ((n & (n - 1)) === 0) {
      const k = Math.log2(n);
      if (start % n === 0) {
        const lvl = this.levels[k];
        if (lvl && start / n < lvl.length) return lvl.get(start / n);
      }
    }
    const k = splitPoint(n);
    return nodeHash(this.c, this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  /** Root of the tree of the first `size` leaves. The empty tree's root is SHA-256 of nothing. */
  root(size = this.size): Uint8Array {
    if (size < 0 || size > this.size) throw new RangeError(`no tree of size ${size} (have ${this.size})`);
    if (size === 0) return this.c.sha256(new Uint8Array(0));
    return this.rangeHash(0, size);
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[0:size]). */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    if (index < 0 || index >= size || size > this.size) throw new RangeError(`no leaf ${index} in a tree of size ${size}`);
    const out: Uint8Array[] = [];
    const path = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n === 1) return;
      const k = splitPoint(n);
      if (m < k) { path(m, start, start + k); out.push(this.rangeHash(start + k, end)); }
      else { path(m - k, start + k, end); out.push(this.rangeHash(start, start + k)); }
    };
    path(index, 0, size);
    return out;
  }

  /** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]). */
  consistencyProof(m: number, n = this.size): Uint8Array[] {
    if (m <= 0 || m > n || n > this.size) throw new RangeError(`no consistency proof from ${m} to ${n}`);
    const out: Uint8Array[] = [];
    const sub = (m: number, start: number, end: number, b: boolean): void => {
      const n = end - start;
      if (m === n) { if (!b) out.push(this.rangeHash(start, end)); return; }
      const k = splitPoint(n);
      if (m <= k) { sub(m, start, start + k, b); out.push(this.rangeHash(start + k, end)); }
      else { sub(m - k, start + k, end, false); out.push(this.rangeHash(start, start + k)); }
    };
    sub(m, 0, n, true);
    return out;
  }
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** RFC 9162 §2.1.3.2: verify an inclusion proof. Throws VerifyError('bad-proof'). */
export function verifyInclusion(c: VerifyCrypto, leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new VerifyError('bad-proof', `inclusion proof: leaf index ${index} is not inside a tree of size ${size}`, index);
  }
  let fn = index, sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== HASH) throw new VerifyError('bad-proof', 'inclusion proof: a proof node is not 32 bytes', index);
    if (sn === 0) throw new VerifyError('bad-proof', 'inclusion proof is longer than the tree is deep', index);
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(c, p, r);
      if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(c, r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !eq(r, root)) throw new VerifyError('bad-proof', `inclusion proof for leaf ${index} does not lead to the checkpoint root`, index);
}

/** RFC 9162 §2.1.4.2: verify that the tree of size `second` extends the tree of size `first`. */
export function verifyConsistency(c: VerifyCrypto, first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): void {
  const fail = (why: string): never => { throw new VerifyError('inconsistent', `consistency proof ${first} -> ${second}: ${why}`); };
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) fail('sizes out of order');
  if (first === second) { if (proof.length !== 0 || !eq(firstRoot, secondRoot)) fail('equal sizes but different roots or a non-empty proof'); return; }
  if (proof.length === 0) fail('empty proof');
  let path = [...proof];
  for (const p of path) if (p.length !== HASH) fail('a proof node is not 32 bytes');
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  let fn = first - 1, sn = second - 1;
  while ((fn & 1) === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0] as Uint8Array, sr = path[0] as Uint8Array;
  for (const p of path.slice(1)) {
    if (sn === 0) fail('proof longer than needed');
    if ((fn & 1) === 1 || fn === sn) {
      fr = nodeHash(c, p, fr); sr = nodeHash(c, p, sr);
      if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(c, sr, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail('proof shorter than needed');
  if (!eq(fr, firstRoot)) fail('it does not reproduce the older root: history was rewritten');
  if (!eq(sr, secondRoot)) fail('it does not reproduce the newer root');
}
