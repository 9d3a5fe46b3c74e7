/**
 * The ONNX classifier on a worker thread, with a time limit per scan.
 *
 * onnxruntime-web's WebAssembly backend computes on the thread that calls it. On the main thread a
 * long text (up to maxWindows windows, each 0.4-2.8 s for the encoders operators install) would hold
 * the event loop that the gate, the ledger and the HTTP API share, for minutes. Here the tokenizer and
 * the session live in one worker (worker.ts runs runtime.ts's OnnxClassifier there); the main thread
 * only checks the bounds, queues, and waits. A scan that runs longer than maxScanMs is stopped: the
 * worker is terminated (the only way to interrupt WebAssembly), the scan fails with ERR_TIMEOUT so
 * the caller fails closed (the gate hook denies the action), and the next scan starts a new worker
 * from the same verified bytes.
 */
import { Worker } from 'node:worker_threads';
import { SiosError, type SiosErrorCode } from '../../errors.ts';
import { detectorRef, type DetectorManifest } from './manifest.ts';
import { admitScan, LIMIT_KEYS, limit, type ClassifierLimits, type WindowScore } from './runtime.ts';

/** What worker.ts is started with (structured-cloned into the worker). */
export interface WorkerInit {
  readonly manifest: DetectorManifest;
  readonly files: { model: Uint8Array; tokenizer: Uint8Array; tokenizerConfig?: Uint8Array };
  readonly limits: { maxChars: number; maxWindows: number };
}
/** Requests to the worker, and its replies (one per request, same id; id 0 is the start-up report). */
export type WorkerRequest = { id: number; op: 'score'; text: string } | { id: number; op: 'self-test' };
export type WorkerReply =
  | { id: number; ok: true; result: WindowScore; windowTokens: number }
  | { id: number; ok: false; code: SiosErrorCode; message: string };

const WORKER_URL = new URL('./worker.ts', import.meta.url).href;

interface Pending { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }

/** Default longest run of one scan in the worker (tokenizing and every window), in milliseconds. */
export const DEFAULT_MAX_SCAN_MS = 60_000;

export class ThreadedOnnxClassifier {
  readonly manifest: DetectorManifest;
  readonly #init: WorkerInit;
  readonly #maxChars: number;
  readonly #maxQueue: number;
  readonly #maxScanMs: number;
  #worker: Worker | null = null;
  /** Resolves when the current worker reported that its session is open (rejects if it failed to). */
  #ready: Promise<void> | null = null;
  /** Requests in flight on the current worker, by id (each worker has its own map). */
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #closed = false;
  /** Text tokens per window, as the worker's tokenizer frames them (known once a worker started). */
  #windowTokens = 0;

  private constructor(init: WorkerInit, maxQueue: number, maxScanMs: number) {
    this.manifest = init.manifest;
    this.#init = init;
    this.#maxChars = init.limits.maxChars;
    this.#maxQueue = maxQueue;
    this.#maxScanMs = maxScanMs;
  }

  /** Starts the worker on verified bytes and waits until its session is open (errors as in runtime.ts). */
  static async create(m: DetectorManifest, files: WorkerInit['files'], limits: ClassifierLimits = {}): Promise<ThreadedOnnxClassifier> {
    for (const k of Object.keys(limits)) if (!LIMIT_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `ONNX detector: unknown option '${k}'; allowed: ${LIMIT_KEYS.join(', ')}`);
    const c = new ThreadedOnnxClassifier(
      { manifest: m, files, limits: { maxChars: limit(limits.maxChars, 'maxChars', 256 * 1024), maxWindows: limit(limits.maxWindows, 'maxWindows', 256) } },
      limit(limits.maxQueue, 'maxQueue', 64),
      limit(limits.maxScanMs, 'maxScanMs', DEFAULT_MAX_SCAN_MS),
    );
    try {
      await c.#start();
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  get windowTokens(): number { return this.#windowTokens; }

  /** Maximum injection probability of `text` over its token windows, computed on the worker. */
  async score(text: string): Promise<WindowScore> {
    admitScan(text, { closed: this.#closed, maxChars: this.#maxChars, waiting: this.#waiting, maxQueue: this.#maxQueue });
    this.#waiting++;
    try {
      return await this.#enqueue({ op: 'score', text });
    } finally {
      this.#waiting--;
    }
  }

  /** One full window of benign text through the model (runtime.ts OnnxClassifier.selfTest). */
  async selfTest(): Promise<WindowScore> {
    if (this.#closed) throw new SiosError('ERR_CLOSED', 'the ONNX detector was closed');
    return this.#enqueue({ op: 'self-test' });
  }

  /** Stops the worker after the scans already queued have finished. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.#stop();
  }

  #enqueue(req: { op: 'score'; text: string } | { op: 'self-test' }): Promise<WindowScore> {
    const run = this.#tail.then(() => this.#run(req));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Runs one request on the worker (starting one if needed) within maxScanMs. */
  async #run(req: { op: 'score'; text: string } | { op: 'self-test' }): Promise<WindowScore> {
    if (this.#worker === null) void this.#start();
    try {
      await this.#ready;
    } catch (e) {
      // A worker that could not open its session is not kept: the next scan tries a new one.
      await this.#stop();
      throw e;
    }
    const worker = this.#worker, pending = this.#pending;
    if (worker === null) throw new SiosError('ERR_INTERNAL', `detector ${detectorRef(this.manifest)}: the ONNX worker stopped before the scan began; retry`);
    const id = this.#nextId++;
    worker.ref();
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        timer = setTimeout(() => {
          pending.delete(id);
          reject(new SiosError('ERR_TIMEOUT', `detector ${detectorRef(this.manifest)}: the scan ran longer than ${this.#maxScanMs} ms and was stopped; split the text or raise maxScanMs`));
          // WebAssembly cannot be interrupted: the worker goes, and the next scan starts a new one.
          void this.#stop();
        }, this.#maxScanMs);
        worker.postMessage({ id, ...req } satisfies WorkerRequest);
      });
      if (!reply.ok) throw new SiosError(reply.code, reply.message);
      return reply.result;
    } finally {
      clearTimeout(timer);
      if (this.#worker === worker) worker.unref();
    }
  }

  #start(): Promise<void> {
    // Started from a one-line loader rather than the file itself: a worker inherits the parent's options,
    // and `node --input-type=module -e ...` refuses a file entry but runs a string one.
    const worker = new Worker(`import(${JSON.stringify(WORKER_URL)})`, { eval: true, workerData: this.#init });
    const pending = new Map<number, Pending>();
    this.#worker = worker;
    this.#pending = pending;
    this.#ready = new Promise<void>((resolve, reject) => {
      pending.set(0, {
        resolve: (r) => { if (r.ok) { this.#windowTokens = r.windowTokens; resolve(); } else reject(new SiosError(r.code, r.message)); },
        reject,
      });
    });
    // A starting worker keeps the process alive (its caller is waiting for it); an idle one does not,
    // and a scan in flight does (ref/unref in #run). A rejected start is reported to whoever awaits it.
    this.#ready.then(() => { if (this.#worker === worker) worker.unref(); }, () => undefined);
    worker.on('message', (r: WorkerReply) => {
      const p = pending.get(r.id);
      if (p === undefined) return;
      pending.delete(r.id);
      p.resolve(r);
    });
    const fail = (e: Error): void => {
      if (this.#worker === worker) { this.#worker = null; this.#ready = null; }
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    worker.on('error', (cause) => fail(new SiosError('ERR_INTERNAL', `detector ${detectorRef(this.manifest)}: the ONNX worker failed (${cause.message})`, { cause })));
    worker.on('exit', (code) => fail(new SiosError('ERR_INTERNAL', `detector ${detectorRef(this.manifest)}: the ONNX worker exited (code ${code})`)));
    return this.#ready;
  }

  async #stop(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    this.#ready = null;
    if (w !== null) await w.terminate();
  }
}
