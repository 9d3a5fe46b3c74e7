/**
 * RFC 8785 JSON Canonicalization Scheme. The ledger's entry bytes are UTF-8 of this output, so it
 * must be byte-exact: object keys sorted by UTF-16 code units (RFC 8785 §3.2.3), numbers in
 * ECMAScript Number::toString form (§3.2.2.3), strings escaped as JSON.stringify does (§3.2.2.2).
 *
 * This runs several times per gated action (the intent digest, both ledger entries, payload
 * commitments), so it avoids work the result does not depend on: a string that JSON.stringify would
 * return unescaped is quoted directly, a number is written with String() (the same Number::toString
 * JSON.stringify uses), an object's keys are sorted only when they are not already in order, and
 * keys are not copied to a filtered array. test/encoding/jcs.test.ts checks the output byte for byte
 * against the straightforward implementation over many varied values.
 */
import { SiosError } from '../errors.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function canonicalize(value: unknown): string {
  return ser(value, 0);
}

/**
 * Characters JSON.stringify escapes or rejects in a string: '"', '\', C0 controls, and surrogate
 * code units (a well-formed pair is written as is, but is checked by the slow path).
 */
const NEEDS_CARE = /["\\\u0000-\u001f\ud800-\udfff]/;

const LONE_IN_STRING = 'string contains a lone UTF-16 surrogate; canonical JSON needs well-formed Unicode';
const LONE_IN_KEY = 'object key contains a lone UTF-16 surrogate';

/** A string (value or key) as JSON.stringify quotes it; `lone` is the error for a lone surrogate. */
function quote(s: string, lone: string): string {
  if (!NEEDS_CARE.test(s)) return '"' + s + '"';
  // I-JSON (RFC 7493) forbids lone surrogates; JCS inputs must be I-JSON (RFC 8785 §3.1).
  if (!s.isWellFormed()) throw new SiosError('ERR_INPUT', lone);
  return JSON.stringify(s);
}

function ser(v: unknown, depth: number): string {
  if (depth > 64) throw new SiosError('ERR_INPUT', 'value nests deeper than 64 levels; flatten it');
  switch (typeof v) {
    case 'string': return quote(v, LONE_IN_STRING);
    case 'number':
      if (!Number.isFinite(v)) throw new SiosError('ERR_INPUT', 'canonical JSON cannot hold NaN or Infinity');
      // String(n) and JSON.stringify(n) are both Number::toString for a finite n (-0 gives "0").
      return String(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        let s = '[' + ser(v[0], depth + 1);
        for (let i = 1; i < v.length; i++) s += ',' + ser(v[i], depth + 1);
        return s + ']';
      }
      if (v instanceof Uint8Array) throw new SiosError('ERR_INPUT', 'binary values must be base64url strings before canonicalisation');
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      // Default sort order is UTF-16 code unit order, as is `<` on strings; keys are distinct.
      for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) { keys.sort(); break; }
      let s = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        const x = o[k];
        if (x === undefined) continue;
        s += (first ? '' : ',') + quote(k, LONE_IN_KEY) + ':';
        first = false;
        s += ser(x, depth + 1);
      }
      return s + '}';
    }
    default:
      throw new SiosError('ERR_INPUT', `canonical JSON cannot hold a value of type ${typeof v}`);
  }
}
