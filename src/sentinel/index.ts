/**
 * Sentinel public surface. `scan(text)` uses the shipped model (src/sentinel/model.json), loaded once.
 * The model is read with node:fs here, at the edge; the layers themselves use web-standard APIs only.
 */
import { readFileSync } from 'node:fs';
import { SiosError } from '../errors.ts';
import { loadModel, type Model, type ModelFile } from './classifier.ts';
import { loadCombiner, type Combiner, type CombinerFile } from './combiner.ts';
import { Detector, type Verdict } from './detector.ts';
import { topics } from './topics.ts';

export { Detector, OPERATING_THRESHOLD, MAX_DECODE_DEPTH, type Verdict } from './detector.ts';

export const MODEL_URL = new URL('./model.json', import.meta.url);

let cached: Detector | null = null;

export function loadModelFile(url: URL = MODEL_URL): { model: Model; combiner: Combiner } {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (cause) {
    throw new SiosError('ERR_NOT_FOUND', `the Sentinel model ${url.pathname} is missing; run 'node scripts/train-sentinel.ts' to build it`, { cause });
  }
  try {
    const file = JSON.parse(text) as ModelFile & { combiner?: CombinerFile };
    if (file.combiner === undefined) throw new TypeError('the model has no combiner');
    return { model: loadModel(file), combiner: loadCombiner(file.combiner) };
  } catch (cause) {
    throw new SiosError('ERR_INTERNAL', `the Sentinel model ${url.pathname} is malformed (${(cause as Error).message}); rebuild it with 'node scripts/train-sentinel.ts'`, { cause });
  }
}

/** The detector with the shipped model and word vectors (loaded on first use). */
export function defaultDetector(): Detector {
  if (cached === null) { const m = loadModelFile(); topics(); cached = new Detector(m.model, m.combiner); }
  return cached;
}

/** Scan one untrusted string with the shipped model. */
export function scan(text: string): Verdict {
  return defaultDetector().scan(text);
}
