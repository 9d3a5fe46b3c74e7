/**
 * toBase64/toBase64url use Node's native encoder when Buffer exists and the portable loop
 * otherwise (browsers): both must give the same text for every input, and decode back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBase64, fromBase64url, toBase64, toBase64Portable, toBase64url, toBase64urlPortable } from '../../src/encoding/bytes.ts';

test('native and portable base64/base64url encoders agree on every length and byte value', () => {
  let x = 12345;
  const rnd = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 24; };
  const inputs: Uint8Array[] = [];
  for (let n = 0; n <= 130; n++) inputs.push(Uint8Array.from({ length: n }, rnd));
  for (const n of [255, 256, 1000, 3309, 3313, 65537]) inputs.push(Uint8Array.from({ length: n }, rnd));
  inputs.push(Uint8Array.from({ length: 256 }, (_, i) => i), new Uint8Array(33).fill(255), new Uint8Array(34));
  // Views into a larger buffer (offset and length must be honoured), and a Buffer.
  const big = Uint8Array.from({ length: 200 }, rnd);
  for (let off = 0; off < 7; off++) for (const len of [0, 1, 2, 3, 32, 64, 100]) inputs.push(big.subarray(off, off + len));
  inputs.push(Buffer.from('a Buffer is a Uint8Array'));
  for (const b of inputs) {
    const std = toBase64(b), url = toBase64url(b);
    assert.equal(std, toBase64Portable(b), `base64, length ${b.length}`);
    assert.equal(url, toBase64urlPortable(b), `base64url, length ${b.length}`);
    assert.deepEqual(fromBase64(std), new Uint8Array(b));
    assert.deepEqual(fromBase64url(url), new Uint8Array(b));
  }
});
