/**
 * The verifier page's timeline: one compact row per ledger entry (who, which brain, which skill,
 * when, the policy decision, approvals, the outcome), built from entries as verifyBundle hands them
 * over, with outcomes folded into their intents. Runtime-agnostic and DOM-free; the Web Worker owns
 * the rows and the page asks it for one page of matches at a time, so 100,000 rows never reach the
 * main thread at once.
 *
 * Entry bodies are attacker-controlled until verified and their shape is the gate's, not ours: every
 * field is read defensively and shown as text (the page renders with textContent, never innerHTML).
 */
import type { Entry } from '../../ledger/entry.ts';

export interface Row {
  seq: number;
  time: string;
  kind: string;
  actor: string;
  brain: string;
  /** The skill invoked, or the action for entries without a skill. */
  skill: string;
  decision: string;
  /** Human-readable approvals ("2: summarise-notes (brain), clerk.tanaka (human, webauthn)"). */
  approvals: string;
  approvalCount: number;
  /** For intents: the outcome status once recorded ('' while none is); for outcomes: their status. */
  outcome: string;
  /** For intents: the seq of their outcome; for outcomes: the seq of their intent. */
  link: number | null;
  /** Names of payloads disclosed with this entry ('' if none). */
  disclosed: string;
}

export type Filter = 'all' | 'intent' | 'outcome' | 'in-doubt' | 'not-ok' | 'approvals' | 'disclosed' | 'other';
export const FILTERS: readonly Filter[] = ['all', 'intent', 'outcome', 'in-doubt', 'not-ok', 'approvals', 'disclosed', 'other'];

const MAX_FIELD = 120;

function clip(s: string): string {
  return s.length > MAX_FIELD ? s.slice(0, MAX_FIELD - 1) + '…' : s;
}

/** A scalar as display text; objects name who they are when they carry an id-like field. */
function who(v: unknown): string {
  if (typeof v === 'string') return clip(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of ['name', 'id', 'principal', 'user', 'brain', 'human', 'by']) {
      const x = o[k];
      if (typeof x === 'string') return clip(x);
    }
  }
  return '';
}

function firstOf(body: Record<string, unknown>, keys: readonly string[]): string {
  for (const k of keys) {
    const s = who(body[k]);
    if (s) return s;
  }
  return '';
}

function decisionOf(v: unknown): string {
  if (typeof v === 'string') return clip(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const d = (v as Record<string, unknown>)['decision'];
    if (typeof d === 'string') return clip(d);
  }
  return '';
}

function approvalsOf(v: unknown): { text: string; count: number } {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return { text: String(v), count: v };
  if (!Array.isArray(v)) return { text: '', count: 0 };
  const parts: string[] = [];
  for (const a of v.slice(0, 8)) {
    if (typeof a === 'string') { parts.push(clip(a)); continue; }
    if (!a || typeof a !== 'object' || Array.isArray(a)) continue;
    const o = a as Record<string, unknown>;
    const human = typeof o['human'] === 'string' ? o['human'] : undefined;
    const brain = typeof o['brain'] === 'string' ? o['brain'] : undefined;
    const name = human ?? brain ?? who(o);
    const role = human !== undefined ? 'human' : brain !== undefined ? 'brain' : '';
    const how = typeof o['method'] === 'string' ? o['method'] : '';
    const detail = [role, how].filter(Boolean).join(', ');
    parts.push(clip(detail ? `${name} (${detail})` : name));
  }
  if (v.length > 8) parts.push(`+${v.length - 8} more`);
  return { text: parts.join('; '), count: v.length };
}

export class Timeline {
  readonly rows: Row[] = [];
  private haystack: string[] | undefined;

  /** Add an entry as verifyBundle hands it over (in seq order). */
  add(e: Entry): void {
    const body = e.body as Record<string, unknown>;
    const ap = approvalsOf(body['approvals']);
    const row: Row = {
      seq: e.seq, time: e.time, kind: e.kind,
      actor: firstOf(body, ['actor', 'principal', 'user', 'by', 'old']),
      brain: firstOf(body, ['brain', 'agent']),
      skill: firstOf(body, ['skill', 'action', 'tool', 'operation']),
      // The gate's intents carry policy.decision; refusals carry the reason they were refused for.
      decision: decisionOf(body['decision']) || decisionOf(body['policy']) || (e.kind === 'refusal' && typeof body['reason'] === 'string' ? clip(`refused: ${body['reason']}`) : ''),
      approvals: ap.text, approvalCount: ap.count,
      outcome: '', link: null, disclosed: '',
    };
    if (e.kind === 'outcome') {
      const status = typeof body['status'] === 'string' ? clip(body['status']) : 'recorded';
      row.outcome = status;
      const ref = body['intent'];
      const rs = ref && typeof ref === 'object' && !Array.isArray(ref) ? (ref as Record<string, unknown>)['seq'] : undefined;
      if (typeof rs === 'number' && Number.isSafeInteger(rs)) {
        row.link = rs;
        const intent = this.rows[rs];
        if (intent && intent.seq === rs && intent.kind === 'intent') {
          intent.outcome = status;
          intent.link = e.seq;
          // An outcome row shows what it closes: who, which brain and skill.
          if (!row.actor) row.actor = intent.actor;
          if (!row.brain) row.brain = intent.brain;
          if (!row.skill) row.skill = intent.skill;
        }
      }
    } else if (e.kind === 'key-rotation') {
      row.skill = 'operator key rotation';
      row.actor = 'operator';
    }
    this.rows.push(row);
    this.haystack = undefined;
  }

  markDisclosed(seq: number, name: string): void {
    const r = this.rows[seq];
    if (!r) return;
    r.disclosed = r.disclosed ? `${r.disclosed}, ${name}` : name;
    this.haystack = undefined;
  }

  private matchesFilter(r: Row, f: Filter): boolean {
    switch (f) {
      case 'all': return true;
      case 'intent': return r.kind === 'intent';
      case 'outcome': return r.kind === 'outcome';
      case 'in-doubt': return r.kind === 'intent' && r.link === null;
      case 'not-ok': return r.kind === 'outcome' ? r.outcome !== 'ok' : r.decision !== '' && r.decision !== 'allow';
      case 'approvals': return r.approvalCount > 0;
      case 'disclosed': return r.disclosed !== '';
      case 'other': return r.kind !== 'intent' && r.kind !== 'outcome';
    }
  }

  /**
   * One page of rows matching a case-insensitive text (every whitespace-separated word must occur in
   * the row: seq, time, kind, actor, brain, skill, decision, approvals, outcome) and a filter.
   * `#123` matches entry 123 exactly.
   */
  query(text: string, filter: Filter, offset: number, limit: number): { total: number; offset: number; rows: Row[]; firstMatch: number } {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const exact = words.length === 1 && /^#\d+$/.test(words[0] as string) ? Number((words[0] as string).slice(1)) : undefined;
    const hay = words.length > 0 && exact === undefined ? this.haystacks() : undefined;
    const out: Row[] = [];
    let total = 0;
    let firstMatch = -1;
    const start = Math.max(0, Math.floor(offset));
    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i] as Row;
      if (exact !== undefined && r.seq !== exact) continue;
      if (!this.matchesFilter(r, filter)) continue;
      if (hay) {
        const h = hay[i] as string;
        let ok = true;
        for (const w of words) if (!h.includes(w)) { ok = false; break; }
        if (!ok) continue;
      }
      if (firstMatch < 0) firstMatch = r.seq;
      if (total >= start && out.length < limit) out.push(r);
      total++;
    }
    return { total, offset: start, rows: out, firstMatch };
  }

  /** Position of entry `seq` among the rows matching (text, filter), or -1. */
  indexOf(seq: number, text: string, filter: Filter): number {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const hay = words.length > 0 ? this.haystacks() : undefined;
    let n = 0;
    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i] as Row;
      if (!this.matchesFilter(r, filter)) continue;
      if (hay && !words.every((w) => (hay[i] as string).includes(w))) continue;
      if (r.seq === seq) return n;
      n++;
    }
    return -1;
  }

  private haystacks(): string[] {
    if (!this.haystack) {
      this.haystack = this.rows.map((r) => `#${r.seq} ${r.time} ${r.kind} ${r.actor} ${r.brain} ${r.skill} ${r.decision} ${r.approvals} ${r.outcome} ${r.disclosed ? 'disclosed ' + r.disclosed : ''}`.toLowerCase());
    }
    return this.haystack;
  }
}
