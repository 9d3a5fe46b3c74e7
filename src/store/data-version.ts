/**
 * SQLite's data_version (https://sqlite.org/pragma.html#pragma_data_version): on one connection it
 * changes when, and only when, another connection (another process, a CLI command run beside the
 * server) commits to the database. Caches of rows that this process changes only through its own
 * code invalidate on it, so a change made from outside is seen at the next read, as without them.
 */
import type { DatabaseSync } from 'node:sqlite';

export function dataVersion(db: DatabaseSync): () => number {
  const stmt = db.prepare('PRAGMA data_version');
  return () => Number(stmt.get()?.['data_version'] ?? -1);
}
