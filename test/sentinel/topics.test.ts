import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTopics } from '../../scripts/build-topics.ts';
import { cosine, parseTopics, topics, TOPICS_URL } from '../../src/sentinel/topics.ts';

const vec = (w: string): Float64Array => {
  const t = topics(), r = t.rows.get(w);
  assert.ok(r !== undefined, `${w} is in the table`);
  return Float64Array.from(t.vectors.subarray(r * t.dims, (r + 1) * t.dims));
};
const cos = (a: string, b: string): number => cosine(vec(a), 0, vec(b), 0, topics().dims);

test('topics: the shipped table loads (50,000 words, 32 dimensions) and related words point the same way', () => {
  const t = topics();
  assert.equal(t.dims, 32);
  assert.equal(t.rows.size, 50000);
  assert.equal(t.vectors.length, 50000 * 32);
  // Function words carry no topic and are left out.
  for (const w of ['the', 'and', 'you', 'what']) assert.equal(t.rows.get(w), undefined, w);
  assert.ok(cos('invoice', 'payment') > cos('invoice', 'poem') + 0.2, 'invoice ~ payment, not poem');
  assert.ok(cos('patient', 'hospital') > cos('patient', 'recipe') + 0.2, 'patient ~ hospital, not recipe');
  assert.ok(cos('python', 'script') > cos('python', 'mortgage'), 'python ~ script');
});

test('topics: a truncated, padded or altered file is refused with what to do', () => {
  const buf = readFileSync(TOPICS_URL);
  const nl = buf.indexOf(0x0a);
  assert.throws(() => parseTopics(buf.subarray(0, buf.length - 1), 'f'), /f is \d+ bytes, its header says \d+: truncated or altered; rebuild it with node scripts\/build-topics\.ts/);
  assert.throws(() => parseTopics(Buffer.concat([buf, Buffer.from([0])]), 'f'), /truncated or altered/);
  assert.throws(() => parseTopics(Buffer.from('not json\n'), 'f'), /header is not JSON/);
  assert.throws(() => parseTopics(Buffer.from('x'.repeat(5000)), 'f'), /no header line/);
  const header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Record<string, unknown>;
  const withHeader = (h: Record<string, unknown>): Buffer => Buffer.concat([Buffer.from(JSON.stringify(h) + '\n'), buf.subarray(nl + 1)]);
  assert.throws(() => parseTopics(withHeader({ ...header, format: 'other/2' }), 'f'), /format "other\/2", expected "sentinel-topics\/1"/);
  assert.throws(() => parseTopics(withHeader({ ...header, dims: -1 }), 'f'), /bad dims\/words\/wordBytes/);
  // A word replaced by one that is not a lowercase word (the byte length kept).
  const words = Buffer.from(buf.subarray(nl + 1));
  words[0] = 0x41; // 'A'
  assert.throws(() => parseTopics(Buffer.concat([buf.subarray(0, nl + 1), words]), 'f'), /word 1 \("A.*"\) is not a new lowercase word/);
  assert.equal(parseTopics(buf, 'f').rows.size, 50000);
});

test('build-topics: deterministic; keeps the lowercase words after the stopwords; the output parses; a bad source is refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sios-topics-'));
  try {
    // A small source in wink's layout: 12 dimensions, 80 words (two not lowercase letters), vectors from a fixed formula.
    const words = Array.from({ length: 80 }, (_, i) => (i === 3 ? ',' : i === 9 ? 'Paris' : 'w' + String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + Math.floor(i / 26))));
    const vectors = Object.fromEntries(words.map((w, i) => [w, [...Array.from({ length: 12 }, (_, j) => Math.sin((i + 1) * (j + 2)) + (j === 0 ? 1 : 0)), 1, i]]));
    const src = join(dir, 'src.json');
    writeFileSync(src, JSON.stringify({ precision: 8, dimensions: 12, words, vectors }));
    const opts = { words: 40, stopwords: 5, dims: 4, pcaWords: 60 };
    const a = buildTopics(src, opts), b = buildTopics(src, opts);
    assert.ok(a.equals(b), 'same bytes twice');
    const t = parseTopics(a, 'built');
    assert.equal(t.dims, 4);
    const kept = words.filter((w) => /^[a-z]+$/.test(w)).slice(5, 45);
    assert.deepEqual([...t.rows.keys()], kept);
    assert.equal(t.rows.get('wa' + 'a'), undefined, 'the most frequent words are left out');
    assert.ok(t.vectors.some((v) => v !== 0));
    assert.throws(() => buildTopics(src, { ...opts, words: 100 }), /has 78 lowercase words; 105 needed/);
    writeFileSync(src, JSON.stringify({ dimensions: 2, words, vectors }));
    assert.throws(() => buildTopics(src, opts), /not a wink embeddings file with at least 4 dimensions/);
    writeFileSync(src, '{"dimensions": 12,');
    assert.throws(() => buildTopics(src, opts), /src\.json is not JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
