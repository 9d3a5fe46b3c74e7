/** The queue of actions waiting for a person's approval, in the tenant's own database. */
import type { DatabaseSync } from 'node:sqlite';
import type { Json } from '../encoding/jcs.ts';
import type { IntentDraft } from './intent.ts';
import type { BrainVerdict } from './types.ts';

export interface Pending {
  id: string;
  tenant: string;
  requester: string;
  brain: string | null;
  skill: string;
  args: Json;
  salt: string;
  draft: IntentDraft;
  digest: string;
  verdicts: BrainVerdict[];
  createdAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
}

export class PendingApprovals {
  private readonly db: DatabaseSync;
  private readonly tenant: string;
  constructor(db: DatabaseSync, tenant: string) {
    this.db = db;
    this.tenant = tenant;
    db.exec('CREATE TABLE IF NOT EXISTS gate_pending (id TEXT PRIMARY KEY, doc TEXT NOT NULL, status TEXT NOT NULL, expires INTEGER NOT NULL)');
  }
  add(p: Pending): void {
    this.db.prepare('INSERT INTO gate_pending (id, doc, status, expires) VALUES (?, ?, ?, ?)').run(p.id, JSON.stringify(p), p.status, p.expiresAt);
  }
  get(id: string): Pending | undefined {
    const r = this.db.prepare('SELECT doc, status FROM gate_pending WHERE id = ?').get(String(id));
    if (!r) return undefined;
    const p = JSON.parse(String(r['doc'])) as Pending;
    p.status = String(r['status']) as Pending['status'];
    return p.tenant === this.tenant ? p : undefined;
  }
  setStatus(id: string, status: Pending['status']): void {
    this.db.prepare('UPDATE gate_pending SET status = ? WHERE id = ?').run(status, id);
  }
  list(now: number): Pending[] {
    return this.db.prepare("SELECT doc FROM gate_pending WHERE status = 'pending' AND expires > ? ORDER BY expires").all(now).map((r) => JSON.parse(String(r['doc'])) as Pending);
  }
}
