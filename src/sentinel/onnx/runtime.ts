/**
 * The ONNX classifier: a Hugging Face tokenizer (@huggingface/tokenizers, pure JS) and one
 * onnxruntime-web session (WebAssembly backend, single-threaded within ONNX Runtime, no native addon,
 * nothing downloaded). It computes on the thread that calls it: loaded packs run it on a worker
 * thread (thread.ts, worker.ts); signing a pack runs it in place. Both packages are imported on first use only, so the default
 * Sentinel path (no plug-in configured) never loads them.
 *
 * A text is tokenized once without special tokens, cut into overlapping windows of
 * maxTokens (special tokens included) with starts strideTokens apart (the last window ends at the
 * last token), and each window is scored; the text's probability is the maximum over windows.
 * Runs are serialised on the one session; the number of waiting scans, the input length and the
 * number of windows are bounded.
 */
import type * as Ort from 'onnxruntime-web';
import { SiosError } from '../../errors.ts';
import { fromUtf8 } from '../../encoding/bytes.ts';
import { detectorRef, type DetectorManifest } from './manifest.ts';
import { softmaxAt, tokenWindows, windowCount } from './windows.ts';

type OrtModule = typeof Ort;
/**
 * The part of @huggingface/tokenizers' Tokenizer used here. Its published .d.ts files use
 * extensionless relative imports that NodeNext resolution does not follow, so the package's own
 * types arrive as `any`; this states what SIOS relies on.
 */
interface HfTokenizer { encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] } }
type TokenizerClass = new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizer;

export interface ClassifierLimits {
  /** Longest text in UTF-16 code units (default 256 KiB, the gate hook's default); longer is ERR_TOO_LARGE. */
  maxChars?: number;
  /**
   * Most windows for one text (default 256); more is ERR_TOO_LARGE. A window of 512 tokens costs
   * about 0.4 s on one core for a 22M-parameter encoder and about 2.8 s for an 86M one (measured on
   * synthetic graphs of those shapes), so this bounds the time one text can hold the session.
   */
  maxWindows?: number;
  /** Most scans waiting for the session (default 64); more is ERR_RATE_LIMITED. */
  maxQueue?: number;
  /**
   * Longest run of one scan on the worker thread, in milliseconds (default 60 000; thread.ts). A
   * longer scan is stopped and fails with ERR_TIMEOUT. (The in-thread classifier below, used only
   * while signing a pack, has no clock.)
   */
  maxScanMs?: number;
}
export const LIMIT_KEYS: readonly string[] = ['maxChars', 'maxWindows', 'maxQueue', 'maxScanMs'];

export interface WindowScore {
  /** Maximum injection probability over the windows (0 for text without tokens). */
  readonly p: number;
  readonly windows: number;
  readonly tokens: number;
  /** Time spent in session.run for this text, in milliseconds. */
  readonly runMs: number;
}

const SELF_TEST_TEXT = 'Please summarise the attached quarterly report before the meeting on Tuesday. ';

let runtime: Promise<{ ort: OrtModule; Tokenizer: TokenizerClass }> | null = null;

/** The two packages, imported once. A missing package is an installation fault, said plainly. */
function loadRuntime(): Promise<{ ort: OrtModule; Tokenizer: TokenizerClass }> {
  runtime ??= (async () => {
    let ort: OrtModule, tk: { Tokenizer: TokenizerClass };
    try {
      [ort, tk] = await Promise.all([import('onnxruntime-web'), import('@huggingface/tokenizers') as Promise<{ Tokenizer: TokenizerClass }>]);
    } catch (cause) {
      runtime = null;
      throw new SiosError('ERR_UNSUPPORTED', `the ONNX detector plug-in needs the packages onnxruntime-web and @huggingface/tokenizers, which did not load (${(cause as Error).message}); run 'npm ci' in the SIOS installation`, { cause });
    }
    // One thread: no worker threads to spawn, deterministic, and the CPU is shared with the gate.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return { ort, Tokenizer: tk.Tokenizer };
  })();
  return runtime;
}

/** Parses tokenizer.json (and tokenizer_config.json) bytes into a tokenizer. */
async function makeTokenizer(m: DetectorManifest, json: Uint8Array, config: Uint8Array | undefined): Promise<HfTokenizer> {
  const { Tokenizer } = await loadRuntime();
  const what = `detector ${detectorRef(m)}`;
  const parse = (b: Uint8Array, file: string): unknown => {
    try { return JSON.parse(fromUtf8(b, `${what} ${file}`)); } catch (cause) {
      if (cause instanceof SiosError) throw cause;
      throw new SiosError('ERR_INPUT', `${what}: ${file} is not valid JSON (${(cause as Error).message}); use the file published with the model`, { cause });
    }
  };
  const tj = parse(json, m.files.tokenizer.path);
  const cj = config === undefined ? {} : parse(config, m.files.tokenizerConfig?.path ?? 'tokenizer_config.json');
  try {
    return new Tokenizer(tj as object, cj as object);
  } catch (cause) {
    throw new SiosError('ERR_INPUT', `${what}: ${m.files.tokenizer.path} is not a tokenizer @huggingface/tokenizers can load (${(cause as Error).message}); use the Hugging Face tokenizer.json published with the model`, { cause });
  }
}

/**
 * The special tokens the tokenizer's post-processor puts around a sequence (e.g. [CLS] ... [SEP]),
 * found by encoding a probe with and without them. Each window gets the same prefix and suffix.
 */
function specialFrame(tok: HfTokenizer, what: string): { prefix: number[]; suffix: number[] } {
  const probe = 'hello world';
  const core = tok.encode(probe, { add_special_tokens: false }).ids;
  const full = tok.encode(probe, { add_special_tokens: true }).ids;
  for (let i = 0; i + core.length <= full.length; i++) {
    if (core.every((id, j) => full[i + j] === id)) return { prefix: full.slice(0, i), suffix: full.slice(i + core.length) };
  }
  throw new SiosError('ERR_INPUT', `${what}: the tokenizer's post-processor changes the text's tokens, so windows cannot be framed with its special tokens; use a tokenizer.json whose post-processor only adds special tokens`);
}

/** Opens an ONNX session on model bytes. */
export async function openSession(model: Uint8Array, what: string): Promise<Ort.InferenceSession> {
  const { ort } = await loadRuntime();
  try {
    return await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (cause) {
    throw new SiosError('ERR_INPUT', `${what}: the model is not an ONNX model onnxruntime-web can run (${(cause as Error).message}); export it as a single-file ONNX model (no external data)`, { cause });
  }
}

type IntType = 'int64' | 'int32';

function inputType(s: Ort.InferenceSession, name: string, what: string): IntType {
  const meta = s.inputMetadata.find((x) => x.name === name);
  if (meta === undefined || !meta.isTensor) throw new SiosError('ERR_INPUT', `${what}: model input '${name}' is not a tensor`);
  if (meta.type !== 'int64' && meta.type !== 'int32') throw new SiosError('ERR_INPUT', `${what}: model input '${name}' has type ${meta.type}; token inputs must be int64 or int32`);
  return meta.type;
}

export class OnnxClassifier {
  readonly manifest: DetectorManifest;
  readonly #ort: OrtModule;
  readonly #session: Ort.InferenceSession;
  readonly #tok: HfTokenizer;
  readonly #prefix: number[];
  readonly #suffix: number[];
  readonly #types: { ids: IntType; mask: IntType | undefined; types: IntType | undefined };
  readonly #maxChars: number;
  readonly #maxWindows: number;
  readonly #maxQueue: number;
  /** Tail of the run queue: each scan waits for the one before it. */
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #closed = false;

  private constructor(m: DetectorManifest, ort: OrtModule, session: Ort.InferenceSession, tok: HfTokenizer, frame: { prefix: number[]; suffix: number[] }, limits: { maxChars: number; maxWindows: number; maxQueue: number }) {
    this.manifest = m;
    this.#ort = ort;
    this.#session = session;
    this.#tok = tok;
    this.#prefix = frame.prefix;
    this.#suffix = frame.suffix;
    const what = `detector ${detectorRef(m)}`;
    this.#types = {
      ids: inputType(session, m.inputs.ids, what),
      mask: m.inputs.attentionMask === undefined ? undefined : inputType(session, m.inputs.attentionMask, what),
      types: m.inputs.tokenTypeIds === undefined ? undefined : inputType(session, m.inputs.tokenTypeIds, what),
    };
    this.#maxChars = limits.maxChars;
    this.#maxWindows = limits.maxWindows;
    this.#maxQueue = limits.maxQueue;
  }

  /**
   * Builds the classifier from verified bytes. `session` may be passed when the caller already
   * opened one on the same model bytes (signing inspects the model first).
   */
  static async create(m: DetectorManifest, files: { model: Uint8Array; tokenizer: Uint8Array; tokenizerConfig?: Uint8Array }, limits: ClassifierLimits = {}, session?: Ort.InferenceSession): Promise<OnnxClassifier> {
    for (const k of Object.keys(limits)) if (!LIMIT_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `ONNX detector: unknown option '${k}'; allowed: ${LIMIT_KEYS.join(', ')}`);
    const lim = {
      maxChars: limit(limits.maxChars, 'maxChars', 256 * 1024),
      maxWindows: limit(limits.maxWindows, 'maxWindows', 256),
      maxQueue: limit(limits.maxQueue, 'maxQueue', 64),
    };
    const what = `detector ${detectorRef(m)}`;
    const { ort } = await loadRuntime();
    const tok = await makeTokenizer(m, files.tokenizer, files.tokenizerConfig);
    const frame = specialFrame(tok, what);
    const content = m.maxTokens - frame.prefix.length - frame.suffix.length;
    if (content < 1) throw new SiosError('ERR_INPUT', `${what}: maxTokens ${m.maxTokens} leaves no room for text besides the tokenizer's ${frame.prefix.length + frame.suffix.length} special tokens; raise maxTokens`);
    if (m.strideTokens > content) throw new SiosError('ERR_INPUT', `${what}: strideTokens ${m.strideTokens} is larger than the ${content} text tokens of a window, so text between windows would never be scored; use at most ${content}`);
    const s = session ?? await openSession(files.model, what);
    const want = [m.inputs.ids, m.inputs.attentionMask, m.inputs.tokenTypeIds].filter((x): x is string => x !== undefined);
    const have = [...s.inputNames];
    if (want.length !== have.length || !want.every((n) => have.includes(n))) {
      await s.release().catch(() => undefined);
      throw new SiosError('ERR_INPUT', `${what}: the model's inputs are [${have.join(', ')}] but the manifest names [${want.join(', ')}]; set inputs.ids, inputs.attentionMask and inputs.tokenTypeIds to the model's input names`);
    }
    if (!s.outputNames.includes(m.output.name)) {
      await s.release().catch(() => undefined);
      throw new SiosError('ERR_INPUT', `${what}: the model has no output '${m.output.name}' (its outputs: ${s.outputNames.join(', ')}); set output.name`);
    }
    try {
      return new OnnxClassifier(m, ort, s, tok, frame, lim);
    } catch (e) {
      await s.release().catch(() => undefined);
      throw e;
    }
  }

  /** Text tokens per window (maxTokens less the special tokens). */
  get windowTokens(): number { return this.manifest.maxTokens - this.#prefix.length - this.#suffix.length; }

  /** Maximum injection probability of `text` over its token windows. */
  async score(text: string): Promise<WindowScore> {
    admitScan(text, { closed: this.#closed, maxChars: this.#maxChars, waiting: this.#waiting, maxQueue: this.#maxQueue });
    this.#waiting++;
    try {
      const m = this.manifest;
      let ids: number[];
      try {
        ids = this.#tok.encode(text, { add_special_tokens: false }).ids;
      } catch (cause) {
        throw new SiosError('ERR_INTERNAL', `detector ${detectorRef(m)}: the tokenizer failed on this text (${(cause as Error).message})`, { cause });
      }
      const n = windowCount(ids.length, this.windowTokens, m.strideTokens);
      if (n > this.#maxWindows) throw new SiosError('ERR_TOO_LARGE', `text is ${ids.length} tokens, ${n} windows of ${m.maxTokens}; the ONNX detector scores at most ${this.#maxWindows} windows per text; split the text`);
      if (n === 0) return { p: 0, windows: 0, tokens: 0, runMs: 0 };
      return await this.#enqueue(ids);
    } finally {
      this.#waiting--;
    }
  }

  /**
   * Scores one full window (maxTokens tokens, special tokens included) of benign text: shows that
   * the model accepts windows of that length (position embeddings, output shape) and what one
   * window costs.
   */
  async selfTest(): Promise<WindowScore> {
    if (this.#closed) throw new SiosError('ERR_CLOSED', 'the ONNX detector was closed');
    const base = this.#tok.encode(SELF_TEST_TEXT, { add_special_tokens: false }).ids;
    if (base.length === 0) throw new SiosError('ERR_INPUT', `detector ${detectorRef(this.manifest)}: the tokenizer produces no tokens for plain English text; check tokenizer.json`);
    return this.#enqueue(Array.from({ length: this.windowTokens }, (_, i) => base[i % base.length]!));
  }

  #enqueue(ids: number[]): Promise<WindowScore> {
    const run = this.#tail.then(() => this.#runWindows(ids));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #runWindows(ids: number[]): Promise<WindowScore> {
    const m = this.manifest;
    let best = 0, runMs = 0;
    const windows = tokenWindows(ids.length, this.windowTokens, m.strideTokens);
    for (const [start, end] of windows) {
      const seq = [...this.#prefix, ...ids.slice(start, end), ...this.#suffix];
      const feeds: Record<string, Ort.Tensor> = { [m.inputs.ids]: this.#tensor(this.#types.ids, seq) };
      if (m.inputs.attentionMask !== undefined) feeds[m.inputs.attentionMask] = this.#tensor(this.#types.mask!, seq.map(() => 1));
      if (m.inputs.tokenTypeIds !== undefined) feeds[m.inputs.tokenTypeIds] = this.#tensor(this.#types.types!, seq.map(() => 0));
      const t0 = performance.now();
      let out: Ort.InferenceSession.ReturnType;
      try {
        out = await this.#session.run(feeds, [m.output.name]);
      } catch (cause) {
        throw new SiosError('ERR_INTERNAL', `detector ${detectorRef(m)}: onnxruntime failed on a window of ${seq.length} tokens (${String((cause as Error).message).replace(/\s+/g, ' ').trim()})`, { cause });
      }
      runMs += performance.now() - t0;
      const logits = out[m.output.name];
      if (logits === undefined || logits.type !== 'float32' || logits.dims.length < 1 || logits.size !== logits.dims[logits.dims.length - 1]) {
        throw new SiosError('ERR_INPUT', `detector ${detectorRef(m)}: output '${m.output.name}' must be float32 logits of shape [1, classes], got ${logits?.type} [${logits?.dims.join(', ')}]; name the classifier's logits output`);
      }
      const p = softmaxAt(logits.data as Float32Array, m.output.injectionIndex);
      if (p > best) best = p;
    }
    return { p: best, windows: windows.length, tokens: ids.length, runMs };
  }

  #tensor(type: IntType, values: number[]): Ort.Tensor {
    const data = type === 'int64' ? BigInt64Array.from(values, (v) => BigInt(v)) : Int32Array.from(values);
    return new this.#ort.Tensor(type, data, [1, values.length]);
  }

  /** Releases the session after the scans already queued have finished. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.#session.release();
  }
}

/** The checks every scan passes before it queues: a string, an open detector, the size and queue bounds. */
export function admitScan(text: unknown, s: { closed: boolean; maxChars: number; waiting: number; maxQueue: number }): asserts text is string {
  if (typeof text !== 'string') throw new SiosError('ERR_INPUT', 'the ONNX detector scans strings');
  if (s.closed) throw new SiosError('ERR_CLOSED', 'the ONNX detector was closed');
  if (text.length > s.maxChars) throw new SiosError('ERR_TOO_LARGE', `text is ${text.length} characters; the ONNX detector scans at most ${s.maxChars}; split the text`);
  if (s.waiting >= s.maxQueue) throw new SiosError('ERR_RATE_LIMITED', `the ONNX detector has ${s.waiting} scans waiting; retry later`);
}

export function limit(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new SiosError('ERR_INPUT', `ONNX detector: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}
