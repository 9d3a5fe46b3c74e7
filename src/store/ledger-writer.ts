/**
 * Ledger commits off the event loop (Node only; SqliteLedgerStore's `writer: 'thread'`). A commit is
 * a SQLite write transaction whose COMMIT fsyncs the WAL (synchronous=FULL): on the gate's event
 * loop it stalls every other action for the length of the disk flush. Here a small pool of worker
 * threads, each with its own connection, runs `SqliteLedgerStore.appendBatch` (the same code, the
 * same transaction and checks) and answers only after COMMIT returned, so a promise that resolves
 * means the batch is on disk. Each batch costs two thread hops; with a ~0.2 ms flush that costs more
 * latency than it saves, so this is for storage whose flush takes milliseconds.
 *
 * One database is always served by the same worker, so its batches commit in the order they were
 * sent. Workers are spawned on first use, keep the process alive only while a commit is pending,
 * and a worker that dies fails its pending commits (the ledger then undoes those batches, as for
 * any failed commit) and is replaced on the next use.
 */
import { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import { SiosError, type SiosErrorCode } from '../errors.ts';
import type { StoredEntry, StoredPayload } from './ledger-store.ts';

interface Pending {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker | undefined;
  pending: Map<number, Pending>;
}

/** Workers in the pool: fsyncs of different tenants' databases overlap, each costs a thread. */
const POOL_SIZE = Math.max(2, Math.min(4, os.availableParallelism?.() ?? 2));
const slots: Slot[] = Array.from({ length: POOL_SIZE }, () => ({ worker: undefined, pending: new Map() }));
const assigned = new Map<string, Slot>();
let nextSlot = 0;
let nextId = 0;

function slotFor(path: string): Slot {
  let s = assigned.get(path);
  if (s === undefined) {
    s = slots[nextSlot++ % slots.length] as Slot;
    assigned.set(path, s);
  }
  return s;
}

function failAll(slot: Slot, cause: unknown): void {
  const pend = [...slot.pending.values()];
  slot.pending.clear();
  slot.worker = undefined;
  for (const p of pend) p.reject(new SiosError('ERR_STORE', 'the ledger writer thread stopped before confirming a commit; the batch is treated as not written. Restart SIOS so it reloads the ledger from disk', { cause }));
}

function workerOf(slot: Slot): Worker {
  if (slot.worker !== undefined) return slot.worker;
  const w = new Worker(new URL('./ledger-writer-worker.ts', import.meta.url));
  w.on('message', (m: { id: number; ok: true } | { id: number; ok: false; code: SiosErrorCode; message: string }) => {
    const p = slot.pending.get(m.id);
    if (p === undefined) return;
    slot.pending.delete(m.id);
    if (slot.pending.size === 0) w.unref();
    if (m.ok) p.resolve();
    else p.reject(new SiosError(m.code, m.message));
  });
  w.on('error', (e) => { if (slot.worker === w) failAll(slot, e); });
  w.on('exit', (code) => { if (slot.worker === w) failAll(slot, new Error(`ledger writer exited with code ${code}`)); });
  w.unref();
  slot.worker = w;
  return w;
}

function send(slot: Slot, path: string, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<void> {
  const w = workerOf(slot);
  const id = nextId++;
  return new Promise<void>((resolve, reject) => {
    slot.pending.set(id, { resolve, reject });
    // A pending commit keeps the process alive (a script awaiting a seal must not exit early).
    w.ref();
    try {
      w.postMessage({ ...message, id, path }, transfer);
    } catch (e) {
      slot.pending.delete(id);
      if (slot.pending.size === 0) w.unref();
      reject(new SiosError('ERR_STORE', `cannot hand the batch to the ledger writer: ${(e as Error).message}`, { cause: e }));
    }
  });
}

/**
 * A batch as a few flat arrays: cloning one object per entry costs more than the copies. The
 * buffers are fresh, so they are transferred, not cloned; the caller's arrays are left untouched.
 */
export interface PackedBatch {
  seqs: Float64Array<ArrayBuffer>;
  kinds: string[];
  /** Referenced intent seq, or -1 for none. */
  refs: Float64Array<ArrayBuffer>;
  /** Entry i's bytes are bytes[offsets[i] .. offsets[i + 1]). */
  bytes: Uint8Array<ArrayBuffer>;
  offsets: Float64Array<ArrayBuffer>;
  leaves: Uint8Array<ArrayBuffer>;
  payloads: { seq: number; name: string; sealed: Uint8Array | null }[];
  checkpoint: { size: number; note: string };
  expectedNextSeq: number;
}

export function packBatch(entries: StoredEntry[], payloads: StoredPayload[], checkpoint: { size: number; note: string }, expectedNextSeq: number): PackedBatch {
  const n = entries.length;
  let total = 0;
  for (const e of entries) total += e.bytes.length;
  const bytes = new Uint8Array(total);
  const offsets = new Float64Array(n + 1);
  const leaves = new Uint8Array(32 * n);
  const seqs = new Float64Array(n);
  const refs = new Float64Array(n);
  const kinds: string[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i] as StoredEntry;
    if (e.leaf.length !== 32) throw new SiosError('ERR_INPUT', 'a leaf hash is 32 bytes');
    bytes.set(e.bytes, o);
    offsets[i] = o;
    o += e.bytes.length;
    leaves.set(e.leaf, 32 * i);
    seqs[i] = e.seq;
    refs[i] = e.ref ?? -1;
    kinds.push(e.kind);
  }
  offsets[n] = o;
  return { seqs, kinds, refs, bytes, offsets, leaves, payloads: payloads.map((p) => ({ seq: p.seq, name: p.name, sealed: p.sealed })), checkpoint: { size: checkpoint.size, note: checkpoint.note }, expectedNextSeq };
}

export function unpackBatch(b: PackedBatch): { entries: StoredEntry[]; payloads: StoredPayload[] } {
  const entries: StoredEntry[] = [];
  for (let i = 0; i < b.seqs.length; i++) {
    const ref = b.refs[i] as number;
    entries.push({
      seq: b.seqs[i] as number, kind: b.kinds[i] as string, ref: ref < 0 ? null : ref,
      bytes: b.bytes.subarray(b.offsets[i] as number, b.offsets[i + 1] as number), leaf: b.leaves.subarray(32 * i, 32 * i + 32),
    });
  }
  return { entries, payloads: b.payloads };
}

/** Durably append a batch to the ledger database at `path` on a writer thread (see appendBatch). */
export function appendBatchOffThread(path: string, entries: StoredEntry[], payloads: StoredPayload[], checkpoint: { size: number; note: string }, expectedNextSeq: number): Promise<void> {
  const batch = packBatch(entries, payloads, checkpoint, expectedNextSeq);
  return send(slotFor(path), path, { op: 'append', batch }, [batch.bytes.buffer, batch.offsets.buffer, batch.leaves.buffer, batch.seqs.buffer, batch.refs.buffer]);
}

/** Close the writer's connection to `path` once every commit sent before has finished. */
export function closeOffThread(path: string): Promise<void> {
  const slot = assigned.get(path);
  if (slot === undefined || slot.worker === undefined) return Promise.resolve();
  assigned.delete(path);
  return send(slot, path, { op: 'close' });
}

/** Stop the writer threads (tests, and commands that want to exit at once). Pending commits fail. */
export async function stopLedgerWriters(): Promise<void> {
  await Promise.all(slots.map(async (s) => {
    const w = s.worker;
    if (w === undefined) return;
    s.worker = undefined;
    failAll(s, new Error('ledger writers stopped'));
    await w.terminate();
  }));
  assigned.clear();
}
