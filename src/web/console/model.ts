/**
 * The console's reading of ledger entries: one row per entry for the timeline (who, kind, brain,
 * skill, decision, outcome), outcomes joined to their intents, and the counts the charts draw.
 * Pure functions over the JSON that GET /v1/tenants/{t}/ledger/events returns, so they run (and are
 * tested) in Node as well as in the page. Entries are attacker-influenced text: nothing here builds
 * HTML; the view sets textContent only.
 */
import type { Entry } from '../../ledger/entry.ts';

/** A ledger entry as the API returns it: the ledger's Entry, with a body the page treats as untyped. */
export type LedgerEntry = Omit<Entry, 'body'> & { body: Record<string, unknown> };

export interface TimelineRow {
  seq: number;
  time: string;
  kind: string;
  who: string;
  brain: string;
  skill: string;
  decision: string;
  outcome: string;
  /** ok | refused | pending | error | info: drives the row's colour and badge. */
  tone: 'ok' | 'refused' | 'pending' | 'error' | 'info';
  detail: string;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function s(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** Accumulates entries (in any order, duplicates ignored) and derives rows and chart data. */
export class Timeline {
  private readonly bySeq = new Map<number, LedgerEntry>();
  /** intent seq → outcome entry */
  private readonly outcomes = new Map<number, LedgerEntry>();
  /** principal id → display name, learnt from intents and from the signed-in session. */
  readonly names = new Map<string, string>();
  size = 0;

  /** Adds entries; returns how many were new. */
  add(entries: readonly unknown[]): number {
    let added = 0;
    for (const raw of entries) {
      const e = obj(raw);
      const seq = e['seq'];
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || this.bySeq.has(seq)) continue;
      const entry: LedgerEntry = { v: Number(e['v']), tenant: s(e['tenant']), seq, time: s(e['time']), kind: s(e['kind']), prev: s(e['prev']), body: obj(e['body']) };
      this.bySeq.set(seq, entry);
      added++;
      if (entry.kind === 'intent') {
        const p = obj(entry.body['principal']);
        if (s(p['id']) && s(p['name'])) this.names.set(s(p['id']), s(p['name']));
      }
      if (entry.kind === 'outcome') {
        const ref = obj(entry.body['intent'])['seq'];
        if (typeof ref === 'number') this.outcomes.set(ref, entry);
      }
    }
    return added;
  }

  /** The highest sequence number seen, or -1. */
  get last(): number {
    let m = -1;
    for (const k of this.bySeq.keys()) if (k > m) m = k;
    return m;
  }

  get count(): number { return this.bySeq.size; }

  entry(seq: number): LedgerEntry | undefined { return this.bySeq.get(seq); }

  private name(id: unknown): string {
    const i = s(id);
    if (!i) return '';
    // Pending, refusal and session entries carry principal ids only; names come from intents.
    return this.names.get(i) ?? (i.length > 14 ? `${i.slice(0, 12)}…` : i);
  }

  /** Rows, newest first. */
  rows(): TimelineRow[] {
    return [...this.bySeq.values()].sort((a, b) => b.seq - a.seq).map((e) => this.row(e));
  }

  row(e: LedgerEntry): TimelineRow {
    const b = e.body;
    const base = { seq: e.seq, time: e.time, kind: e.kind };
    switch (e.kind) {
      case 'intent': {
        const p = obj(b['principal']);
        const br = obj(b['brain']);
        const pol = obj(b['policy']);
        const ap = obj(b['approvals']);
        const human = obj(ap['human']);
        const brains = Array.isArray(ap['brains']) ? ap['brains'].map(obj) : [];
        const parts = [`policy ${s(pol['decision']) || '?'}`];
        if (brains.length) parts.push(`${brains.filter((v) => v['verdict'] === 'approve').length}/${brains.length} brain${brains.length === 1 ? '' : 's'} approve`);
        if (s(human['name'])) parts.push(`approved by ${s(human['name'])}`);
        const o = this.outcomes.get(e.seq);
        const status = o ? s(o.body['status']) : '';
        return {
          ...base, who: s(p['name']) || s(p['id']), brain: br['id'] ? `${s(br['id'])}@${s(br['version'])}` : 'person (no brain)',
          skill: s(obj(b['skill'])['id']), decision: parts.join(' · '),
          outcome: o ? `${status} (#${o.seq})` : 'running…',
          tone: !o ? 'pending' : status === 'ok' ? 'ok' : 'error',
          detail: `intent digest ${s(b['digest']).slice(0, 16)}…`,
        };
      }
      case 'outcome': {
        const ref = obj(b['intent'])['seq'];
        const i = typeof ref === 'number' ? this.bySeq.get(ref) : undefined;
        const ib = i ? i.body : {};
        const br = obj(ib['brain']);
        const status = s(b['status']);
        return {
          ...base, who: s(obj(ib['principal'])['name']), brain: br['id'] ? `${s(br['id'])}@${s(br['version'])}` : (i ? 'person (no brain)' : ''),
          skill: s(obj(ib['skill'])['id']), decision: `closes intent #${s(ref)}`, outcome: status,
          tone: status === 'ok' ? 'ok' : 'error', detail: s(b['message']) || s(b['reason']),
        };
      }
      case 'pending': {
        const needs = obj(b['needs']);
        const n = Number(needs['brains'] ?? 0);
        return {
          ...base, who: this.name(b['principal']), brain: s(b['brain']) || 'person (no brain)', skill: s(b['skill']),
          decision: `awaiting ${n ? `${n} brain${n === 1 ? '' : 's'} and ` : ''}${needs['human'] ? 'a person’s passkey' : 'review'}`,
          outcome: 'pending approval', tone: 'pending', detail: `approval ${s(b['approval'])} · expires ${s(b['expires'])}`,
        };
      }
      case 'refusal': {
        const by = s(b['by']);
        return {
          ...base, who: this.name(b['principal']) || 'unknown caller', brain: s(b['brain']), skill: s(b['skill']),
          decision: `refused at ${s(b['stage']) || '?'}${by ? ` by ${this.name(by)}` : ''}`, outcome: s(b['reason']) || 'refused',
          tone: 'refused', detail: s(b['message']),
        };
      }
      case 'quarantine': {
        const release = s(b['action']) === 'release';
        const reasons = Array.isArray(b['reasons']) ? b['reasons'].map(s).filter(Boolean).join(', ') : '';
        return {
          ...base, who: release ? s(b['name']) || this.name(b['by']) : 'Sentinel', brain: '', skill: '',
          decision: release ? `released ${s(b['item'])} from quarantine` : `quarantined ${s(b['source']) || s(b['item'])}`,
          outcome: release ? 'released' : `held (${s(b['verdict']) || '?'})`, tone: release ? 'info' : 'refused',
          detail: release ? s(b['reason']) : reasons,
        };
      }
      default: {
        const skills = Array.isArray(b['skills']) ? b['skills'].map(s).join(', ') : '';
        return {
          ...base, who: s(b['actor']) || this.name(b['principal']), brain: s(b['brain']), skill: skills, decision: s(b['action']) || e.kind,
          outcome: '', tone: 'info', detail: s(b['version']) ? `version ${s(b['version'])}` : '',
        };
      }
    }
  }

  /** Actions (intents) and refusals per clock hour, for the `hours` hours ending with the hour of `now`. */
  perHour(now: number, hours = 12): { start: number; actions: number; refusals: number }[] {
    const H = 3600_000;
    const end = Math.floor(now / H) * H;
    const buckets = Array.from({ length: hours }, (_, i) => ({ start: end - (hours - 1 - i) * H, actions: 0, refusals: 0 }));
    const first = buckets[0]!.start;
    for (const e of this.bySeq.values()) {
      if (e.kind !== 'intent' && e.kind !== 'refusal') continue;
      const t = Date.parse(e.time);
      if (!Number.isFinite(t) || t < first || t >= end + H) continue;
      const bucket = buckets[Math.floor((t - first) / H)];
      if (!bucket) continue;
      if (e.kind === 'intent') bucket.actions++; else bucket.refusals++;
    }
    return buckets;
  }

  /** Refusals grouped by reason, most frequent first. */
  refusalsByReason(): { reason: string; count: number }[] {
    const m = new Map<string, number>();
    for (const e of this.bySeq.values()) {
      if (e.kind !== 'refusal') continue;
      const r = s(e.body['reason']) || 'unspecified';
      m.set(r, (m.get(r) ?? 0) + 1);
    }
    return [...m].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  }
}

/** "in 14 min", "3 min ago": coarse relative time for expiries and freshness. */
export function relative(ms: number, now: number): string {
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const txt = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : `${Math.round(a / 360) / 10} h`;
  return d >= 0 ? `in ${txt}` : `${txt} ago`;
}

/**
 * A key fingerprint in groups of four so a person can read it aloud and compare it:
 * "SHA256:2e7a5e76…" → "SHA256: 2e7a 5e76 …". Anything after the algorithm prefix is grouped.
 */
export function groupFingerprint(fp: string): string {
  const i = fp.indexOf(':');
  const algo = i > 0 ? fp.slice(0, i + 1) : '';
  const rest = i > 0 ? fp.slice(i + 1) : fp;
  const groups = rest.match(/.{1,4}/g) ?? [];
  return `${algo}${algo ? ' ' : ''}${groups.join(' ')}`;
}

/** 268435456 → "256 MiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) { v /= 1024; u++; }
  if (v >= 1024 && u < units.length - 1) { while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; } return `${v.toFixed(1)} ${units[u]}`; }
  return `${v} ${units[u]}`;
}
