/**
 * Built-in skills over the tenant data store. Every read goes through the tenant policy's row and
 * column filter (TenantPolicy.filterRows), every write through TenantPolicy.authorizeWrite; the
 * skills never see or return what the principal may not. Arguments and results are validated
 * against the manifest schemas on entry and exit (the gate validates arguments first as well).
 *
 *   records.read        read     rows the principal may read, forbidden columns removed
 *   records.write       write    merge a record (authorizeWrite with the row before and after)
 *   documents.generate  write    a markdown / plain-text report of permitted records
 *   records.export      high     CSV / JSON Lines of permitted records; dry run: counts and columns
 */
import * as nodeCrypto from 'node:crypto';
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import type { TenantStore } from '../tenancy/store.ts';
import type { PolicyPrincipal, Row, TenantPolicy } from '../policy/engine.ts';
import { validateArgs, validateResult, type SkillManifest } from './manifest.ts';

export interface SkillContext {
  readonly tenant: string;
  readonly principal: PolicyPrincipal;
  readonly store: TenantStore;
  readonly policy: TenantPolicy;
  /** Aborted on revocation or cancellation: checked before any effect. */
  readonly signal: AbortSignal;
  /**
   * Runs a fetch in a bubblewrap cell whose only way out is the tenant's egress gateway (perimeter/).
   * Present when the deployment can sandbox; skills that need the outside fail closed without it.
   */
  readonly egress?: (url: string) => Promise<Json>;
}

export interface SkillImplementation {
  execute(ctx: SkillContext, args: Json): Promise<Json>;
  dryRun?(ctx: SkillContext, args: Json): Promise<Json>;
}

const PROVENANCE = { builder: 'SIOS project', source: 'sios/src/skills/builtin.ts', built: '2026-11-22T00:00:00Z' } as const;
const COLLECTION = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' };
const IDS = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 1000, uniqueItems: true };
const COLUMNS = { type: 'array', items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }, minItems: 1, maxItems: 256, uniqueItems: true };
const ROWS = { type: 'array', items: { type: 'object' }, maxItems: 10000 };
const MAX_DOCUMENT = 4 * 1024 * 1024;

/** Manifests of the built-in skills (unsigned; see brains/defaults.ts for the signed set). */
export function builtinSkillManifests(): SkillManifest[] {
  const base = { version: '1.0.0', egress: [], licence: 'Apache-2.0', provenance: PROVENANCE, implementation: { kind: 'builtin' } } as const;
  return [
    {
      ...base, id: 'records.read', description: 'Read records of a collection: only the rows and columns the principal may read.',
      risk: 'read', clearance: 1, dryRun: false, untrustedArgs: [], maxConfidentiality: 4,
      argsSchema: { type: 'object', additionalProperties: false, required: ['collection'], properties: { collection: COLLECTION, ids: IDS, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
      resultSchema: { type: 'object', additionalProperties: false, required: ['collection', 'count', 'rows'], properties: { collection: { type: 'string' }, count: { type: 'integer', minimum: 0 }, rows: ROWS } },
    },
    {
      ...base, id: 'records.write', description: 'Create or update one record (merged with the stored row); the principal must be allowed to write the row before and after, and each changed column.',
      risk: 'write', clearance: 2, dryRun: true, untrustedArgs: ['record'], maxConfidentiality: 4,
      argsSchema: { type: 'object', additionalProperties: false, required: ['collection', 'record'], properties: { collection: COLLECTION, record: { type: 'object', minProperties: 1, maxProperties: 256 } } },
      resultSchema: { type: 'object', additionalProperties: false, required: ['collection', 'id', 'created', 'changed'], properties: { collection: { type: 'string' }, id: { type: 'string' }, created: { type: 'boolean' }, changed: { type: 'array', items: { type: 'string' } }, dryRun: { type: 'boolean' } } },
    },
    {
      ...base, id: 'documents.generate', description: 'Generate a markdown or plain-text report from the records the principal may read.',
      risk: 'write', clearance: 1, dryRun: false, untrustedArgs: ['title'], maxConfidentiality: 4,
      argsSchema: {
        type: 'object', additionalProperties: false, required: ['collection', 'title'],
        properties: { collection: COLLECTION, ids: IDS, title: { type: 'string', minLength: 1, maxLength: 200 }, columns: COLUMNS, format: { enum: ['markdown', 'text'] } },
      },
      resultSchema: { type: 'object', additionalProperties: false, required: ['title', 'format', 'rows', 'document'], properties: { title: { type: 'string' }, format: { enum: ['markdown', 'text'] }, rows: { type: 'integer', minimum: 0 }, document: { type: 'string', maxLength: MAX_DOCUMENT } } },
    },
    {
      ...base, id: 'web.fetch', description: 'Fetch an http:// URL the tenant allowlisted, from a sandboxed cell through the tenant egress gateway; returns status and size, never secrets.',
      // Reaching outside is an effect: a URL built from untrusted reading needs a person (Sentinel),
      // and nothing above public (0) may be sent out in it.
      risk: 'write', clearance: 1, dryRun: false, untrustedArgs: ['url'], maxConfidentiality: 0,
      argsSchema: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string', pattern: '^http://', maxLength: 2048 } } },
      resultSchema: {
        type: 'object', additionalProperties: false, required: ['outcome', 'message', 'cell'],
        properties: { outcome: { enum: ['fetched', 'refused', 'failed'] }, status: { type: 'integer' }, bytes: { type: 'integer', minimum: 0 }, reason: { type: 'string' }, message: { type: 'string', maxLength: 2000 }, cell: { type: 'string' } },
      },
    },
    {
      ...base, id: 'records.export', description: 'Export the records the principal may read as CSV or JSON Lines. High impact: dry run first.',
      risk: 'high-impact', clearance: 3, dryRun: true, untrustedArgs: [], maxConfidentiality: 2,
      argsSchema: { type: 'object', additionalProperties: false, required: ['collection', 'format'], properties: { collection: COLLECTION, ids: IDS, columns: COLUMNS, format: { enum: ['csv', 'jsonl'] } } },
      resultSchema: {
        type: 'object', additionalProperties: false, required: ['collection', 'format', 'rows', 'columns', 'bytes', 'sha256'],
        properties: {
          collection: { type: 'string' }, format: { enum: ['csv', 'jsonl'] }, rows: { type: 'integer', minimum: 0 }, columns: { type: 'array', items: { type: 'string' } },
          bytes: { type: 'integer', minimum: 0 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, content: { type: 'string' }, dryRun: { type: 'boolean' },
        },
      },
    },
  ] as SkillManifest[];
}

function checkContext(ctx: SkillContext): void {
  if (ctx.store.tenant !== ctx.tenant || ctx.policy.tenant !== ctx.tenant || ctx.principal.tenant !== ctx.tenant) {
    throw new SiosError('ERR_FORBIDDEN', `skill context mixes tenants (tenant ${ctx.tenant}, store ${ctx.store.tenant}, policy ${ctx.policy.tenant}, principal ${ctx.principal.tenant}); a skill runs inside one tenant`);
  }
}

/** The permitted rows of `collection` (all, or the given ids), forbidden columns removed. */
function permitted(ctx: SkillContext, collection: string, ids: readonly string[] | undefined): Row[] {
  ctx.store.requireCollection(collection); // ERR_NOT_FOUND for an unknown collection
  const raw = ids === undefined ? ctx.store.all(collection) : ids.map((id) => ctx.store.get(collection, id)).filter((r): r is Row => r !== undefined);
  return ctx.policy.filterRows(ctx.principal, collection, raw);
}

function orderedColumns(rows: readonly Row[], wanted: readonly string[] | undefined, readable: readonly string[]): string[] {
  const present = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) present.add(k);
  // Requested columns the principal may not read are left out silently, like forbidden rows.
  const base = wanted ?? readable;
  return base.filter((c) => readable.includes(c) && (present.has(c) || wanted !== undefined));
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return canonicalize(v);
}

const read: SkillImplementation = {
  async execute(ctx, args) {
    const a = args as { collection: string; ids?: string[]; limit?: number };
    const rows = permitted(ctx, a.collection, a.ids).slice(0, a.limit ?? 1000);
    return { collection: a.collection, count: rows.length, rows: rows as Json[] };
  },
};

function plannedWrite(ctx: SkillContext, args: Json): { collection: string; id: string; after: Row; before: Row | undefined; changed: string[] } {
  const a = args as { collection: string; record: Record<string, unknown> };
  const spec = ctx.store.collection(a.collection);
  const id = a.record[spec.idColumn];
  if (typeof id !== 'string' || id.length === 0) throw new SiosError('ERR_INPUT', `arguments of skill records.write: field "record.${spec.idColumn}" (the id of a ${a.collection} record) must be a non-empty string`);
  const before = ctx.store.get(a.collection, id);
  const after: Row = { ...(before ?? {}), ...a.record };
  const changed = Object.keys(a.record).filter((k) => before === undefined || !Object.hasOwn(before, k) || canonicalize(before[k] ?? null) !== canonicalize(a.record[k] ?? null)).sort();
  const d = ctx.policy.authorizeWrite(ctx.principal, a.collection, after, changed, before === undefined ? {} : { before });
  if (!d.allow) throw new SiosError('ERR_FORBIDDEN', `records.write refused: ${d.reason}`, { details: { policies: [...d.policyIds] } });
  return { collection: a.collection, id, after, before, changed };
}

const write: SkillImplementation = {
  async execute(ctx, args) {
    const p = plannedWrite(ctx, args);
    ctx.signal.throwIfAborted();
    ctx.store.put(p.collection, p.after);
    return { collection: p.collection, id: p.id, created: p.before === undefined, changed: p.changed };
  },
  async dryRun(ctx, args) {
    const p = plannedWrite(ctx, args);
    return { collection: p.collection, id: p.id, created: p.before === undefined, changed: p.changed, dryRun: true };
  },
};

function escapeMd(s: string): string {
  return s.replace(/[\\|*_`[\]<>#]/g, (c) => '\\' + c).replace(/\r?\n/g, ' ');
}

const generate: SkillImplementation = {
  async execute(ctx, args) {
    const a = args as { collection: string; ids?: string[]; title: string; columns?: string[]; format?: 'markdown' | 'text' };
    const rows = permitted(ctx, a.collection, a.ids);
    const cols = orderedColumns(rows, a.columns, ctx.policy.readableColumns(ctx.principal, a.collection));
    const format = a.format ?? 'markdown';
    const lines: string[] = [];
    if (format === 'markdown') {
      lines.push(`# ${escapeMd(a.title)}`, '', `${rows.length} record(s) of ${a.collection}.`, '');
      if (rows.length > 0 && cols.length > 0) {
        lines.push(`| ${cols.map(escapeMd).join(' | ')} |`, `|${cols.map(() => ' --- |').join('')}`);
        for (const r of rows) lines.push(`| ${cols.map((c) => escapeMd(cellText(r[c]))).join(' | ')} |`);
      }
    } else {
      const t = a.title.replace(/\r?\n/g, ' ');
      lines.push(t, '='.repeat(Math.min(t.length, 200)), '', `${rows.length} record(s) of ${a.collection}.`, '');
      for (const r of rows) {
        for (const c of cols) lines.push(`${c}: ${cellText(r[c]).replace(/\r?\n/g, ' ')}`);
        lines.push('');
      }
    }
    const document = lines.join('\n') + '\n';
    if (document.length > MAX_DOCUMENT) throw new SiosError('ERR_TOO_LARGE', `the document would be ${document.length} characters; select fewer records or columns`);
    return { title: a.title, format, rows: rows.length, document };
  },
};

function csvCell(v: unknown): string {
  let s = cellText(v);
  // Spreadsheet formula injection (OWASP CSV injection): neutralise cells a spreadsheet would evaluate.
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function exportContent(ctx: SkillContext, args: Json): { collection: string; format: 'csv' | 'jsonl'; rows: number; columns: string[]; content: string } {
  const a = args as { collection: string; ids?: string[]; columns?: string[]; format: 'csv' | 'jsonl' };
  const rows = permitted(ctx, a.collection, a.ids);
  const cols = orderedColumns(rows, a.columns, ctx.policy.readableColumns(ctx.principal, a.collection));
  let content: string;
  if (a.format === 'csv') {
    // RFC 4180: CRLF line ends, quoted fields where needed.
    content = [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
  } else {
    content = rows.map((r) => canonicalize(Object.fromEntries(cols.filter((c) => Object.hasOwn(r, c)).map((c) => [c, r[c]])))).join('\n') + (rows.length > 0 ? '\n' : '');
  }
  return { collection: a.collection, format: a.format, rows: rows.length, columns: cols, content };
}

const exportSkill: SkillImplementation = {
  async execute(ctx, args) {
    const e = exportContent(ctx, args);
    ctx.signal.throwIfAborted();
    const bytes = Buffer.byteLength(e.content, 'utf8');
    return { collection: e.collection, format: e.format, rows: e.rows, columns: e.columns, bytes, sha256: nodeCrypto.hash('sha256', e.content, 'hex'), content: e.content };
  },
  async dryRun(ctx, args) {
    // What would leave, without the data itself: counts, columns, size and digest.
    const e = exportContent(ctx, args);
    return { collection: e.collection, format: e.format, rows: e.rows, columns: e.columns, bytes: Buffer.byteLength(e.content, 'utf8'), sha256: nodeCrypto.hash('sha256', e.content, 'hex'), dryRun: true };
  },
};

const webFetch: SkillImplementation = {
  async execute(ctx, args) {
    if (!ctx.egress) throw new SiosError('ERR_SANDBOX', 'web.fetch needs a sandboxed cell and the tenant egress gateway, which this deployment does not provide here; run it through SIOS (sios serve or sios act)');
    ctx.signal.throwIfAborted();
    return ctx.egress(String((args as { url: string }).url));
  },
};

export const BUILTIN_SKILLS: ReadonlyMap<string, SkillImplementation> = new Map([
  ['records.read', read], ['records.write', write], ['documents.generate', generate], ['records.export', exportSkill], ['web.fetch', webFetch],
]);

function implementation(skill: SkillManifest): SkillImplementation {
  const impl = skill.implementation.kind === 'builtin' ? BUILTIN_SKILLS.get(skill.id) : undefined;
  if (impl === undefined) throw new SiosError('ERR_UNSUPPORTED', `skill ${skill.id} has no in-process implementation; it runs in a sandbox cell`);
  return impl;
}

/** Validates args, runs the skill, validates its result. */
export async function executeSkill(skill: SkillManifest, ctx: SkillContext, args: unknown): Promise<Json> {
  checkContext(ctx);
  validateArgs(skill, args);
  ctx.signal.throwIfAborted();
  const r = await implementation(skill).execute(ctx, args as Json);
  validateResult(skill, r);
  return r;
}

/** Validates args and runs the skill's dry run (no effect). ERR_UNSUPPORTED if it has none. */
export async function dryRunSkill(skill: SkillManifest, ctx: SkillContext, args: unknown): Promise<Json> {
  checkContext(ctx);
  validateArgs(skill, args);
  const impl = implementation(skill);
  if (!skill.dryRun || impl.dryRun === undefined) throw new SiosError('ERR_UNSUPPORTED', `skill ${skill.id} has no dry run`);
  ctx.signal.throwIfAborted();
  return impl.dryRun(ctx, args as Json);
}
