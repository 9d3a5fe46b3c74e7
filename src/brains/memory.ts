/**
 * Brains' working memory: conversation turns, retrieved context and scratch values, per tenant,
 * per session, per brain. Stored in the tenant's own database, encrypted with AES-256-GCM under a
 * key derived (HKDF) from the tenant data key, with associated data binding tenant, session,
 * brain, kind and position: a ciphertext copied to another tenant, session, brain or slot fails to
 * open. The API is scoped by construction: a WorkingMemory is bound to one tenant and key, a
 * SessionMemory to one session and brain; nothing lists or reads across them.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { fromUtf8, utf8 } from '../encoding/bytes.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { hkdf, openAead, sealAead } from '../crypto/aead.ts';

export type MemoryKind = 'turn' | 'context';
const KINDS: readonly MemoryKind[] = ['turn', 'context'];

export const MAX_MEMORY_VALUE_BYTES = 256 * 1024;
export const MAX_MEMORY_ENTRIES = 10_000;

const SESSION_RE = /^[A-Za-z0-9_-]{1,128}$/;
const NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;

export function migrateMemory(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS brain_memory (
      tenant TEXT NOT NULL, session TEXT NOT NULL, brain TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
      sealed BLOB NOT NULL, PRIMARY KEY (tenant, session, brain, kind, seq));
    CREATE TABLE IF NOT EXISTS brain_scratch (
      tenant TEXT NOT NULL, session TEXT NOT NULL, brain TEXT NOT NULL, name TEXT NOT NULL,
      sealed BLOB NOT NULL, PRIMARY KEY (tenant, session, brain, name));
  `);
}

function check(re: RegExp, v: unknown, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) throw new SiosError('ERR_INPUT', `${what} ${JSON.stringify(String(v).slice(0, 64))} is not valid (letters, digits, "_", "-", 1-128 characters)`);
  return v;
}

export class WorkingMemory {
  readonly tenant: string;
  readonly #db: DatabaseSync;
  readonly #key: Uint8Array;

  constructor(db: DatabaseSync, tenant: string, dataKey: Uint8Array) {
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== 32) throw new SiosError('ERR_KEY', 'the tenant data key must be 32 bytes');
    this.tenant = check(/^[a-z0-9][a-z0-9_-]{0,62}$/, tenant, 'tenant id');
    this.#db = db;
    // A key of its own: memory ciphertexts can never be confused with tenant records.
    this.#key = hkdf(dataKey, 'sios-brain-memory/v1', tenant);
    migrateMemory(db);
  }

  /** The memory of one brain in one session. */
  session(session: string, brain: string): SessionMemory {
    return new SessionMemory(this.#db, this.#key, this.tenant, check(SESSION_RE, session, 'session id'), check(/^[a-z][a-z0-9.-]{0,127}$/, brain, 'brain id'));
  }

  /** Session over: erases every brain's memory of it. Returns the number of entries erased. */
  endSession(session: string): number {
    check(SESSION_RE, session, 'session id');
    const a = Number(this.#db.prepare('DELETE FROM brain_memory WHERE tenant = ? AND session = ?').run(this.tenant, session).changes);
    const b = Number(this.#db.prepare('DELETE FROM brain_scratch WHERE tenant = ? AND session = ?').run(this.tenant, session).changes);
    return a + b;
  }
}

export interface MemoryEntry {
  readonly kind: MemoryKind;
  readonly seq: number;
  readonly value: Json;
}

export class SessionMemory {
  readonly tenant: string;
  readonly session: string;
  readonly brain: string;
  readonly #db: DatabaseSync;
  readonly #key: Uint8Array;

  constructor(db: DatabaseSync, key: Uint8Array, tenant: string, session: string, brain: string) {
    this.#db = db; this.#key = key; this.tenant = tenant; this.session = session; this.brain = brain;
  }

  #aad(slot: string): Uint8Array {
    return utf8(`sios-brain-memory/v1\n${this.tenant}\n${this.session}\n${this.brain}\n${slot}`);
  }

  #seal(value: Json, slot: string): Uint8Array {
    const plain = utf8(canonicalize(value));
    if (plain.length > MAX_MEMORY_VALUE_BYTES) throw new SiosError('ERR_TOO_LARGE', `a memory entry is ${plain.length} bytes; the limit is ${MAX_MEMORY_VALUE_BYTES}`);
    return sealAead(this.#key, plain, this.#aad(slot));
  }

  #open(sealed: Uint8Array, slot: string): Json {
    return JSON.parse(fromUtf8(openAead(this.#key, sealed, this.#aad(slot), `working memory of brain ${this.brain} in session ${this.session}`))) as Json;
  }

  /** Appends a conversation turn or a retrieved context item; returns its sequence number. */
  append(kind: MemoryKind, value: Json): number {
    if (!KINDS.includes(kind)) throw new SiosError('ERR_INPUT', `memory kind must be one of ${KINDS.join(', ')}`);
    const row = this.#db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(seq), -1) AS m FROM brain_memory WHERE tenant = ? AND session = ? AND brain = ? AND kind = ?')
      .get(this.tenant, this.session, this.brain, kind);
    if (Number(row?.['n'] ?? 0) >= MAX_MEMORY_ENTRIES) throw new SiosError('ERR_TOO_LARGE', `session ${this.session} holds ${MAX_MEMORY_ENTRIES} ${kind} entries already; end the session or start a new one`);
    const seq = Number(row?.['m'] ?? -1) + 1;
    this.#db.prepare('INSERT INTO brain_memory (tenant, session, brain, kind, seq, sealed) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.tenant, this.session, this.brain, kind, seq, this.#seal(value, `${kind}/${seq}`));
    return seq;
  }

  /** Entries of one kind (or all), in order. */
  list(kind?: MemoryKind): MemoryEntry[] {
    if (kind !== undefined && !KINDS.includes(kind)) throw new SiosError('ERR_INPUT', `memory kind must be one of ${KINDS.join(', ')}`);
    const rows = kind === undefined
      ? this.#db.prepare('SELECT kind, seq, sealed FROM brain_memory WHERE tenant = ? AND session = ? AND brain = ? ORDER BY kind, seq').all(this.tenant, this.session, this.brain)
      : this.#db.prepare('SELECT kind, seq, sealed FROM brain_memory WHERE tenant = ? AND session = ? AND brain = ? AND kind = ? ORDER BY seq').all(this.tenant, this.session, this.brain, kind);
    return rows.map((r) => {
      const k = String(r['kind']) as MemoryKind;
      const seq = Number(r['seq']);
      return { kind: k, seq, value: this.#open(r['sealed'] as Uint8Array, `${k}/${seq}`) };
    });
  }

  setScratch(name: string, value: Json): void {
    check(NAME_RE, name, 'scratch name');
    this.#db.prepare('INSERT INTO brain_scratch (tenant, session, brain, name, sealed) VALUES (?, ?, ?, ?, ?) ON CONFLICT(tenant, session, brain, name) DO UPDATE SET sealed = excluded.sealed')
      .run(this.tenant, this.session, this.brain, name, this.#seal(value, `scratch/${name}`));
  }

  getScratch(name: string): Json | undefined {
    check(NAME_RE, name, 'scratch name');
    const r = this.#db.prepare('SELECT sealed FROM brain_scratch WHERE tenant = ? AND session = ? AND brain = ? AND name = ?').get(this.tenant, this.session, this.brain, name);
    return r === undefined ? undefined : this.#open(r['sealed'] as Uint8Array, `scratch/${name}`);
  }

  /** Erases this brain's memory of this session. */
  clear(): number {
    const a = Number(this.#db.prepare('DELETE FROM brain_memory WHERE tenant = ? AND session = ? AND brain = ?').run(this.tenant, this.session, this.brain).changes);
    const b = Number(this.#db.prepare('DELETE FROM brain_scratch WHERE tenant = ? AND session = ? AND brain = ?').run(this.tenant, this.session, this.brain).changes);
    return a + b;
  }
}
