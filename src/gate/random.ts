/**
 * Random bytes for the gate's per-action salts and nonces. Each node:crypto randomBytes call runs
 * a job and allocates a Buffer (several microseconds); the gate needs 48 bytes per action, so it
 * draws them from a 4 KiB block filled from the same CSPRNG. Every byte is handed out once and
 * wiped from the block when taken.
 */
import { randomFillSync } from 'node:crypto';

const BLOCK = 4096;
const block = new Uint8Array(BLOCK);
let offset = BLOCK;

export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('randomBytes needs a non-negative integer length');
  if (n > 256) return randomFillSync(new Uint8Array(n));
  if (offset + n > BLOCK) {
    randomFillSync(block);
    offset = 0;
  }
  const out = block.slice(offset, offset + n);
  block.fill(0, offset, offset + n);
  offset += n;
  return out;
}
