/**
 * The arithmetic of the ONNX detector, kept apart from the runtime so it can be tested on its own:
 * overlapping token windows, softmax, and the calibration that maps the operator's threshold to
 * the score 0.5 (the same piecewise-linear map as the built-in Detector.calibrate).
 */
import { SiosError } from '../../errors.ts';

/**
 * Half-open token ranges [start, end) covering `n` tokens with windows of `size` tokens whose starts
 * are `stride` apart. The last window ends exactly at `n`, so the tail of a long input is always
 * scored in a full window (an injection at the very end is never truncated away or diluted).
 */
export function tokenWindows(n: number, size: number, stride: number): Array<readonly [number, number]> {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(stride) || stride < 1 || stride > size) {
    throw new SiosError('ERR_INPUT', `token windows need 0 <= n, 1 <= stride <= size (got n=${n}, size=${size}, stride=${stride})`);
  }
  if (n === 0) return [];
  if (n <= size) return [[0, n]];
  const out: Array<readonly [number, number]> = [];
  let start = 0;
  for (; start + size < n; start += stride) out.push([start, start + size]);
  out.push([n - size, n]);
  return out;
}

/** Number of windows tokenWindows(n, size, stride) returns, without building them. */
export function windowCount(n: number, size: number, stride: number): number {
  if (n === 0) return 0;
  if (n <= size) return 1;
  return Math.ceil((n - size) / stride) + 1;
}

/** Numerically stable softmax probability of class `k` among `logits`. */
export function softmaxAt(logits: ArrayLike<number>, k: number): number {
  if (k < 0 || k >= logits.length) throw new SiosError('ERR_INPUT', `class index ${k} is outside the model's ${logits.length} output logits; fix output.injectionIndex in the detector manifest`);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (!Number.isFinite(x)) throw new SiosError('ERR_INTERNAL', 'the ONNX detector produced a non-finite logit; the model is broken or not a classifier');
    if (x > max) max = x;
  }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return Math.exp(logits[k]! - max) / sum;
}

