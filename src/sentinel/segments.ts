/**
 * Segments of a document and their context, for "task injection": a request aimed at the assistant
 * ("What is the capital of Brazil?", "Write your reply in French") planted in an email, a table cell
 * or a code comment. Such a sentence has no override wording; what gives it away is how it sits in its
 * document: a question or imperative addressed to "you" / the answer, at the start or end, sharing no
 * vocabulary with the text around it, prose in a table. The classifier scores every segment with its
 * own n-grams plus these context features, so a short planted sentence is not diluted by a long window.
 *
 * Segments are lines, table cells and sentences of the normalised (lower-cased) text, at most
 * MAX_SEGMENT characters. Everything here is one pass over the text (plus a token-count map): linear.
 */
import { clipTokens, firstTokenAfter, isCjkSentenceEnd, isSentenceEnd, isSpace, isTokenChar, MAX_TOKEN, type TokenSpans, charsPerWord, wordsInToken } from './rules.ts';
import { CLOSED_SUBS, CLOSED_WORDS, isConceptWord, isNoSpaceScript, substringFormCount } from './lexicon.ts';
import { ENGLISH, VOCABULARY_COUNTS } from './words.ts';
import { cosine, topics } from './topics.ts';

export const MAX_SEGMENT = 320;

export interface Segment { readonly start: number; readonly end: number }


/** Lines, table cells ('|') and sentences of `text`, each non-blank and at most MAX_SEGMENT long. */
export function segment(text: string): Segment[] {
  const out: Segment[] = [];
  const n = text.length;
  let start = 0;
  const push = (s: number, e: number): void => {
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    while (e - s > MAX_SEGMENT) {
      // cut a long run at the last space before the limit (or hard at the limit)
      // bounded backward search (lastIndexOf would scan to the start of a text without spaces)
      let cut = s + MAX_SEGMENT;
      while (cut > s + MAX_SEGMENT / 2 && text.charCodeAt(cut) !== 0x20) cut--;
      if (cut <= s + MAX_SEGMENT / 2) cut = s + MAX_SEGMENT;
      out.push({ start: s, end: cut });
      s = cut;
      while (s < e && isSpace(text.charCodeAt(s))) s++;
    }
    if (e > s) out.push({ start: s, end: e });
  };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x7c) { push(start, i); start = i + 1; }
    else if (isCjkSentenceEnd(c) || (isSentenceEnd(c) && (i + 1 >= n || isSpace(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 0x0a))) {
      push(start, i + 1); start = i + 1;
    }
  }
  push(start, n);
  return out;
}

// --- Closed-class lexicon ------------------------------------------------------------------------
// Who a sentence addresses and what it asks for is carried by a few closed-class words in every
// language: second-person pronouns, request verbs in the imperative, question words, "please", names of
// the assistant and of its answer, so a planted request is recognised by its shape in languages whose
// content words the classifier never saw. Classes are bits; a token may carry several.
const C_P2 = 1, C_P1 = 2, C_IMP = 4, C_QW = 8, C_PLEASE = 16, C_AI = 32, C_ANS = 64;
const CLASS_BITS: Readonly<Record<string, number>> = { P2: C_P2, P1: C_P1, IMP: C_IMP, QW: C_QW, PL: C_PLEASE, AI: C_AI, ANS: C_ANS };
// The word lists are in lexicon.ts (hand-written lists for ~35 languages, and the lexicon files for the rest).
const WORD_CLASS = new Map<string, number>();
for (const [w, c] of CLOSED_WORDS) WORD_CLASS.set(w, (WORD_CLASS.get(w) ?? 0) | CLASS_BITS[c]!);
const SUB_CLASS: ReadonlyArray<[string, number]> = CLOSED_SUBS.map(([w, c]): [string, number] => [w, CLASS_BITS[c]!]);
/** Longest word of the lexicon: a longer token (less a glued prefix) has no class. */
const MAX_CLASS_WORD = Math.max(...[...WORD_CLASS.keys()].map((w) => w.length));
/** Arabic conjunction/preposition prefixes glued to the next word. */
const AR_GLUE = ['و', 'ف'];
/**
 * A bit per (length, first two and last character) of the lexicon's words, hashed: most tokens of a
 * document are no closed-class word, and a clear bit says so without probing WORD_CLASS, a map of
 * thousands of words whose probes miss the processor's caches (a set bit still asks the map).
 */
const CLASS_FILTER_BITS = 16;
const CLASS_FILTER = new Int32Array((1 << CLASS_FILTER_BITS) >> 5);
function classFilterSlot(t: string): number {
  const n = t.length;
  const h = Math.imul(Math.imul(Math.imul(n, 0x9e3779b1) ^ t.charCodeAt(0), 0x85ebca6b) ^ (n > 1 ? t.charCodeAt(1) : 0), 0xc2b2ae35) ^ t.charCodeAt(n - 1);
  return Math.imul(h, 0x27d4eb2f) >>> (32 - CLASS_FILTER_BITS);
}
for (const w of WORD_CLASS.keys()) { const k = classFilterSlot(w); CLASS_FILTER[k >> 5]! |= 1 << (k & 31); }
function tokenClass(t: string): number {
  const k = classFilterSlot(t);
  const b = (CLASS_FILTER[k >> 5]! & (1 << (k & 31))) === 0 ? undefined : WORD_CLASS.get(t);
  if (b !== undefined) return b;
  const c = t.charCodeAt(0);
  if (c >= 0x600 && c <= 0x6ff && t.length > 2) for (const p of AR_GLUE) if (t.startsWith(p)) return WORD_CLASS.get(t.slice(1)) ?? 0;
  return 0;
}

// Substrings grouped by first character (UTF-16 unit, as a number: no 1-character strings): one pass
// over a segment finds them all (linear time).
const SUB_FIRST = new Map<number, Array<[string, number]>>();
for (const [w, b] of SUB_CLASS) { const k = w.charCodeAt(0); let l = SUB_FIRST.get(k); if (!l) SUB_FIRST.set(k, (l = [])); l.push([w, b]); }

/** Classes found by substring in text[start, stop) (CJK, kana, hangul, Thai), with those at its start and end. */
function subClasses(text: string, start: number, stop: number): { any: number; first: number; last: number } {
  let any = 0, first = 0, last = 0;
  let end = stop - start;
  while (end > 0 && !isTokenCharLike(text.charCodeAt(start + end - 1))) end--;
  for (let i = 0; start + i < stop; i++) {
    const c = text.charCodeAt(start + i);
    if (c < 0x0e00 || (c >= 0x2000 && c < 0x3040)) continue;
    const cands = SUB_FIRST.get(c);
    if (cands === undefined) continue;
    for (const [w, b] of cands) {
      if (start + i + w.length > stop || !text.startsWith(w, start + i)) continue;
      any |= b;
      if (i <= 1) first |= b;
      if (i + w.length >= end - 2) last |= b;
    }
  }
  return { any, first, last };
}
function isTokenCharLike(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xff00 && c <= 0xff0f));
}

/** Whether the token text[a, b) is a content word (for shared vocabulary). */
function isContent(text: string, a: number, b: number): boolean {
  // Letters of alphabetic scripts only (a CJK run is one long token; see hanBigrams).
  if (b - a < 4) return false;
  return text.charCodeAt(a) < 0x3000;
}

/** Coarse script of a character (0 = not a letter we classify). */
function scriptOf(c: number): number {
  if (c < 0x41) return 0;
  if (c < 0x250) return (c >= 0x61 && c <= 0x7a) || c >= 0xc0 ? 1 : 0; // Latin
  if (c >= 0x370 && c < 0x530) return 2; // Greek, Cyrillic
  if (c >= 0x590 && c < 0x600) return 3; // Hebrew
  if ((c >= 0x600 && c < 0x780) || (c >= 0xfb50 && c < 0xff00)) return 4; // Arabic
  if (c >= 0x900 && c < 0xe00) return 5; // Indic
  if (c >= 0xe00 && c < 0xe80) return 6; // Thai
  if ((c >= 0xac00 && c < 0xd7b0) || (c >= 0x1100 && c < 0x1200) || (c >= 0x3130 && c < 0x3190)) return 7; // Hangul
  if (c >= 0x3040 && c < 0x3100) return 8; // kana
  if (c >= 0x4e00 && c < 0xa000) return 9; // CJK ideographs
  return 0;
}
const SCRIPTS = 10;
/** scriptOf of every UTF-16 unit (one lookup per character of a document). */
const SCRIPT_OF = new Uint8Array(0x10000);
for (let c = 0; c < 0x10000; c++) SCRIPT_OF[c] = scriptOf(c);
function dominant(counts: Int32Array, from: number): { script: number; share: number; total: number } {
  let best = 0, total = 0;
  for (let k = 1; k < SCRIPTS; k++) { total += counts[from + k]!; if (counts[from + k]! > counts[from + best]!) best = k; }
  return { script: best, share: total > 0 ? counts[from + best]! / total : 0, total };
}

function shapeLetter(b: number): string {
  return b & C_IMP ? 'I' : b & C_QW ? 'Q' : b & C_P2 ? 'Y' : b & C_P1 ? 'M' : b & C_PLEASE ? 'P' : b & C_AI ? 'A' : b & C_ANS ? 'R' : 'w';
}

/**
 * Non-blank lines of text[start, end) and how many of them `codey(a, b)` accepts, where [a, b) is the
 * line without its leading and trailing white space. One pass.
 */
export function countLines(text: string, start: number, end: number, codey: (a: number, b: number) => boolean): { lines: number; codey: number } {
  let lines = 0, n = 0, ls = start;
  for (let i = start; i <= end; i++) {
    if (i < end && text.charCodeAt(i) !== 0x0a) continue;
    let a = ls, b = i;
    ls = i + 1;
    while (a < b && text.charCodeAt(a) <= 0x20) a++;
    while (b > a && text.charCodeAt(b - 1) <= 0x20) b--;
    if (b <= a) continue;
    lines++;
    if (codey(a, b)) n++;
  }
  return { lines, codey: n };
}

/** Kind of document: a table, code (fenced blocks or many code-like lines), or prose. */
function docKind(text: string, tableDoc: boolean): string {
  if (tableDoc) return 'table';
  if (text.includes('```')) return 'code';
  const { lines, codey } = countLines(text, 0, text.length, (a, b) => {
    const e = text.charCodeAt(b - 1);
    return e === 0x3b || e === 0x7b || e === 0x7d || e === 0x29 || e === 0x3a || text.startsWith('>>>', a) || text.startsWith('import ', a) || text.startsWith('def ', a) || text.startsWith('//', a) || text.startsWith('#include', a);
  });
  return lines >= 4 && codey * 10 >= lines * 3 ? 'code' : 'prose';
}

/**
 * Context features of every segment (strings; the classifier hashes them). `text` is normalised text,
 * `segs` its segments, `toks` the tokens of each segment. Besides shared vocabulary, topic and the mood of
 * the rest of the document (does anything else in it ask something of the reader?), each
 * segment gets language-independent features of its shape: question mark, the closed-class words it
 * carries (second person, first person, request verb, question word, "please", the assistant, its
 * answer), the class pattern of its first words and of its last word (verb-final languages), the kind of
 * document it sits in, whether it is a line of its own and whether its script differs from the document.
 */
export function contextFeatures(text: string, segs: readonly Segment[], toks: readonly string[][]): string[][] {
  if (toks.length < segs.length) throw new RangeError(`contextFeatures: ${segs.length} segments but tokens of ${toks.length}`);
  // The shared body reads tokens as spans of one string: lay the given tokens end to end.
  let total = 0;
  for (const ts of toks) total += ts.length;
  const st: SegmentTokens = { text: toks.map((ts) => ts.join('')).join(''), start: new Int32Array(total), end: new Int32Array(total), first: new Int32Array(toks.length + 1) };
  let i = 0, off = 0;
  for (let k = 0; k < toks.length; k++) {
    st.first[k] = i;
    for (const t of toks[k]!) { st.start[i] = off; off += t.length; st.end[i] = off; i++; }
  }
  st.first[toks.length] = i;
  return segmentFeatures(text, segs, st, null) as string[][];
}

/**
 * contextFeatures with the segments' tokens taken from the tokens of the whole text (tokenSpans(text)):
 * the same features as contextFeatures(text, segs, segs.map((s) => tokenize(text.slice(s.start, s.end))))
 * without tokenising the text again or making a string per token. Lists are shared (frozen) between
 * segments of the same shape: a document has thousands of segments but a few hundred distinct lists.
 */
export function contextFeaturesOf(text: string, segs: readonly Segment[], toks: TokenSpans): ReadonlyArray<readonly string[]> {
  // A segment's tokens are the text's tokens clipped to it; a text token cut by a segment boundary
  // gives one piece per side, so there are at most toks.count + segs.length of them.
  const cap = toks.count + segs.length;
  const st: SegmentTokens = { text, start: new Int32Array(cap), end: new Int32Array(cap), first: new Int32Array(segs.length + 1) };
  let i = 0;
  for (let k = 0; k < segs.length; k++) {
    const sg = segs[k]!;
    st.first[k] = i;
    i += clipTokens(text, toks, firstTokenAfter(toks, sg.start), sg.start, sg.end, st.start, st.end, null, i);
  }
  st.first[segs.length] = i;
  if (FEATURE_LISTS.size > MAX_FEATURE_LISTS) FEATURE_LISTS.clear();
  return segmentFeatures(text, segs, st, FEATURE_LISTS);
}

/** Tokens of every segment: segment k's are tokens first[k] .. first[k + 1] - 1; token i is text[start[i], end[i]). */
interface SegmentTokens {
  readonly text: string;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly first: Int32Array;
}

/**
 * Distinct tokens as small integers: `id[i]` of token i, `rep[id]` = a token with that text, `words[id]`
 * that text. One map
 * lookup per token, then the per-token work of segmentFeatures is array reads. (A JS Map, not a
 * hand-made hash table: its string hash is seeded per process and its buckets are chained, so tokens
 * crafted to collide cannot make interning quadratic.)
 */
function internTokens(st: SegmentTokens, total: number): { id: Int32Array; rep: Int32Array; distinct: number; words: string[] } {
  const ids = new Map<string, number>();
  const id = new Int32Array(total), rep = new Int32Array(total);
  const words: string[] = [];
  for (let i = 0; i < total; i++) {
    const t = st.text.slice(st.start[i]!, st.end[i]!);
    let d = ids.get(t);
    if (d === undefined) { d = ids.size; ids.set(t, d); rep[d] = i; words.push(t); }
    id[i] = d;
  }
  return { id, rep, distinct: ids.size, words };
}

/** Rendered feature lists by shape key (see segmentFeatures); bounded, cleared when full. */
const FEATURE_LISTS = new Map<string, readonly string[]>();
const MAX_FEATURE_LISTS = 20000;

/** What the features of one segment are made of (everything renderFeatures reads). */
interface Shape {
  doc: string; nov: string; len: string; shape: string; top: string;
  q: boolean; p2: boolean; ai: boolean; ans: boolean; p1: boolean; imp: boolean; pl: boolean;
  fi: boolean; fq: boolean; limp: boolean; scrDiff: boolean; line: boolean; proseInTable: boolean;
  /** Before the greeting or after the sign-off of a letter (see letterBounds). */
  outOfLetter: boolean;
  /** How many other sentences of the document ask something of the reader (see MOODS); set after every segment's flags are known. */
  mood: string;
  /** Before the document's title line (see titleLine; set with the mood): where a request planted at the top of a page, an article or a FAQ sits. */
  aboveTitle: boolean;
}

/**
 * The feature strings of one segment, in their fixed order (the classifier hashes them in it).
 * Where the segment stands (first, last, middle) is deliberately not among them (until session 16 it
 * was, crossed with most flags). The classifier had learned "an imperative first sentence" as its
 * strongest single sign: benign documents seldom open with one, planted attacks at the start always
 * do. Attacks planted in the middle or at the end of a document then scored far lower (full
 * evaluation, BIPIA test attacks at 0.5: news articles 77 / 43 / 45% at start / middle / end, e-mails
 * 63 / 25 / 28%), so an attacker who chose the middle halved his chance of being caught (and in
 * session 15's red-team script one line in front of an attack, "content:", took it from 0.90 to 0.49).
 * Without position and with the mood of the rest of the document: news 59 / 64 / 64%, e-mails
 * 32 / 33 / 37%, recall at 1% FPR on the hard set unchanged (61.9 -> 62.1%); docs/decisions.md has
 * the costs.
 */
function renderFeatures(x: Shape): string[] {
  const { doc, nov, len, shape, top, q, p2, p1 } = x;
  const f: string[] = ['u:seg', doc, 'nov:' + nov, 'len:' + len, 'top:' + top, `top:${top}&${doc}`, `top:${top}&len:${len}`, `top:${top}&nov:${nov}`];
  const flags: Array<[boolean, string]> = [[q, 'q'], [p2, '2p'], [x.ai, 'ai'], [x.ans, 'ans'], [p1, '1p'], [x.imp, 'imp'], [x.pl, 'pl']];
  for (const [on, name] of flags) if (on) f.push(name, `${name}&nov:${nov}`, `${name}&${doc}`, `${name}&top:${top}`);
  if (p2 && x.ans) f.push('2p&ans');
  if (q && p2) f.push('q&2p', `q&2p&nov:${nov}`, `q&2p&top:${top}`);
  if (!p1 && !p2) f.push('no-person', `no-person&q:${q}`, `no-person&nov:${nov}`, `no-person&top:${top}`);
  if (p1) f.push(`1p&q:${q}`);
  if (x.fi) f.push('f:imp', `f:imp&nov:${nov}`, `f:imp&${doc}`, `f:imp&1p:${p1}`, `f:imp&len:${len}`, `f:imp&top:${top}`);
  if (x.fq) f.push('f:qw', `f:qw&q:${q}`, `f:qw&nov:${nov}`, `f:qw&${doc}`, `f:qw&1p:${p1}&2p:${p2}`, `f:qw&top:${top}`);
  if (x.limp) f.push('l:imp', `l:imp&nov:${nov}`, `l:imp&${doc}`);
  f.push('sh:' + shape, `sh:${shape}&q:${q}`);
  if (q) f.push(`q&${doc}`, `q&nov:${nov}&${doc}`, `q&len:${len}`);
  // Script differs from the document's.
  if (x.scrDiff) f.push('scr:diff', `scr:diff&${doc}`);
  // A line of its own (the segment is the whole line).
  if (x.line) f.push('line', `line&${doc}`, `line&top:${top}`);
  // A line of prose in a table document.
  if (x.proseInTable) f.push('prose-in-table', `prose-in-table&len:${len}`);
  // Outside the body of a letter: above its greeting or below its sign-off, where a planted request
  // sits apart from the letter it was planted in.
  if (x.outOfLetter) {
    f.push('letter:out');
    if (addresses(x)) f.push('letter:out&req', `letter:out&req&mood:${x.mood}`);
    if (x.fi) f.push('letter:out&f:imp');
    if (q) f.push('letter:out&q');
  }
  // Above the document's title (see titleLine): a page, an article, a FAQ or a recipe opens with its
  // title, not with a request. (Training also learns every attack sentence here without these features,
  // so that the request itself keeps its weight wherever it stands: ABOVE_TITLE_FEATURES.)
  if (x.aboveTitle) {
    f.push('above-title', `above-title&${doc}`);
    if (addresses(x)) f.push('above-title&req', `above-title&req&mood:${x.mood}`);
    if (x.fi) f.push('above-title&f:imp');
    if (q) f.push('above-title&q');
  }
  // A request (imperative, question, second person) and how many other sentences of its document ask
  // something of the reader: in a news article, a record, a report or a notice, none do, wherever it
  // stands in it.
  if (addresses(x)) {
    const m = x.mood;
    f.push('mood:' + m);
    if (x.fi) f.push(`f:imp&mood:${m}`, `f:imp&mood:${m}&${doc}`);
    if (q) f.push(`q&mood:${m}`, `q&mood:${m}&${doc}`);
    if (p2) f.push(`2p&mood:${m}`, `2p&mood:${m}&${doc}`);
  }
  return f;
}

/**
 * Other sentences of the document that ask something of the reader (an imperative first word, a
 * question; see `asks`), not counting copies of the segment itself: none, one or two, three or more.
 * Sentences that only speak to the reader ("you are receiving this because…", "your card was charged…")
 * do not count: until session 18 they did, and a bank's notification read like an e-mail full of
 * requests, so a request planted in it was one request among many (BIPIA's test e-mails: 29–36%
 * caught at 1% FPR against 91–95% in tables).
 */
const MOODS = ['0', '1', '3'] as const;
function moodIndex(others: number): number { return others === 0 ? 0 : others <= 2 ? 1 : 2; }
/**
 * First words of a letter's greeting and of its sign-off, as normalised text spells them (lower case;
 * with and without diacritics where writers drop them). A sign-off is a short segment (at most
 * SIGNOFF_MAX_TOKENS tokens). Languages not listed get no letter bounds (no feature, not a false one).
 */
const GREETINGS = new Set(('hi hello hey dear greetings hallo liebe lieber bonjour salut cher chère chers hola estimado estimada ' +
  'estimados querido querida ciao gentile caro cara olá ola prezado prezada beste hej hei witam szanowny szanowna merhaba ' +
  'sayın sayin здравствуйте привет уважаемый уважаемая').split(' '));
const SIGNOFFS = new Set(('best regards thanks thank cheers sincerely kind warm warmest yours respectfully cordially ' +
  'grüße grüsse gruß gruss mfg freundliche cordialement amicalement saludos atentamente cordiali distinti saluti abraços ' +
  'atenciosamente groeten groet hälsningar mvh pozdrawiam saygılarımla saygilarimla спасибо').split(' '));
const SIGNOFF_MAX_TOKENS = 6;
/**
 * The segments of a letter's greeting (the first segment that opens with a greeting word) and of its
 * sign-off (the last short segment that opens with a sign-off word after it, or anywhere when there is
 * no greeting), -1 for none.
 */
function letterBounds(N: number, st: SegmentTokens, id: Int32Array, words: readonly string[]): { greeting: number; signoff: number } {
  let greeting = -1, signoff = -1;
  for (let k = 0; k < N; k++) {
    const t0 = st.first[k]!, nt = st.first[k + 1]! - t0;
    if (nt === 0) continue;
    const w = words[id[t0]!]!;
    if (greeting < 0 && GREETINGS.has(w)) greeting = k;
    else if (nt <= SIGNOFF_MAX_TOKENS && SIGNOFFS.has(w) && k > greeting) signoff = k;
  }
  return { greeting, signoff };
}
/** Whether a segment addresses its reader: an imperative first word, a question, the second person. */
function addresses(x: Pick<Shape, 'fi' | 'q' | 'p2'>): boolean { return x.fi || x.q || x.p2; }
/** Whether a segment asks something of its reader: an imperative first word or a question (the mood's count). */
function asks(x: Pick<Shape, 'fi' | 'q'>): boolean { return x.fi || x.q; }
const NOVELTY = ['short', 'na', '0', '1', '2', '3'] as const;
const LENGTHS = ['xs', 's', 'm', 'l'] as const;
/** Topic coherence with the rest of the document (see topicIndex): unknown, then cosine < 0, < 0.1, < 0.2, < 0.3, < 0.45, higher. */
const TOPIC = ['na', '0', '1', '2', '3', '4', '5'] as const;
/** Fewest words with a vector a segment, and the rest of its document, need for a topic reading. */
const TOPIC_MIN_WORDS = 2;
const TOPIC_MIN_REST = 8;
const DOC_KINDS = ['doc:table', 'doc:code', 'doc:prose'] as const;
/** A title is one of a document's first TITLE_WITHIN segments, a line of at most TITLE_MAX_WORDS words (see titleLine). */
const TITLE_WITHIN = 4;
const TITLE_MAX_WORDS = 10;
/**
 * Every context feature renderFeatures gives a segment above its document's title. The training script
 * learns each attack sentence that has them a second time without them (feature dropout): with the
 * position alone to lean on, the model learnt "a request above the title" instead of the request, and
 * attacks in the middle and at the end of e-mails lost 5-11 points at 1% FPR (session 22).
 */
export const ABOVE_TITLE_FEATURES: readonly string[] = Object.freeze([
  'above-title', ...DOC_KINDS.map((d) => `above-title&${d}`), 'above-title&req', ...MOODS.map((m) => `above-title&req&mood:${m}`), 'above-title&f:imp', 'above-title&q',
]);
const SHAPE_LETTERS = 'IQYMPARw';

/**
 * Memo key of a shape: three UTF-16 units (the flags; `rank`, the index of its document kind, novelty,
 * length, topic and mood, < 3 * 6 * 4 * 7 * 3 = 1,512; the shape letters in base 9), so a lookup hashes
 * a 3-character string, not a long concatenation.
 */
function shapeKey(x: Shape, rank: number): string {
  const flags = [x.q, x.p2, x.ai, x.ans, x.p1, x.imp, x.pl, x.fi, x.fq, x.limp, x.scrDiff, x.line, x.proseInTable, x.outOfLetter, x.aboveTitle];
  let bits = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) bits |= 1 << i;
  let shape = 0; // <= 4 letters: < 9^4
  for (let i = 0; i < x.shape.length; i++) shape = shape * 9 + SHAPE_LETTERS.indexOf(x.shape.charAt(i)) + 1;
  return String.fromCharCode(bits, rank, shape);
}

/** Index of 'doc:code' in DOC_KINDS: a code document has no title line. */
const CODE_DOC = DOC_KINDS.indexOf('doc:code');
/** Whether a Markdown code fence (``` or ~~~) starts at text[i]. */
function startsFence(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c === 0x60 || c === 0x7e) && text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c;
}
const LETTER = /\p{L}/u;
/**
 * Whether text[a, b) reads as a title rather than code or data: no assignment, bracket, tag, code,
 * cell or statement character (= { } [ ] < > ` | ;), and letters for at least half of its other
 * characters. (Without it, "LOGGING = {'version': 1}" was the title of a settings snippet and the
 * comment above it, "# Use the following snippet in your settings file…", went from 0.49 to 0.81.)
 */
function titleLike(text: string, a: number, b: number): boolean {
  let letters = 0, other = 0;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d || c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x3c || c === 0x3e || c === 0x60 || c === 0x7c || c === 0x3b) return false;
    if (isTrimSpace(c)) continue;
    if (LETTER.test(String.fromCharCode(c))) letters++; else other++;
  }
  return letters >= other;
}

/** Unicode White_Space and line terminators: what String.prototype.trim removes. */
function isTrimSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
/** text.slice(a, b).trim() === '' without the slice. */
function isBlank(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isTrimSpace(text.charCodeAt(i))) return false;
  return true;
}

/** Two sentences whose sets of content words overlap this much (Jaccard) are copies of one another. */
const COPY_JACCARD = 0.6;
/** Fewest distinct content words a segment needs to be grouped with its copies. */
const COPY_MIN_WORDS = 2;
/** Min-hash functions: a pair of copies shares at least one minimum with probability 1 - (1 - J)^4. */
const COPY_HASHES = 4;
/** Odd multipliers of the min-hash functions (Fibonacci and MurmurHash3 constants). */
const COPY_MULTIPLIERS = Int32Array.of(0x9e3779b1 | 0, 0x85ebca6b | 0, 0xc2b2ae35 | 0, 0x27d4eb2f | 0);

/**
 * Groups of segments that say the same thing (a sentence repeated, or repeated with a word changed):
 * `group[k]` is the representative of segment k's group (k itself when it has no copy), `counts` the
 * content words of each group of two or more counted over all its members. Linear: each segment is compared
 * with at most COPY_HASHES others, the first segment seen under each of its min-hashes (min-hash
 * bucketing), and groups are joined by union-find.
 */
function copyGroups(N: number, st: SegmentTokens, id: Int32Array, content: Uint8Array, stamp: Int32Array): { group: Int32Array; counts: Map<number, Map<number, number>> } {
  // Each segment's distinct content words, sorted, in one arena: segment k's are set[off[k] .. off[k + 1]).
  const set = new Int32Array(st.first[N]!), off = new Int32Array(N + 1);
  let n = 0;
  for (let k = 0; k < N; k++) {
    off[k] = n;
    for (let i = st.first[k]!; i < st.first[k + 1]!; i++) {
      const d = id[i]!;
      if (content[d] === 1 && stamp[d] !== k + 1) { stamp[d] = k + 1; set[n++] = d; }
    }
    set.subarray(off[k]!, n).sort();
  }
  off[N] = n;
  const parent = new Int32Array(N);
  for (let k = 0; k < N; k++) parent[k] = k;
  const find = (k: number): number => { while (parent[k] !== k) { parent[k] = parent[parent[k]!]!; k = parent[k]!; } return k; };
  const jaccard = (a: number, b: number): number => {
    let i = off[a]!, j = off[b]!, both = 0;
    const ie = off[a + 1]!, je = off[b + 1]!;
    while (i < ie && j < je) { if (set[i] === set[j]) { both++; i++; j++; } else if (set[i]! < set[j]!) i++; else j++; }
    return both / (ie - off[a]! + je - off[b]! - both);
  };
  const buckets = Array.from({ length: COPY_HASHES }, () => new Map<number, number>());
  const mins = new Int32Array(COPY_HASHES);
  let grouped = false;
  for (let k = 0; k < N; k++) {
    // A single word (a heading, a name) is no sentence said twice; "Reply in reverse." is.
    if (off[k + 1]! - off[k]! < COPY_MIN_WORDS) continue;
    mins.fill(0x7fffffff);
    for (let i = off[k]!; i < off[k + 1]!; i++) {
      for (let h = 0; h < COPY_HASHES; h++) { const v = Math.imul(set[i]! + 1, COPY_MULTIPLIERS[h]!) >>> 1; if (v < mins[h]!) mins[h] = v; }
    }
    for (let h = 0; h < COPY_HASHES; h++) {
      const rep = buckets[h]!.get(mins[h]!);
      if (rep === undefined) buckets[h]!.set(mins[h]!, k);
      else if (find(rep) !== find(k) && jaccard(k, rep) >= COPY_JACCARD) { parent[find(k)] = find(rep); grouped = true; }
    }
  }
  const group = new Int32Array(N);
  const counts = new Map<number, Map<number, number>>();
  for (let k = 0; k < N; k++) group[k] = find(k);
  if (!grouped) return { group, counts };
  const size = new Int32Array(N);
  for (let k = 0; k < N; k++) size[group[k]!]!++;
  for (let k = 0; k < N; k++) {
    const g = group[k]!;
    if (size[g]! < 2) continue;
    let m = counts.get(g);
    if (m === undefined) counts.set(g, m = new Map());
    for (let i = st.first[k]!; i < st.first[k + 1]!; i++) { const d = id[i]!; if (content[d] === 1) m.set(d, (m.get(d) ?? 0) + 1); }
  }
  return { group, counts };
}

/** Word vectors summed per segment, per group of copies (at the group's representative) and over the document. */
interface TopicVectors {
  dims: number; seg: Float64Array; segWords: Int32Array; doc: Float64Array; docWords: number; rest: Float64Array;
  group: Map<number, { vec: Float64Array; words: number; cos: number }>;
}

function topicVectors(N: number, st: SegmentTokens, id: Int32Array, words: readonly string[], copies: { group: Int32Array; counts: Map<number, unknown> }): TopicVectors {
  const tp = topics(), D = tp.dims, vec = tp.vectors;
  // Row of each distinct token in the table (-1: none): words of 3 to 20 letters a-z. The token strings
  // are the interning map's keys, whose hashes V8 has already computed.
  const row = new Int32Array(words.length);
  for (let d = 0; d < words.length; d++) {
    const w = words[d]!, c = w.charCodeAt(0);
    row[d] = w.length >= 3 && w.length <= 20 && c >= 0x61 && c <= 0x7a ? tp.rows.get(w) ?? -1 : -1;
  }
  const seg = new Float64Array(N * D), segWords = new Int32Array(N);
  const doc = new Float64Array(D);
  let docWords = 0;
  for (let k = 0; k < N; k++) {
    const o = k * D;
    for (let i = st.first[k]!; i < st.first[k + 1]!; i++) {
      const r = row[id[i]!]!;
      if (r < 0) continue;
      for (let j = 0, v = r * D; j < D; j++) seg[o + j]! += vec[v + j]!;
      segWords[k]!++;
    }
    if (segWords[k] === 0) continue;
    for (let j = 0; j < D; j++) doc[j]! += seg[o + j]!;
    docWords += segWords[k]!;
  }
  // Groups of copies (few; usually none): their summed vectors, by representative, and the lowest
  // coherence of any member with the rest of the document (see topicIndex).
  const group = new Map<number, { vec: Float64Array; words: number; cos: number }>();
  for (const g of copies.counts.keys()) group.set(g, { vec: new Float64Array(D), words: 0, cos: Infinity });
  const t: TopicVectors = { dims: D, seg, segWords, group, doc, docWords, rest: new Float64Array(D) };
  if (group.size === 0) return t;
  for (let k = 0; k < N; k++) {
    const e = group.get(copies.group[k]!);
    if (e === undefined) continue;
    for (let j = 0; j < D; j++) e.vec[j]! += seg[k * D + j]!;
    e.words += segWords[k]!;
  }
  for (let k = 0; k < N; k++) {
    const e = group.get(copies.group[k]!);
    if (e === undefined || segWords[k]! < TOPIC_MIN_WORDS || docWords - e.words < TOPIC_MIN_REST) continue;
    e.cos = Math.min(e.cos, cosineWithRest(t, k, e.vec, 0));
  }
  return t;
}

/** Cosine of segment k's vector with the document's minus `own` (at offset `at`: the segment's, or its group's). */
function cosineWithRest(t: TopicVectors, k: number, own: Float64Array, at: number): number {
  for (let j = 0; j < t.dims; j++) t.rest[j] = t.doc[j]! - own[at + j]!;
  return cosine(t.seg, k * t.dims, t.rest, 0, t.dims);
}

/**
 * Topic bin of segment k (an index of TOPIC): the cosine of its words' vector with the rest of the
 * document's. A segment with copies (`g`, the representative of its group, or -1) is judged without
 * them, and every copy takes the group's lowest cosine, so an attacker who repeats a request, or
 * repeats it with a word changed, never makes it look more on topic.
 */
function topicIndex(t: TopicVectors, k: number, g: number): number {
  const grp = g < 0 ? undefined : t.group.get(g);
  let c: number;
  if (grp !== undefined) {
    if (grp.cos === Infinity) return 0;
    c = grp.cos;
  } else {
    if (t.segWords[k]! < TOPIC_MIN_WORDS || t.docWords - t.segWords[k]! < TOPIC_MIN_REST) return 0;
    c = cosineWithRest(t, k, t.seg, k * t.dims);
  }
  return c < 0 ? 1 : c < 0.1 ? 2 : c < 0.2 ? 3 : c < 0.3 ? 4 : c < 0.45 ? 5 : 6;
}

/**
 * Dense index (1...) of each Han or katakana character (see charsPerWord), 0 for the others. Hiragana
 * is left out: in Japanese it mostly spells endings and particles (して, ます, ください), pairs every
 * sentence shares, so with it a planted request read as on topic as often as the document's own
 * sentences (15% against 11% of them shared nothing; without it 50% against 20%).
 */
const HAN_INDEX = new Uint16Array(0x10000);
let HAN_SIZE = 1;
for (let c = 0; c < 0x10000; c++) if (charsPerWord(c) === 2 && !(c >= 0x3040 && c < 0x30a0)) HAN_INDEX[c] = HAN_SIZE++;
/** Odd multiplier of the pair hash in hanBigrams, drawn once per process. */
const HAN_HASH = (globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! | 1);

/**
 * Novelty for writing without spaces: in Chinese and Japanese a sentence is one token, so it has no
 * content words to share with the rest of its document. Each pair of adjacent Han or katakana characters
 * counts as a word instead (most words of those languages are two characters). Per segment: its pairs
 * (`n`) and how many of them occur elsewhere in the document (`shared`), its verbatim copies left out
 * (a request said twice is not on topic because of its copy). Null when the document has no such pair.
 */
function hanBigrams(text: string, segs: readonly Segment[]): { total: number; seg: Array<{ n: number; shared: number } | null> } | null {
  // Every pair, in segment order (a segment's pairs are contiguous from first[k]).
  let total = 0;
  for (const { start, end } of segs) for (let i = start; i + 1 < end; i++) if (HAN_INDEX[text.charCodeAt(i)]! > 0 && HAN_INDEX[text.charCodeAt(i + 1)]! > 0) total++;
  if (total === 0) return null;
  const pairs = new Int32Array(total), first = new Int32Array(segs.length + 1);
  let t = 0;
  for (let k = 0; k < segs.length; k++) {
    first[k] = t;
    const { start, end } = segs[k]!;
    for (let i = start; i + 1 < end; i++) {
      const a = HAN_INDEX[text.charCodeAt(i)]!, b = HAN_INDEX[text.charCodeAt(i + 1)]!;
      if (a !== 0 && b !== 0) pairs[t++] = a * HAN_SIZE + b;
    }
  }
  first[segs.length] = t;
  // Count of each pair in the document: open addressing in typed arrays, the hash multiplier drawn per
  // process so that no crafted text can make the probes collide (a megabyte of random Han characters
  // is a million distinct pairs; a Map of them took three times as long).
  const size = 1 << Math.ceil(Math.log2(2 * total + 2)), mask = size - 1, shift = 32 - Math.log2(size);
  const keys = new Int32Array(size).fill(-1), counts = new Int32Array(size);
  const slot = (p: number): number => {
    let h = Math.imul(p, HAN_HASH) >>> shift; // the top bits of the product (size >= 4, so shift <= 30)
    while (keys[h] !== -1 && keys[h] !== p) h = (h + 1) & mask;
    return h;
  };
  for (let i = 0; i < total; i++) { const h = slot(pairs[i]!); keys[h] = pairs[i]!; counts[h]!++; }
  // Verbatim copies of each segment that has pairs.
  const copies = new Map<string, number>(), own: Array<string | null> = new Array(segs.length).fill(null);
  for (let k = 0; k < segs.length; k++) if (first[k + 1]! > first[k]!) { const s = (own[k] = text.slice(segs[k]!.start, segs[k]!.end)); copies.set(s, (copies.get(s) ?? 0) + 1); }
  const seg: Array<{ n: number; shared: number } | null> = new Array(segs.length).fill(null);
  for (let k = 0; k < segs.length; k++) {
    const n = first[k + 1]! - first[k]!;
    if (n === 0) continue;
    const times = copies.get(own[k]!)!;
    // The segment's own count of each pair: its pairs sorted (a segment is at most MAX_SEGMENT characters).
    const mine = pairs.slice(first[k]!, first[k + 1]!).sort();
    let shared = 0;
    for (let j = 0; j < n;) {
      let j1 = j + 1;
      while (j1 < n && mine[j1] === mine[j]) j1++;
      if (counts[slot(mine[j]!)]! > (j1 - j) * times) shared += j1 - j;
      j = j1;
    }
    seg[k] = { n, shared };
  }
  return { total, seg };
}

/**
 * Shared body of contextFeatures and contextFeaturesOf: the shape of every segment, rendered to its
 * feature list (through `memo` when given: the lists are then frozen and shared). One pass over the
 * text and the tokens: linear.
 */
function segmentFeatures(text: string, segs: readonly Segment[], st: SegmentTokens, memo: Map<string, readonly string[]> | null): Array<readonly string[]> {
  const total = st.first[st.first.length - 1]!;
  const { id, rep, distinct, words } = internTokens(st, total);
  // Per distinct token: content word (see isContent), count in the document, closed class (lazy, -1).
  const content = new Uint8Array(distinct), docCount = new Int32Array(distinct), cls = new Int32Array(distinct).fill(-1);
  for (let d = 0; d < distinct; d++) content[d] = isContent(st.text, st.start[rep[d]!]!, st.end[rep[d]!]!) ? 1 : 0;
  let docContent = 0;
  for (let i = 0; i < total; i++) if (content[id[i]!] === 1) { docCount[id[i]!]!++; docContent++; }
  const han = hanBigrams(text, segs);
  if (han !== null) docContent += han.total;
  const classOf = (i: number): number => {
    const d = id[i]!;
    let c = cls[d]!;
    if (c < 0) {
      // Only a word of the lexicon (or one with a glued Arabic prefix) has a class. The token's string is
      // the interning map's key (its hash already computed), not a new slice.
      cls[d] = c = st.end[i]! - st.start[i]! <= MAX_CLASS_WORD + 1 ? tokenClass(words[d]!) : 0;
    }
    return c;
  };
  // Table-like document: most lines carry '|'.
  let lines = 0, pipeLines = 0;
  {
    let ls = 0, pipe = false;
    for (let i = 0; i <= text.length; i++) {
      const c = i === text.length ? 0x0a : text.charCodeAt(i);
      if (c === 0x7c) pipe = true;
      else if (c === 0x0a) {
        if (i > ls) { lines++; if (pipe) pipeLines++; }
        ls = i + 1; pipe = false;
      }
    }
  }
  const tableDoc = lines >= 3 && pipeLines * 2 > lines;
  const doc = 'doc:' + docKind(text, tableDoc);
  const docI = DOC_KINDS.indexOf(doc as (typeof DOC_KINDS)[number]);
  if (docI < 0) throw new Error(`segments.ts: unknown document kind ${doc}`); // (the memo key needs its index)
  const N = segs.length;
  // Script letters per segment and in the whole document.
  const scr = new Int32Array((N + 1) * SCRIPTS);
  for (let k = 0; k < N; k++) {
    const s = segs[k]!;
    for (let i = s.start; i < s.end; i++) { const sc = SCRIPT_OF[text.charCodeAt(i)]!; if (sc > 0) { scr[(k + 1) * SCRIPTS + sc]!++; scr[sc]!++; } }
  }
  const docScript = dominant(scr, 0);
  // Start and end of the line holding each segment, and whether that line has a '|': one forward pass
  // (segments are in text order), so a long line of many segments is scanned once, not once per segment.
  const lineStart = new Int32Array(N), lineEnd = new Int32Array(N), linePipe = new Uint8Array(N);
  {
    let ls = 0, k = 0, pipe = false;
    for (let i = 0; i <= text.length && k < N; i++) {
      if (i < text.length && text.charCodeAt(i) !== 0x0a) { if (text.charCodeAt(i) === 0x7c) pipe = true; continue; }
      while (k < N && segs[k]!.start <= i) { lineStart[k] = ls; lineEnd[k] = i; linePipe[k] = pipe ? 1 : 0; k++; }
      ls = i + 1; pipe = false;
    }
  }
  const out: Array<readonly string[]> = [];
  // Counts of content words in the current segment: segCount[d] is valid when seen[d] === k + 1.
  const segCount = new Int32Array(distinct), seen = new Int32Array(distinct), touched = new Int32Array(distinct);
  // Segments that say the same thing (a sentence said twice, or with a word changed): their words are not
  // "shared with the rest of the document" because of each other, or an attacker who repeats his request
  // would make it look on topic (session 11: said twice, 39 of 117 caught BIPIA test attacks fell below
  // the threshold).
  const copies = copyGroups(N, st, id, content, seen);
  const letter = letterBounds(N, st, id, words);
  // A sentence and its copies on one line ("Do X today. Do X.") read as a line of their own, as the
  // sentence alone on its line does: the run of a segment's copies next to it on its line.
  const runStart = new Int32Array(N), runEnd = new Int32Array(N);
  for (let k = 0; k < N; k++) {
    const joined = k > 0 && lineStart[k - 1] === lineStart[k] && copies.group[k - 1] === copies.group[k];
    runStart[k] = joined ? runStart[k - 1]! : segs[k]!.start;
  }
  for (let k = N - 1; k >= 0; k--) {
    const joined = k < N - 1 && lineStart[k + 1] === lineStart[k] && copies.group[k + 1] === copies.group[k];
    runEnd[k] = joined ? runEnd[k + 1]! : segs[k]!.end;
  }
  seen.fill(0);
  const topic = topicVectors(N, st, id, words, copies);
  // Segments that ask something of the reader, in all and per group of copies (see MOODS); the shapes wait for
  // the mood until every segment has been read. (Ranks and counts in typed arrays: a megabyte of
  // one-word lines is 200,000 segments.)
  const shapes: Shape[] = new Array<Shape>(N), ranks = new Int32Array(N), askingIn = new Int32Array(N);
  let asking = 0, title = -1, fenced = false;
  for (let k = 0; k < N; k++) {
    const seg = segs[k]!;
    const t0 = st.first[k]!, nt = st.first[k + 1]! - t0;
    // Vocabulary shared with the rest of the document.
    let nContent = 0, nTouched = 0;
    for (let i = t0; i < t0 + nt; i++) {
      const d = id[i]!;
      if (content[d] === 0) continue;
      if (seen[d] !== k + 1) { seen[d] = k + 1; segCount[d] = 0; touched[nTouched++] = d; }
      segCount[d]!++;
      nContent++;
    }
    // Chinese and Japanese have no content words (a sentence is one token): their character pairs count
    // as words (see hanBigrams).
    const hk = han === null ? null : han.seg[k]!;
    if (hk !== null) nContent += hk.n;
    let novI: number; // short, na, 0, 1, 2, 3
    if (docContent - nContent < 15) novI = 0;
    else if (nContent < 2) novI = 1;
    else {
      let shared = hk === null ? 0 : hk.shared;
      const inGroup = copies.counts.get(copies.group[k]!);
      for (let j = 0; j < nTouched; j++) { const d = touched[j]!; if (docCount[d]! > (inGroup?.get(d) ?? segCount[d]!)) shared += segCount[d]!; }
      const r = shared / nContent;
      novI = r === 0 ? 2 : r < 0.34 ? 3 : r < 0.67 ? 4 : 5;
    }
    const nov = NOVELTY[novI]!;
    const topI = topicIndex(topic, k, copies.counts.has(copies.group[k]!) ? copies.group[k]! : -1);
    let le = seg.end - 1;
    while (le > seg.start && (text.charCodeAt(le) === 0x22 || text.charCodeAt(le) === 0x27 || text.charCodeAt(le) === 0x29 || text.charCodeAt(le) === 0x2a)) le--;
    const last = text.charCodeAt(le);
    const q = last === 0x3f || last === 0xff1f || last === 0x061f || last === 0x37e;
    // Closed-class words: anywhere, first word, last word.
    let any = 0;
    for (let i = t0; i < t0 + nt; i++) any |= classOf(i);
    let first = nt > 0 ? classOf(t0) : 0;
    // A leading "please"/"also"-like word does not hide the request behind it.
    const second = nt > 1 ? classOf(t0 + 1) : 0;
    let lastC = nt > 1 ? classOf(t0 + nt - 1) : 0;
    let shape = '';
    for (let i = 0; i < 3 && i < nt; i++) shape += shapeLetter(classOf(t0 + i));
    let hasWide = false;
    for (let i = seg.start; i < seg.end; i++) { const c = text.charCodeAt(i); if (c >= 0x0e00 && (c < 0x2000 || c >= 0x3040)) { hasWide = true; break; } }
    if (hasWide) {
      const sub = subClasses(text, seg.start, seg.end);
      any |= sub.any; first |= sub.first; lastC |= sub.last;
      shape = shapeLetter(sub.first) + shape;
    }
    const p2 = (any & C_P2) !== 0, p1 = (any & C_P1) !== 0;
    // Words, not tokens: a sentence of Chinese or Thai is one token a clause (see wordsInToken).
    let nw = nt;
    if (hasWide) { nw = 0; for (let i = t0; i < t0 + nt; i++) nw += wordsInToken(st.text, st.start[i]!, st.end[i]!); }
    const lenI = nw <= 3 ? 0 : nw <= 8 ? 1 : nw <= 20 ? 2 : 3;
    const len = LENGTHS[lenI]!;
    const ss = dominant(scr, (k + 1) * SCRIPTS);
    const ls = lineStart[k]!, lend = lineEnd[k]!;
    let segPipe = false;
    if (tableDoc) for (let i = seg.start; i < seg.end; i++) if (text.charCodeAt(i) === 0x7c) { segPipe = true; break; }
    const x: Shape = {
      doc, nov, len, shape, q, p2, p1, top: TOPIC[topI]!,
      ai: (any & C_AI) !== 0, ans: (any & C_ANS) !== 0, imp: (any & C_IMP) !== 0, pl: (any & C_PLEASE) !== 0,
      fi: (first & C_IMP) !== 0 || ((first & C_PLEASE) !== 0 && (second & C_IMP) !== 0),
      fq: (first & C_QW) !== 0,
      limp: (lastC & C_IMP) !== 0,
      scrDiff: ss.total >= 3 && docScript.share >= 0.6 && ss.script !== docScript.script,
      line: runStart[k]! - ls <= 8 && lend - runEnd[k]! <= 8 && isBlank(text, ls, runStart[k]!) && isBlank(text, runEnd[k]!, lend),
      // A line of prose in a table document (cells are split at '|', so test the whole line).
      proseInTable: tableDoc && !segPipe && lend - ls <= 2000 && linePipe[k] === 0 && nw >= 4,
      outOfLetter: (letter.greeting >= 0 && k < letter.greeting) || (letter.signoff >= 0 && k > letter.signoff),
      mood: '', aboveTitle: false,
    };
    shapes[k] = x;
    // titleLine: the document's title is the first of its first TITLE_WITHIN segments that is a line of
    // its own of 1 to TITLE_MAX_WORDS words, ending in no sentence mark, that reads as words (titleLike)
    // ("Community Garden — Plot Holder FAQ", "Easy Lentil Soup", "## Release 2.0"). The segments before
    // it are above the title; a document that opens with its title has none.
    // (A code fence ends the search: "import pandas as pd" under a question is no title.)
    // Only the first TITLE_WITHIN segments are read for it, until it is found.
    if (title < 0 && k < TITLE_WITHIN) {
      // A sentence end as segment() cuts them, or a colon (a lead-in such as "Ingredients:"): no title.
      const endsSentence = isSentenceEnd(last) || isCjkSentenceEnd(last) || last === 0x3a;
      if (startsFence(text, seg.start)) fenced = true;
      else if (!fenced && docI !== CODE_DOC && x.line && nw >= 1 && nw <= TITLE_MAX_WORDS && !endsSentence && titleLike(text, seg.start, seg.end)) title = k;
    }
    ranks[k] = ((docI * 6 + novI) * 4 + lenI) * 7 + topI;
    if (asks(x)) { asking++; askingIn[copies.group[k]!]!++; }
  }
  // The mood of the rest of the document is known once every segment's flags are.
  for (let k = 0; k < N; k++) {
    const x = shapes[k]!;
    const moodI = moodIndex(asking - (asks(x) ? askingIn[copies.group[k]!]! : 0));
    x.mood = MOODS[moodI]!;
    x.aboveTitle = k < title;
    if (memo === null) { out.push(renderFeatures(x)); continue; }
    const key = shapeKey(x, ranks[k]! * 3 + moodI);
    let f = memo.get(key);
    if (f === undefined) memo.set(key, f = Object.freeze(renderFeatures(x)));
    out.push(f);
  }
  return out;
}

// Very common function words (English first, then the Latin-script languages rot13 is seen with). A
// sentence of prose hits many of them; its rot13 hits almost none, and the reverse for rot13'd prose.
const COMMON = new Set(('the and to of a in is you your that it for on with as are be this all or not by from at an have was ' +
  'will can do if what which their about any how into more other only new now then these them they we our my me should must ' +
  'please write tell give make include answer response reply explain previous instructions ignore instead following use add ' +
  'using without every word words each text one before after also but so there here its his her has had would could just like ' +
  'who where when why le la les de des et un une est pour der die das und ist nicht el los las y en que por con para').split(' '));

/**
 * Views under which a token becomes a common word, as bits: bit k (1..25) when it is a common word
 * shifted forward by k letters (a Caesar shift; rot13 is k = 13), bit REVERSED when it is a common
 * word or a closed-class word of any language written backwards, bit ATBASH when it is a common word
 * with its alphabet mirrored (a for z, b for y...). One map lookup per token.
 */
const REVERSED = 26;
const ATBASH = 27;
/** Bit of a token that is a common English word with its vowels removed ("nstrctns"). */
const NO_VOWELS = 28;
/** Bit of a token that is an English word in pig latin ("ignoreway", "eviouspray"). */
const PIG_LATIN = 29;
/** The highest view number. */
const LAST_VIEW = PIG_LATIN;
function atbashWord(w: string): string {
  let o = '';
  for (let i = 0; i < w.length; i++) { const c = w.charCodeAt(i); o += c >= 97 && c <= 122 ? String.fromCharCode(219 - c) : w.charAt(i); }
  return o;
}
const ALT_VIEWS = new Map<string, number>();
function shiftWord(w: string, k: number): string {
  let o = '';
  for (let i = 0; i < w.length; i++) o += String.fromCharCode(((w.charCodeAt(i) - 97 + k) % 26) + 97);
  return o;
}
/** Common and closed-class words of 3+ characters: what prose reads as, forwards, in ~80 languages. */
const KNOWN = new Set([...COMMON, ...WORD_CLASS.keys()].filter((w) => w.length >= 3));
/** The common words above (for unspaced.ts: its short ones are the glue of a sentence). */
export const COMMON_WORDS: ReadonlySet<string> = COMMON;
/** The common and closed-class words of any length written in a-z alone (for unspaced.ts). */
export const COMMON_LATIN_WORDS: readonly string[] = [...new Set([...COMMON, ...WORD_CLASS.keys()])].filter((w) => /^[a-z]+$/.test(w));
// Shifted: the common words, and the closed-class words of 4+ letters a-z (request verbs, pronouns).
for (const w of new Set([...COMMON, ...[...KNOWN].filter((x) => x.length >= 4 && /^[a-z]+$/.test(x))])) {
  for (let k = 1; k < 26; k++) { const t = shiftWord(w, k); ALT_VIEWS.set(t, (ALT_VIEWS.get(t) ?? 0) | (1 << k)); }
  const m = atbashWord(w);
  if (m !== w) ALT_VIEWS.set(m, (ALT_VIEWS.get(m) ?? 0) | (1 << ATBASH));
}
for (const w of KNOWN) { const r = [...w].reverse().join(''); if (r !== w) ALT_VIEWS.set(r, (ALT_VIEWS.get(r) ?? 0) | (1 << REVERSED)); }
/**
 * Common English words by their consonants ("prvs" is "previous"): the first word listed wins a
 * skeleton several share. Only skeletons of three letters or more that lost a vowel, and that are no
 * word as written.
 */
const SKELETON = new Map<string, string>();
for (const w of [...COMMON, ...ENGLISH]) {
  const k = w.replace(/[aeiou]/g, '');
  if (k.length < 3 || k === w || SKELETON.has(k) || COMMON.has(k) || KNOWN.has(k)) continue;
  SKELETON.set(k, w);
  ALT_VIEWS.set(k, (ALT_VIEWS.get(k) ?? 0) | (1 << NO_VOWELS));
}
/**
 * Vowels put back from the vocabulary of benign documents: each skeleton, of any length, is the most
 * frequent word that has it ("th" the, "y" you, "tsk" task, "ncldng" including). Skeletons of four
 * letters or more of words used five times or more, that are no word themselves, also make a run
 * vowel-less ("dgnstcs", "nstll"); shorter ones only read in a run found so ("mgr", "pkg", "cfg" are
 * abbreviations, not prose). Eval (vowels removed): 35.7% -> 69.0% flagged; no benign document moved.
 */
/** Sets `key` to `word` in `m` unless a more frequent word has it already. */
function keepMostFrequent(m: Map<string, [string, number]>, key: string, word: string, count: number): void {
  const had = m.get(key);
  if (had === undefined || had[1] < count) m.set(key, [word, count]);
}
const RESTORED = new Map<string, [string, number]>();
for (const [w, c] of VOCABULARY_COUNTS) {
  if (!/^[a-z]+$/.test(w)) continue;
  const k = w.replace(/[aeiou]/g, '');
  if (k !== '' && k !== w) keepMostFrequent(RESTORED, k, w, c);
}
for (const [k, [, c]] of RESTORED) {
  if (k.length < 4 || c < 5 || SKELETON.has(k) || COMMON.has(k) || KNOWN.has(k) || VOCABULARY_COUNTS.has(k)) continue;
  ALT_VIEWS.set(k, (ALT_VIEWS.get(k) ?? 0) | (1 << NO_VOWELS));
}
/**
 * Pig latin: a word that starts with a vowel gets "way" (or "yay", "hay", "ay") appended; one that
 * starts with consonants has them moved to its end before "ay" ("previous" -> "eviouspray"; some
 * games move only the first letter: "reviouspay"). Each form reads as the most frequent vocabulary
 * word that makes it; forms of words used five times or more, that are no word themselves, make a run
 * (a pig-latin sentence is not made of its own words: "ayday" and "ayway" read as nothing).
 */
const PIG = new Map<string, [string, number]>();
function pigForms(w: string): string[] {
  if (/^[aeiou]/.test(w)) return [`${w}way`, `${w}yay`, `${w}hay`, `${w}ay`];
  const m = /^(qu|[^aeiou][^aeiouy]*)(.*)$/.exec(w);
  if (m === null || m[2] === '') return [];
  const forms = [`${m[2]}${m[1]}ay`];
  if (m[1]!.length > 1) forms.push(`${w.slice(1)}${w[0]}ay`);
  return forms;
}
for (const [w, c] of [...[...COMMON, ...ENGLISH].map((x): [string, number] => [x, Math.max(VOCABULARY_COUNTS.get(x) ?? 0, 1000)]), ...VOCABULARY_COUNTS]) {
  if (w.length < 2 || !/^[a-z]+$/.test(w)) continue;
  for (const f of pigForms(w)) keepMostFrequent(PIG, f, w, c);
}
for (const [f, [, c]] of PIG) {
  if (c < 5 || COMMON.has(f) || KNOWN.has(f) || VOCABULARY_COUNTS.has(f)) continue;
  ALT_VIEWS.set(f, (ALT_VIEWS.get(f) ?? 0) | (1 << PIG_LATIN));
}
/**
 * A Bloom filter of the words of a fixed map, read over a span of text without slicing it: when it
 * says no, the span is no key (no false negatives), so the string and the map lookup are skipped. Only
 * 3% of a document's tokens are keys of ALT_VIEWS, a map of 125,000 strings whose lookups missed the
 * cache. Two bits a key in 2^21 (256 KB): about 1% of non-keys pass to the map.
 */
class SpanFilter {
  private static readonly BITS = 21;
  private readonly bits = new Int32Array(1 << (SpanFilter.BITS - 5));
  constructor(keys: Iterable<string>) {
    for (const k of keys) { const h = SpanFilter.hash(k, 0, k.length); this.set(h); this.set(Math.imul(h, 0x9e3779b1)); }
  }
  mayHave(text: string, a: number, b: number): boolean {
    const h = SpanFilter.hash(text, a, b);
    return this.has(h) && this.has(Math.imul(h, 0x9e3779b1));
  }
  /** 32-bit FNV-1a of s[a, b); the two bits of a key are the top bits of it and of it mixed. */
  private static hash(s: string, a: number, b: number): number {
    let h = 0x811c9dc5;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h;
  }
  private set(h: number): void { const i = h >>> (32 - SpanFilter.BITS); this.bits[i >>> 5]! |= 1 << (i & 31); }
  private has(h: number): boolean { const i = h >>> (32 - SpanFilter.BITS); return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0; }
}
const ALT_VIEWS_FILTER = new SpanFilter(ALT_VIEWS.keys());
/** ALT_VIEWS.get(text.slice(a, b)), with the slice and the lookup skipped for most spans that are no key. */
function altViewsOf(text: string, a: number, b: number): number | undefined {
  return ALT_VIEWS_FILTER.mayHave(text, a, b) ? ALT_VIEWS.get(text.slice(a, b)) : undefined;
}
/** A pig-latin word read back (itself when it is no pig-latin form of a known word). */
function fromPigLatin(w: string): string {
  const r = PIG.get(w.toLowerCase());
  return r === undefined ? w : sameCase(w, r[0]);
}
/** A vowel-less word read with its vowels (itself when no word has that skeleton). */
function withVowels(w: string): string {
  const k = w.toLowerCase();
  const r = SKELETON.get(k) ?? RESTORED.get(k)?.[0];
  return r === undefined ? w : sameCase(w, r);
}

/**
 * A segment that reads as words only in another view, that view (a shift 1..25, REVERSED, ATBASH or
 * NO_VOWELS), how many of its words read in it and how many different ones.
 */
interface Scrambled { readonly seg: Segment; readonly view: number; readonly inView: number; readonly distinct: number }

/** Tokens a run of one view may skip (words that read in no view: names, numbers, long words). */
const RUN_GAP = 4;
/** Fewest words that read in a view for a run to count as scrambled prose. */
const RUN_MIN_WORDS = 3;
/** Different words a run must read in its view to count as encoded prose ("$v1 < $v2, $v1 > $v2" reads "her" five times in atbash). */
const MIN_DISTINCT = 3;

/** An open run of tokens that read in one view: where it starts and ends, how many tokens it spans. */
interface Run { start: number; end: number; firstTok: number; lastTok: number; inView: number; words: Set<string> }

/**
 * Runs of `text` that read as common words much more in another view (a Caesar shift 1..25, or
 * backwards) than as written. Found token by token, not sentence by sentence: a sentence written
 * backwards has its full stop at its start (".krow siht"), so sentence boundaries do not isolate it,
 * and a scrambled sentence pasted into a paragraph must not be averaged with the prose around it.
 * A run of one view goes on while a token reading in that view comes within RUN_GAP tokens of the
 * last; it counts when RUN_MIN_WORDS or more of its words read in the view, at least a quarter of its
 * words do, and clearly more than read as written. One pass, at most 26 views per token: linear.
 */
function scrambledSegments(text: string): Scrambled[] {
  const found: Scrambled[] = [];
  const runs: Array<Run | null> = new Array(LAST_VIEW + 1).fill(null);
  // Words known as written so far (prefix counts by token), to judge a run against its own words.
  // `open` runs at the moment: while there are none (most of any text), a token costs one map lookup
  // and, for four letters or more, one backwards walk of the lexicon.
  let tok = 0, knownSoFar = 0, open = 0;
  const knownAt: number[] = [];
  const close = (k: number): void => {
    const r = runs[k]!;
    runs[k] = null;
    open--;
    // Words of three letters or more in the run.
    const words = r.lastTok - r.firstTok + 1;
    const known = knownAt[r.lastTok]! - (r.firstTok > 0 ? knownAt[r.firstTok - 1]! : 0);
    if (r.inView >= RUN_MIN_WORDS && r.inView >= 0.25 * words && r.inView / words > known / words + 0.15) found.push({ seg: { start: r.start, end: r.end }, view: k, inView: r.inView, distinct: r.words.size });
  };
  const closeAll = (): void => { if (open > 0) for (let k = 1; k <= LAST_VIEW; k++) if (runs[k]) close(k); };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isTokenChar(c)) {
      // A run stays on its line and in its table cell: words in a column of names are not a sentence.
      if ((c === 0x0a || c === 0x7c) && open > 0) closeAll();
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTokenChar(text.charCodeAt(i))) i++;
    const end = Math.min(i, start + MAX_TOKEN);
    const len = end - start;
    // Longer tokens are looked up in no view.
    const viewable = len <= MAX_VIEW_TOKEN;
    // Words of one or two letters and numbers neither break a run nor count as words ("ni", "ot" and
    // "a" fill backwards prose, an account number an instruction).
    if (isFiller(text, [start, end])) {
      // A two-letter word that reads in rot13 carries an open rot13 run along, but is no evidence: in
      // Fijian or Samoan prose "na" and "va" are everywhere, and read "an" and "in".
      const r = runs[13];
      if (r && len === 2 && ((altViewsOf(text, start, end) ?? 0) & (1 << 13)) !== 0) r.end = i;
      continue;
    }
    let v = viewable ? altViewsOf(text, start, end) : undefined;
    // Backwards, a word of the lexicon reads too ("snoitcurtsni", "etnemataidemni"): attacks are
    // made of them in every language, where few function words are three letters long.
    if (viewable && len >= 4 && (v === undefined || (v & (1 << REVERSED)) === 0) && isConceptWord(text, start, end, true)) v = (v ?? 0) | (1 << REVERSED);
    // Only words inside a run are ever counted against it: outside runs the count is not kept. A word
    // that reads as written ("are", "not") is no evidence of a view it also reads in ("era", "ton" are
    // Italian and French backwards): it counts as written only.
    if ((open > 0 || v !== undefined) && viewable && readsAsWritten(text, start, end)) { knownSoFar++; v = undefined; }
    knownAt.push(knownSoFar);
    if (open > 0) for (let k = 1; k <= LAST_VIEW; k++) { const r = runs[k]; if (r && tok - r.lastTok > RUN_GAP) close(k); }
    if (v !== undefined) {
      const t = text.slice(start, end);
      for (let k = 1; k <= LAST_VIEW; k++) {
        if ((v & (1 << k)) === 0) continue;
        const r = runs[k];
        if (!r) { runs[k] = { start, end: i, firstTok: tok, lastTok: tok, inView: 1, words: new Set([t]) }; open++; }
        else { r.end = i; r.lastTok = tok; r.inView++; if (r.words.size < MIN_DISTINCT) r.words.add(t); }
      }
    }
    tok++;
  }
  closeAll();
  // Runs of different views that overlap form a cluster; the run with the most words in view stands
  // for it (one sweep in text order). Each kept run is widened to the punctuation that touches it
  // (".krow siht" keeps its full stop; at most WIDEN characters a side).
  found.sort((x, y) => x.seg.start - y.seg.start);
  const kept: Scrambled[] = [];
  const keep = (x: Scrambled): void => {
    let a = x.seg.start, b = x.seg.end;
    // Words at either edge that read in no view but are no words as written either ("sueapu" after "va"
    // is rot13's "french" after "in") belong to it: up to EDGE_WORDS a side, on its line.
    // (Words of one or two letters and numbers on the way are taken along: "lq iuhqfk.")
    for (let w = 0, words = 0; w < 2 * RUN_GAP && words < EDGE_WORDS; w++) {
      const t = tokenBefore(text, a);
      if (t === null || (!isFiller(text, t) && readsAsWritten(text, t[0], t[1]))) break;
      a = t[0];
      if (!isFiller(text, t)) words++;
    }
    for (let w = 0, words = 0; w < 2 * RUN_GAP && words < EDGE_WORDS; w++) {
      const t = tokenAfter(text, b);
      if (t === null || (!isFiller(text, t) && readsAsWritten(text, t[0], t[1]))) break;
      b = t[1];
      if (!isFiller(text, t)) words++;
    }
    for (let w = 0; w < WIDEN && a > 0 && !isBreak(text.charCodeAt(a - 1)); w++) a--;
    for (let w = 0; w < WIDEN && b < n && !isBreak(text.charCodeAt(b)); w++) b++;
    kept.push({ seg: { start: a, end: b }, view: x.view, inView: x.inView, distinct: x.distinct });
  };
  let best: Scrambled | null = null, clusterEnd = -1;
  for (const x of found) {
    if (best !== null && x.seg.start >= clusterEnd) { keep(best); best = null; }
    if (best === null || x.inView > best.inView) best = x;
    clusterEnd = Math.max(clusterEnd, x.seg.end);
  }
  if (best !== null) keep(best);
  return kept;
}
const WIDEN = 8;
const EDGE_WORDS = 3;
/** Longest token looked up in the views (longer ones are no common or lexicon word). */
const MAX_VIEW_TOKEN = 40;
/** A token that neither breaks nor extends a run: one or two characters, or no letter. */
function isFiller(text: string, t: readonly [number, number]): boolean { return t[1] - t[0] < 3 || !hasLetter(text, t[0], t[1]); }
function hasLetter(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) { const c = text.charCodeAt(i); if (c < 0x30 || c > 0x39) return true; }
  return false;
}
/** The token before offset `at` on the same line (past at most WIDEN spaces and punctuation), or null. */
function tokenBefore(text: string, at: number): [number, number] | null {
  let i = at, w = 0;
  while (i > 0 && !isTokenChar(text.charCodeAt(i - 1))) { if (text.charCodeAt(i - 1) === 0x0a || ++w > WIDEN) return null; i--; }
  if (i === 0) return null;
  const end = i;
  while (i > 0 && end - i < MAX_TOKEN && isTokenChar(text.charCodeAt(i - 1))) i--;
  return [i, end];
}
/** The token after offset `at` on the same line, or null. */
function tokenAfter(text: string, at: number): [number, number] | null {
  let i = at, w = 0;
  while (i < text.length && !isTokenChar(text.charCodeAt(i))) { if (text.charCodeAt(i) === 0x0a || ++w > WIDEN) return null; i++; }
  if (i === text.length) return null;
  const start = i;
  while (i < text.length && i - start < MAX_TOKEN && isTokenChar(text.charCodeAt(i))) i++;
  return [start, i];
}
/** Whether the token text[a, b) reads as written: a common or closed-class word, or a lexicon form. */
function readsAsWritten(text: string, a: number, b: number): boolean {
  if (b - a > MAX_VIEW_TOKEN) return false;
  const w = text.slice(a, b);
  return COMMON.has(w) || KNOWN.has(w) || (b - a >= 4 && isConceptWord(text, a, b));
}
function isBreak(c: number): boolean { return isSpace(c) || c === 0x0a; }

/**
 * How many words of three letters or more of lower-cased `text` read as written (common, closed-class
 * or lexicon words): what tells decoded prose from decoded noise.
 */
export function wordsReadingAsWritten(text: string): number {
  return wordCounts(text).read;
}

/** Words of three letters or more in lower-cased `text`, and how many of them read as written. */
function wordCounts(text: string): { words: number; read: number } {
  let words = 0, read = 0;
  for (let i = 0; i < text.length;) {
    if (!isTokenChar(text.charCodeAt(i))) { i++; continue; }
    const a = i;
    while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
    if (i - a >= 3) { words++; if (readsAsWritten(text, a, i)) read++; }
  }
  return { words, read };
}

/**
 * Sentences of a script written without spaces (Chinese, Japanese, Thai...) written backwards: read
 * backwards, a sentence of at least MIN_REVERSED_CHARS such characters starts at least
 * MIN_REVERSED_FORMS lexicon substrings, and at least REVERSED_RATIO times as many as forwards.
 * Sentences end at a line break or a full stop of those scripts (which a backwards sentence carries
 * at its start); at most MAX_REVERSED_SPAN characters of one are read.
 */
const MIN_REVERSED_CHARS = 8, MIN_REVERSED_FORMS = 3, REVERSED_RATIO = 3, MAX_REVERSED_SPAN = 400;
function reversedNoSpaceSentences(text: string): Scrambled[] {
  const out: Scrambled[] = [];
  const n = text.length;
  let start = 0, chars = 0;
  const close = (end: number): void => {
    if (chars >= MIN_REVERSED_CHARS) {
      // Trimmed to its first and last character of such a script.
      let a = start, b = Math.min(end, start + MAX_REVERSED_SPAN);
      while (a < b && !isNoSpaceScript(text.charCodeAt(a))) a++;
      while (b > a && !isNoSpaceScript(text.charCodeAt(b - 1))) b--;
      const back = substringFormCount(text, a, b, true);
      if (back >= MIN_REVERSED_FORMS && back >= REVERSED_RATIO * substringFormCount(text, a, b, false)) {
        // Its punctuation goes with it (the full stop that leads a backwards sentence).
        while (a > start && !isBreak(text.charCodeAt(a - 1))) a--;
        out.push({ seg: { start: a, end: b }, view: REVERSED, inView: back, distinct: back });
      }
    }
    chars = 0;
  };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || isCjkSentenceEnd(c)) { close(i); start = i + 1; if (c !== 0x0a) start = i; continue; }
    if (isNoSpaceScript(c)) chars++;
  }
  close(n);
  return out;
}

/**
 * text[seg] read in its view: shifted back, mirrored, with its vowels put back, out of pig latin, or reversed. Capitals
 * are read like small letters (a sentence's first word, "Vtaber", is "Ignore" in rot13, not "Vgnore"),
 * and keep their case.
 */
function unscramble(text: string, x: Scrambled): string {
  const t = text.slice(x.seg.start, x.seg.end);
  if (x.view === REVERSED) return [...t].reverse().join('');
  if (x.view === ATBASH) return t.replace(/[a-zA-Z]+/g, (w) => sameCase(w, atbashWord(w.toLowerCase())));
  if (x.view === NO_VOWELS) return t.replace(/[a-zA-Z]+/g, withVowels);
  if (x.view === PIG_LATIN) return t.replace(/[a-zA-Z]+/g, fromPigLatin);
  return t.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 26 - x.view) % 26) + base);
  });
}
/** `word` with its first letter a capital when `as` starts with one (and all capitals when `as` is). */
function sameCase(as: string, word: string): string {
  if (as.length > 1 && as === as.toUpperCase()) return word.toUpperCase();
  return as[0]! >= 'A' && as[0]! <= 'Z' ? word.charAt(0).toUpperCase() + word.slice(1) : word;
}

/** Each whitespace-separated word of `t` reversed, in place. */
function reverseEachWord(t: string): string {
  return t.split(' ').map((w) => [...w].reverse().join('')).join(' ');
}

/** Name of a view, for the detector's reasons: rot13, caesar, reversed, atbash, no-vowels, pig-latin. */
function viewName(view: number): string {
  return view === 13 ? 'rot13' : view === REVERSED ? 'reversed' : view === ATBASH ? 'atbash' : view === NO_VOWELS ? 'no-vowels' : view === PIG_LATIN ? 'pig-latin' : 'caesar';
}

/**
 * Scrambled letters have no syntax to find: decode the segments of normalised `text` that read as
 * words much more after a Caesar shift (rot13 included) or written backwards than as they stand.
 * Returns the decoded segments joined (`text`), the names of the views found, and `text` with those
 * segments decoded in place (`inPlace`, so they can be read with their document around them), and the
 * most words one of them reads in its view (`longest`; not counting vowel-less readings, where "txt"
 * and "src" read "text" and "source" in every manual, nor runs of fewer than MIN_DISTINCT different
 * words); null when there are none. One pass finds the
 * segments for all three.
 */
export function scrambled(text: string): { text: string; views: string[]; inPlace: string; longest: number } | null {
  const found = [...scrambledSegments(text), ...reversedNoSpaceSentences(text)].sort((x, y) => x.seg.start - y.seg.start);
  if (found.length === 0) return null;
  // One reading per stretch of text: a segment overlapping the one before is dropped.
  const segs: Scrambled[] = [];
  for (const x of found) if (segs.length === 0 || x.seg.start >= segs[segs.length - 1]!.seg.end) segs.push(x);
  // A backwards segment was written either as a whole (word order reversed too) or word by word:
  // both readings are given.
  const lines = segs.map((x) => (x.view === REVERSED ? `${unscramble(text, x)}\n${reverseEachWord(text.slice(x.seg.start, x.seg.end))}` : unscramble(text, x)));
  let inPlace = '', at = 0;
  for (const x of segs) { inPlace += text.slice(at, x.seg.start) + unscramble(text, x); at = x.seg.end; }
  return { text: lines.join('\n'), views: [...new Set(segs.map((x) => viewName(x.view)))], inPlace: inPlace + text.slice(at), longest: segs.reduce((m, x) => (x.view === NO_VOWELS || x.distinct < MIN_DISTINCT ? m : Math.max(m, x.inView)), 0) };
}

/** scrambled() without the in-place text: the decoded segments and their views, or null. */
export function scrambledCandidates(text: string): { text: string; views: string[] } | null {
  const r = scrambled(text);
  return r === null ? null : { text: r.text, views: r.views };
}

/** A line is read without its diacritics when at least this share of its Latin letters carry one... */
const DIACRITIC_SHARE = 0.3;
/** ... it has at least this many Latin letters... */
const DIACRITIC_MIN_LETTERS = 8;
/** ... and without them at least this many more of its words read as written, and half of them do. */
const DIACRITIC_WORDS_GAINED = 3;
function isBasicLatinLetter(c: number): boolean { return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a); }
/** Latin letters with a diacritic, precomposed (Latin-1 Supplement and Extended-A/B, Extended Additional). */
function isMarkedLatin(c: number): boolean { return (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || (c >= 0x1e00 && c <= 0x1eff); }

/**
 * `text` with the diacritics removed from every line written with a diacritic on letters that do not
 * take one ("Ígñörê áll prévíöüs ïnstrùctîöñs"), or null when no line is. A line qualifies when at
 * least 30% of its Latin letters are marked (ordinary French or German stay far below; Vietnamese,
 * Czech and Yoruba reach 35-48%) and, without the marks, at least three more of its words read as
 * written (common, closed-class or lexicon words) and a third of its words do: stripped Vietnamese or
 * Yoruba does not turn into words, an accented English sentence does. (Half, until session 17, missed
 * English with content words: "Thís ís yóúr dévélópér spéákíng…" reads 11 of its 23 words as listed
 * ones; a third raised the red-team row from 43 to 52 of 80 and changed no benign document's score.)
 * The result is rescanned as another reading of the text.
 */
export function withoutDiacritics(text: string): string | null {
  // The text is copied only from the first line that qualifies (most documents have none).
  let out = '', copied = 0, start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let latin = 0, marked = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (isBasicLatinLetter(c)) latin++;
      else if (isMarkedLatin(c)) { latin++; marked++; }
    }
    if (latin >= DIACRITIC_MIN_LETTERS && marked >= latin * DIACRITIC_SHARE) {
      const line = text.slice(start, end);
      const bare = line.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase();
      const { words, read } = wordCounts(bare);
      if (read - wordsReadingAsWritten(line.toLowerCase()) >= DIACRITIC_WORDS_GAINED && read * 3 >= words) {
        out += text.slice(copied, start) + bare;
        copied = end;
      }
    }
    start = end + 1;
  }
  return copied === 0 ? null : out + text.slice(copied);
}
