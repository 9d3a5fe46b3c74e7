import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK, MIN_CHUNK, chunksOf, evalLine, trainable } from '../../scripts/import-pydocs.ts';

const para = (word: string, n: number): string => Array.from({ length: n }, () => word).join(' ');

test('import-pydocs: chunks are whole paragraphs up to CHUNK characters; short ones are dropped, a long paragraph stands alone', () => {
  const a = para('alpha', 60), b = para('bravo', 60), c = para('charlie', 400), d = 'tiny';
  const src = [a, b, c, d].join('\n\n');
  const chunks = chunksOf('library/x.rst.txt', src);
  // a and b (about 360 characters each) fit together; c (3,200) is longer than CHUNK and is one chunk; d is under MIN_CHUNK.
  assert.equal(chunks.length, 2);
  assert.equal(chunks[0]!.text, `${a}\n\n${b}`);
  assert.equal(chunks[1]!.text, c);
  assert.ok(c.length > CHUNK && d.length < MIN_CHUNK);
  assert.deepEqual(chunks.map((x) => x.index), [0, 1]);
  for (const x of chunks) assert.equal(x.text, x.text.trim());
  // Windows line ends and blank lines with spaces separate paragraphs the same way.
  assert.deepEqual(chunksOf('library/x.rst.txt', [a, b, c].join('\r\n  \r\n')).map((x) => x.text), [`${a}\n\n${b}`, c]);
});

test('import-pydocs: files fall in two fixed halves by the hash of their path, and a chunk is written as {"id", "text"}', () => {
  const paths = Array.from({ length: 200 }, (_, i) => `library/m${i}.rst.txt`);
  const kept = paths.filter(trainable).length;
  assert.ok(kept > 70 && kept < 130, `about half the files are kept for training (${kept} of 200)`);
  assert.equal(trainable('library/m1.rst.txt'), trainable('library/m1.rst.txt'));
  const line = evalLine({ path: 'faq/general.rst.txt', index: 3, text: 'What is "Python"?\nA language.' });
  assert.deepEqual(JSON.parse(line), { id: 'faq/general.rst.txt#3', text: 'What is "Python"?\nA language.' });
});
