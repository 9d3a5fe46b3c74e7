/**
 * Leaf hashing on worker threads (Node only): RFC 9162 leaf hashes of many byte ranges of one
 * buffer, split across the other cores, so that offline verification of a large bundle hashes in
 * parallel with its parsing. The buffer is shared (SharedArrayBuffer), never copied per worker.
 */
import { Worker } from 'node:worker_threads';
import * as os from 'node:os';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
parentPort.on('message', ({ id, sab, starts, ends }) => {
  const buf = new Uint8Array(sab);
  const out = new Uint8Array(starts.length * 32);
  let scratch = new Uint8Array(4096);
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i], e = ends[i], n = e - s;
    if (n + 1 > scratch.length) scratch = new Uint8Array((n + 1) * 2);
    scratch[0] = 0;
    scratch.set(buf.subarray(s, e), 1);
    out.set(hash('sha256', scratch.subarray(0, n + 1), 'buffer'), i * 32);
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

let pool: Worker[] | undefined;
let nextId = 0;
const waiting = new Map<number, (out: Uint8Array) => void>();

function workers(): Worker[] {
  if (!pool) {
    // One worker per spare core: the calling thread keeps parsing on its own core.
    const n = Math.max(1, Math.min(4, (os.availableParallelism?.() ?? 2) - 1));
    pool = Array.from({ length: n }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
        waiting.get(id)?.(out);
        waiting.delete(id);
        // Idle workers must not keep the process alive; busy ones must.
        if (waiting.size === 0) for (const x of pool ?? []) x.unref();
      });
      w.unref();
      return w;
    });
  }
  return pool;
}

/** Stop the workers (tests, and CLI commands that want to exit promptly). */
export function closeLeafHashPool(): void {
  for (const w of pool ?? []) void w.terminate();
  pool = undefined;
}

const sharedCache = new WeakMap<Uint8Array, SharedArrayBuffer>();

function shared(buf: Uint8Array): SharedArrayBuffer {
  if (buf.buffer instanceof SharedArrayBuffer && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer;
  let sab = sharedCache.get(buf);
  if (!sab) {
    sab = new SharedArrayBuffer(buf.byteLength);
    new Uint8Array(sab).set(buf);
    sharedCache.set(buf, sab);
  }
  return sab;
}

export function leafHashesOnWorkers(buf: Uint8Array, starts: Int32Array | Float64Array, ends: Int32Array | Float64Array): Promise<Uint8Array> {
  const sab = shared(buf);
  const ws = workers();
  const id = nextId++;
  const w = ws[id % ws.length] as Worker;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    w.ref();
    w.postMessage({ id, sab, starts: Float64Array.from(starts), ends: Float64Array.from(ends) });
  });
}
