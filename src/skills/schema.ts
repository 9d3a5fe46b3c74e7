/**
 * JSON Schema (draft 2020-12) validation of skill arguments and results, through ajv in strict
 * mode: no type coercion, no defaults inserted, no remote $ref (ajv has no loader configured, so
 * an unresolvable reference fails compilation), unknown keywords and unknown formats rejected.
 * Validators are compiled once per schema (keyed by its canonical form).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { SiosError } from '../errors.ts';
import { canonicalize } from '../encoding/jcs.ts';

const ajv = new Ajv2020({
  strict: true,
  strictRequired: false,
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  validateFormats: true,
  allowUnionTypes: true,
  addUsedSchema: false,
});

const cache = new Map<string, ValidateFunction>();
const MAX_CACHE = 1024;

/** Compiles (once) a schema; an invalid or non-strict schema is ERR_INPUT naming `what`. */
const byObject = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: unknown, what: string): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new SiosError('ERR_INPUT', `${what} must be a JSON Schema object`);
  // A verified manifest is never mutated (the registry owns it): the same schema object compiles once.
  const known = byObject.get(schema);
  if (known) return known;
  const key = canonicalize(schema);
  let v = cache.get(key);
  if (v === undefined) {
    if (/"\$(ref|dynamicRef)":"(?!#)/.test(key)) throw new SiosError('ERR_INPUT', `${what} uses a non-local $ref; only references inside the schema ("#/...") are allowed (no remote schemas)`);
    if (/"\$id":/.test(key)) throw new SiosError('ERR_INPUT', `${what} declares $id; skill schemas must be self-contained without $id`);
    let compiled: ValidateFunction;
    try {
      compiled = ajv.compile(schema);
    } catch (cause) {
      throw new SiosError('ERR_INPUT', `${what} is not a valid strict JSON Schema (draft 2020-12): ${(cause as Error).message}`, { cause });
    }
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(key, compiled);
    v = compiled;
  }
  byObject.set(schema, v);
  return v;
}

function describeError(e: ErrorObject): string {
  const at = e.instancePath === '' ? '(the top level)' : `"${e.instancePath.slice(1).replaceAll('/', '.')}"`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': return `unknown field "${String(p['additionalProperty'])}" at ${at}`;
    case 'required': return `missing required field "${String(p['missingProperty'])}" at ${at}`;
    case 'type': return `field ${at} must be of type ${String(p['type'])}`;
    case 'enum': return `field ${at} must be one of ${JSON.stringify(p['allowedValues'])}`;
    default: return `field ${at} ${e.message ?? 'is invalid'}`;
  }
}

/** Validates `value`; throws ERR_INPUT naming the first bad field. */
export function validateWith(schema: unknown, value: unknown, what: string): void {
  const v = compileSchema(schema, `${what} schema`);
  if (!v(value)) {
    const e = v.errors?.[0];
    const msg = e === undefined ? 'does not match its schema' : describeError(e);
    throw new SiosError('ERR_INPUT', `${what}: ${msg}; correct the value to match the skill's schema`, { details: { path: e?.instancePath ?? '', keyword: e?.keyword ?? '' } });
  }
}
