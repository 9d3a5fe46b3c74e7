/**
 * Text written without spaces ("ignoreallpreviousinstructions") or with its spaces moved ("igno real
 * lpre viou sins truc tions": letters regrouped in fours) reads to a model almost as well as prose, but
 * gives a word-and-n-gram detector nothing it knows. This layer puts the spaces back: a run of letters
 * is split into the words of a vocabulary (common English words, the closed-class words of ~80
 * languages, the a-z words of the multilingual lexicon) by dynamic programming, and the detector
 * rescans the result like decoded text.
 *
 * Candidates, in the normalised (lower-case) text:
 *  - a token of MIN_UNSPACED letters a-z or more that is no word as written;
 *  - a run of MIN_GROUPS or more letter tokens one space apart on one line, nearly all of one length
 *    (2..7 letters; the last may be shorter), most of which are no words as written: letters regrouped
 *    in twos, threes, fours... Prose never has words of one length. The run is joined, then split.
 * A candidate counts when it splits like a sentence: at least MIN_COVERED of its letters fall in
 * vocabulary words, and among them at least MIN_GLUE short function words ("the", "to", "all"...) and
 * MIN_CONTENT words of four letters or more (or, when every letter is in a word, one function word and
 * one more content word: "revealthesystemprompt"). Compound words (German, Swedish, Finnish...), names and
 * identifiers split into content words without the glue; foreign prose never regroups to one length.
 *
 * Linear: each letter is walked at most MAX_WORD steps in the vocabulary trie, each candidate is cut
 * to MAX_CANDIDATE letters, and at most MAX_TOTAL letters of a text are split.
 */
import { isTokenChar } from './rules.ts';
import { COMMON_LATIN_WORDS, COMMON_WORDS } from './segments.ts';
import { LEXICON_LATIN_FORMS } from './lexicon.ts';
import { ENGLISH } from './words.ts';

const MIN_UNSPACED = 14;
const MIN_GROUPS = 5;
const MIN_COVERED = 0.85;
const MIN_GLUE = 2;
const MIN_CONTENT = 2;
/** Of a regrouped run, the share of its groups (the last one aside) that must have the most common length. */
const SAME_LENGTH = 0.8;
const MAX_WORD = 20;
const MAX_CANDIDATE = 400;
const MAX_TOTAL = 64 * 1024;

/** A trie over a-z (26 children per node, -1 for none), with word ends marked. */
class LetterTrie {
  private next = new Int32Array(26 * 1024).fill(-1);
  private end = new Uint8Array(1024);
  private nodes = 1;
  add(w: string): void {
    let n = 0;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i) - 97;
      let k = this.next[26 * n + c]!;
      if (k < 0) {
        if (this.nodes === this.end.length) {
          const next = new Int32Array(2 * this.next.length).fill(-1); next.set(this.next); this.next = next;
          const end = new Uint8Array(2 * this.end.length); end.set(this.end); this.end = end;
        }
        k = this.nodes++;
        this.next[26 * n + c] = k;
      }
      n = k;
    }
    this.end[n] = 1;
  }
  child(n: number, c: number): number { return c >= 0 && c < 26 ? this.next[26 * n + c]! : -1; }
  isEnd(n: number): boolean { return this.end[n] === 1; }
}

const VOCAB = new LetterTrie();
for (const w of new Set([...ENGLISH, ...COMMON_LATIN_WORDS, ...LEXICON_LATIN_FORMS])) {
  // One-letter words other than "a" and "i" (and two-letter ones outside the common lists) split anything.
  if (w.length > MAX_WORD || !/^[a-z]+$/.test(w) || (w.length === 1 && w !== 'a' && w !== 'i')) continue;
  VOCAB.add(w);
}
const WHOLE_WORDS = new Set([...ENGLISH, ...COMMON_LATIN_WORDS, ...LEXICON_LATIN_FORMS]);

function isLetter(c: number): boolean { return c >= 0x61 && c <= 0x7a; }

/**
 * `s` (letters a-z) split into vocabulary words, unknown letters kept together as one piece, or null
 * when it does not split well (see the module comment). Most covered letters win; among equals, fewer
 * pieces.
 */
export function splitWords(s: string): string | null {
  const m = s.length;
  // score[i]: best (covered letters * 64 - pieces) for s[0, i); from[i]: where its last piece starts; known[i]: whether that piece is a word.
  const score = new Float64Array(m + 1).fill(-Infinity);
  const from = new Int32Array(m + 1), known = new Uint8Array(m + 1);
  score[0] = 0;
  for (let i = 0; i < m; i++) {
    const base = score[i]!;
    if (base === -Infinity) continue;
    // An unknown letter: joins an unknown piece ending at i (no new piece), or starts one.
    const extend = i > 0 && known[i] === 0 ? base : base - 1;
    if (extend > score[i + 1]!) { score[i + 1] = extend; from[i + 1] = i > 0 && known[i] === 0 ? from[i]! : i; known[i + 1] = 0; }
    let n = 0;
    for (let j = i; j < m && j - i < MAX_WORD; j++) {
      n = VOCAB.child(n, s.charCodeAt(j) - 97);
      if (n < 0) break;
      if (VOCAB.isEnd(n)) {
        const v = base + 64 * (j + 1 - i) - 1;
        if (v > score[j + 1]!) { score[j + 1] = v; from[j + 1] = i; known[j + 1] = 1; }
      }
    }
  }
  const pieces: string[] = [];
  let covered = 0, glue = 0, content = 0;
  for (let j = m; j > 0;) {
    const i = from[j]!;
    const piece = s.slice(i, j);
    pieces.push(piece);
    if (known[j] === 1) {
      covered += j - i;
      if (j - i >= 4) content++;
      else if (j - i >= 2 && COMMON_WORDS.has(piece)) glue++;
    }
    j = i;
  }
  const sentence = (covered >= MIN_COVERED * m && glue >= MIN_GLUE && content >= MIN_CONTENT) || (covered === m && glue >= 1 && content >= MIN_CONTENT + 1);
  if (!sentence) return null;
  return pieces.reverse().join(' ');
}

export interface Unspaced {
  /** The respaced candidates, one per line. */
  readonly text: string;
  /** `text` (the normalised text scanned) with each candidate respaced in place. */
  readonly inPlace: string;
}

/** Candidates of normalised `text` respaced (see the module comment), or null when there are none. */
export function unspaced(text: string): Unspaced | null {
  const n = text.length;
  const found: Array<{ start: number; end: number; text: string }> = [];
  let budget = MAX_TOTAL;
  const tryRun = (start: number, end: number, letters: string): void => {
    if (budget <= 0) return;
    const s = letters.length > MAX_CANDIDATE ? letters.slice(0, MAX_CANDIDATE) : letters;
    budget -= s.length;
    const r = splitWords(s);
    if (r !== null) found.push({ start, end, text: r });
  };
  // Groups: a run of short letter tokens one space apart on one line.
  let groupStart = -1, groupEnd = -1, groups = 0, unknownGroups = 0, joined = '';
  /** Groups of each length 1..7 so far in the run, and the length of the last one. */
  const lengths = new Int32Array(8);
  let lastLength = 0;
  const closeGroup = (): void => {
    if (groups >= MIN_GROUPS && unknownGroups * 5 >= groups * 3) {
      lengths[lastLength]!--;
      let most = 0;
      for (let k = 2; k < 8; k++) if (lengths[k]! > most) most = lengths[k]!;
      if (most >= SAME_LENGTH * (groups - 1)) tryRun(groupStart, groupEnd, joined);
    }
    groupStart = -1; groups = 0; unknownGroups = 0; joined = ''; lengths.fill(0);
  };
  let i = 0;
  while (i < n && budget > 0) {
    const c = text.charCodeAt(i);
    if (!isTokenChar(c)) {
      // Only one plain space continues a group.
      if (groupStart >= 0 && !(c === 0x20 && i === groupEnd && i + 1 < n && isLetter(text.charCodeAt(i + 1)))) closeGroup();
      i++;
      continue;
    }
    const start = i;
    let lettersOnly = true;
    while (i < n && isTokenChar(text.charCodeAt(i))) { if (!isLetter(text.charCodeAt(i))) lettersOnly = false; i++; }
    const len = i - start;
    if (!lettersOnly) { closeGroup(); continue; }
    const word = len <= MAX_WORD ? text.slice(start, i) : '';
    if (len <= 7 && (groupStart >= 0 || len >= 2)) {
      if (groupStart < 0) groupStart = start;
      groupEnd = i;
      groups++;
      lengths[len]!++;
      lastLength = len;
      if (!WHOLE_WORDS.has(word)) unknownGroups++;
      joined += text.slice(start, i);
      continue;
    }
    closeGroup();
    if (len >= MIN_UNSPACED && !WHOLE_WORDS.has(word)) tryRun(start, i, text.slice(start, i));
  }
  closeGroup();
  if (found.length === 0) return null;
  let inPlace = '', at = 0;
  for (const f of found) { inPlace += text.slice(at, f.start) + f.text; at = f.end; }
  return { text: found.map((f) => f.text).join('\n'), inPlace: inPlace + text.slice(at) };
}
