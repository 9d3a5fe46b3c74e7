/** Argument and result validation (ajv strict, draft 2020-12): clear errors naming the field, no coercion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiosError } from '../../src/errors.ts';
import { validateArgs, validateResult } from '../../src/skills/manifest.ts';
import { builtinSkillManifests } from '../../src/skills/builtin.ts';

const skills = new Map(builtinSkillManifests().map((m) => [m.id, m]));
const read = skills.get('records.read')!;
const exp = skills.get('records.export')!;

function fails(fn: () => void, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT' && re.test(e.message) && /records\./.test(e.message));
}

test('valid arguments pass', () => {
  validateArgs(read, { collection: 'patients' });
  validateArgs(read, { collection: 'patients', ids: ['p1', 'p2'], limit: 10 });
  validateArgs(exp, { collection: 'trades', format: 'csv', columns: ['id'] });
});

test('unknown, missing and ill-typed arguments are refused naming the field', () => {
  fails(() => validateArgs(read, { collection: 'patients', drop: true }), /unknown field "drop"/);
  fails(() => validateArgs(read, {}), /missing required field "collection"/);
  fails(() => validateArgs(read, { collection: 'patients', limit: '5' }), /"limit" must be of type integer/);
  fails(() => validateArgs(read, { collection: 'patients', limit: 5000 }), /"limit"/);
  fails(() => validateArgs(read, { collection: 'Patients; DROP' }), /"collection"/);
  fails(() => validateArgs(read, { collection: 'patients', ids: ['a', 'a'] }), /"ids"/);
  fails(() => validateArgs(read, { collection: 'patients', ids: [1] }), /"ids.0" must be of type string/);
  fails(() => validateArgs(exp, { collection: 'trades', format: 'xlsx' }), /"format" must be one of \["csv","jsonl"\]/);
  fails(() => validateArgs(read, 'collection=patients'), /top level/);
  fails(() => validateArgs(read, null), /top level/);
});

test('no coercion: the value is not changed by validation', () => {
  const args = { collection: 'patients', limit: 3 };
  validateArgs(read, args);
  assert.deepEqual(args, { collection: 'patients', limit: 3 });
  fails(() => validateArgs(read, { collection: 'patients', limit: 3.5 }), /"limit" must be of type integer/);
});

test('results are validated too', () => {
  validateResult(read, { collection: 'patients', count: 0, rows: [] });
  fails(() => validateResult(read, { collection: 'patients', count: -1, rows: [] }), /"count"/);
  fails(() => validateResult(read, { collection: 'patients', count: 0, rows: [], leaked: 'x' }), /unknown field "leaked"/);
});
