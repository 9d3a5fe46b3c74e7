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
import { clipTokens, firstTokenAfter, MAX_TOKEN, tokenSpans, type RuleHit, type TokenSpans } from './rules.ts';

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
  /**
   * The structure-only model: weights over the context/rule group alone (closed-class words, position,
   * shared vocabulary, rules), so a request in a language whose n-grams were never seen still gets a
   * score. Sparse: base64 of little-endian uint32 indices and of int8 weights (weight = byte * scale).
   */
  readonly structure?: { readonly bias: number; readonly scale: number; readonly index: string; readonly weight: string };
}

export interface Model {
  readonly bits: number;
  readonly weights: Float32Array;
  readonly bias: number;
  readonly window: number;
  readonly stride: number;
  readonly threshold: number;
  /** Dense weights of the structure-only model (see ModelFile.structure), or null when the file has none. */
  readonly structure: { readonly weights: Float32Array; readonly bias: number } | null;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashStr(s: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/**
 * Distinct hashed feature indices of one unit of text (a window or a segment). `stamp` deduplicates
 * (generation-stamped, so no clearing per call). Features are listed in first-occurrence order: the
 * order is part of the model's arithmetic (logitOf sums in it), so it must never change.
 *
 * A document is featurised as many overlapping units (every character lies in two windows and one
 * segment). So that it is hashed and tokenised once, not three times, `prepare(text)` computes for the
 * whole text the whitespace-collapsed character codes and the feature index of every character n-gram
 * starting at each code, the tokens and the feature index of every word unigram and bigram; then
 * `extractRange(start, end, ...)` gives exactly what `extract(text.slice(start, end), ...)` gives,
 * reading the precomputed indices inside the unit and hashing only at its two edges, where a unit's
 * view differs from the whole text's (the unit starts and ends with a space of its own; a word cut by
 * the unit edge is a different token).
 */
export class FeatureExtractor {
  private static readonly NGRAM_MIX = 0x9e3779b1;
  private static readonly SEED_WORD = 0x5bd1e995;
  private static readonly SEED_BIGRAM = 0x27d4eb2f;
  private static readonly SEED_RULE = 0x165667b1;
  private static readonly SEED_EXTRA = 0x2f7a3c11;
  private static readonly NO_TOKENS: TokenSpans = { count: 0, start: new Int32Array(0), end: new Int32Array(0) };
  private static readonly NONE: readonly string[] = Object.freeze([]);

  /** Whitespace for the character n-grams: runs of these collapse to one space. */
  private static isSpace(c: number): boolean {
    return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  }

  /**
   * AT_SIGN: the classifier reads an e-mail address as it did before the normaliser kept its at sign
   * (session 14): the at sign as the letter a in the character n-grams, and no word feature. Kept as a
   * token, it taught the classifier that an address is evidence of an attack (the exfiltration corpora
   * are full of them), and 41 more of this machine's 86,050 documentation chunks were flagged at 0.5:
   * manual pages that list their authors' addresses, gcloud examples with `user:test-user@gmail.com`.
   * The phrase rules still see it.
   */
  private static isAtSign(text: string, a: number, b: number): boolean {
    return b - a === 1 && text.charCodeAt(a) === 0x40;
  }

  /** End of token k as a string (runs are cut to MAX_TOKEN characters). */
  private static tokenEnd(t: TokenSpans, k: number): number {
    const a = t.start[k]!, e = t.end[k]!;
    return e - a > MAX_TOKEN ? a + MAX_TOKEN : e;
  }

  /** hashStr(s.slice(a, b), seed) without the slice. */
  private static hashSpan(s: string, a: number, b: number, seed: number): number {
    let h = (FNV_OFFSET ^ seed) >>> 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    return h >>> 0;
  }

  /** hashStr(s.slice(a, b) + ' ' + s.slice(c, d), SEED_BIGRAM), hashed incrementally (no concatenation). */
  private static hashBigram(s: string, a: number, b: number, c: number, d: number): number {
    let h = (FNV_OFFSET ^ FeatureExtractor.SEED_BIGRAM) >>> 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    h = Math.imul(h ^ 0x20, FNV_PRIME);
    for (let i = c; i < d; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    return h >>> 0;
  }

  readonly bits: number;
  private readonly mask: number;
  private readonly stamp: Uint8Array;
  private gen = 0;
  /** Feature index (group B) of 'rule:' + id and of 'cat:' + category: a closed set, hashed once. */
  private readonly ruleIdx = new Map<string, number>();
  private readonly catIdx = new Map<string, number>();
  /** Feature index of context features (segment shapes: a few hundred distinct strings), bounded. */
  private readonly extraIdx = new Map<string, number>();
  /** Feature indices of a frozen list of context features (segments of one shape share one list). */
  private readonly frozenExtras = new WeakMap<readonly string[], Int32Array>();
  private readonly biasIdx: number;

  // --- the text set by prepare() ---
  private text = '';
  private toks: TokenSpans = FeatureExtractor.NO_TOKENS;
  /**
   * codes[0, codeLen): the text with whitespace runs collapsed to one space, framed by spaces, as UTF-16
   * units; before[p] = number of codes emitted before text position p (before[text.length] included).
   */
  private codes = new Int32Array(0);
  private codeLen = 0;
  private before = new Int32Array(0);
  /** gram[3 * g + n - 3] = feature index of the n-gram codes[g, g + n), n = 3..5 (only where it fits). */
  private gram = new Int32Array(0);
  /** Per token of the text: feature index of the token (cut to MAX_TOKEN) and of its bigram with the next. */
  private uni = new Int32Array(0);
  private bi = new Int32Array(0);

  /**
   * Features are written straight into `arena` and returned as views of it: a document has thousands
   * of units, and a backing store of its own per unit (each allocated outside the JS heap) cost as
   * much as extracting the features. Views never overlap: a full arena is replaced, never rewritten.
   */
  private arena = new Int32Array(0);
  private arenaUsed = 0;
  private static readonly ARENA = 1 << 16;

  // --- scratch of one unit ---
  private tokFrom = new Int32Array(256);
  private tokTo = new Int32Array(256);
  private tokSrc = new Int32Array(256);

  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 10 || bits > 24) throw new RangeError(`feature bits must be an integer in 10..24, got ${bits}`);
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.stamp = new Uint8Array(1 << bits);
    this.biasIdx = hashStr('bias-feature', 0x1b873593) & this.mask;
  }

  /** `extras`: context features of the unit (segment position, vocabulary overlap...), hashed as given. */
  extract(text: string, hits: readonly RuleHit[], extras: readonly string[] = []): Int32Array {
    this.prepare(text, tokenSpans(text));
    return this.extractRange(0, text.length, hits, extras);
  }

  /**
   * Precompute the n-gram and word feature indices of `text` (whose tokens are `toks`, from
   * tokenSpans(text)) for extractRange. Linear in the text length; buffers are reused between texts.
   */
  prepare(text: string, toks: TokenSpans): void {
    const X = FeatureExtractor;
    const n = text.length;
    const mask = this.mask;
    this.text = text;
    this.toks = toks;
    // Collapsed codes (the same rule as a unit's, see extractRange) and the offset of each position.
    if (this.before.length < n + 1) this.before = new Int32Array(n + 1);
    if (this.codes.length < n + 2) this.codes = new Int32Array(n + 2);
    const codes = this.codes, before = this.before;
    let len = 0;
    codes[len++] = 0x20;
    let prevSpace = true;
    for (let i = 0; i < n; i++) {
      before[i] = len;
      const c = text.charCodeAt(i);
      // An at sign reads as the letter a here (AT_SIGN below).
      if (X.isSpace(c)) { if (!prevSpace) codes[len++] = 0x20; prevSpace = true; } else { codes[len++] = c === 0x40 ? 0x61 : c; prevSpace = false; }
    }
    before[n] = len;
    if (!prevSpace) codes[len++] = 0x20;
    this.codeLen = len;
    // Feature index of every n-gram, n = 3..5 (the hash of extract, computed once per position).
    if (this.gram.length < 3 * len) this.gram = new Int32Array(3 * len);
    const gram = this.gram;
    for (let g = 0; g + 3 <= len; g++) {
      let h = Math.imul(Math.imul(FNV_OFFSET ^ codes[g]!, FNV_PRIME) ^ codes[g + 1]!, FNV_PRIME);
      h = Math.imul(h ^ codes[g + 2]!, FNV_PRIME);
      gram[3 * g] = Math.imul(h ^ 3, X.NGRAM_MIX) & mask;
      if (g + 3 < len) {
        h = Math.imul(h ^ codes[g + 3]!, FNV_PRIME);
        gram[3 * g + 1] = Math.imul(h ^ 4, X.NGRAM_MIX) & mask;
        if (g + 4 < len) {
          h = Math.imul(h ^ codes[g + 4]!, FNV_PRIME);
          gram[3 * g + 2] = Math.imul(h ^ 5, X.NGRAM_MIX) & mask;
        }
      }
    }
    // Word unigrams and bigrams of the text's tokens (each as cut to MAX_TOKEN).
    const m = toks.count;
    if (this.uni.length < m) { this.uni = new Int32Array(m); this.bi = new Int32Array(m); }
    for (let k = 0; k < m; k++) {
      const a = toks.start[k]!, b = X.tokenEnd(toks, k);
      this.uni[k] = X.hashSpan(text, a, b, X.SEED_WORD) & mask;
      if (k + 1 < m) this.bi[k] = X.hashBigram(text, a, b, toks.start[k + 1]!, X.tokenEnd(toks, k + 1)) & mask;
    }
  }

  /**
   * Features of the unit text[start, end) of the prepared text: the same indices, in the same order, as
   * extract(text.slice(start, end), hits, [...extras, ...more]). (`more` lets a caller pass two lists,
   * a segment's shape and its concepts, whose indices are each cached, instead of building and hashing
   * their concatenation for every combination that occurs. It may be given as the context features'
   * indices, extraIndex of each, when the caller has them without strings: see detector.ts ConceptIndices.)
   */
  extractRange(start: number, end: number, hits: readonly RuleHit[], extras: readonly string[], more: readonly string[] | Int32Array = FeatureExtractor.NONE): Int32Array {
    const X = FeatureExtractor;
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= this.text.length)) {
      throw new RangeError(`extractRange(${start}, ${end}) is outside the prepared text (length ${this.text.length}); call prepare() first`);
    }
    this.gen++;
    if (this.gen > 0xff) { this.stamp.fill(0); this.gen = 1; }
    const gen = this.gen, stamp = this.stamp, mask = this.mask, text = this.text;
    const codes = this.codes, gram = this.gram;
    // The unit's collapsed codes are [space] + codes[a, b) + [space if it ends in a non-space]: a unit
    // starts as if preceded by whitespace, so a whitespace run at its start emits nothing (globally it
    // emits one space when a non-space precedes it: skipped with d).
    const d = start > 0 && start < end && !X.isSpace(text.charCodeAt(start - 1)) && X.isSpace(text.charCodeAt(start)) ? 1 : 0;
    const a = this.before[start]! + d, b = Math.max(a, this.before[end]!);
    const tail = end > start && !X.isSpace(text.charCodeAt(end - 1));
    const L = 1 + (b - a) + (tail ? 1 : 0);
    // Unit code j is codes[a - 1 + j] for lo <= j <= hi: inside, and at the edges when the whole text
    // has a space there too. Outside that range a unit n-gram is hashed here.
    const lo = codes[a - 1] === 0x20 ? 0 : 1;
    const hi = tail && !(b < this.codeLen && codes[b] === 0x20) ? L - 2 : L - 1;
    const base = a - 1;
    const unitCode = (j: number): number => (j === 0 ? 0x20 : j <= b - a ? codes[base + j]! : 0x20);

    // An empty unit has no tokens (clipping would cut the token around `start` into an empty piece).
    const m = start < end ? this.clip(start, end) : 0;
    const need = 3 * L + 2 * m + 2 * hits.length + extras.length + more.length + 1;
    if (this.arena.length - this.arenaUsed < need) { this.arena = new Int32Array(Math.max(need, X.ARENA)); this.arenaUsed = 0; }
    const out = this.arena;
    const first = this.arenaUsed;
    let len = first;
    // character n-grams, n = 3..5
    for (let i = 0; i + 3 <= L; i++) {
      if (i >= lo && i + 4 <= hi) {
        const g = 3 * (base + i);
        let k = gram[g]!; if (stamp[k] !== gen) { stamp[k] = gen; out[len++] = k; }
        k = gram[g + 1]!; if (stamp[k] !== gen) { stamp[k] = gen; out[len++] = k; }
        k = gram[g + 2]!; if (stamp[k] !== gen) { stamp[k] = gen; out[len++] = k; }
        continue;
      }
      let h = FNV_OFFSET;
      for (let k = 0; k < 5 && i + k < L; k++) {
        h = Math.imul(h ^ unitCode(i + k), FNV_PRIME);
        if (k >= 2) {
          const f = Math.imul(h ^ (k + 1), X.NGRAM_MIX) & mask;
          if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = f; }
        }
      }
    }
    // words and word bigrams: the text's precomputed indices where the unit's token is the text's token
    const toks = this.toks, from = this.tokFrom, to = this.tokTo, src = this.tokSrc;
    for (let i = 0; i < m; i++) {
      const k = src[i]!;
      // The at sign of an address is a token for the phrase rules ("send the password to x@y"), not a
      // word for the classifier (AT_SIGN below): no feature of its own, nor a bigram with a neighbour.
      if (X.isAtSign(text, from[i]!, to[i]!)) continue;
      const whole = from[i] === toks.start[k] && to[i] === X.tokenEnd(toks, k);
      let f = whole ? this.uni[k]! : X.hashSpan(text, from[i]!, to[i]!, X.SEED_WORD) & mask;
      if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = f; }
      if (i + 1 < m && !X.isAtSign(text, from[i + 1]!, to[i + 1]!)) {
        const k2 = src[i + 1]!;
        const whole2 = whole && k2 === k + 1 && from[i + 1] === toks.start[k2] && to[i + 1] === X.tokenEnd(toks, k2);
        f = whole2 ? this.bi[k]! : X.hashBigram(text, from[i]!, to[i]!, from[i + 1]!, to[i + 1]!) & mask;
        if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = f; }
      }
    }
    // Second group, stored as ~index: rule evidence and context features. They are normalised apart
    // from the n-grams, so a short planted sentence in a language whose n-grams the model never saw is
    // judged by its shape (second person, request verb, position...) instead of being diluted.
    for (const h of hits) {
      let f = this.namedIndex(this.ruleIdx, 'rule:', h.id);
      if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
      f = this.namedIndex(this.catIdx, 'cat:', h.category);
      if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
    }
    len = this.putExtras(extras, out, len, gen);
    if (more instanceof Int32Array) {
      for (let i = 0; i < more.length; i++) {
        const f = more[i]!;
        if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
      }
    } else if (more.length > 0) len = this.putExtras(more, out, len, gen);
    const f = this.biasIdx; // a constant feature so short windows have a prior too
    if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
    this.arenaUsed = len;
    return out.subarray(first, len);
  }

  /** Appends the not yet stamped indices of context features `extras` (as ~index) to out[len...); returns the new length. */
  private putExtras(extras: readonly string[], out: Int32Array, len: number, gen: number): number {
    const stamp = this.stamp;
    if (Object.isFrozen(extras)) {
      // A frozen list cannot change, so its indices are cached by identity.
      let ex = this.frozenExtras.get(extras);
      if (ex === undefined) this.frozenExtras.set(extras, ex = Int32Array.from(extras, (e) => this.extraIndex(e)));
      for (let i = 0; i < ex.length; i++) {
        const f = ex[i]!;
        if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
      }
    } else {
      for (const e of extras) {
        const f = this.extraIndex(e);
        if (stamp[f] !== gen) { stamp[f] = gen; out[len++] = ~f; }
      }
    }
    return len;
  }

  /** Feature index of prefix + name, for rule ids and categories (cached: a closed set; bounded). */
  private namedIndex(cache: Map<string, number>, prefix: string, name: string): number {
    let f = cache.get(name);
    if (f === undefined) {
      f = hashStr(prefix + name, FeatureExtractor.SEED_RULE) & this.mask;
      if (cache.size < 4096) cache.set(name, f);
    }
    return f;
  }

  /** Feature index of a context feature (cached: a few hundred distinct strings; bounded). */
  extraIndex(e: string): number {
    let f = this.extraIdx.get(e);
    if (f === undefined) {
      f = hashStr(e, FeatureExtractor.SEED_EXTRA) & this.mask;
      if (this.extraIdx.size < 1 << 16) this.extraIdx.set(e, f);
    }
    return f;
  }

  /** The tokens of the unit [start, end) into tokFrom/tokTo/tokSrc; returns their number. */
  private clip(start: number, end: number): number {
    const toks = this.toks;
    const lo = firstTokenAfter(toks, start);
    // Tokens of the unit are at most the text tokens that overlap it.
    let hiTok = lo;
    while (hiTok < toks.count && toks.start[hiTok]! < end) hiTok++;
    const need = hiTok - lo;
    if (this.tokFrom.length < need) {
      const cap = Math.max(need, 2 * this.tokFrom.length);
      this.tokFrom = new Int32Array(cap); this.tokTo = new Int32Array(cap); this.tokSrc = new Int32Array(cap);
    }
    return clipTokens(this.text, toks, lo, start, end, this.tokFrom, this.tokTo, this.tokSrc);
  }

  /**
   * Drop the per-text buffers when they are large (after a big document), so a long-lived extractor
   * does not hold tens of megabytes; small buffers are kept for reuse.
   */
  release(): void {
    this.text = '';
    this.toks = FeatureExtractor.NO_TOKENS;
    if (this.gram.length > 3 << 16) { this.codes = new Int32Array(0); this.before = new Int32Array(0); this.gram = new Int32Array(0); this.codeLen = 0; }
    if (this.uni.length > 1 << 16) { this.uni = new Int32Array(0); this.bi = new Int32Array(0); }
    if (this.arena.length > FeatureExtractor.ARENA) { this.arena = new Int32Array(0); this.arenaUsed = 0; }
    if (this.tokFrom.length > 1 << 16) { this.tokFrom = new Int32Array(256); this.tokTo = new Int32Array(256); this.tokSrc = new Int32Array(256); }
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

/** Logit of the structure-only model: the context/rule group (indices < 0) alone, L2-normalised. */
export function structureLogitOf(weights: ArrayLike<number>, bias: number, features: Int32Array): number {
  let z = 0, n = 0;
  for (let i = 0; i < features.length; i++) {
    const k = features[i] as number;
    if (k < 0) { z += weights[~k] as number; n++; }
  }
  return bias + (n > 0 ? z / Math.sqrt(n) : 0);
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
  let structure: Model['structure'] = null;
  if (file.structure !== undefined) {
    const st = file.structure;
    const idx = fromBase64Lenient(st.index), wb = fromBase64Lenient(st.weight);
    if (idx.length !== 4 * wb.length) throw new RangeError('structure model: index and weight lengths disagree');
    if (!(Number.isFinite(st.bias) && st.scale > 0)) throw new RangeError('structure model: bias and scale must be finite, scale > 0');
    const dense = new Float32Array(1 << file.bits);
    const dv = new DataView(idx.buffer, idx.byteOffset, idx.length);
    const w8 = new Int8Array(wb.buffer, wb.byteOffset, wb.length);
    for (let i = 0; i < w8.length; i++) {
      const k = dv.getUint32(4 * i, true);
      if (k >= dense.length) throw new RangeError(`structure model: index ${k} is outside 2^${file.bits}`);
      dense[k] = (w8[i] as number) * st.scale;
    }
    structure = { weights: dense, bias: st.bias };
  }
  return { bits: file.bits, weights, bias: file.bias, window: file.window, stride: file.stride, threshold: file.threshold, structure };
}

function toBase64Bytes(u: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < u.length; i += 0x8000) bin += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Encode the structure-only model's float weights sparsely (used by the training script). */
export function encodeStructure(weights: Float64Array, bias: number): NonNullable<ModelFile['structure']> {
  let max = 0;
  for (let i = 0; i < weights.length; i++) max = Math.max(max, Math.abs(weights[i] as number));
  const scale = max > 0 ? max / 127 : 1;
  const ks: number[] = [], qs: number[] = [];
  for (let i = 0; i < weights.length; i++) {
    const q = Math.max(-127, Math.min(127, Math.round((weights[i] as number) / scale)));
    if (q !== 0) { ks.push(i); qs.push(q); }
  }
  const idx = new Uint8Array(4 * ks.length);
  const dv = new DataView(idx.buffer);
  ks.forEach((k, i) => dv.setUint32(4 * i, k, true));
  return { bias, scale, index: toBase64Bytes(idx), weight: toBase64Bytes(new Uint8Array(Int8Array.from(qs).buffer)) };
}

/** Encode float weights as a model file (used by the training script). */
export function encodeModel(weights: Float64Array, bits: number, bias: number, extra: Omit<ModelFile, 'format' | 'bits' | 'scale' | 'bias' | 'weights'>): ModelFile {
  let max = 0;
  for (let i = 0; i < weights.length; i++) max = Math.max(max, Math.abs(weights[i] as number));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round((weights[i] as number) / scale)));
  return { format: 'sios-sentinel-lr/1', bits, scale, bias, weights: toBase64Bytes(new Uint8Array(q.buffer)), ...extra };
}
