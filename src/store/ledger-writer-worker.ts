/**
 * The body of a ledger writer thread (see ledger-writer.ts): one connection per database, opened on
 * first use with the same pragmas as everywhere (WAL, synchronous=FULL), and the same appendBatch.
 * Messages are handled one at a time, in order; each is answered after its transaction finished.
 */
import { parentPort } from 'node:worker_threads';
import { SiosError } from '../errors.ts';
import { SqliteLedgerStore } from './sqlite-ledger.ts';
import { unpackBatch, type PackedBatch } from './ledger-writer.ts';

type Message =
  | { op: 'append'; id: number; path: string; batch: PackedBatch }
  | { op: 'close'; id: number; path: string };

const stores = new Map<string, SqliteLedgerStore>();
const port = parentPort;
if (port === null) throw new Error('ledger-writer-worker.ts runs as a worker thread');

port.on('message', (m: Message) => {
  try {
    if (m.op === 'append') {
      let s = stores.get(m.path);
      if (s === undefined) {
        s = new SqliteLedgerStore(m.path, { writer: 'inline' });
        stores.set(m.path, s);
      }
      const { entries, payloads } = unpackBatch(m.batch);
      s.appendBatch(entries, payloads, m.batch.checkpoint, m.batch.expectedNextSeq);
    } else {
      stores.get(m.path)?.close();
      stores.delete(m.path);
    }
    port.postMessage({ id: m.id, ok: true });
  } catch (e) {
    const err = e instanceof SiosError ? e : new SiosError('ERR_STORE', `ledger write failed: ${(e as Error).message}`);
    port.postMessage({ id: m.id, ok: false, code: err.code, message: err.message });
  }
});
