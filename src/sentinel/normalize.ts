/**
 * Layer 1 of the detector: make text that looks the same to a model look the same to the rules.
 *
 * - Invisible characters (zero-width, soft hyphen, word joiners, BOM, variation selectors) are removed
 *   and counted: models read straight through them, substring rules do not.
 * - Unicode tag characters (U+E0000..U+E007F, "ASCII smuggling") are decoded to the ASCII they shadow
 *   and returned as a hidden segment, except the emoji subdivision-flag sequences that use them legally.
 * - Bidirectional controls (U+202A..U+202E, U+2066..U+2069, U+200E/F, U+061C) are removed and counted
 *   (Trojan Source, CVE-2021-42574).
 * - NFKC folds full-width, mathematical alphanumerics, ligatures and compatibility forms (UAX #15).
 * - Lower-casing, then confusable folding (a subset of UTS #39 confusables for Cyrillic/Greek letters that
 *   look Latin) inside words that mix scripts, or everywhere when the text is mostly Latin.
 * - Digit-for-letter substitutions ("1gn0re") are folded inside tokens that mix letters and digits.
 * - Letter-spaced words ("i g n o r e") are joined.
 *
 * Every pass is a single left-to-right scan: linear time whatever the input.
 */
import { correctKeywordTypos } from './typos.ts';
import { ENGLISH, VOCABULARY_COUNTS } from './words.ts';

export interface HiddenText { readonly kind: 'tag-characters' | 'variation-selectors'; readonly text: string }

export interface Normalized {
  /** Hidden characters removed and NFKC applied, case kept: the input to the decoders (base64 is case-sensitive). */
  readonly clean: string;
  /** Normalised, lower-cased, folded text used by the rules and the classifier. */
  readonly text: string;
  /** Text that was hidden in the input (in tag characters, or as bytes in variation selectors), to be scanned on its own. */
  readonly hidden: readonly HiddenText[];
  /** What was found and removed or folded, e.g. 'invisible-chars', 'bidi-controls', 'homoglyphs'. */
  readonly flags: readonly string[];
  /** Counts behind the flags (for evidence). */
  readonly counts: Readonly<Record<string, number>>;
}

/** A letter of the Latin, Greek or Cyrillic scripts: scripts whose words never need a joiner or a variation selector. */
function isLgcLetter(cp: number): boolean {
  return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xc0 && cp <= 0x24f && cp !== 0xd7 && cp !== 0xf7) || (cp >= 0x370 && cp <= 0x52f);
}

/**
 * Invisible characters that ordinary text carries: a byte-order mark at the start, a zero-width
 * (non-)joiner in Persian, Indic or emoji sequences, a variation selector after an emoji, a symbol or
 * a CJK character ("⚠️", "❤️"). Between or after Latin, Greek or Cyrillic letters they only hide
 * things ("ig\u200dnore"), and so does every other invisible character.
 */
function isOrdinaryInvisible(cp: number, prev: number, next: number, at: number): boolean {
  if (cp === 0xfeff) return at === 0;
  if (cp === 0x200c || cp === 0x200d) return !(isLgcLetter(prev) && isLgcLetter(next));
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return !isLgcLetter(prev);
  return false;
}

function isInvisible(cp: number): boolean {
  return (
    cp === 0x00ad || // soft hyphen
    cp === 0x034f || // combining grapheme joiner
    cp === 0x115f || cp === 0x1160 || cp === 0x3164 || cp === 0xffa0 || // hangul fillers
    cp === 0x17b4 || cp === 0x17b5 ||
    cp === 0x180e || // mongolian vowel separator
    (cp >= 0x200b && cp <= 0x200d) || // ZWSP, ZWNJ, ZWJ
    (cp >= 0x2060 && cp <= 0x2064) || // word joiner, invisible operators
    cp === 0xfeff || // BOM / ZWNBSP
    (cp >= 0xfe00 && cp <= 0xfe0f) || // variation selectors
    (cp >= 0xe0100 && cp <= 0xe01ef) || // variation selectors supplement
    (cp >= 0x1d173 && cp <= 0x1d17a) // musical invisible formatting
  );
}

function isBidiControl(cp: number): boolean {
  return cp === 0x200e || cp === 0x200f || cp === 0x061c || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/** Lower-case Cyrillic and Greek letters that render like Latin ones (UTS #39 confusables subset). */
const CONFUSABLE: ReadonlyMap<number, string> = new Map<number, string>([
  // Cyrillic
  [0x0430, 'a'], [0x0435, 'e'], [0x043e, 'o'], [0x0440, 'p'], [0x0441, 'c'], [0x0443, 'y'], [0x0445, 'x'],
  [0x0456, 'i'], [0x0458, 'j'], [0x0455, 's'], [0x0501, 'd'], [0x04bb, 'h'], [0x051b, 'q'], [0x051d, 'w'],
  [0x0432, 'b'], [0x043a, 'k'], [0x043c, 'm'], [0x043d, 'h'], [0x0442, 't'], [0x0457, 'i'], [0x0491, 'r'],
  [0x04cf, 'l'], [0x0461, 'w'], [0x0475, 'v'], [0x0433, 'r'],
  // Greek
  [0x03b1, 'a'], [0x03bf, 'o'], [0x03c1, 'p'], [0x03b9, 'i'], [0x03ba, 'k'], [0x03bd, 'v'], [0x03c5, 'u'],
  [0x03c7, 'x'], [0x03b5, 'e'], [0x03c4, 't'], [0x03b7, 'n'], [0x03c9, 'w'], [0x03b2, 'b'], [0x03b3, 'y'],
  // Latin look-alikes outside ASCII that NFKC keeps
  [0x0131, 'i'], [0x0261, 'g'], [0x0251, 'a'], [0x0269, 'i'], [0x028f, 'y'], [0x1d0f, 'o'], [0x0274, 'n'],
]);

const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i', '|': 'l' };

// The same tables by UTF-16 unit (every replacement is a single unit), for the per-character passes.
const LEET_UNIT = new Int32Array(128).fill(-1);
for (const [k, v] of Object.entries(LEET)) LEET_UNIT[k.charCodeAt(0)] = v.charCodeAt(0);
const CONFUSABLE_UNIT: ReadonlyMap<number, number> = new Map([...CONFUSABLE].map(([k, v]) => [k, v.charCodeAt(0)]));
if (Math.min(...CONFUSABLE.keys()) < 0x131) throw new Error('normalize.ts: a confusable below U+0131 (see foldWords)');
function isLeet(c: number): boolean {
  return c < 0x80 && LEET_UNIT[c]! >= 0;
}

function isLatinLetter(cp: number): boolean {
  return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0xdf && cp <= 0x24f && cp !== 0xf7);
}
function isCyrGreek(cp: number): boolean {
  return (cp >= 0x370 && cp <= 0x3ff) || (cp >= 0x400 && cp <= 0x52f);
}
function isWordChar(cp: number): boolean {
  // Letters, digits, marks of any script; cheap ASCII path first.
  if (cp < 0x80) return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a);
  return cp >= 0xc0 && !(cp >= 0x2000 && cp <= 0x2bff) && !(cp >= 0x3000 && cp <= 0x303f) && !(cp >= 0xff00 && cp <= 0xff0f);
}

/** Pass 1: strip invisible/bidi characters, decode tag characters. */
function stripHidden(input: string, counts: Record<string, number>, hidden: HiddenText[]): string {
  let out = '';
  let tagRun = '';
  let prevCp = 0;
  let inEmojiTagSeq = false;
  const flushTags = (): void => {
    if (tagRun.length > 0) { hidden.push({ kind: 'tag-characters', text: tagRun }); tagRun = ''; }
  };
  // Bytes smuggled in variation selectors (VS1..VS16 are 0..15, VS17..VS256 are 16..255): an emoji
  // followed by a run of them carries a whole message that no renderer shows.
  let vsRun: number[] = [];
  const flushSelectors = (): void => {
    if (vsRun.length >= MIN_SELECTOR_BYTES) {
      const text = selectorText.decode(Uint8Array.from(vsRun));
      if (isMostlyPrintable(text)) { hidden.push({ kind: 'variation-selectors', text }); counts['variation-selector-bytes'] = (counts['variation-selector-bytes'] ?? 0) + 1; }
    }
    vsRun = [];
  };
  let runStart = 0; // start of a run of ordinary characters copied in one slice
  for (let i = 0; i < input.length; i++) {
    let cp = input.charCodeAt(i);
    // Fast path: ordinary BMP characters are copied later as one slice.
    if (cp < 0x00ad || (cp > 0x061c && cp < 0x115f && cp !== 0x034f) || (cp >= 0x3165 && cp < 0xd800)) {
      if (tagRun.length > 0) flushTags();
      if (vsRun.length > 0) flushSelectors();
      prevCp = cp; inEmojiTagSeq = false;
      continue;
    }
    if (runStart < i) out += input.slice(runStart, i);
    runStart = i + 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < input.length) {
      const lo = input.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); i++; runStart = i + 1; }
    }
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      // U+1F3F4 (black flag) + tag letters + U+E007F is a legal emoji flag (e.g. Scotland): keep silent.
      if (prevCp === 0x1f3f4) inEmojiTagSeq = true;
      if (inEmojiTagSeq) { if (cp === 0xe007f) inEmojiTagSeq = false; continue; }
      counts['tag-chars'] = (counts['tag-chars'] ?? 0) + 1;
      const ascii = cp - 0xe0000;
      if (ascii >= 0x20 && ascii < 0x7f) tagRun += String.fromCharCode(ascii);
      else if (ascii === 0x0a || ascii === 0x09) tagRun += ' ';
      continue;
    }
    inEmojiTagSeq = false;
    if (isBidiControl(cp)) { counts['bidi-controls'] = (counts['bidi-controls'] ?? 0) + 1; continue; }
    const vs = cp >= 0xfe00 && cp <= 0xfe0f ? cp - 0xfe00 : cp >= 0xe0100 && cp <= 0xe01ef ? cp - 0xe0100 + 16 : -1;
    if (vs >= 0) vsRun.push(vs); else if (vsRun.length > 0) flushSelectors();
    if (isInvisible(cp)) {
      // Removed either way; counted as obfuscation only where ordinary text does not use it.
      if (!isOrdinaryInvisible(cp, prevCp, input.codePointAt(i + 1) ?? 0, i)) counts['invisible-chars'] = (counts['invisible-chars'] ?? 0) + 1;
      continue;
    }
    flushTags();
    prevCp = cp;
    out += cp > 0xffff ? String.fromCodePoint(cp) : String.fromCharCode(cp);
  }
  if (runStart < input.length) out += input.slice(runStart);
  flushTags();
  flushSelectors();
  return out;
}

/** Fewest bytes in a run of variation selectors read as a message (an emoji takes one, a flag sequence two). */
const MIN_SELECTOR_BYTES = 4;
const selectorText = new TextDecoder('utf-8', { fatal: false });
/** Whether decoded bytes read as text: no replacement characters, few control characters. */
function isMostlyPrintable(t: string): boolean {
  let bad = 0;
  for (let i = 0; i < t.length; i++) { const c = t.charCodeAt(i); if (c === 0xfffd || (c < 0x20 && c !== 0x0a && c !== 0x09)) bad++; }
  return bad * 10 <= t.length;
}

/**
 * Combining marks that only decorate: several stacked on one letter ("zalgo" text) or the overlays
 * and underlines of "strikethrough" text generators. No language stacks two marks on a letter once
 * composed (NFC; Vietnamese and Yoruba compose to at most one left over), and none uses an overlay.
 */
const COMBINING = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/;
const OVERLAY = new Set([0x0332, 0x0333, 0x0334, 0x0335, 0x0336, 0x0337, 0x0338, 0x033f, 0x0347, 0x20d2, 0x20d3, 0x20e5, 0x20e6]);
function isCombining(c: number): boolean {
  return (c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}
/** Letters decorated like that before the whole text's marks are removed (one stray stack is left alone). */
const MIN_DECORATED = 3;
/**
 * Pass 2b (on NFKC text): when at least MIN_DECORATED characters carry stacked or overlay marks, every
 * combining mark of those blocks is removed (NFD, remove, NFC; generators decorate spaces too),
 * counted as 'combining-marks'.
 */
function stripDecorativeMarks(s: string, counts: Record<string, number>): string {
  if (!COMBINING.test(s)) return s;
  let decorated = 0;
  for (let i = 0; i < s.length && decorated < MIN_DECORATED;) {
    if (!isCombining(s.charCodeAt(i))) { i++; continue; }
    let marks = 0, overlay = false;
    while (i < s.length && isCombining(s.charCodeAt(i))) { if (OVERLAY.has(s.charCodeAt(i))) overlay = true; marks++; i++; }
    if (marks >= 2 || overlay) decorated++;
  }
  if (decorated < MIN_DECORATED) return s;
  counts['combining-marks'] = decorated;
  return s.normalize('NFD').replace(/[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+/g, '').normalize('NFC');
}

/**
 * Enclosed letters NFKC keeps: negative circled (U+1F150..) and negative squared (U+1F170..) capitals,
 * the "bubble" and "boxed" letters of fancy-text generators, folded to a..z ('enclosed-letters' when
 * four or more: 🅿 alone is a parking sign).
 */
const ENCLOSED = /[\u{1F150}-\u{1F169}\u{1F170}-\u{1F189}]/gu;
function foldEnclosedLetters(s: string, counts: Record<string, number>): string {
  ENCLOSED.lastIndex = 0;
  if (!ENCLOSED.test(s)) return s;
  let n = 0;
  const out = s.replace(ENCLOSED, (c) => { n++; const cp = c.codePointAt(0)!; return String.fromCharCode(97 + ((cp - 0x1f150) % 0x20)); });
  if (n >= 4) counts['enclosed-letters'] = n;
  return out;
}

/** Pass 3: per-word confusable and leet folding, letter-spacing joins. */
function foldWords(s: string, counts: Record<string, number>): string {
  // Decide whether the text is mostly Latin: then whole words made only of look-alikes are folded too.
  let latin = 0, cyrGreek = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isLatinLetter(c)) latin++;
    else if (isCyrGreek(c)) cyrGreek++;
  }
  const latinDominant = latin > 4 * cyrGreek;
  // Every fold replaces one UTF-16 unit by one unit, so the output is the input with some units
  // changed: they are written into a copy of the input, made at the first change (most text has none).
  let buf: Uint16Array | null = null;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    // ("<|" opens a special token, "<|im_start|>": its pipe is no letter l.)
    // (Nor does an at sign start a word: "@dana", "@param" are a mention and a doc tag, not "adana".)
    if (!isWordChar(c) && !(isLeet(c) && c !== 0x40 && i + 1 < n && isWordChar(s.charCodeAt(i + 1)) && !(c === 0x7c && i > 0 && s.charCodeAt(i - 1) === 0x3c))) { i++; continue; }
    // Scan one word (letters, digits, plus leet symbols inside it).
    let j = i;
    let hasLatin = false, hasCG = false, hasDigitOrSym = false, allCGConfusable = true, cgCount = 0;
    while (j < n) {
      const d = s.charCodeAt(j);
      if (isWordChar(d)) {
        if (isLatinLetter(d)) hasLatin = true;
        else if (isCyrGreek(d)) { hasCG = true; cgCount++; if (!CONFUSABLE.has(d)) allCGConfusable = false; }
        else if (d >= 0x30 && d <= 0x39) hasDigitOrSym = true;
        else if (CONFUSABLE.has(d)) hasLatin = true;
        j++;
      } else if (isLeet(d) && j + 1 < n && isWordChar(s.charCodeAt(j + 1)) && !(d === 0x40 && isAddressAt(s, j))) {
        hasDigitOrSym = true; j++;
      } else break;
    }
    if (j === i) { i++; continue; } // progress guarantee
    const foldCG = hasCG && allCGConfusable && (hasLatin || (latinDominant && cgCount >= 2));
    // "i|g|n|o|r|e": one symbol between every two letters separates them (joinLetterSpacing reads
    // them); it is not a letter written as a symbol.
    const foldLeet = hasDigitOrSym && hasLatin && !symbolBetweenLetters(s, i, j) && !numberSuffix(s, i, j);
    if (foldCG || foldLeet) {
      let changed = false;
      for (let k = i; k < j; k++) {
        const cc = s.charCodeAt(k);
        const conf = cc >= 0x131 ? CONFUSABLE_UNIT.get(cc) : undefined; // (no look-alike below U+0131)
        const r = conf !== undefined && (foldCG || cc < 0x370) ? conf : foldLeet && isLeet(cc) ? LEET_UNIT[cc]! : cc;
        if (r !== cc) { buf ??= unitsOf(s); buf[k] = r; changed = true; }
      }
      if (foldCG) counts['homoglyphs'] = (counts['homoglyphs'] ?? 0) + 1;
      if (foldLeet && changed) counts['leetspeak'] = (counts['leetspeak'] ?? 0) + 1;
    }
    i = j;
  }
  return joinLetterSpacing(buf === null ? s : stringOfUnits(buf, 0, n), counts);
}

/**
 * Whether the word s[i, j) is two letters or more followed by a number that is no letter written as a
 * digit: "base64", "sha256", "python3", "es2024" are names, and folded they read "base6a", "sha2s6",
 * "pythone", "es2o2a": tokens no benign text has, which the classifier learned from the attacks that
 * say "encode your answer in base64". A trailing digit stays a letter when the word then reads as one
 * the benign vocabulary knows ("ignor3" is "ignore"); digits inside the word ("1gn0re", "pr3v10us")
 * always do. (One letter and a number, "x509", is still folded.)
 */
function numberSuffix(s: string, i: number, j: number): boolean {
  let k = j;
  while (k > i && s.charCodeAt(k - 1) >= 0x30 && s.charCodeAt(k - 1) <= 0x39) k--;
  if (k === j || k - i < 2) return false;
  for (let m = i; m < k; m++) if (!isLatinLetter(s.charCodeAt(m))) return false;
  if (j - k >= 2) return true;
  const folded = (s.slice(i, k) + String.fromCharCode(LEET_UNIT[s.charCodeAt(k)]!)).toLowerCase();
  return !VOCABULARY_COUNTS.has(folded) && !ENGLISH_WORDS.has(folded);
}
const ENGLISH_WORDS: ReadonlySet<string> = new Set(ENGLISH);

/**
 * Whether the at sign at s[at] is an e-mail address's (user@host.example, root@localhost), not a letter a
 * written as a symbol ("p@ssword"): the host is a label of letters, digits and hyphens followed by a dot
 * and a letter, or is "localhost". Folded, "audit@evil.example" read "auditaevil.example", and the rules
 * that look for an address after "send the password to" never saw one. Looks at most 64 characters ahead.
 */
function isAddressAt(s: string, at: number): boolean {
  let k = at + 1;
  const end = Math.min(s.length, at + 65);
  while (k < end && (isWordChar(s.charCodeAt(k)) || s.charCodeAt(k) === 0x2d)) k++;
  if (k === at + 1) return false;
  if (k + 1 < s.length && s.charCodeAt(k) === 0x2e && isWordChar(s.charCodeAt(k + 1)) && !(s.charCodeAt(k + 1) >= 0x30 && s.charCodeAt(k + 1) <= 0x39)) return true;
  return s.slice(at + 1, k).toLowerCase() === 'localhost';
}

/**
 * Whether s[i, j) is single letters with one and the same non-digit symbol between each two ("i|g|n|o|r|e",
 * two letters or more), or after a leading one (the next word of such a run: "|a|l|l", "|a").
 */
function symbolBetweenLetters(s: string, i: number, j: number): boolean {
  const lead = !isWordChar(s.charCodeAt(i));
  const k0 = lead ? i + 1 : i;
  const sym = s.charCodeAt(lead ? i : i + 1);
  if ((j - k0) % 2 === 0 || (j - k0 + 1) / 2 < (lead ? 1 : 2) || isWordChar(sym)) return false;
  for (let k = k0; k < j; k += 2) if (!isWordChar(s.charCodeAt(k)) || (k + 1 < j && s.charCodeAt(k + 1) !== sym)) return false;
  return true;
}

/** "i g n o r e  a l l" -> "ignore all": runs of >= 4 single letters separated by one space, dot, dash, underscore, star, slash, plus, pipe, colon, tilde, middle dot or bullet. */
function joinLetterSpacing(s: string, counts: Record<string, number>): string {
  // The output is the input with each joined run replaced: unchanged text is copied in slices.
  let out = '';
  let copied = 0;
  let joined = new Uint16Array(64); // the run being joined: its letters, with a space at each word break
  let i = 0;
  const n = s.length;
  // Separators that also join single letters in paths, sums, alternatives and lists ("a/b/c", "a+b",
  // "-a|-b", "a:b", "a·b"): a run using them must show a real word (see pathLike below).
  const isPathLikeSep = (c: number): boolean => c === 0x2f || c === 0x2b || c === 0x7c || c === 0x3a || c === 0x7e || c === 0xb7 || c === 0x2022;
  const isSep = (c: number): boolean => c === 0x20 || c === 0x2e || c === 0x2d || c === 0x5f || c === 0x2a || isPathLikeSep(c);
  const isLetter = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7);
  while (i < n) {
    // Candidate run starts at a letter not preceded by a letter.
    const c = s.charCodeAt(i);
    const prevLetter = i > 0 && isLetter(s.charCodeAt(i - 1));
    // Nor in the middle of a sequence of single letters ("a/b/c a/b": not from "c").
    const midSequence = i > 1 && isSep(s.charCodeAt(i - 1)) && isLetter(s.charCodeAt(i - 2)) && !(i > 2 && isLetter(s.charCodeAt(i - 3)));
    if (isLetter(c) && !prevLetter && !midSequence && i + 1 < n && isSep(s.charCodeAt(i + 1))) {
      let j = i;
      let letters = 0, m = 0;
      // The separator between letters of one word ("i.g.n.o.r.e" uses '.'): another one is a word break.
      const inWord = s.charCodeAt(i + 1);
      // Letters may be set two separators apart ("i  g  n  o  r  e     a  l  l"): then that is the gap
      // inside a word, and only a longer one is a word break.
      const gap = i + 3 < n && s.charCodeAt(i + 2) === inWord && isLetter(s.charCodeAt(i + 3)) ? 2 : 1;
      // Paths and sums ("a/b/c", "a+b+c", "-p a/b/c") join single letters with '/' or '+' (and lists
      // with '|', ':', '~', '·', '•'): in a run with those, a word of four letters or more is needed, and two words or six letters.
      let pathLike = false;
      let words = 1, wordStart = 0, longest = 0;
      const wordBreak = (): void => { longest = Math.max(longest, letters - wordStart); wordStart = letters; words++; joined[m++] = 0x20; };
      while (j < n && isLetter(s.charCodeAt(j)) && (j + 1 >= n || !isLetter(s.charCodeAt(j + 1)))) {
        if (m + 2 > joined.length) { const g = new Uint16Array(2 * joined.length); g.set(joined); joined = g; }
        letters++;
        joined[m++] = s.charCodeAt(j);
        // separator(s): the gap = same word, more (or a different one) = word break
        let k = j + 1;
        let seps = 0, other = false;
        while (k < n && isSep(s.charCodeAt(k)) && seps < 4 * gap) { const d = s.charCodeAt(k); if (d !== inWord) other = true; if (isPathLikeSep(d)) pathLike = true; k++; seps++; }
        // The run ends at a word of several letters ("a b c d and"): its separator is kept.
        if (seps === 0 || k >= n || !isLetter(s.charCodeAt(k)) || (k + 1 < n && isLetter(s.charCodeAt(k + 1)))) { j = j + 1; break; }
        if (seps > gap || other) wordBreak();
        j = k;
      }
      // (A break after the last letter starts no word.)
      if (letters === wordStart && words > 1) words--;
      longest = Math.max(longest, letters - wordStart);
      if (letters >= 4 && (!pathLike || (longest >= 4 && (words >= 2 || letters >= 6)))) {
        counts['letter-spacing'] = (counts['letter-spacing'] ?? 0) + 1;
        out += s.slice(copied, i) + stringOfUnits(joined, 0, m);
        copied = i = j;
        continue;
      }
    }
    i++;
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/** The UTF-16 units of `s`. */
function unitsOf(s: string): Uint16Array {
  const u = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
}

/** The string of units u[a, b) (lone surrogates kept as they are), built in chunks (apply puts its arguments on the stack). */
function stringOfUnits(u: Uint16Array, a: number, b: number): string {
  let out = '';
  for (let i = a; i < b; i += 8192) out += String.fromCharCode.apply(null, u.subarray(i, Math.min(b, i + 8192)) as unknown as number[]);
  return out;
}

/** Latin small capitals (ᴀʙᴄ…, "small caps" text generators) and the letter each one shows; NFKC keeps them. */
const SMALL_CAPITALS: ReadonlyMap<string, string> = new Map([...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ'].map((c, i) => [c, 'abcdefghijklmnopqrstuvwyz'[i]!]));
const SMALL_CAPITAL = new RegExp(`[${[...SMALL_CAPITALS.keys()].join('')}]`, 'gu');
/** `s` with Latin small capitals folded to their letters (one character for one, linear), counted as 'small-capitals'. */
function foldSmallCapitals(s: string, counts: Record<string, number>): string {
  SMALL_CAPITAL.lastIndex = 0;
  if (!SMALL_CAPITAL.test(s)) return s;
  let n = 0;
  const out = s.replace(SMALL_CAPITAL, (c) => { n++; return SMALL_CAPITALS.get(c)!; });
  counts['small-capitals'] = n;
  return out;
}

/**
 * Pictographs written between the letters of two words ("ignore🙂all🙂previous") are read as spaces: a
 * language model reads straight through them, but an emoji is a pair of UTF-16 surrogates, which the
 * tokeniser keeps inside words (they also carry the letters of scripts outside the basic plane), so the
 * words ran together into one token and no rule or word feature saw them (0.19, missed). Four or more
 * count as obfuscation ('emoji-separators'); one ("thanks🙂see you") is how people write.
 * Regional indicators and enclosed letters (U+1F100-1F1FF) are left to their own decoders.
 */
const EMOJI_BETWEEN_WORDS = /(?<=[\p{L}\p{N}])[\u{1F000}-\u{1F0FF}\u{1F300}-\u{1FAFF}]+(?=[\p{L}\p{N}])/gu;
const MIN_EMOJI_SEPARATORS = 4;
function spaceEmojiBetweenWords(s: string, counts: Record<string, number>): string {
  if (!/[\uD83C-\uD83E]/.test(s)) return s;
  let k = 0;
  const out = s.replace(EMOJI_BETWEEN_WORDS, () => { k++; return ' '; });
  if (k >= MIN_EMOJI_SEPARATORS) counts['emoji-separators'] = k;
  return out;
}

/** Normalise untrusted text for scanning. Never throws on any string. */
export function normalize(input: string): Normalized {
  const counts: Record<string, number> = {};
  const hidden: HiddenText[] = [];
  const clean = stripDecorativeMarks(foldEnclosedLetters(stripHidden(input, counts, hidden).normalize('NFKC'), counts), counts);
  // 'İ' (Turkish, Azerbaijani capital dotted I) lower-cases to 'i' + U+0307: fold it back to 'i', as written in lower case.
  const text = correctKeywordTypos(foldWords(spaceEmojiBetweenWords(foldSmallCapitals(clean.toLowerCase().replaceAll('i\u0307', 'i'), counts), counts), counts));
  const flags = Object.keys(counts).sort();
  return { clean, text, hidden, flags, counts };
}

/** rot13 of ASCII letters; other characters unchanged. */
export function rot13(s: string): string {
  const u = unitsOf(s);
  for (let i = 0; i < u.length; i++) {
    const c = u[i]!;
    if (c >= 0x61 && c <= 0x7a) u[i] = ((c - 0x61 + 13) % 26) + 0x61;
    else if (c >= 0x41 && c <= 0x5a) u[i] = ((c - 0x41 + 13) % 26) + 0x41;
  }
  return stringOfUnits(u, 0, u.length);
}
