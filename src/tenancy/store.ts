/**
 * A tenant's data store: typed collections of records, encrypted at rest (AES-256-GCM under the
 * tenant's data key). The associated data binds every ciphertext to tenant, collection and record
 * id, so a row copied into another tenant's database, another collection or another id fails to
 * decrypt. Access control is not decided here: callers go through the policy engine (policy/) and
 * the gate; this module only stores and returns what it is asked for.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { fromUtf8, utf8 } from '../encoding/bytes.ts';
import { openAead, sealAead } from '../crypto/aead.ts';
import type { CollectionSpec, Row } from '../policy/engine.ts';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const MAX_ROW_BYTES = 256 * 1024;

export class TenantStore {
  readonly tenant: string;
  private readonly db: DatabaseSync;
  private readonly key: Uint8Array;

  constructor(db: DatabaseSync, tenant: string, dataKey: Uint8Array) {
    this.db = db;
    this.tenant = tenant;
    this.key = dataKey;
    db.exec(`
      CREATE TABLE IF NOT EXISTS data_collections (name TEXT PRIMARY KEY, spec TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS data_records (collection TEXT NOT NULL, id TEXT NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (collection, id));
    `);
  }

  defineCollection(spec: CollectionSpec): void {
    if (!NAME.test(spec.name)) throw new SiosError('ERR_INPUT', `collection name '${String(spec.name).slice(0, 64)}' must be lowercase letters, digits and '_'`);
    if (!(spec.idColumn in spec.columns)) throw new SiosError('ERR_INPUT', `collection ${spec.name}: idColumn '${spec.idColumn}' is not one of its columns`);
    this.db.prepare('INSERT INTO data_collections (name, spec) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec').run(spec.name, JSON.stringify(spec));
  }

  collections(): CollectionSpec[] {
    return this.db.prepare('SELECT spec FROM data_collections ORDER BY name').all().map((r) => JSON.parse(String(r['spec'])) as CollectionSpec);
  }

  collection(name: string): CollectionSpec {
    const r = this.db.prepare('SELECT spec FROM data_collections WHERE name = ?').get(name);
    if (!r) throw this.noCollection(name);
    return JSON.parse(String(r['spec'])) as CollectionSpec;
  }

  /** ERR_NOT_FOUND unless the collection exists (as collection(), without reading its spec). */
  requireCollection(name: string): void {
    if (!this.db.prepare('SELECT 1 AS x FROM data_collections WHERE name = ?').get(name)) throw this.noCollection(name);
  }

  private noCollection(name: string): SiosError {
    return new SiosError('ERR_NOT_FOUND', `tenant ${this.tenant} has no collection '${String(name).slice(0, 64)}'`);
  }

  private aad(collection: string, id: string): Uint8Array {
    return utf8(`sios-record/v1\n${this.tenant}\n${collection}\n${id}`);
  }

  /** Insert or replace a row; its id is the value of the collection's idColumn. */
  put(collection: string, row: Row): string {
    const spec = this.collection(collection);
    for (const k of Object.keys(row)) if (!(k in spec.columns) && k !== spec.rowClearanceColumn) throw new SiosError('ERR_INPUT', `collection ${collection} has no column '${k.slice(0, 64)}'`);
    const idv = row[spec.idColumn];
    if (typeof idv !== 'string' || idv.length === 0 || idv.length > 256) throw new SiosError('ERR_INPUT', `a ${collection} row needs a string '${spec.idColumn}' (its id)`);
    const plain = utf8(canonicalize(row as Json));
    if (plain.length > MAX_ROW_BYTES) throw new SiosError('ERR_TOO_LARGE', `row is ${plain.length} bytes; the limit is ${MAX_ROW_BYTES}`);
    this.db.prepare('INSERT INTO data_records (collection, id, sealed) VALUES (?, ?, ?) ON CONFLICT(collection, id) DO UPDATE SET sealed = excluded.sealed')
      .run(collection, idv, sealAead(this.key, plain, this.aad(collection, idv)));
    return idv;
  }

  get(collection: string, id: string): Row | undefined {
    const r = this.db.prepare('SELECT sealed FROM data_records WHERE collection = ? AND id = ?').get(collection, id);
    return r ? this.open(collection, id, r['sealed'] as Uint8Array) : undefined;
  }

  /** Every row of a collection (decrypted), in id order, at most `limit`. */
  all(collection: string, limit = 10_000): Row[] {
    this.requireCollection(collection);
    return this.db.prepare('SELECT id, sealed FROM data_records WHERE collection = ? ORDER BY id LIMIT ?').all(collection, limit)
      .map((r) => this.open(collection, String(r['id']), r['sealed'] as Uint8Array));
  }

  delete(collection: string, id: string): boolean {
    return Number(this.db.prepare('DELETE FROM data_records WHERE collection = ? AND id = ?').run(collection, id).changes) > 0;
  }

  count(collection: string): number {
    return Number(this.db.prepare('SELECT COUNT(*) AS n FROM data_records WHERE collection = ?').get(collection)?.['n'] ?? 0);
  }

  private open(collection: string, id: string, sealed: Uint8Array): Row {
    const plain = openAead(this.key, sealed, this.aad(collection, id), `record ${collection}/${id} of tenant ${this.tenant}`);
    return JSON.parse(fromUtf8(plain)) as Row;
  }
}
