/**
 * SQLite implementation of LedgerStore on node:sqlite: WAL journal, synchronous=FULL (each commit
 * is fsync'd before it returns), one database file per tenant. A store opened by path with
 * `writer: 'thread'` commits on a writer thread (ledger-writer.ts); reads stay on this connection.
 */
import { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import type { LedgerStore, StoredEntry, StoredPayload } from './ledger-store.ts';
import { appendBatchOffThread, closeOffThread } from './ledger-writer.ts';

export interface SqliteLedgerStoreOptions {
  /**
   * Where commits run. 'inline' (default): on the caller's thread, which waits for the fsync.
   * 'thread' (a store opened by path only): on a writer thread with its own connection
   * (appendBatchAsync), so the caller's event loop keeps running during the flush. Measured on
   * 2 cores with fsync ≈ 0.2 ms (bench/gate.ts --ledger-writer): the two sustain the same rate and
   * 'inline' has the lower latency (two thread hops fewer per batch); 'thread' is for disks whose
   * flush takes milliseconds, where it keeps the gate's event loop free.
   */
  writer?: 'thread' | 'inline';
}

export function openDatabase(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;');
    return db;
  } catch (cause) {
    throw new SiosError('ERR_STORE', `cannot open database ${path}: ${(cause as Error).message}. Check the path exists, is writable, and the disk is not full`, { cause });
  }
}

export class SqliteLedgerStore implements LedgerStore {
  readonly db: DatabaseSync;
  private readonly ownsDb: boolean;
  private readonly stmts;

  /** Present when commits run on a writer thread (see SqliteLedgerStoreOptions). */
  readonly appendBatchAsync?: NonNullable<LedgerStore['appendBatchAsync']>;
  readonly closeAsync?: NonNullable<LedgerStore['closeAsync']>;

  constructor(db: DatabaseSync | string, options: SqliteLedgerStoreOptions = {}) {
    for (const k of Object.keys(options)) if (k !== 'writer') throw new SiosError('ERR_INPUT', `unknown SqliteLedgerStore option "${k}"; allowed: writer`);
    if (options.writer !== undefined && options.writer !== 'thread' && options.writer !== 'inline') throw new SiosError('ERR_INPUT', 'writer must be "thread" or "inline"');
    if (options.writer === 'thread' && typeof db !== 'string') throw new SiosError('ERR_INPUT', 'writer "thread" needs a store opened by path: the writer thread opens its own connection');
    this.ownsDb = typeof db === 'string';
    this.db = typeof db === 'string' ? openDatabase(db) : db;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ledger_entries (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref INTEGER, bytes BLOB NOT NULL, leaf BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS ledger_entries_ref ON ledger_entries(ref) WHERE ref IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ledger_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger_payloads (seq INTEGER NOT NULL, name TEXT NOT NULL, sealed BLOB, PRIMARY KEY (seq, name));
    `);
    this.stmts = {
      insertEntry: this.db.prepare('INSERT INTO ledger_entries (seq, kind, ref, bytes, leaf) VALUES (?, ?, ?, ?, ?)'),
      insertPayload: this.db.prepare('INSERT INTO ledger_payloads (seq, name, sealed) VALUES (?, ?, ?)'),
      insertCheckpoint: this.db.prepare('INSERT INTO ledger_checkpoints (size, note) VALUES (?, ?)'),
      maxSeq: this.db.prepare('SELECT MAX(seq) AS m FROM ledger_entries'),
    };
    if (typeof db === 'string' && options.writer === 'thread') {
      const file = db;
      this.appendBatchAsync = (entries, payloads, checkpoint, expectedNextSeq) => appendBatchOffThread(file, entries, payloads, checkpoint, expectedNextSeq);
      this.closeAsync = async () => {
        try { await closeOffThread(file); } finally { this.close(); }
      };
    }
  }

  loadLeaves(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const it = this.db.prepare('SELECT seq, leaf FROM ledger_entries ORDER BY seq').iterate();
    let expect = 0;
    for (const row of it) {
      if (row['seq'] !== expect) throw new SiosError('ERR_STORE', `ledger store is missing entry ${expect}: the database was altered outside SIOS; restore it from backup`);
      out.push(row['leaf'] as Uint8Array);
      expect++;
    }
    return out;
  }

  lastEntry(): StoredEntry | undefined {
    const r = this.db.prepare('SELECT seq, kind, ref, bytes, leaf FROM ledger_entries ORDER BY seq DESC LIMIT 1').get();
    return r ? rowToEntry(r) : undefined;
  }

  latestCheckpoint(): { size: number; note: string } | undefined {
    const r = this.db.prepare('SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1').get();
    return r ? { size: Number(r['size']), note: String(r['note']) } : undefined;
  }

  appendBatch(entries: StoredEntry[], payloads: StoredPayload[], checkpoint: { size: number; note: string }, expectedNextSeq: number): void {
    const db = this.db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (cause) {
      throw new SiosError('ERR_STORE', 'cannot lock the ledger database for writing: another process holds it. Run one SIOS process per data directory', { cause });
    }
    try {
      const m = this.stmts.maxSeq.get();
      const next = m && m['m'] !== null ? Number(m['m']) + 1 : 0;
      if (next !== expectedNextSeq) throw new SiosError('ERR_CONFLICT', `ledger was appended by another writer (next seq ${next}, expected ${expectedNextSeq}); restart SIOS so it reloads the ledger`);
      for (const e of entries) this.stmts.insertEntry.run(e.seq, e.kind, e.ref, e.bytes, e.leaf);
      for (const p of payloads) this.stmts.insertPayload.run(p.seq, p.name, p.sealed);
      this.stmts.insertCheckpoint.run(checkpoint.size, checkpoint.note);
      db.exec('COMMIT');
    } catch (cause) {
      try { db.exec('ROLLBACK'); } catch { /* the failed transaction is already gone */ }
      if (cause instanceof SiosError) throw cause;
      throw new SiosError('ERR_STORE', `ledger write failed and was rolled back: ${(cause as Error).message}. Check disk space and permissions`, { cause });
    }
  }

  readEntries(from: number, to: number): StoredEntry[] {
    return this.db.prepare('SELECT seq, kind, ref, bytes, leaf FROM ledger_entries WHERE seq >= ? AND seq < ? ORDER BY seq').all(from, to).map(rowToEntry);
  }

  *iterateEntries(): Generator<StoredEntry> {
    for (const r of this.db.prepare('SELECT seq, kind, ref, bytes, leaf FROM ledger_entries ORDER BY seq').iterate()) yield rowToEntry(r);
  }

  checkpoints(): { size: number; note: string }[] {
    return this.db.prepare('SELECT size, note FROM ledger_checkpoints ORDER BY size').all().map((r) => ({ size: Number(r['size']), note: String(r['note']) }));
  }

  checkpointAt(size: number): string | undefined {
    const r = this.db.prepare('SELECT note FROM ledger_checkpoints WHERE size = ?').get(size);
    return r ? String(r['note']) : undefined;
  }

  openIntents(): number[] {
    return this.db.prepare(`SELECT e.seq AS seq FROM ledger_entries e WHERE e.kind = 'intent'
      AND NOT EXISTS (SELECT 1 FROM ledger_entries o WHERE o.ref = e.seq) ORDER BY e.seq`).all().map((r) => Number(r['seq']));
  }

  payload(seq: number, name: string): StoredPayload | undefined {
    const r = this.db.prepare('SELECT seq, name, sealed FROM ledger_payloads WHERE seq = ? AND name = ?').get(seq, name);
    return r ? { seq: Number(r['seq']), name: String(r['name']), sealed: (r['sealed'] as Uint8Array | null) ?? null } : undefined;
  }

  erasePayload(seq: number, name: string): boolean {
    const r = this.db.prepare('UPDATE ledger_payloads SET sealed = NULL WHERE seq = ? AND name = ? AND sealed IS NOT NULL').run(seq, name);
    return Number(r.changes) > 0;
  }

  lastRotation(): string | undefined {
    const r = this.db.prepare("SELECT bytes FROM ledger_entries WHERE kind = 'key-rotation' ORDER BY seq DESC LIMIT 1").get();
    if (!r) return undefined;
    const body = (JSON.parse(new TextDecoder().decode(r['bytes'] as Uint8Array)) as { body: { new?: unknown } }).body;
    return typeof body.new === 'string' ? body.new : undefined;
  }

  close(): void {
    if (this.ownsDb && this.db.isOpen) this.db.close();
  }
}

function rowToEntry(r: Record<string, unknown>): StoredEntry {
  return { seq: Number(r['seq']), kind: String(r['kind']), ref: r['ref'] === null ? null : Number(r['ref']), bytes: r['bytes'] as Uint8Array, leaf: r['leaf'] as Uint8Array };
}
