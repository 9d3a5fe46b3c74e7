/**
 * A sentence wrapped over lines that each begin with the same marker, read as the paragraph it is: a
 * comment block (`#`, `//`, ` * `, `--`, `;`, `%`), a quoted e-mail reply (`>`, `> >`). The detector's
 * sentence splitter cuts at every line break (in tables, lists and code a line is a unit of its own), so
 * such a sentence was read one fragment a line, each with the marker in front: an override wrapped at
 * 30 columns in a Python comment, an INI file or a quoted reply scored 0.05-0.44 where the same sentence
 * on one comment line scored 1.0.
 *
 * The view removes the markers of every run of two or more lines that share one, and joins a line of a
 * run to the next where the sentence goes on: the line has a piece of three words or more after its last
 * sentence end, that piece ends in a letter, a digit, a comma or a hyphenated word, and the next line
 * starts with a lowercase letter (one that starts with a capital starts a sentence of its own).
 *
 * Hard-wrapped text without markers (plain-text mail at 72 columns) is not joined. Joining it too, in
 * this view, caught as many of the evaluation's attacks hard-wrapped at 72 columns as written (80%, from
 * 66%), but a rescanned view only adds readings: 98 more of this machine's 86,050 documentation chunks,
 * all of them wrapped prose, were flagged at 0.5 (237 -> 335). Joined in the sentence splitter itself,
 * where it would be the only reading, the case of the next line's first letter is gone (the splitter reads
 * lower-cased text), and requests planted on their own line after a signature were glued to it (attacks at
 * the end of BIPIA's test e-mails flagged at 0.5: 28% -> 7%). Session 15, docs/decisions.md.
 *
 * The detector rescans the view as a reading of the whole document, like the rendered view of markup.
 * Linear: one pass over the lines.
 */

/** A line's marker: indentation, then one of the markers, then at most one space or tab. */
const MARKER = /^[ \t]*(#+|\/\/+|\*(?=[ \t]|$)|--(?=[ \t]|$)|;+|%+|>(?:[ \t]?>)*)[ \t]?/;
/** Shortest line (trimmed) that can wrap a sentence onto the next. */
const WRAP_MIN_LINE = 16;
/** A sentence end inside a line: a stop, question or exclamation mark (and closing quotes) then a space. */
const SENTENCE_END = /[.!?]["')\]]*[ \t]+/g;

/** The piece of a line after its last sentence end (the whole line when it has none). */
function lastPiece(line: string): string {
  let from = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(line); m !== null; m = SENTENCE_END.exec(line)) from = m.index + m[0].length;
  return line.slice(from);
}
/** The piece goes on: it ends in a letter, a digit, a comma, or a letter and a hyphen. */
const GOES_ON = /(?:[\p{L}\p{N},]|\p{L}-)$/u;
/** The next line continues the sentence: it starts with a lowercase letter. */
const CONTINUES = /^\p{Ll}/u;

/**
 * The text with marked runs unmarked and their wrapped sentences joined, or null when no marked line
 * goes on to the next (per-line comments already read as sentences of their own: a view would only
 * scan the document again).
 */
export function reflowed(text: string): string | null {
  const lines = text.split('\n');
  const n = lines.length;
  const marker: Array<string | null> = new Array<string | null>(n).fill(null);
  const cut = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const m = MARKER.exec(lines[i]!);
    if (m !== null) { marker[i] = m[1]!.replace(/[ \t]/g, ''); cut[i] = m[0].length; }
  }
  // Markers count only in runs of two or more lines that share one.
  const body: string[] = lines.slice();
  let runs = false;
  for (let i = 0; i < n;) {
    let j = i + 1;
    if (marker[i] !== null) while (j < n && marker[j] === marker[i]) j++;
    if (marker[i] !== null && j - i >= 2) {
      runs = true;
      for (let k = i; k < j; k++) body[k] = lines[k]!.slice(cut[k]!);
    } else {
      for (let k = i; k < j; k++) marker[k] = null;
    }
    i = j;
  }
  // Most documents have no marked run: nothing to join.
  if (!runs) return null;
  let changed = false;
  const out: string[] = [];
  let cur = body[0] ?? '';
  for (let i = 0; i + 1 < n; i++) {
    let joins = false, piece = '';
    if (marker[i] !== null && marker[i] === marker[i + 1]) {
      const line = body[i]!.trim();
      piece = lastPiece(line);
      joins = line.length >= WRAP_MIN_LINE && piece.split(/[ \t]+/).length >= 3 && GOES_ON.test(piece) && CONTINUES.test(body[i + 1]!.trimStart());
    }
    if (joins) {
      const next = body[i + 1]!.trimStart();
      // A word hyphenated across the break is one word again ("instruc-" / "tions").
      cur = /\p{L}-$/u.test(piece) ? `${cur.trimEnd().slice(0, -1)}${next}` : `${cur.trimEnd()} ${next}`;
      changed = true;
    } else {
      out.push(cur);
      cur = body[i + 1]!;
    }
  }
  out.push(cur);
  return changed ? out.join('\n') : null;
}
