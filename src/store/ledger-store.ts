/**
 * Where a tenant ledger's bytes live. The embedded default is SQLite (store/sqlite-ledger.ts); a
 * PostgreSQL implementation plugs in behind the same interface. Every method either completes
 * durably or throws: `appendBatch` returns only after the batch and its checkpoint are on disk.
 */
export interface StoredEntry {
  seq: number;
  kind: string;
  /** For outcomes: the seq of the intent they close. */
  ref: number | null;
  bytes: Uint8Array;
  leaf: Uint8Array;
}

export interface StoredPayload {
  seq: number;
  name: string;
  /** AEAD-sealed {salt, payload}; null once erased. */
  sealed: Uint8Array | null;
}

export interface LedgerStore {
  /** Leaf hashes in seq order, for rebuilding the Merkle tree at start. */
  loadLeaves(): Uint8Array[];
  lastEntry(): StoredEntry | undefined;
  latestCheckpoint(): { size: number; note: string } | undefined;
  /** Atomically and durably append entries, payloads and the checkpoint that covers them. */
  appendBatch(entries: StoredEntry[], payloads: StoredPayload[], checkpoint: { size: number; note: string }, expectedNextSeq: number): void;
  /**
   * The same, without blocking the calling thread on the write and its flush: resolves only once
   * the batch is durable, rejects if it was not written. Stores that offer it are used through it.
   */
  appendBatchAsync?(entries: StoredEntry[], payloads: StoredPayload[], checkpoint: { size: number; note: string }, expectedNextSeq: number): Promise<void>;
  readEntries(from: number, to: number): StoredEntry[];
  checkpoints(): { size: number; note: string }[];
  checkpointAt(size: number): string | undefined;
  /** Intent seqs that have no outcome. */
  openIntents(): number[];
  payload(seq: number, name: string): StoredPayload | undefined;
  erasePayload(seq: number, name: string): boolean;
  /** The new key (base64url) announced by the last key-rotation entry, if any. */
  lastRotation?(): string | undefined;
  close(): void;
  /** Like close, after every pending appendBatchAsync finished (stores that have one). */
  closeAsync?(): Promise<void>;
}
