/** A migrated auth database in a temporary directory, for tests that need no browser. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrateAuth } from '../../src/auth/schema.ts';

export function tempAuthDb(): { db: DatabaseSync; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sios-auth-'));
  const db = new DatabaseSync(join(dir, 'system.db'));
  migrateAuth(db);
  return { db, close() { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}
