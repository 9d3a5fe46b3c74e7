/**
 * Layer 5: a statistical classifier. Logistic regression over hashed features of one window of
 * normalised text: character 3-, 4- and 5-grams, word unigrams and bigrams, and the categories and ids
 * of the phrase rules that fire in the window (so the model learns how much weak rule evidence means in
 * context). Features are binary; n-grams and context/rule features are two groups, each L2-normalised (see logitOf).
 *
 * The model file (model.json, produced by scripts/train-sentinel.ts) stores int8-quantised weights in
 * base64; inference is pure TypeScript with no dependency. Hash: 32-bit FNV-1a style multiply-xor, not
 * security-relevant (collisions only add noise).
 */
import { tokenize, type RuleHit } from './rules.ts';

export interface ModelFile {
  readonly format: 'sios-sentinel-lr/1';
  readonly bits: number;
  readonly scale: number;
  readonly bias: number;
  /** base64 of 2^bits signed bytes; weight = byte * scale. */
  readonly weights: string;
  readonly window: number;
  readonly stride: number;
  /** Classifier probability at the operating point (mapped to score 0.5 by the detector). */
  readonly threshold: number;
  readonly trainedOn: Readonly<Record<string, unknown>>;
}

export interface Model {
  readonly bits: number;
  readonly weights: Float32Array;
  readonly bias: number;
  readonly window: number;
  readonly stride: number;
  readonly threshold: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashStr(s: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/**
 * Distinct hashed feature indices of one window. `scratch` deduplicates (generation-stamped, so no
 * clearing per call). Returns the indices in `out`, its length as the result.
 */
export class FeatureExtractor {
  readonly bits: number;
  private readonly mask: number;
  private readonly stamp: Int32Array;
  private gen = 0;
  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 10 || bits > 24) throw new RangeError(`feature bits must be an integer in 10..24, got ${bits}`);
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.stamp = new Int32Array(1 << bits);
  }

  /** `extras`: context features of the unit (segment position, vocabulary overlap...), hashed as given. */
  extract(text: string, hits: readonly RuleHit[], extras: readonly string[] = []): Int32Array {
    this.gen++;
    if (this.gen > 0x7ffffff0) { this.stamp.fill(0); this.gen = 1; }
    const gen = this.gen;
    const buf: number[] = [];
    const add = (h: number): void => {
      const k = h & this.mask;
      if (this.stamp[k] !== gen) { this.stamp[k] = gen; buf.push(k); }
    };
    // character n-grams, n = 3..5, over the text with whitespace runs collapsed to one space
    let prevSpace = true;
    const codes: number[] = [0x20];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const sp = c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
      if (sp) { if (!prevSpace) codes.push(0x20); prevSpace = true; } else { codes.push(c); prevSpace = false; }
    }
    if (!prevSpace) codes.push(0x20);
    for (let i = 0; i + 3 <= codes.length; i++) {
      let h = FNV_OFFSET;
      for (let k = 0; k < 5 && i + k < codes.length; k++) {
        h = Math.imul(h ^ (codes[i + k] as number), FNV_PRIME);
        if (k >= 2) add(Math.imul(h ^ (k + 1), 0x9e3779b1) >>> 0);
      }
    }
    // words and word bigrams
    const toks = tokenize(text);
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      add(hashStr(t, 0x5bd1e995));
      if (i + 1 < toks.length) add(hashStr(t + ' ' + toks[i + 1]!, 0x27d4eb2f));
    }
    // Second group, stored as ~index: rule evidence and context features. They are normalised apart
    // from the n-grams, so a short planted sentence in a language whose n-grams the model never saw is
    // judged by its shape (second person, request verb, position...) instead of being diluted.
    const addB = (h: number): void => {
      const k = h & this.mask;
      if (this.stamp[k] !== gen) { this.stamp[k] = gen; buf.push(~k); }
    };
    for (const h of hits) {
      addB(hashStr('rule:' + h.id, 0x165667b1));
      addB(hashStr('cat:' + h.category, 0x165667b1));
    }
    for (const e of extras) addB(hashStr(e, 0x2f7a3c11));
    addB(hashStr('bias-feature', 0x1b873593)); // a constant feature so short windows have a prior too
    return Int32Array.from(buf);
  }
}

/**
 * Features are two groups: n-gram indices (>= 0) and context/rule indices stored as ~index (< 0). Each
 * group is L2-normalised on its own: z = bias + sum(A)/sqrt(|A|) + sum(B)/sqrt(|B|).
 */
export function logitOf(weights: ArrayLike<number>, bias: number, features: Int32Array): number {
  let za = 0, zb = 0, na = 0, nb = 0;
  for (let i = 0; i < features.length; i++) {
    const k = features[i] as number;
    if (k >= 0) { za += weights[k] as number; na++; } else { zb += weights[~k] as number; nb++; }
  }
  return bias + (na > 0 ? za / Math.sqrt(na) : 0) + (nb > 0 ? zb / Math.sqrt(nb) : 0);
}

export function logit(model: Model, features: Int32Array): number {
  return logitOf(model.weights, model.bias, features);
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function fromBase64Lenient(s: string): Uint8Array {
  // atob is a web standard (Node, browsers); the model file is trusted build output.
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Load and check a model file; throws TypeError/RangeError on a malformed file (a build defect). */
export function loadModel(file: ModelFile): Model {
  if (file.format !== 'sios-sentinel-lr/1') throw new TypeError(`unknown sentinel model format ${String(file.format)}`);
  const bytes = fromBase64Lenient(file.weights);
  if (bytes.length !== 1 << file.bits) throw new RangeError(`model weights have ${bytes.length} entries, expected 2^${file.bits}`);
  const weights = new Float32Array(bytes.length);
  const signed = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < signed.length; i++) weights[i] = (signed[i] as number) * file.scale;
  if (!(file.window > 0 && file.stride > 0 && file.stride <= file.window)) throw new RangeError('model window/stride are invalid');
  if (!(file.threshold > 0 && file.threshold < 1)) throw new RangeError('model threshold must be in (0, 1)');
  return { bits: file.bits, weights, bias: file.bias, window: file.window, stride: file.stride, threshold: file.threshold };
}

/** Encode float weights as a model file (used by the training script). */
export function encodeModel(weights: Float64Array, bits: number, bias: number, extra: Omit<ModelFile, 'format' | 'bits' | 'scale' | 'bias' | 'weights'>): ModelFile {
  let max = 0;
  for (let i = 0; i < weights.length; i++) max = Math.max(max, Math.abs(weights[i] as number));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round((weights[i] as number) / scale)));
  const u = new Uint8Array(q.buffer);
  let bin = '';
  for (let i = 0; i < u.length; i += 0x8000) bin += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return { format: 'sios-sentinel-lr/1', bits, scale, bias, weights: btoa(bin), ...extra };
}
