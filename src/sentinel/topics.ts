import { readFileSync } from 'node:fs';
import { SiosError } from '../errors.ts';

/**
 * English word vectors for topic coherence (src/sentinel/topics-en.bin, built by
 * scripts/build-topics.ts from GloVe): a sentence whose words point elsewhere than the rest of its
 * document is off topic, which is what a planted request ("write a poem about the sea" in a bank's
 * e-mail) is and an on-topic question of a forum thread is not. Words outside the table (other
 * languages, names, function words) carry no vector.
 */
export interface Topics {
  readonly dims: number;
  /** Row of a lowercase word, or undefined. */
  readonly rows: ReadonlyMap<string, number>;
  /** rows x dims, weighted by rarity, scaled by `scale`. */
  readonly vectors: Int8Array;
}

export const TOPICS_URL = new URL('./topics-en.bin', import.meta.url);
const REBUILD = 'rebuild it with node scripts/build-topics.ts (see its first comment)';

/** Parses the file: a JSON header line, the words (one a line), then rows x dims signed bytes. */
export function parseTopics(buf: Uint8Array, name = TOPICS_URL.pathname): Topics {
  const nl = buf.indexOf(0x0a);
  if (nl < 0 || nl > 4096) throw new Error(`Sentinel: ${name} has no header line; ${REBUILD}`);
  let h: { format?: unknown; dims?: unknown; words?: unknown; wordBytes?: unknown };
  try {
    h = JSON.parse(Buffer.from(buf.subarray(0, nl)).toString('utf8')) as typeof h;
  } catch {
    throw new Error(`Sentinel: ${name}'s header is not JSON; ${REBUILD}`);
  }
  const { dims, words, wordBytes } = h;
  if (h.format !== 'sentinel-topics/1') throw new Error(`Sentinel: ${name} has format ${JSON.stringify(h.format)}, expected "sentinel-topics/1"; ${REBUILD}`);
  const ok = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= max;
  if (!ok(dims, 1024) || !ok(words, 1 << 22) || !ok(wordBytes, 1 << 28)) throw new Error(`Sentinel: ${name}'s header has bad dims/words/wordBytes; ${REBUILD}`);
  const start = nl + 1, vstart = start + wordBytes;
  if (buf.length !== vstart + words * dims) throw new Error(`Sentinel: ${name} is ${buf.length} bytes, its header says ${vstart + words * dims}: truncated or altered; ${REBUILD}`);
  const list = Buffer.from(buf.subarray(start, vstart)).toString('utf8').split('\n');
  if (list.length !== words) throw new Error(`Sentinel: ${name} lists ${list.length} words, its header says ${words}; ${REBUILD}`);
  const rows = new Map<string, number>();
  list.forEach((w, i) => {
    if (!/^[a-z]+$/.test(w) || rows.has(w)) throw new Error(`Sentinel: ${name}: word ${i + 1} (${JSON.stringify(w.slice(0, 40))}) is not a new lowercase word; ${REBUILD}`);
    rows.set(w, i);
  });
  const vectors = new Int8Array(buf.buffer, buf.byteOffset + vstart, words * dims);
  return { dims, rows, vectors };
}

let loaded: Topics | undefined;
/**
 * The shipped table, read once. A missing or damaged file is an error of the installation, named with
 * what to do; the detector loads it with the model (index.ts), so a scan never runs without it.
 */
export function topics(): Topics {
  if (loaded === undefined) {
    let buf: Buffer;
    try {
      buf = readFileSync(TOPICS_URL);
    } catch (cause) {
      throw new SiosError('ERR_NOT_FOUND', `Sentinel: cannot read ${TOPICS_URL.pathname} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); it ships with SIOS: restore it from the release or ${REBUILD}`, { cause });
    }
    try {
      loaded = parseTopics(buf);
    } catch (cause) {
      throw new SiosError('ERR_INTERNAL', (cause as Error).message, { cause });
    }
  }
  return loaded;
}

/** Cosine of two vectors; 0 when either is zero. */
export function cosine(a: Float64Array, ai: number, b: Float64Array, bi: number, dims: number): number {
  let ab = 0, aa = 0, bb = 0;
  for (let j = 0; j < dims; j++) { const x = a[ai + j]!, y = b[bi + j]!; ab += x * y; aa += x * x; bb += y * y; }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
