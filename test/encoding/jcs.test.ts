/**
 * canonicalize() (src/encoding/jcs.ts) takes shortcuts for speed; ledger entry bytes are its UTF-8
 * and are verified by third parties, so its output must stay byte-identical to the straightforward
 * RFC 8785 implementation below (the one SIOS shipped before the shortcuts), and it must refuse
 * exactly what that one refused, with the same message. Checked over RFC 8785's own example, over
 * the shapes the gate seals, and over many generated values: unicode (astral, combining, controls,
 * quotes, backslashes, U+2028), numbers of every kind, nesting, key orders including integer-like
 * keys, undefined members, and the inputs that must be refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../../src/encoding/jcs.ts';
import { SiosError } from '../../src/errors.ts';

// ---- the reference: src/encoding/jcs.ts as it was before it was optimised, unchanged ----
function reference(value: unknown): string {
  return refSer(value, 0);
}
function refSer(v: unknown, depth: number): string {
  if (depth > 64) throw new SiosError('ERR_INPUT', 'value nests deeper than 64 levels; flatten it');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new SiosError('ERR_INPUT', 'canonical JSON cannot hold NaN or Infinity');
      return JSON.stringify(v);
    case 'string':
      if (!v.isWellFormed()) throw new SiosError('ERR_INPUT', 'string contains a lone UTF-16 surrogate; canonical JSON needs well-formed Unicode');
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) { if (i) s += ','; s += refSer(v[i], depth + 1); }
        return s + ']';
      }
      if (v instanceof Uint8Array) throw new SiosError('ERR_INPUT', 'binary values must be base64url strings before canonicalisation');
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i) s += ',';
        if (!k.isWellFormed()) throw new SiosError('ERR_INPUT', 'object key contains a lone UTF-16 surrogate');
        s += JSON.stringify(k) + ':' + refSer(o[k], depth + 1);
      }
      return s + '}';
    }
    default:
      throw new SiosError('ERR_INPUT', `canonical JSON cannot hold a value of type ${typeof v}`);
  }
}

type Outcome = { ok: string } | { err: string; code: string };
function run(f: (v: unknown) => string, v: unknown): Outcome {
  try { return { ok: f(v) }; } catch (e) {
    return { err: (e as Error).message, code: e instanceof SiosError ? e.code : (e as Error).constructor.name };
  }
}
function same(v: unknown, what: string): void {
  const a = run(canonicalize, v);
  const b = run(reference, v);
  assert.deepEqual(a, b, what);
  if ('ok' in a) assert.deepEqual(new TextEncoder().encode(a.ok), new TextEncoder().encode((b as { ok: string }).ok), what);
}

// A small deterministic PRNG, so that a failure names a reproducible case.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

const SPECIAL_CHARS = ['"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u00e9', '\u2028', '\u2029', '\u20ac', '\ufeff', '\uffff',
  '\ud83d\ude00', '\ud800\udc00', '\udbff\udfff', 'e\u0301', '\u4e2d', '\u0644', ' ', 'A', 'z', '0', '~', '\''];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];

function genString(r: () => number, loneOk: boolean): string {
  const n = Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = r();
    if (p < 0.35) s += String.fromCharCode(0x61 + Math.floor(r() * 26));
    else if (p < 0.7) s += SPECIAL_CHARS[Math.floor(r() * SPECIAL_CHARS.length)];
    else if (p < 0.85) s += String.fromCharCode(Math.floor(r() * 0xd800));
    else if (p < 0.97) s += String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff));
    else if (loneOk) s += LONE[Math.floor(r() * LONE.length)];
  }
  return s;
}

const NUMBERS = [0, -0, 1, -1, 0.1, 0.2 + 0.1, 1e21, 1e20, 123456789012345680000, 1e-6, 1e-7, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE,
  Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 333333333.33333329, 1e30, 4.5, 2e-3, 1e-27, 9007199254740993, 0.000001, 1.5e300, -1.7976931348623157e308, 100, 1e2, 12.5e-10];

function genNumber(r: () => number): number {
  const p = r();
  if (p < 0.3) return NUMBERS[Math.floor(r() * NUMBERS.length)] as number;
  if (p < 0.5) return Math.floor(r() * 2 ** 31) * (r() < 0.5 ? -1 : 1);
  if (p < 0.7) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  // Arbitrary bit patterns: any finite double.
  const b = new DataView(new ArrayBuffer(8));
  b.setUint32(0, Math.floor(r() * 2 ** 32)); b.setUint32(4, Math.floor(r() * 2 ** 32));
  const x = b.getFloat64(0);
  return Number.isFinite(x) ? x : 0.5;
}

function genKey(r: () => number, loneOk: boolean): string {
  const p = r();
  if (p < 0.15) return String(Math.floor(r() * 20)); // integer-like: enumerated first, numerically
  if (p < 0.2) return String(2 ** 32 + Math.floor(r() * 10)); // above the array index range
  if (p < 0.25) return ['-1', '01', '1.5', '', ' ', 'A', 'a', 'B', '_', 'é', '\u20ac', '\ud83d\ude00', '\ufb33', 'aa', 'a\u0000'][Math.floor(r() * 15)] as string;
  return genString(r, loneOk);
}

function genValue(r: () => number, depth: number, loneOk: boolean): unknown {
  const p = r();
  if (depth > 5 || p < 0.45) {
    const q = r();
    if (q < 0.4) return genString(r, loneOk);
    if (q < 0.75) return genNumber(r);
    if (q < 0.85) return r() < 0.5;
    return null;
  }
  if (p < 0.7) {
    const n = Math.floor(r() * 6);
    return Array.from({ length: n }, () => genValue(r, depth + 1, loneOk));
  }
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) o[genKey(r, loneOk)] = r() < 0.05 ? undefined : genValue(r, depth + 1, loneOk);
  return o;
}

test('RFC 8785 §3.2.4 example, byte for byte', () => {
  const input = JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}');
  const want = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
  assert.equal(canonicalize(input), want);
  assert.equal(reference(input), want);
});

test('the shapes the gate seals (intent and outcome entries, payloads) are byte-identical', () => {
  const r = rng(7);
  for (let i = 0; i < 500; i++) {
    const draft = {
      principal: { id: `p_${i.toString(16).padStart(32, '0')}`, name: genString(r, false) || 'nurse', role: 'member', clearance: i % 5 },
      credential: { kind: i % 2 ? 'token' : 'session', id: 'bc2af206bb7fceae' },
      brain: i % 3 ? { id: 'sios.assistant', version: '1.0.0', digest: 'sha256:df56f74d156b755e2c70f0b314e0fc9735e1a88e438ddd6c70e5040eacceccb1' } : null,
      skill: { id: 'records.read', version: '1.0.0', digest: 'sha256:00', risk: 'read', clearance: 1 },
      args: 'ricUTPMB4y9nbBezwbm8qOIOZ90Hv80PxdAKUxEAtrc',
      policy: { version: 'v3', decision: 'allow', policyIds: ['policy0', 'policy1'], reasons: [genString(r, false)] },
      rate: { credential: { count: i, limit: 1e9, remaining: 1e9 - i - 1, capacity: 1e9 }, skill: { count: 0, limit: 100 }, tenant: { count: 0, limit: 100 } },
      sentinel: { decision: 'allow', reasons: [], labels: { trust: 'trusted', sources: [genString(r, false)] } },
      dryRun: null,
      needs: { brains: 0, human: false },
      nonce: 'Ol41y_XvGmJ3l43ZzrKcsX71RbOWI61Y_DKUf7edhec',
    };
    same(draft, `draft ${i}`);
    const body = { ...draft, digest: 'fFeyAsk-m_jI_d0ZUjyY4K0ubV5lKlX9Ln0CpxJMvUw', approvals: { brains: [], human: null }, commitments: { args: 'x' } };
    same({ v: 1, tenant: 'st-mary', seq: i * 1000, time: new Date(1_700_000_000_000 + i * 997).toISOString(), kind: 'intent', prev: 'ghtFcZRrW-pV1bLBvv4BB_OzvfTT-wf9OYP6lBa2XBw', body }, `intent ${i}`);
    same({ v: 1, tenant: 'northbank', seq: i * 1000 + 1, time: '2026-11-24T00:07:18.197Z', kind: 'outcome', prev: 'x', body: { status: 'ok', resultBytes: i, intent: { seq: i * 1000, leaf: 'y' } } }, `outcome ${i}`);
    same({ salt: 'z1vqzXgpsLBLRbpQEkPD4PHUQY78hq5bjRgw7XiJmaY', payload: { collection: 'patients', ids: [`P-${i}`] } }, `payload ${i}`);
  }
});

test('generated values: unicode, numbers, nesting, key orders, byte-identical to the reference', () => {
  for (let seed = 1; seed <= 6000; seed++) {
    const r = rng(seed);
    same(genValue(r, 0, false), `seed ${seed}`);
  }
});

test('generated values that include refused inputs: the same refusals, with the same messages', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(1_000_000 + seed);
    const v = genValue(r, 0, true);
    same(v, `seed ${seed}`);
    // The same value with one inner member made unrepresentable.
    const bad = [NaN, Infinity, -Infinity, undefined, () => 1, Symbol('s'), 10n, new Uint8Array(2), '\ud800'][seed % 9];
    same({ a: v, b: [v, bad] }, `seed ${seed} with ${String(typeof bad)}`);
    same({ [LONE[seed % 4] as string]: seed % 2 ? undefined : 1, ok: v }, `seed ${seed} lone-surrogate key`);
  }
});

test('edge cases: depth, holes, non-plain objects, integer-like keys, -0', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 64; i++) deep = [deep];
  same(deep, 'depth 64');
  same([deep], 'depth 65');
  let deepObj: unknown = 'x';
  for (let i = 0; i < 66; i++) deepObj = { k: deepObj };
  same(deepObj, 'object depth 66');
  same([1, , 3], 'array hole'); // eslint-disable-line no-sparse-arrays
  same([undefined], 'undefined in an array');
  same({ a: undefined }, 'undefined member');
  same({}, 'empty object');
  same([], 'empty array');
  same({ '10': 1, '2': 2, '1': 3, b: 4, a: 5, '': 6, '-1': 7 }, 'integer-like keys');
  same({ b: 1, a: { d: 1, c: [{ f: 1, e: 2 }] } }, 'nested unsorted');
  same({ a: 1, b: 2, c: 3 }, 'already sorted');
  same({ '\ud83d\ude00': 1, '\ufb33': 2, '\u20ac': 3 }, 'keys sorted by UTF-16 code units, not code points');
  same(-0, '-0'); same([-0, 0], '-0 in array');
  same(new Date(0), 'a Date (no toJSON is applied)');
  same(new Map([[1, 2]]), 'a Map');
  same(Object.create(null), 'null prototype');
  same(Object.assign(Object.create({ inherited: 1 }), { own: 2 }), 'inherited members are not serialised');
  same(new Number(5), 'a Number object');
  same(new String('ab'), 'a String object');
  same({ toJSON: () => 1 }, 'toJSON is not called');
  same('\u2028\u2029', 'line and paragraph separators are not escaped');
  same('\u0000\u001f\u007f', 'controls');
  same(undefined, 'undefined');
  same(() => 1, 'function');
  same(1n, 'bigint');
  same(Symbol('x'), 'symbol');
});
