/**
 * Tables of auth/. migrateAuth(db) is idempotent; run it on the system database (principals of
 * every tenant, their passkeys, sessions and API tokens live there, because operators and sessions
 * cross tenants). Times are integer milliseconds since the epoch. Secrets are never stored: only
 * domain-separated SHA-256 hashes of session tokens, API tokens and enrolment codes.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError, isSiosError } from '../errors.ts';

export const AUTH_SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS auth_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS auth_principal (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('operator','tenant-admin','member','auditor')),
  clearance INTEGER NOT NULL CHECK (clearance BETWEEN 0 AND 4),
  attributes TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
  user_handle BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant, name)
) STRICT;
CREATE TABLE IF NOT EXISTS auth_credential (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES auth_principal(id) ON DELETE CASCADE,
  public_key BLOB NOT NULL,
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,
  aaguid TEXT NOT NULL,
  device_type TEXT NOT NULL,
  backed_up INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS auth_credential_principal ON auth_credential(principal_id);
CREATE TABLE IF NOT EXISTS auth_challenge (
  challenge TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  principal_id TEXT,
  session_id TEXT,
  context TEXT,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS auth_enrolment (
  id TEXT PRIMARY KEY,
  hash BLOB NOT NULL,
  principal_id TEXT NOT NULL REFERENCES auth_principal(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS auth_session (
  id TEXT PRIMARY KEY,
  hash BLOB NOT NULL,
  principal_id TEXT NOT NULL REFERENCES auth_principal(id) ON DELETE CASCADE,
  tenant TEXT NOT NULL,
  credential_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  verified_at INTEGER NOT NULL,
  active0 INTEGER NOT NULL, active1 INTEGER NOT NULL, active2 INTEGER NOT NULL,
  active3 INTEGER NOT NULL, active4 INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS auth_session_principal ON auth_session(principal_id);
CREATE TABLE IF NOT EXISTS auth_session_policy (
  tenant TEXT NOT NULL,
  clearance INTEGER NOT NULL CHECK (clearance BETWEEN 0 AND 4),
  idle_seconds INTEGER NOT NULL,
  absolute_seconds INTEGER NOT NULL,
  PRIMARY KEY (tenant, clearance)
) STRICT;
CREATE TABLE IF NOT EXISTS auth_token (
  id TEXT PRIMARY KEY,
  hash BLOB NOT NULL,
  principal_id TEXT NOT NULL REFERENCES auth_principal(id) ON DELETE CASCADE,
  tenant TEXT NOT NULL,
  scope TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  last_used_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS auth_token_tenant ON auth_token(tenant);
`;

/** Creates (or checks) the auth tables in db. Safe to call on every start. */
export function migrateAuth(db: DatabaseSync): void {
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(DDL);
    const row = db.prepare("SELECT value FROM auth_meta WHERE key = 'schema'").get() as { value: string } | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO auth_meta (key, value) VALUES ('schema', ?)").run(String(AUTH_SCHEMA_VERSION));
    } else if (row.value !== String(AUTH_SCHEMA_VERSION)) {
      throw new SiosError('ERR_STORE', `the auth tables are schema version ${row.value}, this SIOS expects ${AUTH_SCHEMA_VERSION}; upgrade SIOS or restore the matching database`);
    }
    db.exec('COMMIT');
  } catch (e) {
    try { db.exec('ROLLBACK'); } catch { /* keep the original error */ }
    if (isSiosError(e)) throw e;
    throw new SiosError('ERR_STORE', 'could not create the auth tables; check the database is writable and not corrupt', { cause: e });
  }
}
