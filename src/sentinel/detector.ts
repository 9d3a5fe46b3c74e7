/**
 * The Sentinel injection detector: combines the layers into one verdict.
 *
 *   normalise (NFKC, invisibles, tags, bidi, confusables)
 *     -> classifier + phrase rules over overlapping windows (a long document is not diluted) and over
 *        segments (sentences, lines, table cells) with context features (task injection, segments.ts)
 *     -> scrambled letters: segments that read as words only after a Caesar shift (rot13 among them),
 *        backwards or with the alphabet mirrored (atbash) are decoded and rescanned
 *     -> letters run together or regrouped: respaced into words and rescanned (unspaced.ts)
 *     -> hidden segments (tag characters, HTML comments, CSS-hidden elements): rescanned
 *     -> encoded segments (base64, base32, hex, URL, entities, \u escapes, Morse, binary, decimal
 *        character codes, Braille, upside-down letters, regional-indicator letters, NATO spelling,
 *        quoted-printable, Ascii85, uuencode, rot47, concatenated string literals):
 *        decoded and rescanned, depth <= 3
 *     -> markdown / <img> exfiltration links, obfuscation flags
 *     -> the combiner (combiner.ts): one learned decision over the evidence of every layer, among it
 *        how far the document's most suspicious sentence stands out from the rest (contrast)
 *
 * Scores are in [0, 1]; the operating threshold is 0.5 (OPERATING_THRESHOLD): the combiner's threshold,
 * chosen by the training script for <= 0.5% false positives on held-back benign documents, is mapped
 * to 0.5. Decoded and hidden text is scored by the same pipeline and enters the parent's evidence.
 *
 * Deterministic and offline; linear in the input length (each layer is a single pass, decoding is
 * bounded by a budget proportional to the input).
 */
import { normalize } from './normalize.ts';
import { findEncoded, PROSE_HIDING_KINDS, type DecodedSegment } from './decode.ts';
import { rendered, scanMarkup } from './markup.ts';
import { escapedLineBreaks, jsonDocument, jsonStrings } from './json.ts';
import { reflowed } from './lines.ts';
import { matchRulesIn, tokenSpans, wordCount, type RuleHit } from './rules.ts';
import { FeatureExtractor, logit, sigmoid, structureLogitOf, type Model } from './classifier.ts';
import { combinerLogit, emptyEvidence, HIGH_LOGIT, logitFeature, type Combiner, type Evidence } from './combiner.ts';
import { contextFeaturesOf, scrambled, segment, withoutDiacritics, wordsReadingAsWritten } from './segments.ts';
import { unspaced } from './unspaced.ts';
import { codeBehaviours, codeEvidence } from './code.ts';
import { CONCEPT_NAMES, conceptFeatures, conceptHits, conceptsIn, type ConceptHits } from './lexicon.ts';

export type UnitKind = 'window' | 'segment';
export interface Unit { readonly start: number; readonly end: number; readonly kind: UnitKind; readonly f: Int32Array; readonly hits: RuleHit[] }

/**
 * Features of every scoring unit of normalised text: overlapping windows (long attacks, context) and
 * segments (sentences, lines, cells) with their context features (short planted requests). Exported
 * because the training script must extract exactly as inference does.
 */
export function unitFeatures(fx: FeatureExtractor, text: string, window: number, stride: number, conceptsOf: ConceptHits | null = null): Unit[] {
  const out: Unit[] = [];
  // The text is tokenised once; rules, windows, segments and context features share the tokens, and the
  // extractor hashes each character n-gram and word of the text once (fx.prepare), not per unit.
  const toks = tokenSpans(text);
  // Rules run once over the whole text; a unit gets the hits that end inside it (hits sorted by end).
  const all = matchRulesIn(text, toks).sort((a, b) => a.end - b.end);
  const hitsIn = (start: number, end: number): RuleHit[] => {
    let lo = 0, hi = all.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (all[m]!.end <= start) lo = m + 1; else hi = m; }
    const r: RuleHit[] = [];
    for (let k = lo; k < all.length && all[k]!.end <= end; k++) r.push(all[k]!);
    return r;
  };
  // Concepts of the multilingual lexicon (lexicon.ts), by position: each unit gets those inside it.
  // (The training script may pass those of another text with the same token positions: see its cipher view.)
  const concepts = conceptsOf ?? conceptHits(text, toks);
  const ci = conceptIndicesOf(fx);
  fx.prepare(text, toks);
  try {
    for (let start = 0; ; start += stride) {
      const end = Math.min(text.length, start + window);
      const hits = hitsIn(start, end);
      // A window's context features are 'u:win' and its concepts (conceptFeatures('w', bits), as indices).
      out.push({ start, end, kind: 'window', f: fx.extractRange(start, end, hits, WINDOW_EXTRAS, ci.w.of(conceptsIn(concepts, start, end))), hits });
      if (end >= text.length) break;
    }
    const segs = segment(text);
    if (segs.length > 1) {
      const ctx = contextFeaturesOf(text, segs, toks);
      for (let k = 0; k < segs.length; k++) {
        const { start, end } = segs[k]!;
        const hits = hitsIn(start, end);
        // The segment's shape and its concepts go in as two lists (see extractRange): the classifier
        // caches the indices of each, not of every combination of the two.
        out.push({ start, end, kind: 'segment', f: fx.extractRange(start, end, hits, ctx[k]!, ci.s.of(conceptsIn(concepts, start, end))), hits });
      }
    }
  } finally {
    fx.release();
  }
  return out;
}
const WINDOW_EXTRAS: readonly string[] = Object.freeze(['u:win']);

/**
 * Feature indices of the concept features of a set of concepts (conceptFeatures(prefix, bits), as the
 * extractor hashes them), generated from a table per concept and per pair of concepts: the same indices
 * in the same order, without a list of strings per set. Documents bring thousands of distinct sets,
 * more than a bounded cache of their string lists holds, and each list built again was hashed again.
 * The tables are read off conceptFeatures itself, so the feature names have one definition.
 */
class ConceptIndices {
  private readonly n = CONCEPT_NAMES.length;
  /** Index of the count feature by min(number of concepts, 4) (0 unused: no concepts, no features). */
  private readonly count = new Int32Array(5);
  private readonly one: Int32Array;
  /** pair[i * n + j], i < j: index of the feature of concepts i and j together. */
  private readonly pair: Int32Array;
  private readonly cache = new Map<number, Int32Array>();
  private static readonly NONE = new Int32Array(0);
  constructor(fx: FeatureExtractor, prefix: 'w' | 's') {
    const n = this.n;
    if (n > 31) throw new RangeError(`ConceptIndices: ${n} concepts do not fit in the bits of a set`);
    this.one = new Int32Array(n);
    this.pair = new Int32Array(n * n);
    for (let i = 0; i < n; i++) {
      this.one[i] = fx.extraIndex(conceptFeatures(prefix, 1 << i)[1]!);
      for (let j = i + 1; j < n; j++) this.pair[i * n + j] = fx.extraIndex(conceptFeatures(prefix, (1 << i) | (1 << j))[2]!);
    }
    for (let c = 1; c <= 4; c++) this.count[c] = fx.extraIndex(conceptFeatures(prefix, (1 << c) - 1)[0]!);
  }
  /** The indices of conceptFeatures(prefix, bits), in its order: the count, then each concept followed by its pairs with the later ones. */
  of(bits: number): Int32Array {
    if (bits === 0) return ConceptIndices.NONE;
    let f = this.cache.get(bits);
    if (f !== undefined) return f;
    const n = this.n, on: number[] = [];
    for (let i = 0; i < n; i++) if (bits & (1 << i)) on.push(i);
    f = new Int32Array(1 + on.length + (on.length * (on.length - 1)) / 2);
    let k = 0;
    f[k++] = this.count[Math.min(on.length, 4)]!;
    for (let a = 0; a < on.length; a++) {
      f[k++] = this.one[on[a]!]!;
      for (let b = a + 1; b < on.length; b++) f[k++] = this.pair[on[a]! * n + on[b]!]!;
    }
    // Bounded like every cache fed by untrusted text (distinct concept sets are up to 2^27).
    if (this.cache.size >= MAX_CONCEPT_SETS) this.cache.clear();
    this.cache.set(bits, f);
    return f;
  }
}
const MAX_CONCEPT_SETS = 1 << 14;
const CONCEPT_INDICES = new WeakMap<FeatureExtractor, { w: ConceptIndices; s: ConceptIndices }>();
function conceptIndicesOf(fx: FeatureExtractor): { w: ConceptIndices; s: ConceptIndices } {
  let c = CONCEPT_INDICES.get(fx);
  if (c === undefined) CONCEPT_INDICES.set(fx, c = { w: new ConceptIndices(fx, 'w'), s: new ConceptIndices(fx, 's') });
  return c;
}

export const OPERATING_THRESHOLD = 0.5;
/** Maximum nesting of encodings that is decoded (base64 inside hex inside URL-encoding...). */
export const MAX_DECODE_DEPTH = 3;
/** A rule at least this strong is enough on its own. */
const STRONG_RULE = 0.7;
/** Words of decoded base64/hex text that make it "encoded prose". */
const ENCODED_PROSE_WORDS = 8;
/** Of those, how many must read as common or lexicon words for the encodings benign text also brushes. */
const ENCODED_PROSE_KNOWN_WORDS = 3;
/** Words one scrambled run (Caesar-shifted or backwards) must read in its view to count as encoded prose. */
const SCRAMBLED_PROSE_WORDS = 5;
/**
 * Scores of the evidence that benign documents almost never carry, whatever the rest of the document
 * says: prose hidden in an encoding (base64, hex, scrambled letters...) or in invisible characters, an
 * image link that exfiltrates, and code that would do harm. They rank above every classifier score that
 * benign documents reach often: measured on the evaluation's 1,350 benign documents, none carries one,
 * while 0.4% of them score 0.95 or more on the classifier alone (pages about prompt injection that quote
 * attacks); `node scripts/scan-wild.ts` counts them on the machine's man pages, docs and tldr pages.
 * (Until session 10 they sat just above the operating threshold, 0.55-0.7: right at 0.5, but an
 * evaluation that sets its own threshold for a 1% false-positive rate lost every one of them.)
 * `[document, payload]`: inside a rescan (a decoded payload, the rendered view) a score is evidence
 * for the enclosing document's combiner, which is fitted on the old scale; raising them there too refit
 * the combiner and cost 1.5 points of recall at the operating threshold across the evaluation.
 */
const ENCODED_PROSE_SCORE = [0.95, 0.55] as const;
/** Score of an image link whose URL carries data to fill in (see markup.ts classifyUrl). */
const EXFIL_LINK_SCORE = [0.9, 0.6] as const;
/** Score of text written in invisible Unicode tag characters (three words or more). */
const HIDDEN_PROSE_SCORE = [0.95, 0.7] as const;
/**
 * Score of code that would do harm if copied or run (code.ts: secrets or the screen sent away, a root
 * path wiped, an endless flood, a remote shell...). Benign documents measured: none of 100 BIPIA code
 * answers, 66 node_modules READMEs, 7,425 tldr pages or 2,799 benign corpus documents shows one, nor
 * does any chunk of the library source code that `node scripts/scan-wild.ts` reads (5,316 chunks of
 * /usr/lib/python3 and node_modules on the development machine).
 */
const CODE_BEHAVIOUR_SCORE = [0.9, 0.6] as const;
/** Longest decoded document rescanned in context (characters). */
const MAX_REVEAL = 64 * 1024;
/**
 * The score a strong phrase rule gives a document on its own: just over the operating threshold, so the
 * document is flagged, but under the evidence that benign documents almost never carry. Benign documents
 * do say these phrases: release notes ("ignore the previous version's installation instructions"), memos,
 * chat exports with `### system` headers, translated manual pages. At the rule's own weight (0.8-0.9, until
 * session 14) those ranked above almost every attack the classifier caught: 9 of the evaluation's 1,370
 * hard benign documents and 6 of the 14 wild chunks flagged at 0.5 were flagged by a rule alone, so the
 * 1%-FPR threshold sat at 0.8. At 0.55 the verdict at 0.5 is the same for every document, and recall at
 * 1% FPR on the hard set rose from 53.5% to 58.8% (quick evaluation, same model). Inside a decoded or
 * hidden payload the rule keeps its weight: benign documents do not encode those phrases.
 * Within that tier documents are ordered by what the rest of the evidence says (ruleFloor): a release note
 * that says "ignore the previous instructions" and an override planted in an e-mail no longer tie.
 */
const STRONG_RULE_SCORE = 0.55;
/** Lowest score of a document flagged by a phrase rule alone (just over the operating threshold). */
const RULE_FLOOR_LOW = 0.505;

/**
 * The score of a document whose strong phrase rule is its decisive evidence: between RULE_FLOOR_LOW and
 * STRONG_RULE_SCORE, by the combiner's own score of it (which is under 0.5 here), so that documents the
 * rule alone flags are ranked by the classifier and the other layers rather than all tied.
 */
export function ruleFloor(combined: number): number {
  const c = combined > 0 ? Math.min(0.5, combined) : 0;
  return RULE_FLOOR_LOW + (STRONG_RULE_SCORE - RULE_FLOOR_LOW) * (c / 0.5);
}
/** Two distinct rules at least this strong in one window count together. */
const MEDIUM_RULE = 0.45;

export interface Verdict {
  readonly verdict: 'injection' | 'clean';
  readonly score: number;
  readonly reasons: readonly string[];
}

interface SegmentResult { score: number; reasons: string[]; evidence: Evidence }

/** A score or probability rounded for verdicts and reasons. */
export function round3(x: number): number { return Math.round(x * 1000) / 1000; }
/** A layer scoring at least this much is named in the reasons. */
export const REPORT_AT = 0.25;

/** Maps a probability so that `threshold` lands on the operating threshold 0.5 (piecewise linear). */
export function toScore(p: number, threshold: number): number {
  return p < threshold ? (0.5 * p) / threshold : 0.5 + (0.5 * (p - threshold)) / (1 - threshold);
}

export class Detector {
  readonly model: Model;
  /** The learned decision over all layers (combiner.ts); null only while the training script fits it. */
  readonly combiner: Combiner | null;
  private readonly fx: FeatureExtractor;
  constructor(model: Model, combiner: Combiner | null = null) {
    this.model = model;
    this.combiner = combiner;
    this.fx = new FeatureExtractor(model.bits);
  }

  /** Map the unit classifier's probability so that its trained operating point lands on 0.5. */
  calibrate(p: number): number {
    return toScore(p, this.model.threshold);
  }

  /** Classifier probability and rule hits of every unit (window or segment) of normalised text. */
  units(text: string): Array<{ start: number; end: number; kind: UnitKind; p: number; hits: RuleHit[] }> {
    return unitFeatures(this.fx, text, this.model.window, this.model.stride).map((u) => ({
      start: u.start, end: u.end, kind: u.kind, p: sigmoid(logit(this.model, u.f)), hits: u.hits,
    }));
  }

  scan(input: string): Verdict {
    const r = this.run(input);
    const score = round3(Math.min(1, Math.max(0, r.score)));
    const reasons = [...new Set(r.reasons)].slice(0, 16);
    return { verdict: score >= OPERATING_THRESHOLD ? 'injection' : 'clean', score, reasons };
  }

  /** The evidence of every layer for one document (what the combiner weighs; used to fit it). */
  evidence(input: string): Evidence {
    return this.run(input).evidence;
  }

  private run(input: string): SegmentResult {
    if (typeof input !== 'string') throw new TypeError('Detector.scan expects a string');
    // Decoded and hidden text rescanned in total is bounded by the input size (plus a little): linear time.
    return this.scanSegment(input, 0, { chars: input.length + 4096 });
  }

  /**
   * `unscrambled`: `raw` is text a Caesar or backwards reading produced (it is not read that way again).
   * `wholeView`: `raw` is the whole document read another way (rendered markup, parsed JSON, escapes
   * read), not a payload that was hidden in it: a phrase rule there scores as in the document itself
   * (ruleFloor).
   */
  private scanSegment(raw: string, depth: number, budget: { chars: number }, unscrambled = false, wholeView = false): SegmentResult {
    const n = normalize(raw);
    // A document that is one JSON value (a tool result, an API response) is read as its strings: its keys
    // and syntax are its container's, and read raw they look like the forged tool results of attacks
    // (json.ts, jsonDocument). Read so once: the reading is itself no JSON document. The strings are
    // taken from the input as it came, not from its cleaned text: characters hidden in them (tag
    // characters, zero-width joiners, bidi controls) are found and flagged when the reading is scanned.
    if (!wholeView && raw.length <= MAX_REVEAL) {
      const doc = jsonDocument(raw);
      if (doc !== null && budget.chars >= doc.length) {
        budget.chars -= doc.length;
        const r = this.scanSegment(doc, depth, budget, unscrambled, true);
        return { ...r, reasons: ['json-document', ...r.reasons] };
      }
    }
    const reasons: string[] = [];
    const e = emptyEvidence();

    // Unit classifier and phrase rules over windows and segments.
    let seg = -Infinity, seg2 = -Infinity, win = -Infinity, str = -Infinity;
    const segZ: number[] = [];
    const sm = this.model.structure;
    let best: { z: number; kind: UnitKind; hits: RuleHit[] } = { z: -Infinity, kind: 'window', hits: [] };
    let strongest: RuleHit | null = null;
    let pairIds: string[] = [];
    for (const u of unitFeatures(this.fx, n.text, this.model.window, this.model.stride)) {
      const z = logit(this.model, u.f);
      if (sm !== null && u.kind === 'segment') str = Math.max(str, structureLogitOf(sm.weights, sm.bias, u.f));
      if (u.kind === 'window') { if (z > win) win = z; }
      else {
        segZ.push(z);
        if (z > seg) { seg2 = seg; seg = z; } else if (z > seg2) seg2 = z;
      }
      if (z > best.z) best = { z, kind: u.kind, hits: u.hits };
      for (const h of u.hits) if (strongest === null || h.weight > strongest.weight) strongest = h;
      // Two different medium rules in one unit (e.g. "reveal" + "system prompt", "you are now" +
      // "pretend") corroborate each other: combine the two strongest as independent evidence.
      // (A unit with fewer than two hits has no pair: most units, so they skip building the list.)
      const med = u.hits.length < 2 ? [] : [...new Map(u.hits.filter((h) => h.weight >= MEDIUM_RULE).map((h) => [h.id, h])).values()].sort((a, b) => b.weight - a.weight);
      if (med.length >= 2) {
        const c = 1 - (1 - med[0]!.weight) * (1 - med[1]!.weight);
        if (c > e.rulePair) { e.rulePair = c; pairIds = [med[0]!.id, med[1]!.id]; }
      }
    }
    // A text of one segment has no segment units: its window is its only sentence.
    if (seg === -Infinity) seg = win;
    e.segment = logitFeature(seg);
    e.segmentHigh = logitFeature(seg, HIGH_LOGIT);
    e.segment2 = seg2 === -Infinity ? 0 : logitFeature(seg2);
    e.contrast = contrast(segZ, seg);
    e.window = logitFeature(win);
    e.windowHigh = logitFeature(win, HIGH_LOGIT);
    if (str > -Infinity) { e.structure = logitFeature(str); e.structureHigh = logitFeature(str, HIGH_LOGIT / 2); }
    e.unit = logitFeature(Math.max(seg, win));
    e.unitHigh = logitFeature(Math.max(seg, win), HIGH_LOGIT);
    if (strongest !== null) { e.rule = strongest.weight; e.ruleStrong = Math.max(0, strongest.weight - STRONG_RULE) / (1 - STRONG_RULE); }
    const p = sigmoid(best.z);
    if (this.calibrate(p) >= REPORT_AT) reasons.push(`classifier:${round3(p)}`, `classifier-unit:${best.kind}`);
    for (const h of best.hits) reasons.push(`rule:${h.id}`);
    if (strongest !== null && strongest.weight >= STRONG_RULE) reasons.push(`rule:${strongest.id}`);
    for (const id of pairIds) reasons.push(`rule:${id}`);

    let hiddenScore = 0, decodedScore = 0, rot13Score = 0, viewScore = 0, hiddenProse = false;
    if (depth < MAX_DECODE_DEPTH) {
      const sub = (text: string, label: string, always: boolean, fromScrambled = false, asView = false): number => {
        budget.chars -= text.length;
        const r = this.scanSegment(text, depth + 1, budget, fromScrambled, asView);
        if (always || r.score >= REPORT_AT) reasons.push(label, ...r.reasons.map((x) => `${label}>${x}`));
        return r.score;
      };
      // Tag-character and variation-selector payloads: invisible text is an attack technique in itself.
      for (const { kind, text: payload } of n.hidden) {
        if (budget.chars <= 0) break;
        if (payload.trim().length >= 4) e.hiddenPresent = 1;
        // Invisible prose (several words in tag characters) has no benign use; flag emoji are one short run.
        if (wordCount(payload.toLowerCase()) >= 3) hiddenProse = true;
        hiddenScore = Math.max(hiddenScore, sub(payload, `hidden:${kind}`, true));
      }
      // Scrambled letters: sentences that read as words only after a Caesar shift (rot13 among them)
      // or backwards are decoded and rescanned.
      // (Text already read in such a view is not read again: its own words, shifted, would read back.)
      const scr = unscrambled ? null : scrambled(n.text);
      if (scr !== null && budget.chars > 0) {
        const how = scr.views.join('+');
        // Prose that reads only shifted or backwards is hidden like prose in base64: benign documents
        // hardly ever carry it (no run of the 4,000 benign corpus documents reads more than 3 words; of
        // 25,000 man pages, tldr pages and translation catalogues, 14 runs in raw troff or code read 5+).
        if (scr.longest >= SCRAMBLED_PROSE_WORDS) { e.encodedProse = 1; reasons.push(`scrambled-prose:${how}`); }
        // At most MAX_REVEAL characters of readings are rescanned: a longer scrambled run has already
        // set the encoded-prose evidence, and a megabyte written backwards is not scanned three times.
        rot13Score = sub(scr.text.length > MAX_REVEAL ? scr.text.slice(0, MAX_REVEAL) : scr.text, `decoded:${how}`, false, true);
        // And in place, with its document around it, like other decoded prose.
        if (n.text.length <= MAX_REVEAL && budget.chars >= scr.inPlace.length) viewScore = Math.max(viewScore, sub(scr.inPlace, `decoded:${how}-in-context`, false, true));
      }
      // Letters run together or regrouped ("ignoreallprevious", "igno real lpre vious"): respaced and
      // rescanned on their own (not read so again), and in place only when a whole sentence was run
      // together: rescanning a document with a compound word split gave the classifier a second look
      // at benign text.
      const uns = unscrambled ? null : unspaced(n.text);
      if (uns !== null && budget.chars > 0) {
        decodedScore = Math.max(decodedScore, sub(uns.text, 'decoded:unspaced', false, true));
        if (uns.inPlace !== null && n.text.length <= MAX_REVEAL && budget.chars >= uns.inPlace.length) viewScore = Math.max(viewScore, sub(uns.inPlace, 'decoded:unspaced-in-context', false, true));
      }
      // Encoded segments. Prose hidden in base64 or hex is how "stealth" injections travel; URL-encoding
      // and entities are common in benign text, so for them only the content counts.
      const encoded = findEncoded(n.clean);
      for (const s of encoded) {
        if (budget.chars <= 0) { reasons.push('decode-budget-exhausted'); break; }
        if (isEncodedProse(s) && !declaredBase64(n.clean, s)) {
          e.encodedProse = 1;
          reasons.push(`encoded-prose:${s.kind}`);
        }
        decodedScore = Math.max(decodedScore, sub(s.text, `decoded:${s.kind}`, false));
      }
      // The document as its reader sees it once decoded: encoded prose put back in place and rescanned
      // with its context (a decoded sentence alone loses the position and topic shift that give it away).
      const revealed = reveal(n.clean, encoded);
      // Bounded to ordinary document sizes, so a megabyte of crafted escapes is not scanned twice.
      if (revealed !== null && revealed.length <= MAX_REVEAL && budget.chars >= revealed.length) viewScore = Math.max(viewScore, sub(revealed, 'decoded:in-context', false));
      // Markup that hides text.
      const mk = scanMarkup(n.clean);
      // The text as a reader of the rendered page sees it (markup between words and letters removed).
      const view = rendered(n.clean);
      if (view !== null && view.length <= MAX_REVEAL && budget.chars >= view.length) viewScore = Math.max(viewScore, sub(view, 'rendered', false, false, true));
      // The strings of a JSON document (a tool result, an API response) as parsed: `\n` and `\"` read raw
      // glue letters onto words ("attached.\nIgnore" is the token "nignore").
      const strings = n.clean.length <= MAX_REVEAL ? jsonStrings(n.clean) : null;
      if (strings !== null && budget.chars >= strings.length) viewScore = Math.max(viewScore, sub(strings, 'json-strings', false, false, true));
      // The same escapes outside valid JSON (a Python repr, a quoted log or YAML line, a truncated response).
      const unescaped = strings === null && n.clean.length <= MAX_REVEAL ? escapedLineBreaks(n.clean) : null;
      if (unescaped !== null && budget.chars >= unescaped.length) viewScore = Math.max(viewScore, sub(unescaped, 'unescaped', false, false, true));
      // Sentences wrapped over comment or quoted-reply lines read as the paragraphs they are (lines.ts).
      const flowed = n.clean.length <= MAX_REVEAL ? reflowed(n.clean) : null;
      if (flowed !== null && budget.chars >= flowed.length) viewScore = Math.max(viewScore, sub(flowed, 'reflowed', false, false, true));
      // Lines written with a diacritic on almost every letter, read without them.
      const bare = withoutDiacritics(n.clean);
      if (bare !== null && bare.length <= MAX_REVEAL && budget.chars >= bare.length) viewScore = Math.max(viewScore, sub(bare, 'decoded:diacritics-removed', false));
      for (const h of mk.hidden) {
        if (budget.chars <= 0) break;
        hiddenScore = Math.max(hiddenScore, sub(h.text, `hidden:${h.kind}`, false));
      }
      // Only a URL carrying a template or secret-looking data counts: badges with "?style=flat" are benign.
      if (mk.exfilLinks.some((l) => l.strength === 'placeholder')) { e.exfilLink = 1; reasons.push('exfil-link:image-url-with-data'); }
    }
    e.hidden = subFeature(hiddenScore); e.decoded = subFeature(decodedScore); e.rot13 = subFeature(rot13Score);
    // What code in the document would do (code.ts): reading secrets and sending them, wiping, flooding...
    const behaviours = codeBehaviours(n.clean);
    e.code = codeEvidence(behaviours);
    for (const b of behaviours) reasons.push(`code:${b}`);

    // Obfuscation (ZWJ emoji, RTL marks and mixed-script names also occur in benign text: the combiner
    // weighs it together with the rest). Digit-for-letter folding is not counted: "x509", "es2024".
    const obf = n.flags.filter((f) => f !== 'tag-chars' && f !== 'leetspeak');
    if (obf.length > 0) e.obfuscated = 1;
    // Text that was hidden or encoded and is itself judged an injection makes its document one: the
    // combiner adds what the rest of the document says, it cannot talk a detected payload down.
    const payload = Math.max(hiddenScore, decodedScore, rot13Score, viewScore);
    const combined = this.combiner !== null ? toScore(sigmoid(combinerLogit(this.combiner, e)), this.combiner.threshold) : provisionalScore(e, this.model.threshold);
    // A strong hand-written phrase rule ("ignore all previous instructions" in one of its languages) is
    // enough on its own to flag a document, as is a detected payload; see STRONG_RULE_SCORE for how high.
    const rule = e.rule >= STRONG_RULE ? (depth === 0 || wholeView ? ruleFloor(combined) : e.rule) : 0;
    // Prose hidden in base64 or hex inside an untrusted document is how "stealth" injections travel;
    // benign documents carry encoded binary (keys, images, hashes), rarely encoded sentences.
    const at = depth === 0 ? 0 : 1;
    const stealth = e.encodedProse > 0 ? ENCODED_PROSE_SCORE[at] : 0;
    const invisible = hiddenProse ? HIDDEN_PROSE_SCORE[at] : 0;
    // An image that fetches a URL with data left for the reader to fill in (template syntax, a secret's
    // name, an empty trailing parameter) exfiltrates as soon as it is rendered.
    const exfil = e.exfilLink > 0 ? EXFIL_LINK_SCORE[at] : 0;
    const harmful = e.code >= 1 ? CODE_BEHAVIOUR_SCORE[at] : 0;
    const score = Math.max(combined, payload, rule, stealth, invisible, exfil, harmful);
    if (obf.length > 0 && score >= REPORT_AT) for (const f of obf) reasons.push(`obfuscation:${f}`);
    return { score, reasons, evidence: e };
  }
}

/**
 * Whether a decoded run is prose hidden in an encoding that only ever carries text (base64, hex,
 * binary, Braille..., or plain letters written as escapes): eight words or more. For the encodings whose alphabet benign text also uses a
 * little (Morse dashes, numbers, Braille spinners, flag letters, turned IPA letters), three of those
 * words must also read as common, closed-class or lexicon words.
 */
function isEncodedProse(s: DecodedSegment): boolean {
  if (!(PROSE_HIDING_KINDS.has(s.kind) || s.escapedLetters === true) || wordCount(s.text.toLowerCase()) < ENCODED_PROSE_WORDS) return false;
  if (isStructuredData(s.text)) return false;
  if (s.kind === 'base64' || s.kind === 'base32' || s.kind === 'hex') return s.text.length >= 32;
  return wordsReadingAsWritten(s.text.toLowerCase()) >= ENCODED_PROSE_KNOWN_WORDS;
}

/**
 * Whether decoded text is a JSON or XML document or a PEM block, which is how tokens, certificates,
 * signed metadata and API payloads travel in base64 (a JWT's claims, a kubeconfig's certificate data, a
 * TUF or SAML document): a PEM header, or a JSON or XML tag, within its first 128 characters (a
 * run's edge can pick up some bytes of its neighbour) with at least one character in twelve markup
 * (`{}[]<>":,=/`; prose has about one in forty). A JSON opening is a brace before a quoted key or a
 * bracket before a value, not "[system]"; an XML element must be closed somewhere. Data, not hidden
 * prose; what its strings say is still scanned like any decoded payload. Prose wrapped in one JSON field
 * is not dense enough to pass.
 */
function isStructuredData(text: string): boolean {
  const head = text.slice(0, 128);
  if (head.includes('-----BEGIN ')) return true;
  // A JSON object (a quoted key), a JSON array (of values), or an XML element that is closed somewhere.
  const open = head.search(/\{\s{0,8}"|\[\s{0,8}[{["\d\]]|<[?!/]?[A-Za-z][\w:.-]{0,40}[\s>/]/);
  if (open < 0) return false;
  if (text.charCodeAt(open) === 0x3c && !text.includes('</') && !text.includes('/>')) return false;
  let markup = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x3a || c === 0x2c || c === 0x3d || c === 0x2f) markup++;
  }
  return markup * 12 >= text.length;
}

/** How far back a MIME part's headers are looked for (bytes before its body). */
const MIME_HEADER_LOOKBACK = 4096;
/**
 * Whether a base64 run is a body its container declares as base64, which is how ordinary mail and web
 * pages carry text: a `data:...;base64,` URI, or the body of a MIME part whose headers (ending in the
 * blank line right before the run) say `Content-Transfer-Encoding: base64`. Such prose is not hidden, so
 * it does not count as encoded prose; what it says is still decoded and scanned like any payload. (A
 * raw e-mail with a base64 text part otherwise scored 0.55 on the encoded-prose floor alone.)
 */
function declaredBase64(text: string, run: DecodedSegment): boolean {
  if (run.kind !== 'base64') return false;
  const before = text.slice(Math.max(0, run.start - MIME_HEADER_LOOKBACK), run.start).toLowerCase();
  if (/;\s{0,4}base64,\s{0,4}$/.test(before.slice(-32))) return true;
  const h = before.lastIndexOf('content-transfer-encoding:');
  if (h < 0) return false;
  // The header's value is base64, and only header lines follow it up to one blank line, which ends the headers.
  const rest = before.slice(h + 'content-transfer-encoding:'.length);
  if (!/^[ \t]{0,8}base64[ \t]{0,8}\r?\n/.test(rest)) return false;
  const blank = rest.search(/\n[ \t]{0,8}\r?\n/);
  return blank >= 0 && rest.slice(blank).trim() === '';
}

/**
 * `text` with each decoded run that reads as prose (three words or more) replaced by its decoded text,
 * or null when there is none. Runs are taken in order; an overlapping run is skipped.
 */
function reveal(text: string, runs: readonly DecodedSegment[]): string | null {
  let out = '', at = 0, any = false;
  for (const r of [...runs].sort((a, b) => a.start - b.start)) {
    if (r.start < at || wordCount(r.text.toLowerCase()) < 3) continue;
    out += text.slice(at, r.start) + ' ' + r.text + ' ';
    at = r.end;
    any = true;
  }
  return any ? out + text.slice(at) : null;
}

/**
 * A typical benign sentence's logit (about the 90th percentile, over benign documents, of the upper
 * quartile of their sentences): the level the top sentence of a document is measured from when the
 * rest of the document is itself suspicious, or when there is no rest.
 */
export const CONTRAST_REFERENCE_LOGIT = -2;

/**
 * How far a document's most suspicious sentence stands out from the rest of it, as evidence in [0, 4]:
 * the gap between the top segment logit and the upper quartile of the other segments (so an attack said
 * twice, or three times, still stands out in a long document), or CONTRAST_REFERENCE_LOGIT when that is
 * lower. A planted instruction is unlike the e-mail, table or article around it; a page that merely
 * talks in imperatives has many sentences near its top one. The reference keeps a document that is all
 * attack, or a lone sentence, from counting as unremarkable: more suspicious sentences lower the gap
 * only down to the top sentence's distance from an ordinary benign one.
 */
export function contrast(segZ: readonly number[], top: number): number {
  if (top === -Infinity) return 0;
  let ref = CONTRAST_REFERENCE_LOGIT;
  if (segZ.length >= 2) {
    const z = Float64Array.from(segZ).sort().reverse();
    ref = Math.min(ref, z[1 + Math.floor(0.25 * (z.length - 2))]!);
  }
  return logitFeature(top - ref);
}

/** A rescanned payload's score as evidence: how far it is past the operating threshold, in [0, 1]. */
function subFeature(score: number): number {
  return Math.max(0, Math.min(1, (score - OPERATING_THRESHOLD) * 2));
}

/**
 * The score before a combiner exists (the training script's first pass only): the strongest single
 * layer, as the detector scored before the combiner was learned.
 */
function provisionalScore(e: Evidence, classifierThreshold: number): number {
  const z = Math.max(e.segment, e.window) * 4 - (e.segment === 0 && e.window === 0 ? 8 : 0);
  let s = toScore(sigmoid(z), classifierThreshold);
  if (e.rule >= STRONG_RULE) s = Math.max(s, e.rule);
  s = Math.max(s, e.rulePair);
  if (e.hiddenPresent) s = Math.max(s, 0.7);
  if (e.encodedProse) s = Math.max(s, 0.55);
  if (e.exfilLink) s = Math.max(s, 0.75);
  if (e.obfuscated && s >= 0.25) s = Math.min(1, s + 0.15);
  return s;
}
