/**
 * The detector's last layer: one learned decision over the evidence of every layer of a document.
 *
 * The layers report on different scales: the segment classifier's logit, the window classifier's
 * logit, the weight of a hand-written phrase rule, the score of decoded or hidden text, a markdown
 * exfiltration link. A fixed rule such as "the maximum of them" lets the noisiest layer set the false
 * positives (long windows of developer documentation, for instance, reached the top of the benign
 * scores while adding almost no recall). Instead a small logistic model weighs the evidence. It is
 * fitted by scripts/train-sentinel.ts on documents the unit classifier never trained on (held-back
 * benign documents and held-back attacks, plain and obfuscated), so it learns how far each layer can
 * be trusted out of sample.
 *
 * Every weight is non-negative, so more evidence of an attack never lowers the score. A fit with signed
 * weights learned that a second suspicious sentence, or a very strong window, marks a page *about*
 * prompt injection (the hard benign documents quote attacks), and gave them negative weights; an
 * attacker who simply said his request twice then lowered its score: 103 of 117 caught BIPIA test
 * attacks scored lower, 32 of them fell below the operating threshold (session 11). loadCombiner refuses
 * a negative weight, so no model file can bring that back.
 *
 * Pure arithmetic, no dependency: runs wherever the detector runs.
 */

/** Evidence names, in the order of the combiner's weights (the model file stores this list). */
export const EVIDENCE = [
  'segment', 'segmentHigh', 'segment2', 'contrast', 'window', 'windowHigh', 'unit', 'unitHigh', 'structure', 'structureHigh', 'rule', 'ruleStrong', 'rulePair', 'decoded', 'encodedProse', 'hidden', 'hiddenPresent', 'exfilLink', 'obfuscated', 'rot13', 'code',
] as const;
export type EvidenceName = typeof EVIDENCE[number];
export type Evidence = Record<EvidenceName, number>;

export function emptyEvidence(): Evidence {
  const e = {} as Record<EvidenceName, number>;
  for (const k of EVIDENCE) e[k] = 0;
  return e;
}

/**
 * A classifier logit as evidence: only its positive part counts (a benign-looking document must not
 * outweigh an attack found in its decoded or hidden text), bounded so saturated units do not dominate.
 * `from` shifts the hinge: the pair (0, HIGH_LOGIT) gives the combiner a piecewise-linear response.
 */
export function logitFeature(z: number, from = 0): number {
  return Math.min(4, Math.max(0, z - from) / 4);
}
/** Second hinge of the classifier logits (p ~ 0.998). */
export const HIGH_LOGIT = 6;

export interface CombinerFile {
  readonly evidence: readonly string[];
  readonly weights: readonly number[];
  readonly bias: number;
  /** Combined probability at the operating point (mapped to the score 0.5). */
  readonly threshold: number;
}

export interface Combiner {
  readonly weights: Float64Array;
  readonly bias: number;
  readonly threshold: number;
}

export function loadCombiner(f: CombinerFile): Combiner {
  if (!Array.isArray(f.evidence) || f.evidence.length !== EVIDENCE.length || f.evidence.some((n, i) => n !== EVIDENCE[i])) {
    throw new TypeError(`combiner evidence list ${JSON.stringify(f.evidence)} does not match this build's ${JSON.stringify(EVIDENCE)}`);
  }
  if (!Array.isArray(f.weights) || f.weights.length !== EVIDENCE.length || f.weights.some((w) => typeof w !== 'number' || !Number.isFinite(w))) {
    throw new TypeError(`combiner needs ${EVIDENCE.length} finite weights`);
  }
  const negative = f.weights.findIndex((w) => w < 0);
  if (negative >= 0) throw new RangeError(`combiner weight of ${EVIDENCE[negative]} is ${f.weights[negative]}: every weight must be >= 0 (more evidence may never lower the score); retrain with scripts/train-sentinel.ts`);
  if (typeof f.bias !== 'number' || !Number.isFinite(f.bias)) throw new TypeError('combiner bias must be a finite number');
  if (typeof f.threshold !== 'number' || !(f.threshold > 0 && f.threshold < 1)) throw new RangeError('combiner threshold must be in (0, 1)');
  return { weights: Float64Array.from(f.weights), bias: f.bias, threshold: f.threshold };
}

export function combinerLogit(c: Combiner, e: Evidence): number {
  let z = c.bias;
  for (let i = 0; i < EVIDENCE.length; i++) z += (c.weights[i] as number) * e[EVIDENCE[i]!];
  return z;
}

/**
 * Fits the combiner by full-batch projected gradient descent on the logistic loss with a little L2
 * (deterministic: no sampling), every weight kept >= 0 (see above; the bias is free). Classes are
 * balanced. Used by the training script only.
 *
 * L2 1e-4: with the weights held non-negative, 1e-3 measured 51.5% recall at 1% FPR and 60.9% at the
 * operating threshold against 52.2% and 63.8% (quick evaluation, session 11); the signed fit had 52.6%
 * and 64.5%.
 */
export function fitCombiner(xs: readonly Evidence[], ys: readonly number[], opts: { iterations?: number; l2?: number; fixed?: Partial<Record<EvidenceName, number>> } = {}): Omit<CombinerFile, 'threshold'> {
  const n = xs.length, d = EVIDENCE.length;
  if (n === 0 || ys.length !== n) throw new RangeError('fitCombiner: need as many labels as evidence rows, at least one');
  const iterations = opts.iterations ?? 4000, l2 = opts.l2 ?? 1e-4;
  const pos = ys.filter((y) => y === 1).length, neg = n - pos;
  if (pos === 0 || neg === 0) throw new RangeError('fitCombiner: need both classes');
  const wPos = n / (2 * pos), wNeg = n / (2 * neg);
  const X = xs.map((e) => EVIDENCE.map((k) => e[k]));
  const w = new Float64Array(d);
  // Weights set by hand (see CONTRAST_WEIGHT in scripts/train-sentinel.ts) are held where they are.
  const held = new Uint8Array(d);
  for (const [k, v] of Object.entries(opts.fixed ?? {})) {
    const j = EVIDENCE.indexOf(k as EvidenceName);
    if (j < 0 || typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`fitCombiner: fixed weight ${k}=${String(v)} must name an evidence and be a finite number >= 0`);
    w[j] = v; held[j] = 1;
  }
  let b = 0;
  // Adam: the features have very different spreads; plain gradient descent would crawl.
  const m = new Float64Array(d + 1), v = new Float64Array(d + 1);
  const lr = 0.05, b1 = 0.9, b2 = 0.999;
  for (let t = 1; t <= iterations; t++) {
    const g = new Float64Array(d + 1);
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      let z = b;
      for (let j = 0; j < d; j++) z += (w[j] as number) * (x[j] as number);
      const p = 1 / (1 + Math.exp(-z));
      const err = (p - (ys[i] as number)) * ((ys[i] as number) === 1 ? wPos : wNeg) / n;
      for (let j = 0; j < d; j++) g[j] = (g[j] as number) + err * (x[j] as number);
      g[d] = (g[d] as number) + err;
    }
    for (let j = 0; j < d; j++) g[j] = (g[j] as number) + l2 * (w[j] as number);
    for (let j = 0; j <= d; j++) {
      m[j] = b1 * (m[j] as number) + (1 - b1) * (g[j] as number);
      v[j] = b2 * (v[j] as number) + (1 - b2) * (g[j] as number) ** 2;
      const step = lr * ((m[j] as number) / (1 - b1 ** t)) / (Math.sqrt((v[j] as number) / (1 - b2 ** t)) + 1e-8);
      if (j < d) { if (held[j] === 0) w[j] = Math.max(0, (w[j] as number) - step); } else b -= step;
    }
  }
  return { evidence: [...EVIDENCE], weights: [...w].map((x) => Math.round(x * 1e6) / 1e6), bias: Math.round(b * 1e6) / 1e6 };
}
