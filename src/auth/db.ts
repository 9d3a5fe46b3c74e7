/**
 * All SQL of auth/ goes through this wrapper over a caller-supplied node:sqlite DatabaseSync:
 * statements are prepared once per database, and every storage fault becomes ERR_STORE.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { SiosError, isSiosError } from '../errors.ts';

export type Row = Record<string, SQLInputValue>;

export class Sql {
  readonly db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();
  constructor(db: DatabaseSync) { this.db = db; }

  #stmt(sql: string): StatementSync {
    let s = this.#cache.get(sql);
    if (!s) {
      try { s = this.db.prepare(sql); } catch (cause) {
        throw new SiosError('ERR_STORE', 'the auth store rejected a statement; run migrateAuth(db) on this database first', { cause });
      }
      this.#cache.set(sql, s);
    }
    return s;
  }

  run(sql: string, ...params: SQLInputValue[]): number {
    try { return Number(this.#stmt(sql).run(...params).changes); } catch (cause) { throw storeError(cause); }
  }

  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    try { return this.#stmt(sql).get(...params) as Row | undefined; } catch (cause) { throw storeError(cause); }
  }

  /**
   * SQLite's data_version for this connection: it changes when another connection (another process,
   * a CLI command) commits to the database, and only then. Caches of rows invalidate on it.
   */
  dataVersion(): number {
    const r = this.get('PRAGMA data_version');
    return r === undefined ? -1 : num(r, 'data_version');
  }

  all(sql: string, ...params: SQLInputValue[]): Row[] {
    try { return this.#stmt(sql).all(...params) as Row[]; } catch (cause) { throw storeError(cause); }
  }

  /** Runs fn inside BEGIN IMMEDIATE … COMMIT (rolled back if fn throws). Not re-entrant. */
  tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      try { this.db.exec('ROLLBACK'); } catch { /* the original error matters more */ }
      throw e;
    }
  }
}

function storeError(cause: unknown): SiosError {
  if (isSiosError(cause)) return cause;
  const msg = cause instanceof Error ? cause.message : '';
  if (/UNIQUE constraint failed|PRIMARY KEY/.test(msg)) {
    return new SiosError('ERR_CONFLICT', 'the record already exists; use a different name or update the existing one', { cause });
  }
  return new SiosError('ERR_STORE', 'the auth store failed; check the database file (disk full, locked or corrupt) and that migrateAuth(db) ran', { cause });
}

export const str = (r: Row, k: string): string => {
  const v = r[k];
  if (typeof v !== 'string') throw new SiosError('ERR_STORE', `auth store column ${k} is not text; the database is corrupt or from another version`);
  return v;
};
export const num = (r: Row, k: string): number => {
  const v = r[k];
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw new SiosError('ERR_STORE', `auth store column ${k} is not a number; the database is corrupt or from another version`);
  return v;
};
export const optNum = (r: Row, k: string): number | null => (r[k] === null || r[k] === undefined ? null : num(r, k));
export const optStr = (r: Row, k: string): string | null => (r[k] === null || r[k] === undefined ? null : str(r, k));
export const blob = (r: Row, k: string): Uint8Array => {
  const v = r[k];
  if (!(v instanceof Uint8Array)) throw new SiosError('ERR_STORE', `auth store column ${k} is not a blob; the database is corrupt or from another version`);
  return new Uint8Array(v);
};
