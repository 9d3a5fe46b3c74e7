/** Loud input checks shared by auth/: unknown keys, wrong types and sizes are ERR_INPUT. */
import { SiosError } from '../errors.ts';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function expectObject(v: unknown, what: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
  if (!isRecord(v)) throw new SiosError('ERR_INPUT', `${what} must be a JSON object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new SiosError('ERR_INPUT', `${what} has an unknown field "${k.slice(0, 40)}"; allowed fields are ${allowed.join(', ') || 'none'}`);
  }
  for (const k of required) {
    if (v[k] === undefined) throw new SiosError('ERR_INPUT', `${what} is missing the field "${k}"`);
  }
  return v;
}

// Control characters (C0, DEL, C1) and lone surrogates are refused in every stored text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function expectString(v: unknown, what: string, max: number, min = 1): string {
  if (typeof v !== 'string') throw new SiosError('ERR_INPUT', `${what} must be a string`);
  if (v.length < min || v.length > max) throw new SiosError('ERR_INPUT', `${what} must be ${min}..${max} characters long, got ${v.length}`);
  if (CONTROL.test(v) || !v.isWellFormed()) throw new SiosError('ERR_INPUT', `${what} contains control characters or invalid Unicode; use printable text`);
  return v;
}

export function expectPattern(v: unknown, what: string, re: RegExp, hint: string): string {
  if (typeof v !== 'string' || !re.test(v)) throw new SiosError('ERR_INPUT', `${what} is malformed; expected ${hint}`);
  return v;
}

export function expectInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new SiosError('ERR_INPUT', `${what} must be an integer in ${min}..${max}`);
  }
  return v;
}

/** Tenant ids: lower-case DNS-label-like, so they are safe in file names, origins and Cedar ids. */
export const TENANT_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
