/**
 * The Sentinel injection detector: combines the layers into one verdict.
 *
 *   normalise (NFKC, invisibles, tags, bidi, confusables)
 *     -> classifier + phrase rules over overlapping windows (a long document is not diluted) and over
 *        segments (sentences, lines, table cells) with context features (task injection, segments.ts)
 *     -> rot13: segments that read as words only after rot13 are decoded and rescanned
 *     -> hidden segments (tag characters, HTML comments, CSS-hidden elements): rescanned
 *     -> encoded segments (base64, hex, URL, entities, \u escapes): decoded and rescanned, depth <= 3
 *     -> markdown / <img> exfiltration links
 *     -> obfuscation present together with other evidence raises the score
 *
 * Scores are in [0, 1]; the operating threshold is 0.5 (OPERATING_THRESHOLD): the classifier's own
 * threshold, chosen by the training script for <= 1% false positives on held-back benign documents,
 * is mapped to 0.5, and a strong phrase rule (weight >= 0.7) alone reaches it.
 *
 * Deterministic and offline; linear in the input length (each layer is a single pass, decoding is
 * bounded by a budget proportional to the input).
 */
import { normalize } from './normalize.ts';
import { findEncoded, type EncodingKind } from './decode.ts';
import { scanMarkup } from './markup.ts';
import { matchRules, tokenize, type RuleHit } from './rules.ts';
import { FeatureExtractor, logit, sigmoid, type Model } from './classifier.ts';
import { contextFeatures, rot13Candidates, segment } from './segments.ts';

export type UnitKind = 'window' | 'segment';
export interface Unit { readonly start: number; readonly end: number; readonly kind: UnitKind; readonly f: Int32Array; readonly hits: RuleHit[] }

/**
 * Features of every scoring unit of normalised text: overlapping windows (long attacks, context) and
 * segments (sentences, lines, cells) with their context features (short planted requests). Exported
 * because the training script must extract exactly as inference does.
 */
export function unitFeatures(fx: FeatureExtractor, text: string, window: number, stride: number): Unit[] {
  const out: Unit[] = [];
  // Rules run once over the whole text; a unit gets the hits that end inside it (hits sorted by end).
  const all = matchRules(text).sort((a, b) => a.end - b.end);
  const hitsIn = (start: number, end: number): RuleHit[] => {
    let lo = 0, hi = all.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (all[m]!.end <= start) lo = m + 1; else hi = m; }
    const r: RuleHit[] = [];
    for (let k = lo; k < all.length && all[k]!.end <= end; k++) r.push(all[k]!);
    return r;
  };
  for (let start = 0; ; start += stride) {
    const end = Math.min(text.length, start + window);
    const w = text.slice(start, end);
    const hits = hitsIn(start, end);
    out.push({ start, end, kind: 'window', f: fx.extract(w, hits, WINDOW_EXTRAS), hits });
    if (end >= text.length) break;
  }
  const segs = segment(text);
  if (segs.length > 1) {
    const texts = segs.map((s) => text.slice(s.start, s.end));
    const ctx = contextFeatures(text, segs, texts.map((t) => tokenize(t)));
    for (let k = 0; k < segs.length; k++) {
      const t = texts[k]!;
      const hits = hitsIn(segs[k]!.start, segs[k]!.end);
      out.push({ start: segs[k]!.start, end: segs[k]!.end, kind: 'segment', f: fx.extract(t, hits, ctx[k]!), hits });
    }
  }
  return out;
}
const WINDOW_EXTRAS: readonly string[] = ['u:win'];

export const OPERATING_THRESHOLD = 0.5;
/** Maximum nesting of encodings that is decoded (base64 inside hex inside URL-encoding...). */
export const MAX_DECODE_DEPTH = 3;
/** A rule at least this strong is enough on its own. */
const STRONG_RULE = 0.7;
/** Two distinct rules at least this strong in one window count together. */
const MEDIUM_RULE = 0.45;

export interface Verdict {
  readonly verdict: 'injection' | 'clean';
  readonly score: number;
  readonly reasons: readonly string[];
}

interface SegmentResult { score: number; reasons: string[] }

function round3(x: number): number { return Math.round(x * 1000) / 1000; }

export class Detector {
  readonly model: Model;
  private readonly fx: FeatureExtractor;
  constructor(model: Model) {
    this.model = model;
    this.fx = new FeatureExtractor(model.bits);
  }

  /** Map the classifier probability so that the trained operating point lands on 0.5. */
  calibrate(p: number): number {
    const t = this.model.threshold;
    return p < t ? (0.5 * p) / t : 0.5 + (0.5 * (p - t)) / (1 - t);
  }

  /** Classifier probability and rule hits of every unit (window or segment) of normalised text. */
  units(text: string): Array<{ start: number; end: number; kind: UnitKind; p: number; hits: RuleHit[] }> {
    return unitFeatures(this.fx, text, this.model.window, this.model.stride).map((u) => ({
      start: u.start, end: u.end, kind: u.kind, p: sigmoid(logit(this.model, u.f)), hits: u.hits,
    }));
  }

  scan(input: string): Verdict {
    if (typeof input !== 'string') throw new TypeError('Detector.scan expects a string');
    // Decoded and hidden text rescanned in total is bounded by the input size (plus a little): linear time.
    const budget = { chars: input.length + 4096 };
    const r = this.scanSegment(input, 0, budget);
    const score = round3(Math.min(1, Math.max(0, r.score)));
    const reasons = [...new Set(r.reasons)].slice(0, 16);
    return { verdict: score >= OPERATING_THRESHOLD ? 'injection' : 'clean', score, reasons };
  }

  private scanSegment(raw: string, depth: number, budget: { chars: number }): SegmentResult {
    const reasons: string[] = [];
    const n = normalize(raw);
    let score = 0;

    // Classifier and rules over overlapping windows.
    let best = { p: 0, hits: [] as RuleHit[] };
    let strong: RuleHit | null = null;
    let pairScore = 0;
    let pairIds: string[] = [];
    let bestKind: UnitKind = 'window';
    for (const w of this.units(n.text)) {
      if (w.p > best.p) { best = w; bestKind = w.kind; }
      for (const h of w.hits) if (h.weight >= STRONG_RULE && (strong === null || h.weight > strong.weight)) strong = h;
      // Two different medium rules in one window (e.g. "reveal" + "system prompt", "you are now" +
      // "pretend") corroborate each other: combine the two strongest as independent evidence.
      const med = [...new Map(w.hits.filter((h) => h.weight >= MEDIUM_RULE).map((h) => [h.id, h])).values()].sort((a, b) => b.weight - a.weight);
      if (med.length >= 2) {
        const c = 1 - (1 - med[0]!.weight) * (1 - med[1]!.weight);
        if (c > pairScore) { pairScore = c; pairIds = [med[0]!.id, med[1]!.id]; }
      }
    }
    const cls = this.calibrate(best.p);
    score = cls;
    if (cls >= 0.25) reasons.push(`classifier:${round3(best.p)}`, `classifier-unit:${bestKind}`);
    for (const h of best.hits) reasons.push(`rule:${h.id}`);
    if (pairScore > score) { score = pairScore; for (const id of pairIds) reasons.push(`rule:${id}`); }
    if (strong !== null) {
      reasons.push(`rule:${strong.id}`);
      score = Math.max(score, strong.weight);
    }

    if (depth < MAX_DECODE_DEPTH) {
      // Tag-character payloads: invisible text is an attack technique in itself.
      for (const payload of n.hidden) {
        if (budget.chars <= 0) break;
        budget.chars -= payload.length;
        const sub = this.scanSegment(payload, depth + 1, budget);
        const s = payload.trim().length >= 4 ? Math.max(0.7, Math.min(1, sub.score + 0.2)) : sub.score;
        if (s > score) score = s;
        reasons.push('hidden:tag-characters', ...sub.reasons.map((x) => `hidden:tag-characters>${x}`));
      }
      // rot13: sentences that read as words only after rot13 are decoded and rescanned.
      const r13 = rot13Candidates(n.text);
      if (r13 !== null && budget.chars > 0) {
        budget.chars -= r13.length;
        const sub = this.scanSegment(r13, depth + 1, budget);
        const s = encodedScore('rot13', r13, sub.score);
        if (s >= 0.25) reasons.push('decoded:rot13', ...sub.reasons.map((x) => `decoded:rot13>${x}`));
        if (s > score) score = s;
      }
      // Encoded segments.
      for (const seg of findEncoded(n.clean)) {
        if (budget.chars <= 0) { reasons.push('decode-budget-exhausted'); break; }
        budget.chars -= seg.text.length;
        const sub = this.scanSegment(seg.text, depth + 1, budget);
        const s = encodedScore(seg.kind, seg.text, sub.score);
        if (s >= 0.25) reasons.push(`decoded:${seg.kind}`, ...sub.reasons.map((x) => `decoded:${seg.kind}>${x}`));
        if (s > score) score = s;
      }
      // Markup that hides text.
      const mk = scanMarkup(n.clean);
      for (const h of mk.hidden) {
        if (budget.chars <= 0) break;
        budget.chars -= h.text.length;
        const sub = this.scanSegment(h.text, depth + 1, budget);
        if (sub.score >= 0.25) {
          const s = Math.min(1, sub.score + 0.2);
          reasons.push(`hidden:${h.kind}`, ...sub.reasons.map((x) => `hidden:${h.kind}>${x}`));
          if (s > score) score = s;
        }
      }
      for (const l of mk.exfilLinks) {
        // Only a URL carrying a template or secret-looking data counts: badges with "?style=flat" are benign.
        if (l.strength === 'placeholder') { score = Math.max(score, 0.75); reasons.push('exfil-link:image-url-with-data'); }
      }
    }

    // Obfuscation raises suspicion only together with other evidence (ZWJ emoji, RTL marks and
    // mixed-script names occur in benign text).
    // Digit-for-letter folding is not counted: identifiers like "x509" or "es2024" are everywhere.
    const obf = n.flags.filter((f) => f !== 'tag-chars' && f !== 'leetspeak');
    if (obf.length > 0 && score >= 0.25) {
      score = Math.min(1, score + 0.15);
      for (const f of obf) reasons.push(`obfuscation:${f}`);
    }
    return { score, reasons };
  }
}

/**
 * Score of an encoded segment. Prose hidden in base64 or hex inside an untrusted document is suspicious
 * on its own (that is how "stealth" injections travel); URL-encoding and entities are common in benign
 * text, so for them only the content counts.
 */
function encodedScore(kind: EncodingKind | 'rot13', text: string, contentScore: number): number {
  let s = contentScore >= 0.25 ? Math.min(1, contentScore + 0.25) : contentScore;
  if (kind === 'base64' || kind === 'hex') {
    const words = tokenize(text.toLowerCase()).length;
    if (words >= 6 && text.length >= 24) s = Math.max(s, 0.55);
  }
  return s;
}
