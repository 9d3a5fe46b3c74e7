/**
 * Byte helpers on Uint8Array only: runtime-agnostic (no Buffer, no node:*), so the browser
 * verifier bundles this module unchanged.
 */
import { SiosError } from '../errors.ts';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decode: invalid sequences are an error, never U+FFFD. */
export function fromUtf8(b: Uint8Array, what = 'input'): string {
  try {
    return strictDecoder.decode(b);
  } catch (cause) {
    throw new SiosError('ERR_ENCODING', `${what} is not valid UTF-8; supply the original file unmodified`, { cause });
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Constant-time equality for secrets and MACs; length is not secret. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

/** Plain equality for public values (hashes), early exit allowed. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) { const v = b[i] as number; s += HEX[v >> 4]! + HEX[v & 15]!; }
  return s;
}

export function fromHex(s: string, what = 'hex value'): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new SiosError('ERR_ENCODING', `${what} is not an even-length hexadecimal string`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DEC_STD = new Int16Array(128).fill(-1);
const DEC_URL = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) { DEC_STD[B64.charCodeAt(i)] = i; DEC_URL[B64URL.charCodeAt(i)] = i; }

function enc(b: Uint8Array, alphabet: string, pad: boolean): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
    s += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + alphabet[v & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const v = (b[i] as number) << 16;
    s += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const v = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8);
    s += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + (pad ? '=' : '');
  }
  return s;
}

function dec(s: string, table: Int16Array, padded: boolean, what: string): Uint8Array {
  let body = s;
  if (padded) {
    if (s.length % 4 !== 0) throw new SiosError('ERR_ENCODING', `${what} is not padded base64 (length ${s.length} is not a multiple of 4)`);
    if (body.endsWith('==')) body = body.slice(0, -2);
    else if (body.endsWith('=')) body = body.slice(0, -1);
  }
  if (body.length % 4 === 1) throw new SiosError('ERR_ENCODING', `${what} has an impossible base64 length`);
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let o = 0, acc = 0, bits = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? (table[c] as number) : -1;
    if (v < 0) throw new SiosError('ERR_ENCODING', `${what} contains a character that is not base64 at offset ${i}`);
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
  }
  // Non-canonical encodings (stray low bits) are rejected so each value has one spelling.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw new SiosError('ERR_ENCODING', `${what} is not canonical base64`);
  return out;
}

// On Node, Buffer encodes natively (an order of magnitude faster than enc(), which matters on the
// gate's path: proofs, leaf hashes and checkpoint signatures are encoded for every action). Its
// base64 and base64url output is RFC 4648's, the same text as enc() (test/encoding/bytes.test.ts).
// Browsers, which have no Buffer, use enc().
interface NodeBufferLike { from(a: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64' | 'base64url'): string } }
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

export const toBase64 = NodeBuffer
  ? (b: Uint8Array): string => NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
  : (b: Uint8Array): string => enc(b, B64, true);
export const fromBase64 = (s: string, what = 'base64 value'): Uint8Array => dec(s, DEC_STD, true, what);
export const toBase64url = NodeBuffer
  ? (b: Uint8Array): string => NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url')
  : (b: Uint8Array): string => enc(b, B64URL, false);
/** The portable encoders, whatever the runtime (tests compare the two). */
export const toBase64Portable = (b: Uint8Array): string => enc(b, B64, true);
export const toBase64urlPortable = (b: Uint8Array): string => enc(b, B64URL, false);
export const fromBase64url = (s: string, what = 'base64url value'): Uint8Array => dec(s, DEC_URL, false, what);

/** RFC 4648 base32 (upper-case alphabet, '=' padding to a multiple of 8). */
export function toBase32(b: Uint8Array): string {
  const al = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '', acc = 0, n = 0;
  for (const x of b) {
    acc = (acc << 8) | x; n += 8;
    while (n >= 5) { out += al[(acc >>> (n - 5)) & 31]; n -= 5; }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out += al[(acc << (5 - n)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}

/** Does base64url text `s` encode exactly `b`? Allocation-free (hot path of bundle verification). */
export function base64urlEquals(s: string, b: Uint8Array): boolean {
  if (s.length !== Math.ceil((b.length * 4) / 3)) return false;
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const v = ch < 128 ? (DEC_URL[ch] as number) : -1;
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0xffffff; bits += 6;
    if (bits >= 8) { bits -= 8; if (((acc >> bits) & 0xff) !== b[o++]) return false; }
  }
  return o === b.length && (bits === 0 || (acc & ((1 << bits) - 1)) === 0);
}

/** Ascii85 as Python's base64.a85encode writes it ('z' for four zero bytes, no delimiters). Used to test Sentinel's decoders. */
export function toAscii85(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 4) {
    const n = Math.min(4, b.length - i);
    let v = 0;
    for (let k = 0; k < 4; k++) v = v * 256 + (k < n ? b[i + k]! : 0);
    if (v === 0 && n === 4) { out += 'z'; continue; }
    const c: string[] = [];
    for (let k = 0; k < 5; k++) { c.unshift(String.fromCharCode(33 + (v % 85))); v = Math.floor(v / 85); }
    out += c.slice(0, n + 1).join('');
  }
  return out;
}
/** uuencode lines (45 bytes each, a length character first) as Python's binascii.b2a_uu writes them. */
export function toUuencode(b: Uint8Array): string {
  const ch = (v: number): string => String.fromCharCode(v === 0 ? 0x20 : 0x20 + v);
  let out = '';
  for (let i = 0; i < b.length; i += 45) {
    const line = b.subarray(i, i + 45);
    out += ch(line.length);
    for (let k = 0; k < line.length; k += 3) {
      const v = (line[k]! << 16) | ((line[k + 1] ?? 0) << 8) | (line[k + 2] ?? 0);
      out += ch((v >> 18) & 63) + ch((v >> 12) & 63) + ch((v >> 6) & 63) + ch(v & 63);
    }
    out += '\n';
  }
  return out;
}
/** Quoted-printable (RFC 2045) with every space, '=' and non-ASCII byte escaped, soft line breaks at 76 characters. */
export function toQuotedPrintable(b: Uint8Array): string {
  let out = '', line = 0;
  for (const x of b) {
    const t = x > 0x20 && x < 0x7f && x !== 0x3d ? String.fromCharCode(x) : '=' + x.toString(16).toUpperCase().padStart(2, '0');
    if (line + t.length > 75) { out += '=\n'; line = 0; }
    out += t; line += t.length;
  }
  return out;
}
