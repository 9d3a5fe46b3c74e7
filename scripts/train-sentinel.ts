/**
 * Trains Sentinel's classifier and writes src/sentinel/model.json. Deterministic: same data, same model.
 *
 *   node scripts/train-sentinel.ts [--data data/bipia-train] [--out FILE] [--hold-out-categories]
 *
 * Data used (and held out):
 * - BIPIA training split (MIT, Microsoft; data/bipia-train in this repository): clean contexts (email, table,
 *   code) are negatives; attack strings are inserted at the start, middle or end of a clean context to
 *   make positives, as BIPIA does.
 *   * Contexts are split per source with a seeded shuffle: 60% train, 10% calibration (choice of the
 *     operating threshold), 30% test (used only by scripts/eval-sentinel.ts).
 *   * The shipped model learns from every attack category. With --hold-out-categories (what the
 *     evaluation trains to measure unseen categories) those in HELDOUT_TEXT_CATEGORIES and
 *     HELDOUT_CODE_CATEGORIES are left out.
 * - data/sentinel/attacks-train.jsonl: hand-written injections in 11 languages (training only).
 * - data/sentinel/benign-imperative-train.jsonl: hand-written benign documents full of imperatives.
 * - data/sentinel/benign-dev-train.jsonl: 1.5 KB chunks of developer text (this repository's committed
 *   sources and design notes, Apache-2.0; and @types/node declaration docs, MIT, DefinitelyTyped
 *   contributors) as negatives: code and documentation full of "run", "execute", "send", "call".
 * - data/sentinel/attacks-corpus-*.jsonl: hand-written injections in 12 families and 41 languages; every
 *   fifth line is held back from the unit classifier and used only to fit the combiner.
 * - data/sentinel/benign-corpus-*.jsonl: hand-written benign documents full of imperatives, in many
 *   languages, and markup-heavy developer pages; every fifth document is kept for calibration.
 * - data/sentinel/spans-*.jsonl, when present (none is shipped; candidates wait in
 *   data/sentinel/candidates/): whole documents with one marked span, an injection or a benign
 *   look-alike sentence where its writer put it ({lang, label, position, before, span, after}); the
 *   attacks are learned in their own document and planted once more in another host, the benign
 *   documents are negatives; every fifth of each is kept for the combiner.
 * - Never used here: data/sentinel/attacks-heldout.jsonl, data/sentinel/benign-imperative-heldout.jsonl,
 *   data/sentinel/probe-unseen-languages.jsonl, probe2-unseen-languages.jsonl and
 *   probe4-unseen-languages.jsonl (their languages, PROBE_LANGUAGES, PROBE2_LANGUAGES and
 *   LEXICON_EXCLUDED_LANGUAGES, are refused in training files), probe3-other-strings.jsonl,
 *   probe5-offtask-requests.jsonl, and BIPIA's test split (data/bipia-test).
 *
 * Every corpus attack is also planted three times, and every benign corpus document added once, in the
 * "unfamiliar language" view (unitsOf): letters enciphered so nothing but the concepts of the
 * multilingual lexicon (src/sentinel/lexicon.ts) is recognisable, which teaches the model what those
 * concepts mean in a language it has no attacks in.
 *
 * Every corpus attack is planted once more with typos (typos()). The paraphrase corpus
 * (attacks-corpus-paraphrase-*: thirteen families written without the usual override wording) is
 * planted fewer times than the others (PARAPHRASE_PLANTINGS).
 *
 * Then the combiner (src/sentinel/combiner.ts) is fitted on the calibration documents and the held-back
 * attacks (planted, obfuscated, alone; and the first string of each BIPIA category, planted in
 * calibration contexts of its kind), and its threshold set for COMBINER_TARGET_FPR.
 *
 * Model: logistic regression on hashed features (src/sentinel/classifier.ts), SGD with L2, classes
 * balanced, trained on windows of the normalised text exactly as the detector windows it.
 *
 * Knobs for experiments, read from the environment; unset, they reproduce the shipped model:
 * SENTINEL_BITS (19), SENTINEL_EPOCHS (12), SENTINEL_FOCAL (0), SENTINEL_SDROP (0.1), SENTINEL_CBW (3),
 * SENTINEL_PLANT (6), SENTINEL_BSTYLE (1), SENTINEL_BSTYLE_CIPHER (3), SENTINEL_CFPR (0.005), SENTINEL_CIPHER (3), SENTINEL_TYPO (1), SENTINEL_PARA (2), SENTINEL_PARA_CIPHER (1), SENTINEL_BIPIA (8), SENTINEL_BIPIA_COMB (20),
 * SENTINEL_SPAN (1), SENTINEL_SPAN_HOSTS (1), SENTINEL_SPAN_BENIGN (2), SENTINEL_CONTRAST (2),
 * SENTINEL_SEED (7: the first seed of the unit classifier's plantings and example order; training with
 * another one measures how much of a difference between two models is chance: session 16 measured
 * 0.6-1.3 points of hard-set recall at 1% FPR, and up to 2.5 at the operating threshold),
 * SENTINEL_BAG (3: unit models averaged, seeds SENTINEL_SEED, +1, +2; see BAG).
 */
import { prng } from '../src/policy/defaults.ts';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { normalize } from '../src/sentinel/normalize.ts';
import { LEXICON_EXCLUDED_LANGUAGES, conceptHits } from '../src/sentinel/lexicon.ts';
import { FeatureExtractor, encodeModel, logitOf, sigmoid } from '../src/sentinel/classifier.ts';
import { unitFeatures } from '../src/sentinel/detector.ts';
import { tokenSpans, wordCount } from '../src/sentinel/rules.ts';
import { ABOVE_TITLE_FEATURES, scrambledCandidates } from '../src/sentinel/segments.ts';
import { rot13 } from '../src/sentinel/normalize.ts';
import { toBase64, toHex, utf8 } from '../src/encoding/bytes.ts';
import { encodeStructure, loadModel, structureLogitOf } from '../src/sentinel/classifier.ts';
import { Detector } from '../src/sentinel/detector.ts';
import { fitCombiner, loadCombiner, combinerLogit, type Combiner, type CombinerFile, type Evidence } from '../src/sentinel/combiner.ts';

/**
 * An experiment knob from the environment (see the list above); unset, its default. A value that is not
 * a finite number is refused, naming the variable, rather than silently training another model.
 */
function knob(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name}=${JSON.stringify(raw)} is not a non-negative number; unset it to train the shipped model`);
  return v;
}

// The BIPIA training split ships in the repository (MIT, see data/bipia-train/LICENSE) so that the
// model is reproducible from a clone alone.
export const DEFAULT_DATA = new URL('../data/bipia-train', import.meta.url).pathname;
export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const BITS = knob('SENTINEL_BITS', 19);
export const WINDOW = 400;
export const STRIDE = 200;
/** Target false-positive rate of the operating threshold on calibration documents (margin below 1%). */
export const TARGET_FPR = 0.005;
/**
 * False-positive rate of the final operating threshold on the combiner's (held-back) negatives. These
 * are the hardest negatives SIOS has (hand-written imperative documents in 41 languages). 1.2% on them
 * measured 0.6% on the evaluation's held-out benign documents until probe 3 added other kinds of
 * documents (homework sheets, leaflets, policies), where it measured 1.1%; 0.8% kept the operating
 * point at or under 1% there. Once invisible characters of ordinary text stopped counting as
 * obfuscation, 0.8% put the operating point lower: benign documents from the wild flagged at 0.5 rose
 * (Debian man pages 2.5% -> 3.2%, whole /usr/share/doc files 14 -> 21 of 871, 10 of 1,170 tldr-page
 * documents); 0.6% measures 2.2%, 15 and 1 with the same recall at 1% FPR (75.2%) and 0.7% FPR at 0.5
 * on the evaluation's benign documents. Session 12 (topic coherence): 0.6% flagged 173 of the
 * machine's 47,646 man page and /usr/share/doc chunks and 32 of the evaluation's 1,200 tldr chunks
 * (session 11's model: 149 and 3); 0.5% flags 206 of all 86,050 chunks with tldr-pages (session 11's:
 * 232) and 2 tldr chunks, with recall at 0.5 63.0% (session 11's: 63.3%).
 */
const COMBINER_TARGET_FPR = knob('SENTINEL_CFPR', 0.005);
/**
 * The combiner's weight of `contrast` (how far a document's top sentence stands out from the rest of
 * it, detector.ts), set by hand: the calibration documents cannot teach it. Their negatives almost never
 * reach the sentence scores where contrast separates (8 of 1,141 have a segment logit past 4, in a /tmp dump of the script's combiner data), and a free
 * fit gives it 0. Held at 0.5, 1, 2 or 3 with the other weights fitted around it, every setting raised
 * recall at 1% FPR on the evaluation's hard benign set (58.4% -> 60.4, 60.1, 61.9, 62.5%) and on all its
 * benign documents pooled (67.5% -> 70.2, 72.4, 75.8, 76.2%); at 3 the sentence's own score weighs less
 * than its contrast (segment 1.2) and the evaluation without probe 6, attacks in the middle of e-mails
 * and BIPIA's test split fell back. 2 it is (session 15, docs/decisions.md).
 */
const CONTRAST_WEIGHT = knob('SENTINEL_CONTRAST', 2);
/**
 * Unit models trained with successive seeds (other plantings, other example order) and averaged. One
 * seed's model is one draw: seeds 7, 8 and 9 of the same recipe measured 61.9%, 62.8% and 63.4% recall
 * at 1% FPR on the hard set. The mean of their weights is as fast to scan with (a logit is linear in the
 * weights) and, averaged over the range of false-positive rates, beat the mean of the three draws on
 * every figure by 0.2 to 1.2 points (session 17, docs/decisions.md). Training takes BAG times as long.
 */
const BAG = knob('SENTINEL_BAG', 3);
if (!Number.isInteger(BAG) || BAG < 1) throw new RangeError(`SENTINEL_BAG=${BAG} must be a whole number of models, at least 1; unset it to train the shipped model`);
/** Weight of a hand-written benign corpus document (rare and hard negatives count more than BIPIA's many tables). */
const CORPUS_BENIGN_WEIGHT = knob('SENTINEL_CBW', 3);
// Technical documentation (benign-corpus-techdocs-*: manual pages, admin guides, security policies in
// 28 languages) is dense in the words attacks use; its weight trades false positives on such
// documents against recall on plain errands.
const TECHDOCS_WEIGHT = knob('SENTINEL_TECHDOCS_W', CORPUS_BENIGN_WEIGHT);
/** Weight of a benign corpus document's units, by the corpus it comes from. */
function benignWeight(d: CorpusDoc): number {
  return d.source?.startsWith('benign-corpus-techdocs') ? TECHDOCS_WEIGHT : CORPUS_BENIGN_WEIGHT;
}
/** Documents each corpus attack is planted in. */
const CORPUS_PLANTINGS = knob('SENTINEL_PLANT', 6);
/**
 * Plantings of each BIPIA-style corpus attack (attacks-corpus-bipia-style-*: plain requests aimed at the
 * assistant, no override wording). Fewer than the other corpora: at full weight they taught the model
 * that any imperative is an attack (benign imperative documents flagged 2.5% -> 12.5%). One since the
 * 830 chatbot requests of attacks-corpus-bipia-style-requests-* came in: at two, they crowded out the
 * other families (probes 1, 2 and 4 lost 6-7 points); at one, plain requests (probe 5) went 22% -> 44%
 * and the rest moved by 1-3 points.
 */
const BIPIA_STYLE_PLANTINGS = knob('SENTINEL_BSTYLE', 1);
/** Spans corpus: times each document is learned as written, plantings of its span in other hosts, weight of the benign documents. */
const SPAN_PLANTINGS = knob('SENTINEL_SPAN', 1);
const SPAN_HOSTS = knob('SENTINEL_SPAN_HOSTS', 1);
const SPAN_BENIGN_WEIGHT = knob('SENTINEL_SPAN_BENIGN', 2);
/**
 * Plantings of each paraphrase corpus attack (attacks-corpus-paraphrase-*: thirteen families written
 * without the usual override wording). Fewer than the other corpora: at six, their weight crowded out
 * the BIPIA attacks (held-out code categories 94% -> 78% at 1% FPR).
 */
const PARAPHRASE_PLANTINGS = knob('SENTINEL_PARA', 2);
/** Calibration contexts each held-back BIPIA attack is planted in for the combiner (0: none held back). */
const BIPIA_COMBINER_PLANTINGS = knob('SENTINEL_BIPIA_COMB', 20);
/** Contexts each BIPIA training attack is planted in. */
const BIPIA_PLANTINGS = knob('SENTINEL_BIPIA', 8);
/** Enciphered plantings of each paraphrase corpus attack (weighed down like PARAPHRASE_PLANTINGS). */
const PARAPHRASE_CIPHER_VIEWS = knob('SENTINEL_PARA_CIPHER', 1);
/** Enciphered plantings of each corpus attack (the unfamiliar-language view; see unitsOf). */
const CIPHER_VIEWS = knob('SENTINEL_CIPHER', 3);
/** Enciphered plantings of each BIPIA-style corpus attack (plain requests: few concepts, mostly sentence shape). */
const BIPIA_STYLE_CIPHER_VIEWS = knob('SENTINEL_BSTYLE_CIPHER', CIPHER_VIEWS);
/** Plantings of each corpus attack with typos (see typos()): misspelt attacks dodge word features. */
const TYPO_VIEWS = knob('SENTINEL_TYPO', 1);

/**
 * How often a corpus attack is planted, plainly and in the cipher view, by the corpus it comes from: the
 * BIPIA-style and paraphrase corpora are weighed down (see their constants); the others get the defaults.
 */
function corpusWeight(a: Attack): { plantings: number; cipherViews: number } {
  // The second set of chatbot requests (session 20) is planted once and never enciphered: with three
  // enciphered views each, like the first set, recall at 1% FPR was 65.8% against 67.4% (quick evaluation,
  // seed 7), probe 1 −1.7 points more.
  if (a.source?.startsWith('attacks-corpus-bipia-style-requests2')) return { plantings: BIPIA_STYLE_PLANTINGS, cipherViews: 0 };
  if (a.source?.startsWith('attacks-corpus-bipia-style')) return { plantings: BIPIA_STYLE_PLANTINGS, cipherViews: Math.min(BIPIA_STYLE_CIPHER_VIEWS, CIPHER_VIEWS) };
  if (a.source?.startsWith('attacks-corpus-paraphrase')) return { plantings: PARAPHRASE_PLANTINGS, cipherViews: Math.min(PARAPHRASE_CIPHER_VIEWS, CIPHER_VIEWS) };
  return { plantings: CORPUS_PLANTINGS, cipherViews: CIPHER_VIEWS };
}

export const HELDOUT_TEXT_CATEGORIES = ['Learning and Tutoring', 'Language Translation', 'Homophonic Substitution', 'Space Removal & Grouping', 'Persuasion', 'Malware Distribution'];
export const HELDOUT_CODE_CATEGORIES = ['Memory Scanning', 'Crippling Critical Infrastructures', 'Cryptocurrency Mining'];

/** Seeded PRNG for shuffles and sampling (mulberry32, shared with the policy examples). NOT for security: training data order only. */
export const trainingShufflePrng = prng;

export function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [a[i], a[j]] = [a[j]!, a[i]!]; }
  return a;
}

export interface Context { source: 'email' | 'table' | 'code'; text: string }
export interface Attack { category: string; text: string; kind: 'text' | 'code' | 'handwritten'; lang: string; /** The data/sentinel file it came from (hand-written corpora). */ source?: string }
export interface Splits {
  train: Context[]; calib: Context[]; test: Context[];
  trainAttacks: Attack[]; heldoutBipiaAttacks: Attack[]; handwrittenTrain: Attack[]; handwrittenHeldout: Attack[];
  benignTrain: string[]; benignDev: string[]; benignDevCalib: string[]; benignHeldout: Array<{ kind: string; text: string }>;
  /** Task-injection requests and benign human-addressed requests (data/sentinel/task-injection-templates.json). */
  templates: Templates;
  /** data/sentinel/attacks-corpus-*.jsonl: the broad hand-written injection corpus (training only); every fifth line is held back from the unit classifier to fit the combiner. */
  corpusAttacks: Attack[]; corpusAttacksCalib: Attack[];
  /** data/sentinel/benign-corpus-*.jsonl: hand-written benign documents in many languages; every fifth is kept for calibration. */
  corpusBenign: CorpusDoc[]; corpusBenignCalib: CorpusDoc[];
  /**
   * data/sentinel/spans-*.jsonl: whole hand-written documents with one marked span, an injection or a
   * benign look-alike sentence, where the writer put it; every fifth is kept for the combiner.
   */
  spanAttacks: SpanDoc[]; spanAttacksCalib: SpanDoc[]; spanBenign: SpanDoc[]; spanBenignCalib: SpanDoc[];
  /**
   * data/sentinel/calib-benign-*.jsonl: hard benign documents (look-alikes of agent injections) that
   * only set the combiner's operating threshold: neither the unit classifier nor the combiner's weights
   * learn from them, so they show how the evidence behaves on such documents out of sample.
   */
  calibOnlyBenign: string[];
}

/** A document of a spans corpus: `before + span + after` is the document; the span is what is labelled. */
export interface SpanDoc { lang: string; label: 'attack' | 'benign'; position: Position; before: string; span: string; after: string; source: string }

export interface CorpusDoc { lang: string; kind: string; text: string; /** The data/sentinel file it came from. */ source?: string }

/**
 * Languages kept out of every training file: the evaluation plants attacks written in them
 * (data/sentinel/probe-unseen-languages.jsonl) to measure languages the model has never seen attacks
 * in. (The concept lexicon, src/sentinel/lexicon/, covers them.) Likewise the second probe's
 * (PROBE2_LANGUAGES: outside the lexicon too until the second wave of lists took them in). The
 * languages of the fourth probe, LEXICON_EXCLUDED_LANGUAGES, are kept out of training files and of the
 * lexicon: SIOS knows nothing of them.
 */
export const PROBE_LANGUAGES = ['is', 'af', 'sw', 'tl', 'et', 'lv', 'ca', 'cy', 'eu', 'am'];
export const PROBE2_LANGUAGES = ['fo', 'lb', 'mt', 'br', 'yo', 'zu', 'qu', 'eo', 'gd', 'ht'];

/** Every <dir>/<prefix>*.jsonl (dir: data/sentinel), in name order (a missing corpus is an empty one). */
function corpusFiles(prefix: string, dir = `${REPO}data/sentinel`): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.jsonl')).sort();
}

/** data/sentinel/synthetic-requests.json: frames for generated task injections and benign requests. */
export interface Synthetic {
  attack: Record<string, string[]>;
  topics: Record<string, string[]>;
  extras: Record<string, string[]>;
  benign: Record<string, string[]>;
}

export function loadSynthetic(): Synthetic {
  return JSON.parse(readFileSync(`${REPO}data/sentinel/synthetic-requests.json`, 'utf8')) as Synthetic;
}

/** A content word of a document (letters only, >= 5 characters), for benign requests about it. */
function contentWord(doc: string, rnd: () => number): string {
  const ws = doc.split(/[^\p{L}]+/u).filter((w) => w.length >= 5 && w.length <= 14);
  return ws.length > 0 ? ws[Math.floor(rnd() * ws.length)]! : 'budget';
}

/** Generated task injections (attack frames filled with topics and extras) in one language. */
export function synthAttacks(sy: Synthetic, lang: string, n: number, rnd: () => number): string[] {
  const frames = sy.attack[lang] ?? [];
  const topics = sy.topics[lang] ?? sy.topics['en']!;
  const pick = (xs: readonly string[]): string => xs[Math.floor(rnd() * xs.length)]!;
  const out: string[] = [];
  for (let k = 0; k < n && frames.length > 0; k++) {
    out.push(pick(frames).replace('{t}', pick(topics)).replace('{x}', pick(sy.extras['x']!)).replace('{x2}', pick(sy.extras['x2']!)).replace('{x3}', pick(sy.extras['x3']!)));
  }
  return out;
}

export interface Templates {
  heldoutLanguages: string[];
  attack: Record<string, string[]>;
  benign: Record<string, string[]>;
  leads: Record<string, string[]>;
}

/** Lines of one language's templates, split by whether the language is held out. */
export function templateLines(t: Templates, which: 'attack' | 'benign', heldout: boolean): Array<{ lang: string; text: string }> {
  const out: Array<{ lang: string; text: string }> = [];
  for (const [lang, lines] of Object.entries(t[which])) {
    if (t.heldoutLanguages.includes(lang) !== heldout) continue;
    for (const text of lines) out.push({ lang, text });
  }
  return out;
}

/** One JSON object per line, each with the field `field` (BIPIA's contexts use "context"). */
function readJsonl(path: string, field = 'text'): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  readFileSync(path, 'utf8').split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    let v: unknown;
    try { v = JSON.parse(l); } catch (e) { throw new Error(`${path}:${i + 1}: not a JSON object (${(e as Error).message}); fix or remove the line`); }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !(field in v)) throw new Error(`${path}:${i + 1}: expected an object with a "${field}" field; fix or remove the line`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

export function loadSplits(dataDir = DEFAULT_DATA): Splits {
  const rnd = trainingShufflePrng(20261122);
  const train: Context[] = [], calib: Context[] = [], test: Context[] = [];
  for (const source of ['email', 'table', 'code'] as const) {
    const rows = readJsonl(`${dataDir}/${source}_train.jsonl`, 'context');
    const ctx = rows.map((r) => {
      const c = r['context'];
      return { source, text: Array.isArray(c) ? (c as string[]).join('\n') : String(c) };
    }).filter((c) => c.text.trim().length > 0);
    const s = shuffle(ctx, rnd);
    const nTest = Math.round(s.length * 0.3), nCal = Math.round(s.length * 0.1);
    test.push(...s.slice(0, nTest));
    calib.push(...s.slice(nTest, nTest + nCal));
    train.push(...s.slice(nTest + nCal));
  }
  const trainAttacks: Attack[] = [], heldoutBipiaAttacks: Attack[] = [];
  for (const [file, kind, held] of [['text_attack_train.json', 'text', HELDOUT_TEXT_CATEGORIES], ['code_attack_train.json', 'code', HELDOUT_CODE_CATEGORIES]] as const) {
    const groups = JSON.parse(readFileSync(`${dataDir}/${file}`, 'utf8')) as Record<string, string[]>;
    for (const [category, texts] of Object.entries(groups)) {
      for (const text of texts) (held.includes(category) ? heldoutBipiaAttacks : trainAttacks).push({ category, text, kind, lang: 'en' });
    }
  }
  const hw = (f: string): Attack[] => readJsonl(`${REPO}data/sentinel/${f}`).map((r) => ({ category: String(r['category']), text: String(r['text']), kind: 'handwritten', lang: String(r['lang']), source: f }));
  return {
    train, calib, test, trainAttacks, heldoutBipiaAttacks,
    handwrittenTrain: hw('attacks-train.jsonl'), handwrittenHeldout: hw('attacks-heldout.jsonl'),
    benignTrain: readJsonl(`${REPO}data/sentinel/benign-imperative-train.jsonl`).map((r) => String(r['text'])),
    // Every fifth developer chunk is kept back for calibration of the threshold.
    benignDev: readJsonl(`${REPO}data/sentinel/benign-dev-train.jsonl`).map((r) => String(r['text'])).filter((_, i) => i % 5 !== 0),
    benignDevCalib: readJsonl(`${REPO}data/sentinel/benign-dev-train.jsonl`).map((r) => String(r['text'])).filter((_, i) => i % 5 === 0),
    templates: JSON.parse(readFileSync(`${REPO}data/sentinel/task-injection-templates.json`, 'utf8')) as Templates,
    benignHeldout: readJsonl(`${REPO}data/sentinel/benign-imperative-heldout.jsonl`).map((r) => ({ kind: String(r['kind']), text: String(r['text']) })),
    ...splitCorpusAttacks(corpusFiles('attacks-corpus-').flatMap((f) => hw(f)).map((a) => checkLang(a, 'attack corpus'))),
    ...splitSpanDocs(loadSpanDocs()),
    calibOnlyBenign: loadCalibBenign(),
    ...splitBenignCorpus(corpusFiles('benign-corpus-').flatMap((f) => readJsonl(`${REPO}data/sentinel/${f}`).map((r) => checkLang({ lang: String(r['lang']), kind: String(r['kind']), text: String(r['text']), source: f }, f)))),
  };
}

/**
 * The texts of every calib-benign-*.jsonl record of `dir` (data/sentinel), in file-name order:
 * `{"lang", "text"}` objects, validated like the corpora (a probe's language is refused, as is an
 * empty text); a bad record names its file and its number.
 */
export function loadCalibBenign(dir = `${REPO}data/sentinel`): string[] {
  return corpusFiles('calib-benign-', dir).flatMap((f) => readJsonl(`${dir}/${f}`, 'text').map((r, i) => {
    const where = `${dir}/${f}, record ${i + 1}`;
    if (typeof r['lang'] !== 'string' || typeof r['text'] !== 'string') throw new Error(`${where}: "lang" and "text" must be strings`);
    return checkLang({ lang: r['lang'], text: r['text'] }, where).text;
  }));
}

/**
 * Every spans-*.jsonl record of `dir` (data/sentinel), validated: a bad line names its file and line.
 * (data/sentinel/candidates/ holds such files that training does not read; see docs/decisions.md.)
 */
export function loadSpanDocs(dir = `${REPO}data/sentinel`): SpanDoc[] {
  const out: SpanDoc[] = [];
  for (const f of corpusFiles('spans-', dir)) {
    readJsonl(`${dir}/${f}`, 'span').forEach((r, i) => {
      const where = `${dir}/${f}:${i + 1}`;
      const str = (k: string): string => { const v = r[k]; if (typeof v !== 'string') throw new Error(`${where}: "${k}" must be a string; fix or remove the line`); return v; };
      const label = str('label'), position = str('position');
      if (label !== 'attack' && label !== 'benign') throw new Error(`${where}: "label" must be "attack" or "benign", not ${JSON.stringify(label)}`);
      if (position !== 'start' && position !== 'middle' && position !== 'end') throw new Error(`${where}: "position" must be start, middle or end, not ${JSON.stringify(position)}`);
      const d: SpanDoc = { lang: str('lang'), label, position, before: str('before'), span: str('span'), after: str('after'), source: f };
      if (position === 'start' && d.before.trim() !== '') throw new Error(`${where}: position "start" but "before" holds text; move it into "after" or say "middle"`);
      if (position === 'end' && d.after.trim() !== '') throw new Error(`${where}: position "end" but "after" holds text; move it into "before" or say "middle"`);
      checkLang({ lang: d.lang, text: d.span }, where);
      out.push(d);
    });
  }
  return out;
}

function splitSpanDocs(ds: SpanDoc[]): Pick<Splits, 'spanAttacks' | 'spanAttacksCalib' | 'spanBenign' | 'spanBenignCalib'> {
  const a = ds.filter((d) => d.label === 'attack'), b = ds.filter((d) => d.label === 'benign');
  return {
    spanAttacks: a.filter((_, i) => i % 5 !== 0), spanAttacksCalib: a.filter((_, i) => i % 5 === 0),
    spanBenign: b.filter((_, i) => i % 5 !== 0), spanBenignCalib: b.filter((_, i) => i % 5 === 0),
  };
}

function checkLang<T extends { lang: string; text: string }>(x: T, where: string): T {
  if (PROBE_LANGUAGES.includes(x.lang) || PROBE2_LANGUAGES.includes(x.lang) || LEXICON_EXCLUDED_LANGUAGES.includes(x.lang)) throw new Error(`${where}: language ${x.lang} is reserved for an unseen-language probe; remove the line ${JSON.stringify(x.text.slice(0, 60))}`);
  if (x.text.trim() === '') throw new Error(`${where}: empty text`);
  return x;
}

function splitCorpusAttacks(as: Attack[]): { corpusAttacks: Attack[]; corpusAttacksCalib: Attack[] } {
  return { corpusAttacks: as.filter((_, i) => i % 5 !== 0), corpusAttacksCalib: as.filter((_, i) => i % 5 === 0) };
}

/**
 * Obfuscation families an attacker wraps an injection in (the ones the issue names). The combiner is
 * fitted on held-back attacks in these wrappings; the evaluation applies them to its own held-out attacks.
 */
const HOMOGLYPHS: Record<string, string> = { a: '\u0430', e: '\u0435', o: '\u043e', p: '\u0440', c: '\u0441', i: '\u0456', x: '\u0445', y: '\u0443', s: '\u0455' };
export const OBFUSCATIONS: Readonly<Record<string, (s: string) => string>> = {
  'base64 (BIPIA stealth)': (s) => toBase64(utf8(s)),
  hex: (s) => toHex(utf8(s)),
  'url-encoding': (s) => encodeURIComponent(s),
  rot13: (s) => rot13(s),
  'zero-width chars': (s) => [...s].join('\u200b'),
  homoglyphs: (s) => [...s].map((ch) => HOMOGLYPHS[ch] ?? ch).join(''),
  'tag characters': (s) => [...s].map((ch) => { const c = ch.codePointAt(0)!; return c < 0x7f ? String.fromCodePoint(0xe0000 + c) : ch; }).join(''),
  'bidi controls': (s) => s.split(' ').map((w) => `\u202e${w}\u202c`).join(' '),
  'letter spacing': (s) => s.split(' ').map((w) => [...w].join(' ')).join('   '),
  'html comment': (s) => `<!-- ${s} -->`,
};

/**
 * `s` with typos such as people make, or make on purpose to dodge keyword filters: in about `rate` of
 * its words of four or more letters, two neighbouring letters swapped, a letter dropped, doubled, or
 * replaced by another. Works in every alphabet (letters are Unicode letters; a replacement comes from
 * the same word). Deterministic for a given `rnd`.
 */
export function typos(s: string, rnd: () => number, rate = 0.35): string {
  return s.replace(/\p{L}{4,}/gu, (w) => {
    if (rnd() >= rate) return w;
    const c = [...w];
    const i = 1 + Math.floor(rnd() * (c.length - 2));
    switch (Math.floor(rnd() * 4)) {
      case 0: [c[i], c[i + 1]] = [c[i + 1]!, c[i]!]; break;
      case 1: c.splice(i, 1); break;
      case 2: c.splice(i, 0, c[i]!); break;
      default: c[i] = c[Math.floor(rnd() * c.length)]!; break;
    }
    return c.join('');
  });
}

function splitBenignCorpus(docs: CorpusDoc[]): { corpusBenign: CorpusDoc[]; corpusBenignCalib: CorpusDoc[] } {
  return { corpusBenign: docs.filter((_, i) => i % 5 !== 0), corpusBenignCalib: docs.filter((_, i) => i % 5 === 0) };
}

export type Position = 'start' | 'middle' | 'end';
/**
 * BIPIA-style insertion; middle = at the line or sentence boundary nearest the middle. `sep` goes between
 * the attack and its context on each side: a line break, as BIPIA does, or a space to plant the attack
 * inside its neighbours' paragraph (the evaluation's red-team row).
 */
export function insertAttack(context: string, attack: string, pos: Position, sep = '\n'): { before: string; attack: string; after: string } {
  if (pos === 'start') return { before: '', attack, after: sep + context };
  if (pos === 'end') return { before: context + sep, attack, after: '' };
  const mid = Math.floor(context.length / 2);
  let cut = context.indexOf('\n', mid);
  if (cut < 0 || cut - mid > 400) { cut = context.indexOf('. ', mid); if (cut >= 0) cut += 1; }
  if (cut < 0 || cut - mid > 400) cut = mid;
  return { before: context.slice(0, cut) + sep, attack, after: sep + context.slice(cut) };
}

interface Example { f: Int32Array; y: number; w: number }

/**
 * Feature dropout: every segment unit is also learned from its context group alone (rules, position,
 * closed-class words...), so that group can decide by itself when the n-grams are unknown (a language or
 * vocabulary never seen in training) instead of only correcting n-gram evidence.
 */
// The weight of that second, context-only example. The first session tried 0.25: held-out-language task
// injection rose 7% -> 72% at the operating point, but false positives on READMEs and imperative
// documents tripled (FPR at 0.5: 3% -> 12%), and it stayed off. Session 24 measured it again on today's
// recipe (two three-model bags, seeds 7 and 10, quick evaluation; docs/decisions.md): at 0.1, attack
// strings scanned alone (a bare injection as a whole tool result or message) were caught 38.8 / 40.5%
// at the hard set's 1%-FPR threshold against 32.0 / 31.1%, and 44.6 / 43.9% at 0.5 against 34.2 /
// 34.8%, with short benign texts flagged at 0.5 unchanged (2.3 / 2.5%); recall at 1% FPR moved
// -0.3 / +0.2; the cost is on languages outside the lexicon in documents (probe 4: -5 points) and on
// agent-injection templates later in their own documents (-9 / -4). 0.05 and 0.2 (seed 7): 69.5% and
// 69.7% at 1% FPR against 0.1's 70.5%, strings alone 36.2% and 38.7% against 38.8%.
const STRUCTURE_DROPOUT = knob('SENTINEL_SDROP', 0.1);
function withStructureOnly(out: Example[], e: Example, kind: 'window' | 'segment'): void {
  out.push(e);
  if (kind !== 'segment') return;
  const b = e.f.filter((k) => k < 0);
  if (STRUCTURE_DROPOUT > 0 && b.length > 0 && b.length < e.f.length) out.push({ f: b, y: e.y, w: e.w * STRUCTURE_DROPOUT });
}

function examplesOfBenign(fx: FeatureExtractor, text: string, w: number, out: Example[], cipherSeed = 0): void {
  const t = normalize(text).text;
  for (const u of unitsOf(fx, t, cipherSeed)) withStructureOnly(out, { f: u.f, y: 0, w }, u.kind);
}

/**
 * The "unfamiliar language" view: with a seed, every letter of normalised text `t` is replaced by
 * another letter of its own script (a bijection per script block, chosen by the seed), so the n-grams,
 * the closed-class words and the phrase rules see a language the model has never met, while the
 * concepts of the lexicon are those of the original text (the lexicon covers ~80 languages: this is a
 * language it covers but the training files do not). Letters map to letters, so the tokens, segments
 * and positions are the same. Without a seed, the plain units.
 */
function unitsOf(fx: FeatureExtractor, t: string, cipherSeed: number): ReturnType<typeof unitFeatures> {
  if (cipherSeed === 0) return unitFeatures(fx, t, WINDOW, STRIDE);
  return unitFeatures(fx, cipherText(t, cipherSeed), WINDOW, STRIDE, conceptHits(t, tokenSpans(t)));
}

/** Letter blocks the cipher view permutes: [first, last] code points, letters only. */
const CIPHER_BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [0x61, 0x7a], [0xe0, 0xf6], [0xf8, 0xff], [0x3b1, 0x3c9], [0x430, 0x44f], [0x5d0, 0x5ea], [0x627, 0x64a],
  [0x915, 0x939], [0x995, 0x9b9], [0xb95, 0xbb9], [0xe01, 0xe2e], [0xac00, 0xd7a3], [0x4e00, 0x9fff], [0x3041, 0x3096], [0x30a1, 0x30fa],
];
function cipherText(t: string, seed: number): string {
  const r = trainingShufflePrng(seed);
  const maps = CIPHER_BLOCKS.map(([a, b]) => {
    const n = b - a + 1;
    // Small blocks: a random permutation; large ones (CJK, Hangul): a random rotation.
    if (n > 512) { const k = 1 + Math.floor(r() * (n - 1)); return (c: number): number => a + ((c - a + k) % n); }
    const perm = shuffle(Array.from({ length: n }, (_, i) => a + i), r);
    return (c: number): number => perm[c - a]!;
  });
  let out = '';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    let m = c;
    for (let k = 0; k < CIPHER_BLOCKS.length; k++) { const [a, b] = CIPHER_BLOCKS[k]!; if (c >= a && c <= b) { m = maps[k]!(c); break; } }
    out += String.fromCharCode(m);
  }
  return out;
}

/** Units that overlap the attack are positives (when mostly attack), units away from it negatives. */
function examplesOfPositive(fx: FeatureExtractor, parts: { before: string; attack: string; after: string }, out: Example[], cipherSeed = 0): void {
  const b = normalize(parts.before).text, a = normalize(parts.attack).text, c = normalize(parts.after).text;
  const t = b + a + c;
  const aStart = b.length, aEnd = b.length + a.length;
  for (const u of unitsOf(fx, t, cipherSeed)) {
    const overlap = Math.max(0, Math.min(u.end, aEnd) - Math.max(u.start, aStart));
    if (overlap === 0) withStructureOnly(out, { f: u.f, y: 0, w: 1 }, u.kind);
    // A fragment of an attack with fewer than three words ("```", "P.S.") says nothing about intent:
    // labelling it positive taught the model that code fences and postscripts are attacks.
    else if (u.kind === 'segment' && wordCount(t.slice(u.start, u.end)) < 3) continue;
    else if (u.kind === 'segment' ? overlap >= 0.5 * (u.end - u.start) : overlap >= 0.5 * (aEnd - aStart) || overlap >= 0.5 * (u.end - u.start)) {
      withStructureOnly(out, { f: u.f, y: 1, w: 1 }, u.kind);
      // Dropout of the above-title features (segments.ts, aboveTitle): an attack sentence above its
      // host's title is also learnt without them, so that the request itself keeps its weight.
      // Without this copy the model learnt "a request above the title" in place of the request:
      // attacks there gained, those in the middle and at the end of e-mails lost 5-11 points.
      if (u.kind === 'segment') {
        const drop = aboveTitleIndices(fx);
        if (u.f.some((k) => k < 0 && drop.has(~k))) withStructureOnly(out, { f: u.f.filter((k) => !(k < 0 && drop.has(~k))), y: 1, w: 1 }, u.kind);
      }
    }
  }
}

const aboveIdx = new WeakMap<FeatureExtractor, ReadonlySet<number>>();
/** Feature indices of every above-title context feature (ABOVE_TITLE_FEATURES) in `fx`'s hash space. */
function aboveTitleIndices(fx: FeatureExtractor): ReadonlySet<number> {
  let s = aboveIdx.get(fx);
  if (s === undefined) aboveIdx.set(fx, s = new Set(ABOVE_TITLE_FEATURES.map((n) => fx.extraIndex(n))));
  return s;
}

/**
 * Logistic regression by SGD with lazy L2 over hashed binary features, classes balanced by wPos/wNeg.
 * 'all' learns from both feature groups (logitOf); 'structure' from the context/rule group alone
 * (structureLogitOf).
 */
function sgd(ex: readonly Example[], wPos: number, wNeg: number, group: 'all' | 'structure', rnd: () => number): { weights: Float64Array; bias: number } {
  const weights = new Float64Array(1 << BITS);
  let bias = 0;
  // 1e-5 made the calibration scores saturate (threshold clamped at its cap); 3e-5 and 3e-4 measured
  // 75.2% and 76.2% recall at 1% FPR against 77.1% for 1e-4.
  const l2 = knob('SENTINEL_L2', 1e-4);
  const epochs = knob('SENTINEL_EPOCHS', 12);
  const focal = knob('SENTINEL_FOCAL', 0);
  for (let ep = 0; ep < epochs; ep++) {
    const lr = 0.5 / (1 + ep * 0.5);
    const order = shuffle([...ex], rnd);
    for (const e of order) {
      let na = 0;
      for (let i = 0; i < e.f.length; i++) if ((e.f[i] as number) >= 0) na++;
      if (group === 'structure' && na === e.f.length) continue;
      const normA = group === 'structure' ? 0 : 1 / Math.sqrt(Math.max(1, na)), normB = 1 / Math.sqrt(Math.max(1, e.f.length - na));
      const z = group === 'all' ? logitOf(weights, bias, e.f) : structureLogitOf(weights, bias, e.f);
      const pr = sigmoid(z);
      // Focal weighting (Lin et al. 2017), off by default: examples the model already gets right count less.
      const hard = focal > 0 ? Math.pow(e.y === 1 ? 1 - pr : pr, focal) : 1;
      const g = (pr - e.y) * e.w * (e.y === 1 ? wPos : wNeg) * hard;
      for (let i = 0; i < e.f.length; i++) {
        const f = e.f[i] as number;
        if (f >= 0 && group === 'structure') continue;
        const k = f >= 0 ? f : ~f;
        weights[k] = (weights[k] as number) * (1 - lr * l2) - lr * g * (f >= 0 ? normA : normB);
      }
      bias -= lr * g * 0.1;
    }
  }
  return { weights, bias };
}

/**
 * Fits the combiner (src/sentinel/combiner.ts) on documents the unit classifier never trained on:
 * negatives are the calibration documents; positives are the held-back corpus attacks planted in
 * calibration documents, plain and in every obfuscation family. Two passes: the first scores decoded
 * and hidden text with the provisional rule, the second with the first pass's combiner. The operating
 * threshold is set for TARGET_FPR on the negatives.
 */
function trainCombiner(model: ReturnType<typeof encodeModel>, sp: Splits, calDocs: readonly string[], bipiaCalib: readonly Attack[]): { file: CombinerFile; report: string } {
  const rnd = trainingShufflePrng(4242);
  const positions: Position[] = ['start', 'middle', 'end'];
  const hosts = sp.calib.map((c) => c.text).concat(sp.corpusBenignCalib.map((d) => d.text));
  const pos: string[] = [];
  const families = Object.values(OBFUSCATIONS);
  // Held-back BIPIA attacks in calibration contexts of their kind (code attacks in code questions).
  const calCode = sp.calib.filter((c) => c.source === 'code'), calText = sp.calib.filter((c) => c.source !== 'code');
  const br = trainingShufflePrng(4343);
  bipiaCalib.forEach((a, i) => {
    const pool = a.kind === 'code' ? calCode : calText;
    for (let k = 0; k < BIPIA_COMBINER_PLANTINGS; k++) {
      const p = insertAttack(pool[Math.floor(br() * pool.length)]!.text, a.text, positions[(i + k) % 3]!);
      pos.push(p.before + p.attack + p.after);
    }
  });
  sp.corpusAttacksCalib.forEach((a, i) => {
    for (let k = 0; k < 3; k++) {
      const host = hosts[Math.floor(rnd() * hosts.length)]!;
      const wrap = k === 0 ? (x: string): string => x : families[(2 * i + k) % families.length]!;
      const p = insertAttack(host, wrap(a.text), positions[(i + k) % 3]!);
      pos.push(p.before + p.attack + p.after);
    }
    // Alone, as a prompt or a decoded payload is scanned.
    pos.push(a.text);
  });
  for (const d of sp.spanAttacksCalib) pos.push(d.before + d.span + d.after);
  // Lone benign text of the same kinds: the first paragraph of calibration documents, and requests
  // between people in the training languages.
  const lone = hosts.filter((_, i) => i % 3 === 0).map((t) => t.slice(0, 300));
  for (const b of templateLines(sp.templates, 'benign', false)) lone.push(b.text);
  const negatives = [...calDocs, ...lone];
  const unit = loadModel(model);
  const fit = (det: Detector): { file: CombinerFile; negScores: number[]; posScores: number[] } => {
    const xs: Evidence[] = [], ys: number[] = [];
    for (const t of negatives) { xs.push(det.evidence(t)); ys.push(0); }
    for (const t of pos) { xs.push(det.evidence(t)); ys.push(1); }
    const f = fitCombiner(xs, ys, { fixed: { contrast: CONTRAST_WEIGHT } });
    const c: Combiner = { ...loadCombiner({ ...f, threshold: 0.5 }) };
    const pr = (e: Evidence): number => sigmoid(combinerLogit(c, e));
    // The threshold is set over the fit's negatives and the threshold-only hard benign documents.
    const negScores = xs.filter((_, i) => ys[i] === 0).map(pr).concat(sp.calibOnlyBenign.map((t) => pr(det.evidence(t)))).sort((a, b) => a - b);
    const posScores = xs.filter((_, i) => ys[i] === 1).map(pr);
    const idx = Math.min(negScores.length - 1, Math.floor(negScores.length * (1 - COMBINER_TARGET_FPR)));
    const threshold = Math.min(0.995, Math.max(0.05, (negScores[idx] ?? 0.5) + 1e-4));
    return { file: { ...f, threshold: Math.round(threshold * 1e6) / 1e6 }, negScores, posScores };
  };
  const first = fit(new Detector(unit, null));
  const second = fit(new Detector(unit, loadCombiner(first.file)));
  const t = second.file.threshold;
  const recall = second.posScores.filter((x) => x >= t).length / second.posScores.length;
  const fpr = second.negScores.filter((x) => x >= t).length / second.negScores.length;
  const w = second.file.evidence.map((n, i) => `${n} ${second.file.weights[i]!.toFixed(2)}`).join(', ');
  return { file: second.file, report: `combiner: ${negatives.length} negatives, ${pos.length} positives; at threshold ${t.toFixed(4)} recall ${(100 * recall).toFixed(1)}%, FPR ${(100 * fpr).toFixed(2)}% (in sample)\n  weights: ${w}, bias ${second.file.bias.toFixed(2)}` };
}

export interface TrainOptions {
  /**
   * Leave BIPIA's HELDOUT_TEXT_CATEGORIES and HELDOUT_CODE_CATEGORIES out of training. The evaluation
   * trains such a model to measure attack categories never seen; the shipped model learns from all of
   * BIPIA's training split.
   */
  readonly holdOutCategories?: boolean;
}

export function train(dataDir = DEFAULT_DATA, opts: TrainOptions = {}): { model: ReturnType<typeof encodeModel> & { combiner: CombinerFile }; report: string } {
  const sp = loadSplits(dataDir);
  const holdOut = opts.holdOutCategories === true;
  // The first of each category's five strings is held back from the unit classifier to fit the
  // combiner, so that it learns how far the classifier's window scores on BIPIA-style (code) attacks
  // can be trusted out of sample.
  const bipiaAll = holdOut ? sp.trainAttacks : [...sp.trainAttacks, ...sp.heldoutBipiaAttacks];
  const bipiaAttacks = bipiaAll.filter((_, i) => i % 5 !== 0 || BIPIA_COMBINER_PLANTINGS === 0);
  const bipiaCalib = BIPIA_COMBINER_PLANTINGS === 0 ? [] : bipiaAll.filter((_, i) => i % 5 === 0);
  const fx = new FeatureExtractor(BITS);
  const positions: Position[] = ['start', 'middle', 'end'];
  const sy = loadSynthetic();
  // Examples that no seed changes (the benign documents as they are; the cipher, typo and span views,
  // which have PRNGs of their own) are made once; each seed's plantings go between them, in the order
  // a single model always had, so SENTINEL_BAG=1 still writes seed 7's model bit for bit.
  const head: Example[] = [];
  for (const c of sp.train) examplesOfBenign(fx, c.text, c.source === 'code' ? 3 : 1, head);
  for (const t of sp.benignTrain) examplesOfBenign(fx, t, 5, head);
  // The detector rescans the rot13 view of sentences that read better rotated; benign tables and
  // emails produce such views (short codes, names). They are negatives, or the junk they decode to
  // scores like the unknown and the decoded-content boost flags the document.
  for (const c of [...sp.train, ...sp.benignTrain.map((text) => ({ text }))]) {
    const r = scrambledCandidates(normalize(c.text).text);
    if (r !== null) examplesOfBenign(fx, r.text, 2, head);
  }
  for (const t of sp.benignDev) examplesOfBenign(fx, t, 1, head);
  for (const d of sp.corpusBenign) examplesOfBenign(fx, d.text, benignWeight(d), head);
  // Documents attacks are planted in: all of them, and the benign corpus by language.
  const hosts: string[] = [...sp.train.map((c) => c.text), ...sp.benignTrain, ...sp.corpusBenign.map((d) => d.text)];
  const byLang = new Map<string, string[]>();
  for (const d of sp.corpusBenign) { const l = byLang.get(d.lang) ?? []; l.push(d.text); byLang.set(d.lang, l); }
  const tail: Example[] = [];
  // The unfamiliar-language view (unitsOf): corpus attacks planted in a benign document of their
  // language, and the benign corpus documents and hand-written benign documents alone, each with its
  // letters enciphered, so the model learns what the lexicon's concepts mean when nothing else is
  // familiar. Its own PRNG: the examples above stay as they were.
  if (CIPHER_VIEWS > 0) {
    const cr = trainingShufflePrng(1717);
    let seed = 1;
    for (const a of sp.corpusAttacks) {
      const same = byLang.get(a.lang) ?? [];
      for (let k = 0; k < corpusWeight(a).cipherViews; k++) {
        const pool = same.length > 0 ? same : hosts;
        examplesOfPositive(fx, insertAttack(pool[Math.floor(cr() * pool.length)]!, a.text, positions[k % 3]!), tail, seed++);
      }
    }
    for (const d of sp.corpusBenign) examplesOfBenign(fx, d.text, benignWeight(d), tail, seed++);
    for (const t of sp.benignTrain) examplesOfBenign(fx, t, 2, tail, seed++);
  }
  // Misspelt attacks: each corpus attack once more with typos, planted like the others (own PRNG).
  if (TYPO_VIEWS > 0) {
    const tr = trainingShufflePrng(2929);
    for (const a of sp.corpusAttacks) {
      for (let k = 0; k < TYPO_VIEWS; k++) examplesOfPositive(fx, insertAttack(hosts[Math.floor(tr() * hosts.length)]!, typos(a.text, tr), positions[(k + 1) % 3]!), tail);
    }
  }
  // Whole documents with a marked span (spans-*.jsonl): the injection where its writer put it, in the
  // document written around it, and once more in another host at the same position; the benign
  // look-alikes as negatives. Own PRNG: without such files the examples above are unchanged.
  {
    const sr = trainingShufflePrng(5151);
    for (const d of sp.spanAttacks) {
      for (let k = 0; k < SPAN_PLANTINGS; k++) examplesOfPositive(fx, { before: d.before, attack: d.span, after: d.after }, tail);
      for (let k = 0; k < SPAN_HOSTS; k++) examplesOfPositive(fx, insertAttack(hosts[Math.floor(sr() * hosts.length)]!, d.span, d.position), tail);
    }
    for (const d of sp.spanBenign) examplesOfBenign(fx, d.before + d.span + d.after, SPAN_BENIGN_WEIGHT, tail);
  }
  // One unit model (and its structure-only model) from the examples that one seed's plantings and
  // example order make; BAG of them are averaged below.
  const fitOnce = (seed: number): { weights: Float64Array; bias: number; structure: { weights: Float64Array; bias: number }; units: number; positive: number } => {
    const rnd = trainingShufflePrng(seed);
    const planted: Example[] = [];
    const textCtx = sp.train.filter((c) => c.source !== 'code');
    const codeCtx = sp.train.filter((c) => c.source === 'code');
    // Every other planting of a BIPIA text attack or a hand-written attack goes into any training
    // document (e-mails, letters, news, records in 41 languages...), not only BIPIA's own contexts (code
    // attacks stay in code questions). BIPIA's text contexts are 540 tables and 30 e-mails,
    // so an attack was planted in a table 19 times out of 20 and the model learnt prose in a table
    // far better than a request among an e-mail's sentences (BIPIA's test e-mails: 41% caught at 1% FPR
    // against 93% in tables). Measured in session 21 (quick evaluation, seeds 7 / 10): BIPIA's test
    // attacks in e-mails +4.9 / +2.7 points at the hard set's 1% FPR, in news articles +4.2 / +2.9,
    // recall at 1% FPR +0.9 / +0.3. Half into BIPIA's e-mails, a third into each, two of three into
    // any document, 6 or 12 plantings instead of 8 gained less; code attacks in technical documents
    // lost (docs/decisions.md).
    for (const a of [...bipiaAttacks, ...sp.handwrittenTrain]) {
      const pool = a.kind === 'code' ? codeCtx : a.kind === 'handwritten' ? sp.train : textCtx;
      const per = a.kind === 'handwritten' ? 12 : BIPIA_PLANTINGS;
      for (let k = 0; k < per; k++) {
        const host = a.kind !== 'code' && k % 2 === 1 ? hosts[Math.floor(rnd() * hosts.length)]! : pool[Math.floor(rnd() * pool.length)]!.text;
        examplesOfPositive(fx, insertAttack(host, a.text, positions[k % 3]!), planted);
      }
    }
    // The broad injection corpus: each attack planted in several documents, half of them in a document
    // of its own language when the benign corpus has one (an attack in Russian inside a Russian email is
    // the hard case: no script change gives it away).
    for (const a of sp.corpusAttacks) {
      const same = byLang.get(a.lang) ?? [];
      const plantings = corpusWeight(a).plantings;
      for (let k = 0; k < plantings; k++) {
        const pool = k % 2 === 0 && same.length > 0 ? same : hosts;
        examplesOfPositive(fx, insertAttack(pool[Math.floor(rnd() * pool.length)]!, a.text, positions[k % 3]!), planted);
      }
    }
    // Task injection: requests aimed at the assistant (positives) and ordinary requests aimed at people
    // (negatives), in the training languages, planted in BIPIA and hand-written benign documents.
    const leadOf = (lang: string): string => { const l = sp.templates.leads[lang] ?? sp.templates.leads['*']!; return l[Math.floor(rnd() * l.length)]!; };
    const attackLines = templateLines(sp.templates, 'attack', false);
    for (const a of attackLines) {
      for (let k = 0; k < 9; k++) {
        let text = leadOf(a.lang) + a.text;
        // sometimes two requests together (a question and a format instruction)
        if (k % 3 === 2) { const o = attackLines.filter((x) => x.lang === a.lang); text += ' ' + o[Math.floor(rnd() * o.length)]!.text; }
        examplesOfPositive(fx, insertAttack(hosts[Math.floor(rnd() * hosts.length)]!, text, positions[k % 3]!), planted);
      }
    }
    const benignLead = (): string => ['', '', '', 'P.S. ', 'Also, ', 'By the way, ', 'Quick question: '][Math.floor(rnd() * 7)]!;
    for (const b of templateLines(sp.templates, 'benign', false)) {
      for (let k = 0; k < 9; k++) {
        const p = insertAttack(hosts[Math.floor(rnd() * hosts.length)]!, benignLead() + b.text, positions[k % 3]!);
        examplesOfBenign(fx, p.before + p.attack + p.after, 2, planted);
      }
    }
    // Generated requests (data/sentinel/synthetic-requests.json): task injections in 23 training
    // languages, and requests between people that refer to the document they sit in.
    for (const lang of Object.keys(sy.attack)) {
      if (sp.templates.heldoutLanguages.includes(lang)) throw new Error(`synthetic-requests.json uses held-out language ${lang}`);
      const n = lang === 'en' ? 900 : 120;
      const texts = synthAttacks(sy, lang, n, rnd);
      for (let k = 0; k < texts.length; k++) {
        let text = leadOf(lang) + texts[k]!;
        if (k % 4 === 3) text += ' ' + synthAttacks(sy, lang, 1, rnd)[0]!;
        examplesOfPositive(fx, insertAttack(hosts[Math.floor(rnd() * hosts.length)]!, text, positions[k % 3]!), planted);
      }
    }
    for (const [lang, frames] of Object.entries(sy.benign)) {
      if (sp.templates.heldoutLanguages.includes(lang)) throw new Error(`synthetic-requests.json uses held-out language ${lang}`);
      const n = lang === 'en' ? 600 : 60;
      for (let k = 0; k < n; k++) {
        const host = hosts[Math.floor(rnd() * hosts.length)]!;
        const text = benignLead() + frames[Math.floor(rnd() * frames.length)]!.replace('{w}', contentWord(host, rnd));
        const p = insertAttack(host, text, positions[k % 3]!);
        examplesOfBenign(fx, p.before + p.attack + p.after, 2, planted);
      }
    }
    const ex = [...head, ...planted, ...tail];
    // Balance classes.
    let pos = 0, neg = 0;
    for (const e of ex) { if (e.y === 1) pos += e.w; else neg += e.w; }
    const wPos = (pos + neg) / (2 * pos), wNeg = (pos + neg) / (2 * neg);
    const { weights, bias } = sgd(ex, wPos, wNeg, 'all', rnd);
    // The structure-only model learns from the context/rule group of every example (its n-grams dropped).
    const structure = sgd(ex, wPos, wNeg, 'structure', rnd);
    return { weights, bias, structure, units: ex.length, positive: ex.filter((e) => e.y === 1).length };
  };
  // Bagging over seeds: a logit is linear in the weights, so the mean of the models' weights scores
  // every unit with the mean of their logits, at no cost at scan time (see BAG).
  const seed0 = knob('SENTINEL_SEED', 7);
  const fits = Array.from({ length: BAG }, (_, k) => fitOnce(seed0 + k));
  const mean = (xs: readonly Float64Array[]): Float64Array => { const m = new Float64Array(xs[0]!.length); for (const x of xs) for (let k = 0; k < m.length; k++) m[k]! += (x[k] as number) / xs.length; return m; };
  const weights = mean(fits.map((f) => f.weights));
  const bias = fits.reduce((a, f) => a + f.bias, 0) / fits.length;
  const structure = { weights: mean(fits.map((f) => f.structure.weights)), bias: fits.reduce((a, f) => a + f.structure.bias, 0) / fits.length };
  const units = fits[0]!.units, positiveUnits = fits[0]!.positive;
  // Calibration: document score = max window probability; threshold at TARGET_FPR on calibration docs.
  const quant = encodeModel(weights, BITS, bias, { window: WINDOW, stride: STRIDE, threshold: 0.5, trainedOn: {} });
  const scale = quant.scale;
  const qws = new Float64Array(weights.length);
  for (let k = 0; k < weights.length; k++) qws[k] = Math.max(-127, Math.min(127, Math.round((weights[k] as number) / scale))) * scale;
  const docP = (text: string): number => {
    let best = 0;
    for (const u of unitFeatures(fx, normalize(text).text, WINDOW, STRIDE)) {
      best = Math.max(best, sigmoid(logitOf(qws, bias, u.f)));
    }
    return best;
  };
  // Calibration documents: held-back contexts and developer chunks, plus held-back contexts with a
  // generated benign request planted (questions between people must not cross the threshold either).
  const calRnd = trainingShufflePrng(31);
  const calPlanted: string[] = [];
  const calLangs = Object.keys(sy.benign);
  const humanLines = templateLines(sp.templates, 'benign', false);
  for (const c of sp.calib) {
    const frames = sy.benign[calLangs[Math.floor(calRnd() * calLangs.length)]!]!;
    const text = frames[Math.floor(calRnd() * frames.length)]!.replace('{w}', contentWord(c.text, calRnd));
    const p = insertAttack(c.text, text, positions[Math.floor(calRnd() * 3)]!);
    calPlanted.push(p.before + p.attack + p.after);
    const h = insertAttack(c.text, humanLines[Math.floor(calRnd() * humanLines.length)]!.text, positions[Math.floor(calRnd() * 3)]!);
    calPlanted.push(h.before + h.attack + h.after);
  }
  const calDocs = [...sp.calib.map((c) => c.text), ...sp.benignDevCalib, ...calPlanted, ...sp.corpusBenignCalib.map((d) => d.text), ...sp.spanBenignCalib.map((d) => d.before + d.span + d.after)];
  const calScores = calDocs.map((t) => docP(t)).sort((x, y) => x - y);
  const idx = Math.min(calScores.length - 1, Math.floor(calScores.length * (1 - TARGET_FPR)));
  const threshold = Math.min(0.999, Math.max(0.5, (calScores[idx] ?? 0.5) + 1e-3));
  const model = encodeModel(weights, BITS, bias, {
    window: WINDOW, stride: STRIDE, threshold, structure: encodeStructure(structure.weights, structure.bias),
    trainedOn: {
      script: 'scripts/train-sentinel.ts',
      bipia: 'BIPIA training split (MIT, Microsoft), contexts 60% train / 10% calibration / 30% test (seeded)',
      bipiaCategories: holdOut ? { heldOutText: HELDOUT_TEXT_CATEGORIES, heldOutCode: HELDOUT_CODE_CATEGORIES } : 'all',
      handwritten: ['data/sentinel/attacks-train.jsonl', 'data/sentinel/benign-imperative-train.jsonl', 'data/sentinel/benign-dev-train.jsonl', ...corpusFiles('attacks-corpus-').map((f) => `data/sentinel/${f}`), ...corpusFiles('benign-corpus-').map((f) => `data/sentinel/${f}`), ...corpusFiles('spans-').map((f) => `data/sentinel/${f}`), ...corpusFiles('calib-benign-').map((f) => `data/sentinel/${f} (calibration only)`)],
      probeLanguagesNeverTrained: PROBE_LANGUAGES,
      taskInjection: 'data/sentinel/task-injection-templates.json (held-out languages excluded)',
      units, positiveUnits, seeds: fits.map((_, k) => seed0 + k), calibrationDocs: calDocs.length, targetFpr: TARGET_FPR,
    },
  });
  const comb = trainCombiner(model, sp, calDocs, bipiaCalib);
  const out = { ...model, combiner: comb.file };
  const report = `units ${units} (positive ${positiveUnits}) per seed, ${fits.length} seeds, calibration docs ${calScores.length}, unit threshold ${threshold.toFixed(4)}\n${comb.report}`;
  return { model: out, report };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  let a: { data?: string; out?: string; 'hold-out-categories'?: boolean };
  try {
    a = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, 'hold-out-categories': { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    process.stderr.write(`train-sentinel: ${(e as Error).message} (options: --data DIR, --out FILE, --hold-out-categories)\n`);
    process.exit(2);
  }
  const { model, report } = train(a.data ?? DEFAULT_DATA, { holdOutCategories: a['hold-out-categories'] === true });
  const out = a.out ?? `${REPO}src/sentinel/model.json`;
  writeFileSync(out, JSON.stringify(model) + '\n');
  process.stdout.write(`train-sentinel: ${report}\nwrote ${out} (${JSON.stringify(model).length} bytes)\n`);
}
