/**
 * Builds src/sentinel/vocab-en.txt: the English words Sentinel's respacing layer (src/sentinel/unspaced.ts)
 * splits run-together text into. Deterministic, from benign training documents in the repository only
 * (BIPIA's training contexts and the English benign corpora; never an attack, never an evaluation file):
 * every word of 2 to 20 letters a-z seen at least twice, with how many times, sorted by word.
 *
 *   node scripts/build-vocab.ts            writes the file
 *   node scripts/build-vocab.ts --check    exits 1 when the file differs from what this script builds
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const VOCAB_FILE = `${REPO}src/sentinel/vocab-en.txt`;
const MIN_COUNT = 2;

/** The benign English texts the vocabulary is read from. */
function sources(): string[] {
  const texts: string[] = [];
  for (const f of ['email_train.jsonl', 'table_train.jsonl', 'code_train.jsonl']) {
    for (const line of readFileSync(`${REPO}data/bipia-train/${f}`, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const o = JSON.parse(line) as { context?: string };
      if (typeof o.context === 'string') texts.push(o.context);
    }
  }
  const dir = `${REPO}data/sentinel/`;
  for (const f of readdirSync(dir).sort()) {
    // Benign training files; the held-out imperative documents are evaluation data.
    if (!f.startsWith('benign-') || !f.endsWith('.jsonl') || f.includes('heldout')) continue;
    for (const line of readFileSync(dir + f, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const o = JSON.parse(line) as { lang?: string; text?: string };
      if (typeof o.text === 'string' && (o.lang === undefined || o.lang === 'en')) texts.push(o.text);
    }
  }
  return texts;
}

/** The vocabulary file's text: "word count" a line, sorted by word, ending in a newline. */
export function buildVocabulary(): string {
  const count = new Map<string, number>();
  for (const t of sources()) for (const w of t.toLowerCase().match(/[a-z]+/g) ?? []) if (w.length >= 2 && w.length <= 20) count.set(w, (count.get(w) ?? 0) + 1);
  const words = [...count].filter(([, c]) => c >= MIN_COUNT).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return words.map(([w, c]) => `${w} ${c}`).join('\n') + '\n';
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  let text: string;
  try {
    text = buildVocabulary();
  } catch (e) {
    process.stderr.write(`build-vocab: cannot read the training documents (${(e as Error).message}); run it from a SIOS checkout with data/bipia-train and data/sentinel\n`);
    process.exit(2);
  }
  if (process.argv.includes('--check')) {
    let current = '';
    try { current = readFileSync(VOCAB_FILE, 'utf8'); } catch { /* missing: differs */ }
    if (current !== text) { process.stderr.write(`build-vocab: ${VOCAB_FILE} is not what the script builds; run node scripts/build-vocab.ts\n`); process.exit(1); }
  } else {
    writeFileSync(VOCAB_FILE, text);
    process.stdout.write(`wrote ${VOCAB_FILE} (${text.split('\n').length - 1} words)\n`);
  }
}
