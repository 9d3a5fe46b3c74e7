/**
 * Shamir secret sharing (Shamir 1979, "How to share a secret") over GF(2^8), byte by byte.
 *
 * Field: GF(2)[x] / (x^8 + x^4 + x^3 + x + 1), the AES field (FIPS 197 §4). Addition is XOR.
 * Multiplication is done with a fixed sequence of shifts and masks (no lookup tables indexed by
 * secret bytes, so no cache-timing leak) and inversion as a^254 (Fermat: a^255 = 1 for a ≠ 0).
 *
 * For each secret byte s, a fresh polynomial f(x) = s + a1·x + … + a(k-1)·x^(k-1) with uniformly
 * random coefficients is drawn; share j holds f(j) for j = 1..n. Any k shares determine f by
 * Lagrange interpolation and so s = f(0); any k-1 shares are consistent with every value of s in
 * exactly the same number of ways (one), so they reveal nothing about it.
 *
 * This module is pure maths on Uint8Array; the share text format and the key checks are in
 * backup.ts. Randomness is injected (default: node:crypto's CSPRNG) so tests can enumerate it.
 */
import { SiosError } from '../errors.ts';
import { randomBytes } from './node.ts';

/** Multiplication in GF(2^8) mod 0x11b, constant time in its operands. */
export function gfMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    p ^= -(b & 1) & a;                 // add a when the low bit of b is set
    const hi = -((a >> 7) & 1) & 0x1b; // reduce when a overflows x^7
    a = ((a << 1) & 0xff) ^ hi;
    b >>= 1;
  }
  return p & 0xff;
}

/** Multiplicative inverse a^254; gfInv(0) is 0 by this formula, and callers never pass 0. */
export function gfInv(a: number): number {
  // 254 = 0b11111110: square-and-multiply with a fixed sequence.
  let r = 1;
  let x = a;
  for (let i = 0; i < 8; i++) {
    if (i > 0) r = gfMul(r, x); // bits 1..7 of 254 are set, bit 0 is not; the branch is on i, not on data
    x = gfMul(x, x);
  }
  return r;
}

export interface ShamirShare {
  /** The x coordinate, 1..255. */
  readonly x: number;
  /** f(x) for each byte of the secret. */
  readonly y: Uint8Array;
}

/**
 * Split `secret` into n shares, any k of which recover it: 2 <= k <= n <= 255.
 * `random(len)` must return `len` uniformly random bytes (a CSPRNG); tests may inject their own.
 */
export function shamirSplit(secret: Uint8Array, k: number, n: number, random: (len: number) => Uint8Array = randomBytes): ShamirShare[] {
  if (!(secret instanceof Uint8Array) || secret.length === 0) throw new SiosError('ERR_INPUT', 'the secret to split must be a non-empty Uint8Array');
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 2 || n < k || n > 255) {
    throw new SiosError('ERR_INPUT', `shares need 2 <= k <= n <= 255 (got k=${k}, n=${n}); k is how many shares restore the key, n how many are made`);
  }
  const len = secret.length;
  const coeffs = random(len * (k - 1)); // fresh coefficients for every byte
  if (!(coeffs instanceof Uint8Array) || coeffs.length !== len * (k - 1)) throw new SiosError('ERR_INTERNAL', 'the random source returned the wrong number of bytes');
  try {
    const shares: ShamirShare[] = [];
    for (let x = 1; x <= n; x++) {
      const y = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        // Horner: f(x) = (((a(k-1))·x + a(k-2))·x + … + a1)·x + s
        let acc = 0;
        for (let j = k - 2; j >= 0; j--) acc = gfMul(acc, x) ^ (coeffs[i * (k - 1) + j] as number);
        y[i] = gfMul(acc, x) ^ (secret[i] as number);
      }
      shares.push({ x, y });
    }
    return shares;
  } finally {
    coeffs.fill(0);
  }
}

/**
 * Lagrange interpolation of the shares' polynomial at `at` (0 gives the secret). The shares must
 * have distinct non-zero x and equal lengths; it is the caller's job to pass exactly k of them.
 */
export function shamirInterpolate(shares: readonly ShamirShare[], at = 0): Uint8Array {
  if (shares.length === 0) throw new SiosError('ERR_SHARES', 'no shares given');
  const len = (shares[0] as ShamirShare).y.length;
  const seen = new Set<number>();
  for (const s of shares) {
    if (!Number.isInteger(s.x) || s.x < 1 || s.x > 255) throw new SiosError('ERR_SHARES', `share index ${s.x} is outside 1..255`);
    if (seen.has(s.x)) throw new SiosError('ERR_SHARES', `share index ${s.x} appears twice; give distinct shares`);
    seen.add(s.x);
    if (s.y.length !== len) throw new SiosError('ERR_SHARES', 'shares have different lengths; they come from different secrets');
  }
  // Lagrange basis at `at`: l_j = Π_{m≠j} (at - x_m) / (x_j - x_m), with - being XOR.
  const basis = shares.map((sj, j) => {
    let num = 1, den = 1;
    shares.forEach((sm, m) => {
      if (m === j) return;
      num = gfMul(num, at ^ sm.x);
      den = gfMul(den, sj.x ^ sm.x);
    });
    return gfMul(num, gfInv(den));
  });
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    let acc = 0;
    for (let j = 0; j < shares.length; j++) acc ^= gfMul(basis[j] as number, (shares[j] as ShamirShare).y[i] as number);
    out[i] = acc;
  }
  return out;
}
