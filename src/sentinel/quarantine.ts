/**
 * Quarantine: context items the detector judged to be prompt injection are kept out of every
 * brain's view, stored encrypted in the tenant's own database for review, and released only by a
 * named person. Both events are sealed in the tenant's ledger.
 *
 * Storage (table sentinel_quarantine in the tenant database): the content under AES-256-GCM with
 * the tenant data key, AAD = "sios-quarantine/v1\n<tenant>\n<id>" (a row copied to another tenant
 * or id fails to open); the verdict, score, reasons and source in clear (they are the reviewer's
 * index and say nothing the ledger entry does not).
 * Ledger: kind 'quarantine', body {action: 'quarantine'|'release', item, source, verdict, score,
 * reasons, commitment, ...}. The content is never in clear in the ledger: `commitment` is
 * SHA-256("sios-commit/v1" || 0 || salt || JCS(text)) (ledger/entry.ts), the salt kept in the row so
 * an auditor who is shown the content can check it against the sealed entry.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import { toBase64url, utf8 } from '../encoding/bytes.ts';
import { nodeVerifyCrypto, randomBytes } from '../crypto/node.ts';
import { sealAead, openAead } from '../crypto/aead.ts';
import { commitment } from '../ledger/entry.ts';
import type { Verdict } from './detector.ts';

export type QuarantineStatus = 'held' | 'released';

export interface QuarantinedItem {
  readonly id: string;
  readonly source: string;
  readonly verdict: string;
  readonly score: number;
  readonly reasons: readonly string[];
  readonly commitment: string;
  readonly chars: number;
  readonly status: QuarantineStatus;
  readonly createdAt: number;
  readonly releasedBy: string | null;
  readonly releasedAt: number | null;
  readonly releaseReason: string | null;
  /** Ledger sequence numbers of the sealed quarantine and release entries. */
  readonly sealedSeq: number;
  readonly releaseSeq: number | null;
}

export interface QuarantineOptions {
  tenant: string;
  /** The tenant's own database (Deployment.tenantDb). */
  db: DatabaseSync;
  /** The tenant data key (32 bytes, Deployment.tenantDataKey). */
  dataKey: Uint8Array;
  /** Seal an entry in the tenant's ledger; resolves with its receipt (seq). */
  seal(kind: 'quarantine', body: Record<string, Json>): Promise<{ seq: number }>;
  /** Checks that a principal id names an active person of this tenant who may release; returns their name. */
  person?(principalId: string): { name: string };
  now?: () => number;
}

const MAX_TEXT = 4 * 1024 * 1024;
const MAX_SOURCE = 512;
const ID_RE = /^q_[A-Za-z0-9_-]{16}$/;

function aad(tenant: string, id: string): Uint8Array {
  return utf8(`sios-quarantine/v1\n${tenant}\n${id}`);
}

export function migrateQuarantine(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS sentinel_quarantine (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    verdict TEXT NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL,
    content BLOB NOT NULL,
    salt BLOB NOT NULL,
    commitment TEXT NOT NULL,
    chars INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'released')),
    created_at INTEGER NOT NULL,
    sealed_seq INTEGER NOT NULL,
    released_by TEXT,
    released_at INTEGER,
    release_reason TEXT,
    release_seq INTEGER
  )`);
}

export class Quarantine {
  readonly tenant: string;
  readonly #o: QuarantineOptions;
  readonly #now: () => number;

  constructor(o: QuarantineOptions) {
    if (typeof o.tenant !== 'string' || o.tenant.length === 0) throw new SiosError('ERR_INPUT', 'Quarantine needs the tenant id');
    if (!(o.dataKey instanceof Uint8Array) || o.dataKey.length !== 32) throw new SiosError('ERR_KEY', 'Quarantine needs the 32-byte tenant data key');
    if (typeof o.seal !== 'function') throw new SiosError('ERR_INPUT', 'Quarantine needs a seal(kind, body) callback into the tenant ledger');
    this.tenant = o.tenant;
    this.#o = o;
    this.#now = o.now ?? Date.now;
    migrateQuarantine(o.db);
  }

  /** Hold `text` (never shown to a brain); sealed before this resolves. */
  async hold(item: { source: string; text: string; verdict: Verdict }): Promise<QuarantinedItem> {
    if (typeof item.text !== 'string') throw new SiosError('ERR_INPUT', 'quarantined content must be a string');
    if (item.text.length > MAX_TEXT) throw new SiosError('ERR_TOO_LARGE', `quarantined content is over ${MAX_TEXT} characters`);
    if (typeof item.source !== 'string' || item.source.length === 0 || item.source.length > MAX_SOURCE) throw new SiosError('ERR_INPUT', `the source of a quarantined item must be 1..${MAX_SOURCE} characters`);
    const id = 'q_' + toBase64url(randomBytes(12));
    const salt = randomBytes(32);
    const commit = toBase64url(commitment(nodeVerifyCrypto, salt, item.text));
    const sealed = sealAead(this.#o.dataKey, utf8(item.text), aad(this.tenant, id));
    const reasons = [...item.verdict.reasons].slice(0, 32).map((r) => String(r).slice(0, 200));
    const now = this.#now();
    // Seal first: an item that is held but not on the ledger would be an unaccounted removal.
    const receipt = await this.#o.seal('quarantine', {
      action: 'quarantine', item: id, source: item.source, verdict: item.verdict.verdict, score: item.verdict.score,
      reasons, commitment: commit, chars: item.text.length,
    });
    this.#o.db.prepare(`INSERT INTO sentinel_quarantine (id, tenant, source, verdict, score, reasons, content, salt, commitment, chars, status, created_at, sealed_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'held', ?, ?)`).run(
      id, this.tenant, item.source, item.verdict.verdict, item.verdict.score, JSON.stringify(reasons), sealed, salt, commit, item.text.length, now, receipt.seq);
    return this.get(id);
  }

  get(id: string): QuarantinedItem {
    const r = this.#row(id);
    return toItem(r);
  }

  list(o: { status?: QuarantineStatus; limit?: number } = {}): QuarantinedItem[] {
    for (const k of Object.keys(o)) if (k !== 'status' && k !== 'limit') throw new SiosError('ERR_INPUT', `unknown list option '${k}'`);
    if (o.status !== undefined && o.status !== 'held' && o.status !== 'released') throw new SiosError('ERR_INPUT', "status must be 'held' or 'released'");
    const limit = o.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new SiosError('ERR_INPUT', 'limit must be an integer 1..100000');
    const rows = o.status === undefined
      ? this.#o.db.prepare('SELECT * FROM sentinel_quarantine WHERE tenant = ? ORDER BY created_at, id LIMIT ?').all(this.tenant, limit)
      : this.#o.db.prepare('SELECT * FROM sentinel_quarantine WHERE tenant = ? AND status = ? ORDER BY created_at, id LIMIT ?').all(this.tenant, o.status, limit);
    return rows.map((r) => toItem(r as Record<string, unknown>));
  }

  /** The held content, decrypted, for a reviewer (show it as data, never to a brain). */
  content(id: string): string {
    const r = this.#row(id);
    const plain = openAead(this.#o.dataKey, r['content'] as Uint8Array, aad(this.tenant, id), `quarantined item ${id}`);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(plain);
    // The commitment is the sealed record of what was held: a row altered in place is caught here.
    const again = toBase64url(commitment(nodeVerifyCrypto, r['salt'] as Uint8Array, text));
    if (again !== r['commitment']) throw new SiosError('ERR_VERIFY', `quarantined item ${id} does not match its sealed commitment`);
    return text;
  }

  /** A named person releases an item (it becomes ordinary untrusted context again); sealed. */
  async release(id: string, by: string, reason: string): Promise<{ item: QuarantinedItem; text: string }> {
    if (typeof by !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(by)) throw new SiosError('ERR_INPUT', 'release needs the principal id of the person releasing');
    if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 1000) throw new SiosError('ERR_INPUT', 'release needs a reason (1..1000 characters)');
    const r = this.#row(id);
    if (r['status'] !== 'held') throw new SiosError('ERR_CONFLICT', `quarantined item ${id} was already released by ${String(r['released_by'])}`);
    if (!this.#o.person) throw new SiosError('ERR_FORBIDDEN', 'releasing needs a way to check the person (Quarantine option person)');
    const person = this.#o.person(by);
    const text = this.content(id);
    const receipt = await this.#o.seal('quarantine', {
      action: 'release', item: id, by, name: person.name, reason: reason.slice(0, 1000),
      commitment: String(r['commitment']), quarantineSeq: Number(r['sealed_seq']),
    });
    const now = this.#now();
    const changed = this.#o.db.prepare(`UPDATE sentinel_quarantine SET status = 'released', released_by = ?, released_at = ?, release_reason = ?, release_seq = ?
      WHERE id = ? AND tenant = ? AND status = 'held'`).run(by, now, reason.slice(0, 1000), receipt.seq, id, this.tenant);
    if (Number(changed.changes) !== 1) throw new SiosError('ERR_CONFLICT', `quarantined item ${id} changed while it was being released`);
    return { item: this.get(id), text };
  }

  #row(id: string): Record<string, unknown> {
    if (typeof id !== 'string' || !ID_RE.test(id)) throw new SiosError('ERR_INPUT', `'${String(id).slice(0, 40)}' is not a quarantine item id (q_ and 16 characters)`);
    const r = this.#o.db.prepare('SELECT * FROM sentinel_quarantine WHERE id = ? AND tenant = ?').get(id, this.tenant);
    if (!r) throw new SiosError('ERR_NOT_FOUND', `no quarantined item ${id} in tenant ${this.tenant}`);
    return r as Record<string, unknown>;
  }
}

function toItem(r: Record<string, unknown>): QuarantinedItem {
  return {
    id: String(r['id']), source: String(r['source']), verdict: String(r['verdict']), score: Number(r['score']),
    reasons: JSON.parse(String(r['reasons'])) as string[], commitment: String(r['commitment']), chars: Number(r['chars']),
    status: r['status'] as QuarantineStatus, createdAt: Number(r['created_at']),
    releasedBy: r['released_by'] === null ? null : String(r['released_by']),
    releasedAt: r['released_at'] === null ? null : Number(r['released_at']),
    releaseReason: r['release_reason'] === null ? null : String(r['release_reason']),
    sealedSeq: Number(r['sealed_seq']), releaseSeq: r['release_seq'] === null ? null : Number(r['release_seq']),
  };
}
