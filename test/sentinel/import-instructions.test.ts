import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { instructionLines } from '../../scripts/import-instructions.ts';

const rec = (instruction: string, input?: string): string => JSON.stringify({ id: 'x', instruction, instances: input === undefined ? [] : [{ input, output: 'o' }] });

test('import-instructions: an instruction keeps a short one-line input, on the next line or after its colon', () => {
  const src = [
    rec('  Rewrite the given text and correct grammar errors. ', 'If you had told me a year ago.'),
    rec('Translate to French:', 'Good morning'),
    rec('Suggest a name for the dish.', ''),
    rec('Summarise the article.', 'x'.repeat(161)),
    rec('Classify the tweet.', 'line one\nline two'),
    rec('Write a haiku.'),
    '',
  ].join('\n');
  const out = instructionLines(src, 'user');
  assert.deepEqual(out.map((l) => l.text), [
    'Rewrite the given text and correct grammar errors.\nIf you had told me a year ago.',
    'Translate to French: Good morning',
    'Suggest a name for the dish.',
    'Summarise the article.',
    'Classify the tweet.',
    'Write a haiku.',
  ]);
  assert.ok(out.every((l) => l.lang === 'en' && l.category === 'self-instruct user'));
  // 160 characters counted as code points: an input of 160 emoji is short enough.
  assert.equal(instructionLines(rec('Describe:', '😀'.repeat(160)), 'seed')[0]!.text, `Describe: ${'😀'.repeat(160)}`);
});

test('import-instructions: a bad line names its file and line and what is wrong', () => {
  assert.throws(() => instructionLines(`${rec('ok')}\n{not json`, 'seed', 'seed_tasks.jsonl'), /seed_tasks\.jsonl:2: not JSON/);
  assert.throws(() => instructionLines(JSON.stringify({ instruction: '  ' }), 'user', 'u.jsonl'), /u\.jsonl:1: "instruction" must be a non-empty string/);
  assert.throws(() => instructionLines('[1,2]\n', 'user', 'u.jsonl'), /u\.jsonl:1: "instruction" must be/);
});

test('import-instructions: the shipped corpus is what the importer writes (427 instructions, one JSON object a line)', () => {
  const lines = readFileSync(new URL('../../data/sentinel/attacks-corpus-bipia-style-selfinstruct.jsonl', import.meta.url), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 427);
  const parsed = lines.map((l) => JSON.parse(l) as { lang: string; category: string; text: string });
  assert.equal(parsed.filter((p) => p.category === 'self-instruct user').length, 252);
  assert.equal(parsed.filter((p) => p.category === 'self-instruct seed').length, 175);
  for (const [i, p] of parsed.entries()) {
    assert.equal(JSON.stringify(p), lines[i], `line ${i + 1} is in the importer's canonical form`);
    assert.ok(p.lang === 'en' && p.text.trim() === p.text && p.text.length > 0, `line ${i + 1}`);
  }
});
