// GF(2^8) arithmetic and Shamir splitting/interpolation, checked against the field's definition
// (FIPS 197 §4 examples), exhaustively where the space is small, and against the secrecy property.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SiosError } from '../../src/errors.ts';
import { gfInv, gfMul, shamirInterpolate, shamirSplit, type ShamirShare } from '../../src/crypto/shamir.ts';

/** Reference multiplication straight from the definition: carry-less product, then reduce mod 0x11b. */
function refMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) p ^= a << i;
  for (let bit = 14; bit >= 8; bit--) if ((p >> bit) & 1) p ^= 0x11b << (bit - 8);
  return p;
}

function combinations<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...t] = xs as [T, ...T[]];
  return [...combinations(t, k - 1).map((c) => [h, ...c]), ...combinations(t, k)];
}

/** A "random" source that returns exactly the given bytes: lets tests enumerate every polynomial. */
function fixed(bytes: Uint8Array): (n: number) => Uint8Array {
  return (n) => { assert.equal(n, bytes.length); return Uint8Array.from(bytes); };
}

describe('GF(2^8)', () => {
  test('FIPS 197 worked examples', () => {
    assert.equal(gfMul(0x57, 0x83), 0xc1); // FIPS 197 §4.2
    assert.equal(gfMul(0x57, 0x13), 0xfe); // FIPS 197 §4.2.1
    assert.equal(gfMul(0x53, 0xca), 0x01); // 0x53 and 0xca are inverses (AES S-box derivation)
    assert.equal(gfInv(0x53), 0xca);
  });

  test('multiplication equals the definition for all 65,536 pairs; every non-zero element has an inverse', () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        const m = gfMul(a, b);
        if (m !== refMul(a, b)) assert.fail(`gfMul(${a}, ${b}) = ${m}, expected ${refMul(a, b)}`);
      }
    }
    const seen = new Set<number>();
    for (let a = 1; a < 256; a++) {
      const i = gfInv(a);
      assert.equal(gfMul(a, i), 1, `inverse of ${a}`);
      seen.add(i);
    }
    assert.equal(seen.size, 255, 'inversion is a bijection on the non-zero elements');
  });
});

describe('Shamir over GF(2^8)', () => {
  const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

  test('every k-subset of n shares recovers the secret; k-1 shares give something else', () => {
    for (const [k, n] of [[2, 2], [2, 3], [3, 5], [4, 6]] as const) {
      const shares = shamirSplit(secret, k, n);
      assert.equal(shares.length, n);
      assert.deepEqual(shares.map((s) => s.x), Array.from({ length: n }, (_, i) => i + 1));
      for (const c of combinations(shares, k)) assert.deepEqual(shamirInterpolate(c), secret, `${k}-of-${n} with ${c.map((s) => s.x)}`);
      // With k-1 points the interpolation is of a lower-degree polynomial: wrong, except with probability 2^-256.
      for (const c of combinations(shares, k - 1)) if (k - 1 >= 1) assert.notDeepEqual(shamirInterpolate(c), secret);
      // More than k shares still interpolate the same polynomial.
      assert.deepEqual(shamirInterpolate(shares), secret);
    }
  });

  test('255-of-255 works and the edges are enforced', () => {
    const shares = shamirSplit(secret, 255, 255);
    assert.deepEqual(shamirInterpolate(shares.slice().reverse()), secret);
    for (const [k, n] of [[1, 3], [0, 0], [3, 2], [2, 256], [2.5, 3]]) {
      assert.throws(() => shamirSplit(secret, k as number, n as number), (e) => e instanceof SiosError && e.code === 'ERR_INPUT' && /2 <= k <= n <= 255/.test(e.message));
    }
    assert.throws(() => shamirSplit(new Uint8Array(0), 2, 3), (e) => e instanceof SiosError && e.code === 'ERR_INPUT');
    const [a, b] = shares as [ShamirShare, ShamirShare];
    assert.throws(() => shamirInterpolate([a, { x: a.x, y: b.y }]), (e) => e instanceof SiosError && e.code === 'ERR_SHARES' && /appears twice/.test(e.message));
    assert.throws(() => shamirInterpolate([a, { x: 0, y: b.y }]), (e) => e instanceof SiosError && e.code === 'ERR_SHARES');
  });

  test('coefficients are fresh for every byte (equal secret bytes give unrelated share bytes)', () => {
    const flat = new Uint8Array(32).fill(0x42);
    const shares = shamirSplit(flat, 3, 5);
    for (const s of shares) assert.ok(new Set(s.y).size > 8, `share ${s.x} repeats bytes: ${Buffer.from(s.y).toString('hex')}`);
    // Two splits of the same secret share nothing.
    assert.notDeepEqual(shamirSplit(flat, 3, 5)[0]!.y, shares[0]!.y);
  });

  test('k-1 shares are independent of the secret: exhaustive over every polynomial (k=2 and k=3)', () => {
    // k = 2: share at x is s + a·x. For every secret byte s, enumerating all 256 coefficients a must
    // give every share value exactly once, i.e. the same (uniform) distribution whatever s is.
    for (const x of [1, 2, 255]) {
      for (let s = 0; s < 256; s++) {
        const counts = new Uint16Array(256);
        for (let a = 0; a < 256; a++) {
          const shares = shamirSplit(Uint8Array.of(s), 2, Math.max(x, 2), fixed(Uint8Array.of(a)));
          counts[shares[x - 1]!.y[0]!]!++;
        }
        if (!counts.every((c) => c === 1)) assert.fail(`k=2, x=${x}, s=${s}: share distribution not uniform`);
      }
    }
    // k = 3: shares 1 and 3 (k-1 = two of them) over all 65,536 coefficient pairs hit every pair of values
    // exactly once, for several secrets: two shares say nothing about the third coefficient, s.
    for (const s of [0x00, 0x01, 0x53, 0xff]) {
      const counts = new Uint8Array(65536);
      for (let a1 = 0; a1 < 256; a1++) {
        for (let a2 = 0; a2 < 256; a2++) {
          const shares = shamirSplit(Uint8Array.of(s), 3, 3, fixed(Uint8Array.of(a1, a2)));
          counts[(shares[0]!.y[0]! << 8) | shares[2]!.y[0]!]!++;
        }
      }
      if (!counts.every((c) => c === 1)) assert.fail(`k=3, s=${s}: the pair (share 1, share 3) is not uniformly distributed`);
    }
  });

  test('and, conversely, for fixed k-1 shares every candidate secret is consistent with exactly one polynomial', () => {
    // Fix shares 1 and 2 of a 3-of-n split; for every candidate secret s* there is exactly one
    // degree-2 polynomial through (0, s*), (1, y1), (2, y2): interpolation through those three points
    // always succeeds and reproduces y1, y2, so an attacker learns no preference among the 256 s*.
    const y1 = 0x3c, y2 = 0xa7;
    const thirdShares = new Set<number>();
    for (let cand = 0; cand < 256; cand++) {
      const pts: ShamirShare[] = [{ x: 1, y: Uint8Array.of(y1) }, { x: 2, y: Uint8Array.of(y2) }, { x: 3, y: Uint8Array.of(0) }];
      // Find the share-3 value that makes s* the secret: f(0) is linear and injective in y3.
      let found = -1;
      for (let y3 = 0; y3 < 256; y3++) {
        pts[2] = { x: 3, y: Uint8Array.of(y3) };
        if (shamirInterpolate(pts)[0] === cand) { assert.equal(found, -1, 'two polynomials for one secret'); found = y3; }
      }
      assert.notEqual(found, -1, `no polynomial through shares 1, 2 has secret ${cand}`);
      thirdShares.add(found);
    }
    assert.equal(thirdShares.size, 256);
  });
});
