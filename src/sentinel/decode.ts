/**
 * Layer 2: find encoded segments (base64/base64url, base32, hex, \xHH escapes, URL percent-encoding,
 * HTML numeric entities, \uXXXX escapes, Morse code) and decode them so the detector can rescan the
 * plain text.
 * rot13 has no syntax to find; the detector rescans a rot13 view of the whole text instead.
 *
 * All scanners are single passes over the string with character tests (no regular expressions with
 * nested quantifiers), so the cost is linear in the input. A decoded segment is kept only when it is
 * mostly printable text: binary blobs (images, keys) are not text and are not rescanned.
 */

export type EncodingKind = 'base64' | 'base32' | 'hex' | 'url' | 'html-entities' | 'unicode-escapes' | 'morse';

export interface DecodedSegment {
  readonly kind: EncodingKind;
  readonly text: string;
  /** Offsets of the encoded run in the scanned string. */
  readonly start: number;
  readonly end: number;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

/** Minimum encoded length worth decoding: shorter runs cannot hold an instruction. */
const MIN_B64 = 16;
const MIN_HEX = 16;
const MIN_B32 = 16;

const B64_VAL = new Int8Array(128).fill(-1);
{
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 62; i++) B64_VAL[a.charCodeAt(i)] = i;
  B64_VAL[0x2b] = 62; B64_VAL[0x2f] = 63; // + /
  B64_VAL[0x2d] = 62; B64_VAL[0x5f] = 63; // - _ (base64url)
}

const HEX_VAL = new Int8Array(128).fill(-1);
for (let c = 0; c < 128; c++) HEX_VAL[c] = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/** Value of hex digit `c` (a UTF-16 unit, NaN past the end of a string), or -1. */
function hexVal(c: number): number {
  return c < 128 ? HEX_VAL[c]! : -1;
}

/** A growable byte buffer, reused for every run of one scan (not an array per run). */
class Bytes {
  private buf = new Uint8Array(256);
  length = 0;
  clear(): void {
    this.length = 0;
  }
  push(b: number): void {
    if (this.length === this.buf.length) { const g = new Uint8Array(2 * this.buf.length); g.set(this.buf); this.buf = g; }
    this.buf[this.length++] = b;
  }
  /** UTF-8 of one UTF-16 unit >= 0x80, as TextEncoder encodes that unit alone (a lone surrogate is U+FFFD). */
  pushUtf8(c: number): void {
    if (c >= 0xd800 && c <= 0xdfff) { this.push(0xef); this.push(0xbf); this.push(0xbd); }
    else if (c < 0x800) { this.push(0xc0 | (c >> 6)); this.push(0x80 | (c & 0x3f)); }
    else { this.push(0xe0 | (c >> 12)); this.push(0x80 | ((c >> 6) & 0x3f)); this.push(0x80 | (c & 0x3f)); }
  }
  decode(): string {
    return lenientUtf8.decode(this.buf.subarray(0, this.length));
  }
}

/**
 * True when decoded bytes read as human text: valid-ish UTF-8, few control characters, and
 * containing letters. Binary data almost never passes.
 */
export function looksLikeText(s: string): boolean {
  if (s.length < 4) return false;
  let bad = 0, letters = 0, spaces = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) || (c >= 0x7f && c < 0xa0)) bad++;
    else if (c === 0x20 || c === 0x0a) spaces++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c >= 0xc0) letters++;
  }
  if (bad > s.length * 0.05) return false;
  if (letters < s.length * 0.4) return false;
  // A single long "word" of letters is more likely an identifier than a sentence.
  return spaces > 0 || s.length < 24;
}

function decodeB64Run(s: string, start: number, end: number): string | null {
  const bytes = new Uint8Array(Math.floor(((end - start) * 3) / 4) + 3);
  let o = 0, acc = 0, bits = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d || c === 0x0a || c === 0x0d) continue; // padding, wrapped lines
    const v = c < 128 ? (B64_VAL[c] as number) : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff; bits += 6;
    if (bits >= 8) { bits -= 8; bytes[o++] = (acc >> bits) & 0xff; }
  }
  return lenientUtf8.decode(bytes.subarray(0, o));
}

function isB64Char(c: number): boolean {
  return c < 128 && (B64_VAL[c] as number) >= 0;
}

function scanBase64(s: string, out: DecodedSegment[]): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    if (!isB64Char(s.charCodeAt(i))) { i++; continue; }
    const start = i;
    let hasDigitOrUpper = false, hasLower = false;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isB64Char(c)) {
        if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x2b || c === 0x2f) hasDigitOrUpper = true;
        else if (c >= 0x61 && c <= 0x7a) hasLower = true;
        i++;
      } else if (c === 0x3d) { i++; } // '=' padding (and keep going: '=' runs end below)
      else if ((c === 0x0a || c === 0x0d) && i - start >= 40 && i + 1 < n && isB64Char(s.charCodeAt(i + 1))) { i++; }
      else break;
    }
    const end = i;
    if (end - start >= MIN_B64 && hasDigitOrUpper && hasLower) {
      const text = decodeB64Run(s, start, end);
      if (text !== null && looksLikeText(text)) out.push({ kind: 'base64', text, start, end });
    }
  }
}

function scanHex(s: string, out: DecodedSegment[]): void {
  const n = s.length;
  const bytes = new Bytes();
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    // Form 1: "\x69\x67..." or "%" handled elsewhere; Form 2: contiguous "69676e..." ; Form 3: "69 67 6e" / "0x69,0x67"
    if (c === 0x5c && i + 3 < n && (s.charCodeAt(i + 1) === 0x78 || s.charCodeAt(i + 1) === 0x58)) {
      const start = i;
      bytes.clear();
      while (i + 3 < n + 0 && s.charCodeAt(i) === 0x5c && (s.charCodeAt(i + 1) | 0x20) === 0x78) {
        const h = hexVal(s.charCodeAt(i + 2)), l = hexVal(s.charCodeAt(i + 3));
        if (h < 0 || l < 0) break;
        bytes.push((h << 4) | l);
        i += 4;
      }
      if (bytes.length >= 6) {
        const text = bytes.decode();
        if (looksLikeText(text)) out.push({ kind: 'hex', text, start, end: i });
      }
      if (i === start) i++;
      continue;
    }
    if (hexVal(c) < 0) { i++; continue; }
    // A run of hex digit pairs, optionally separated by one space/comma/colon or "0x" prefixes.
    const start = i;
    bytes.clear();
    let j = i;
    while (j < n) {
      if (s.charCodeAt(j) === 0x30 && (s.charCodeAt(j + 1) | 0x20) === 0x78 && j + 3 < n + 1) j += 2; // 0x prefix
      const h = hexVal(s.charCodeAt(j)), l = j + 1 < n ? hexVal(s.charCodeAt(j + 1)) : -1;
      if (h < 0 || l < 0) break;
      bytes.push((h << 4) | l);
      j += 2;
      const sep = s.charCodeAt(j);
      if ((sep === 0x20 || sep === 0x2c || sep === 0x3a) && j + 1 < n && hexVal(s.charCodeAt(j + 1)) >= 0) j++;
    }
    const end = j;
    if (bytes.length * 2 >= MIN_HEX) {
      const text = bytes.decode();
      if (looksLikeText(text)) out.push({ kind: 'hex', text, start, end });
    }
    // Skip the whole token so a non-decoding hex run is not rescanned from each offset.
    i = end > start ? end : start + 1;
    while (i < n && hexVal(s.charCodeAt(i)) >= 0) i++;
  }
}

function scanPercent(s: string, out: DecodedSegment[]): void {
  const n = s.length;
  const bytes = new Bytes();
  let i = s.indexOf('%');
  while (i >= 0 && i < n) {
    // Extend to the whitespace-delimited token containing this '%'.
    let start = i;
    while (start > 0 && s.charCodeAt(start - 1) > 0x20) start--;
    let end = i;
    while (end < n && s.charCodeAt(end) > 0x20) end++;
    bytes.clear();
    let escapes = 0;
    for (let k = start; k < end; k++) {
      const c = s.charCodeAt(k);
      if (c === 0x25 && k + 2 < end + 0 + 1 && hexVal(s.charCodeAt(k + 1)) >= 0 && hexVal(s.charCodeAt(k + 2)) >= 0) {
        bytes.push((hexVal(s.charCodeAt(k + 1)) << 4) | hexVal(s.charCodeAt(k + 2)));
        escapes++;
        k += 2;
      } else if (c === 0x2b) bytes.push(0x20);
      else if (c < 0x80) bytes.push(c);
      else bytes.pushUtf8(c);
    }
    if (escapes >= 3) {
      const text = bytes.decode();
      if (looksLikeText(text)) out.push({ kind: 'url', text, start, end });
    }
    i = s.indexOf('%', end);
  }
}

/** Plain characters allowed between two escapes of one run ("&#105;gnore &#112;revious" is one run). */
const ESCAPE_RUN_GAP = 24;

function entityAt(s: string, i: number): { cp: number; end: number } | null {
  const n = s.length;
  let j = i + 2;
  const hex = (s.charCodeAt(j) | 0x20) === 0x78;
  if (hex) j++;
  let v = 0, digits = 0;
  while (j < n && digits < 7) {
    const c = s.charCodeAt(j);
    const d = hex ? hexVal(c) : (c >= 0x30 && c <= 0x39 ? c - 0x30 : -1);
    if (d < 0) break;
    v = v * (hex ? 16 : 10) + d; digits++; j++;
  }
  if (digits === 0 || v <= 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
  if (s.charCodeAt(j) === 0x3b) j++;
  return { cp: v, end: j };
}

function escapeAt(s: string, i: number): { cp: number; end: number } | null {
  if (i + 5 >= s.length) return null;
  let v = 0;
  for (let k = 2; k < 6; k++) { const d = hexVal(s.charCodeAt(i + k)); if (d < 0) return null; v = v * 16 + d; }
  return v >= 0xd800 && v <= 0xdfff ? null : { cp: v, end: i + 6 };
}

/**
 * HTML numeric entities (&#105; &#x69;) and JS/JSON escapes (\u0069). Each run of escapes (at most
 * ESCAPE_RUN_GAP plain characters between two of them) with at least 3 escapes is one segment: only the
 * run is decoded, so three stray "&#" in a megabyte do not make the whole input a decoded segment.
 */
function scanEntitiesAndEscapes(s: string, out: DecodedSegment[]): void {
  for (const kind of ['html-entities', 'unicode-escapes'] as const) {
    const marker = kind === 'html-entities' ? '&#' : '\\u';
    const at = kind === 'html-entities' ? entityAt : escapeAt;
    let runStart = -1, runEnd = -1, count = 0, text = '';
    const flush = (): void => {
      if (count >= 3) out.push({ kind, text, start: runStart, end: runEnd });
      runStart = -1; count = 0; text = '';
    };
    let i = s.indexOf(marker);
    while (i >= 0) {
      const e = at(s, i);
      if (e === null) { i = s.indexOf(marker, i + 1); continue; }
      if (runStart >= 0 && i - runEnd > ESCAPE_RUN_GAP) flush();
      if (runStart < 0) runStart = i; else text += s.slice(runEnd, i);
      text += String.fromCodePoint(e.cp);
      count++;
      runEnd = e.end;
      i = s.indexOf(marker, e.end);
    }
    flush();
  }
}

/** RFC 4648 base32 (upper-case alphabet A-Z 2-7, '=' padding): value of a character, or -1. */
const B32_VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) B32_VAL['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.charCodeAt(i)] = i;

/** Runs of the base32 alphabet (at least MIN_B32 characters, with a digit 2-7) that decode to text. */
function scanBase32(s: string, out: DecodedSegment[]): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c0 = s.charCodeAt(i);
    if (c0 >= 128 || B32_VAL[c0]! < 0 || (i > 0 && isB64Char(s.charCodeAt(i - 1)))) { i++; continue; }
    const start = i;
    let digits = 0;
    while (i < n) { const c = s.charCodeAt(i); if (c < 128 && B32_VAL[c]! >= 0) { if (c <= 0x39) digits++; i++; } else break; }
    let end = i;
    while (i < n && s.charCodeAt(i) === 0x3d && i - end < 6) i++; // padding
    // Part of a longer base64/identifier run (lower case follows): not base32.
    if (i < n && isB64Char(s.charCodeAt(i))) { while (i < n && isB64Char(s.charCodeAt(i))) i++; continue; }
    if (end - start < MIN_B32 || digits === 0) continue;
    const bytes = new Uint8Array(Math.floor(((end - start) * 5) / 8) + 1);
    let o = 0, acc = 0, bits = 0;
    for (let k = start; k < end; k++) {
      acc = ((acc << 5) | B32_VAL[s.charCodeAt(k)]!) & 0xffff; bits += 5;
      if (bits >= 8) { bits -= 8; bytes[o++] = (acc >> bits) & 0xff; }
    }
    const text = lenientUtf8.decode(bytes.subarray(0, o));
    if (looksLikeText(text)) out.push({ kind: 'base32', text, start, end: i });
  }
}

/** International Morse code: dots and dashes to a letter or digit. */
const MORSE: ReadonlyMap<string, string> = new Map(
  ('a.- b-... c-.-. d-.. e. f..-. g--. h.... i.. j.--- k-.- l.-.. m-- n-. o--- p.--. q--.- r.-. s... t- u..- v...- w.-- x-..- y-.-- z--.. ' +
    '0----- 1.---- 2..--- 3...-- 4....- 5..... 6-.... 7--... 8---.. 9----.').split(' ').map((e) => [e.slice(1), e.charAt(0)]),
);
function isMorseChar(c: number): boolean {
  return c === 0x2e || c === 0x2d || c === 0x20 || c === 0x2f || c === 0x7c || c === 0xb7 || c === 0x2212 || c === 0x2013 || c === 0x5f;
}
/**
 * Runs of Morse code (dots and dashes; letters split by a space, words by '/', '|' or 3+ spaces)
 * of at least eight letters that decode to text.
 */
function scanMorse(s: string, out: DecodedSegment[]): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    if (!isMorseChar(s.charCodeAt(i))) { i++; continue; }
    const start = i;
    let dots = 0, dashes = 0;
    while (i < n && isMorseChar(s.charCodeAt(i))) { const c = s.charCodeAt(i); if (c === 0x2e || c === 0xb7) dots++; else if (c === 0x2d || c === 0x2212 || c === 0x2013 || c === 0x5f) dashes++; i++; }
    if (dots === 0 || dashes === 0 || dots + dashes < 16) continue;
    let text = '', letter = '', spaces = 0, letters = 0, unknown = 0;
    const flush = (): void => {
      if (letter === '') return;
      const l = MORSE.get(letter);
      if (l === undefined) unknown++; else { text += l; letters++; }
      letter = '';
    };
    for (let k = start; k < i; k++) {
      const c = s.charCodeAt(k);
      if (c === 0x2e || c === 0xb7) { if (spaces >= 3) text += ' '; spaces = 0; letter += '.'; }
      else if (c === 0x2d || c === 0x2212 || c === 0x2013 || c === 0x5f) { if (spaces >= 3) text += ' '; spaces = 0; letter += '-'; }
      else if (c === 0x20) { flush(); spaces++; }
      else { flush(); if (!text.endsWith(' ')) text += ' '; spaces = 0; } // '/' or '|': a word break
    }
    flush();
    text = text.trim();
    if (letters >= 8 && unknown * 10 <= letters && looksLikeText(text)) out.push({ kind: 'morse', text, start, end: i });
  }
}

/** All encoded segments of `s` that decode to text. Linear in `s.length`. */
export function findEncoded(s: string): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  scanBase64(s, out);
  scanBase32(s, out);
  scanMorse(s, out);
  scanHex(s, out);
  scanPercent(s, out);
  scanEntitiesAndEscapes(s, out);
  return out;
}
