/**
 * RFC 8785 JSON Canonicalization Scheme. The ledger's entry bytes are UTF-8 of this output, so it
 * must be byte-exact: object keys sorted by UTF-16 code units (RFC 8785 §3.2.3), numbers in
 * ECMAScript Number::toString form (§3.2.2.3), strings escaped as JSON.stringify does (§3.2.2.2).
 */
import { SiosError } from '../errors.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function canonicalize(value: unknown): string {
  return ser(value, 0);
}

function ser(v: unknown, depth: number): string {
  if (depth > 64) throw new SiosError('ERR_INPUT', 'value nests deeper than 64 levels; flatten it');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new SiosError('ERR_INPUT', 'canonical JSON cannot hold NaN or Infinity');
      return JSON.stringify(v);
    case 'string':
      // I-JSON (RFC 7493) forbids lone surrogates; JCS inputs must be I-JSON (RFC 8785 §3.1).
      if (!v.isWellFormed()) throw new SiosError('ERR_INPUT', 'string contains a lone UTF-16 surrogate; canonical JSON needs well-formed Unicode');
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) { if (i) s += ','; s += ser(v[i], depth + 1); }
        return s + ']';
      }
      if (v instanceof Uint8Array) throw new SiosError('ERR_INPUT', 'binary values must be base64url strings before canonicalisation');
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort(); // default sort = UTF-16 code unit order
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i) s += ',';
        if (!k.isWellFormed()) throw new SiosError('ERR_INPUT', 'object key contains a lone UTF-16 surrogate');
        s += JSON.stringify(k) + ':' + ser(o[k], depth + 1);
      }
      return s + '}';
    }
    default:
      throw new SiosError('ERR_INPUT', `canonical JSON cannot hold a value of type ${typeof v}`);
  }
}
