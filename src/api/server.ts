/**
 * The HTTP API: web-standard fetch handlers (Request → Response), testable in-process and served by
 * `sios serve` on loopback. Versioned paths (/v1), JSON errors {error:{code,message,reason?}} with
 * stable codes, bounded bodies, unknown fields refused, an OpenAPI document at /v1/openapi.json.
 * Logs carry no secrets and no tenant payloads.
 */
import { SiosError, isSiosError, type SiosErrorCode } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import type { Gate } from '../gate/gate.ts';
import type { Deployment } from '../deployment/deployment.ts';
import { exportBundle } from '../ledger/export.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import { openapi } from './openapi.ts';
import { evidenceForCheckpoints } from '../deployment/attested.ts';
import { layout } from '../deployment/layout.ts';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface ApiOptions {
  deployment: Deployment;
  gate: Gate;
  /** The operator overview (doctor checks, tenants, brains, grants, skills, egress, keys), for operator sessions. */
  operatorOverview?: (operatorCredential: string) => Promise<unknown>;
  /** A tenant's quarantined content, for its administrators (metadata only, never the content). */
  quarantine?: (tenant: string) => unknown[];
  auth: FetchHandler;
  /** Static pages (verifier, console, approval page) by path. */
  pages?: Record<string, () => Promise<string> | string>;
  maxBodyBytes?: number;
  log?: (event: Record<string, unknown>) => void;
}

const STATUS: Partial<Record<SiosErrorCode, number>> = {
  ERR_INPUT: 400, ERR_ENCODING: 400, ERR_TOO_LARGE: 413, ERR_AUTH: 401, ERR_FORBIDDEN: 403, ERR_REVOKED: 403,
  ERR_QUARANTINED: 403, ERR_NOT_FOUND: 404, ERR_CONFLICT: 409, ERR_APPROVAL: 409, ERR_RATE_LIMITED: 429,
  ERR_UNSUPPORTED: 415, ERR_VERIFY: 422, ERR_PASSPHRASE: 401, ERR_EGRESS: 403, ERR_SANDBOX: 503, ERR_IN_DOUBT: 503, ERR_TIMEOUT: 503,
};

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function apiError(e: unknown, log?: (x: Record<string, unknown>) => void): Response {
  if (isSiosError(e) && STATUS[e.code] !== undefined) {
    const error: Record<string, unknown> = { code: e.code, message: e.message };
    const reason = e.details['reason'];
    if (typeof reason === 'string') error['reason'] = reason;
    const r = json(STATUS[e.code] as number, { error });
    if (e.code === 'ERR_AUTH') r.headers.set('www-authenticate', 'Bearer realm="sios"');
    return r;
  }
  log?.({ level: 'error', event: 'internal', code: isSiosError(e) ? e.code : 'ERR_INTERNAL' });
  return json(500, { error: { code: 'ERR_INTERNAL', message: 'internal error; the operator log has the details' } });
}

async function body(req: Request, max: number, allowed: readonly string[]): Promise<Record<string, unknown>> {
  const ct = req.headers.get('content-type') ?? '';
  if (!ct.toLowerCase().startsWith('application/json')) throw new SiosError('ERR_UNSUPPORTED', 'send JSON with content-type: application/json');
  const len = Number(req.headers.get('content-length') ?? '0');
  if (len > max) throw new SiosError('ERR_TOO_LARGE', `request body over ${max} bytes`);
  const buf = new Uint8Array(await req.arrayBuffer());
  if (buf.length > max) throw new SiosError('ERR_TOO_LARGE', `request body over ${max} bytes`);
  let o: unknown;
  try { o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf)); } catch { throw new SiosError('ERR_INPUT', 'the body is not valid UTF-8 JSON'); }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new SiosError('ERR_INPUT', 'the body must be a JSON object');
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new SiosError('ERR_INPUT', `unknown field '${k.slice(0, 40)}'; allowed: ${allowed.join(', ')}`);
  return o as Record<string, unknown>;
}

function bearer(req: Request): string {
  const h = req.headers.get('authorization') ?? '';
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(h);
  if (!m) throw new SiosError('ERR_AUTH', 'send your session or API token as "Authorization: Bearer <token>"');
  return m[1] as string;
}

const TENANT = '([a-z0-9][a-z0-9-]{0,62})';
const ID = '([A-Za-z0-9_-]{1,64})';
const SEG = '([a-z][a-z0-9_]{0,62})';

type Route = [method: string, pattern: RegExp, handler: (req: Request, m: string[]) => Promise<Response>];

export function createApi(o: ApiOptions): FetchHandler {
  const max = o.maxBodyBytes ?? 256 * 1024;
  const { gate, deployment } = o;
  const routes: Route[] = [
    ['GET', /^\/v1\/health$/, async () => json(200, { ok: true, deployment: deployment.id, operator: deployment.fingerprint, attestation: deployment.config.attestation.mode })],
    ['GET', /^\/v1\/openapi\.json$/, async () => json(200, openapi)],
    ['POST', new RegExp(`^/v1/tenants/${TENANT}/actions$`), async (req, m) => {
      const b = await body(req, max, ['brain', 'skill', 'args', 'labels']);
      const r = await gate.submit({ credential: bearer(req), tenant: m[1] as string, brain: (b['brain'] ?? null) as string | null, skill: String(b['skill'] ?? ''), args: b['args'] ?? {}, ...(b['labels'] === undefined ? {} : { labels: b['labels'] as Json }) });
      return json(r.status === 'done' ? 200 : 202, r.status === 'done' ? { status: 'done', intent: r.intent, outcome: r.outcome, result: r.result } : r);
    }],
    ['GET', new RegExp(`^/v1/tenants/${TENANT}/records/${SEG}$`), async (req, m) => {
      const url = new URL(req.url);
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const r = await gate.submit({ credential: bearer(req), tenant: m[1] as string, brain: null, skill: 'records.read', args: { collection: m[2], limit: Number.isSafeInteger(limit) ? limit : 100 } });
      return json(200, r.status === 'done' ? { intent: r.intent, records: r.result } : r);
    }],
    ['PUT', new RegExp(`^/v1/tenants/${TENANT}/records/${SEG}$`), async (req, m) => {
      const b = await body(req, max, ['record']);
      const r = await gate.submit({ credential: bearer(req), tenant: m[1] as string, brain: null, skill: 'records.write', args: { collection: m[2], record: b['record'] } });
      return json(200, r.status === 'done' ? { intent: r.intent, outcome: r.outcome, result: r.result } : r);
    }],
    ['GET', new RegExp(`^/v1/tenants/${TENANT}/approvals$`), async (req, m) => {
      const list = gate.listPending(m[1] as string, bearer(req));
      return json(200, { approvals: list.map((p) => ({ id: p.id, skill: p.skill, brain: p.brain, requester: p.requester, requesterName: p.draft.principal.name, digest: p.digest, args: p.args, dryRun: p.draft.dryRun, verdicts: p.verdicts, needs: p.draft.needs, expiresAt: new Date(p.expiresAt).toISOString() })) });
    }],
    ['POST', new RegExp(`^/v1/tenants/${TENANT}/approvals/${ID}/options$`), async (req, m) => {
      await body(req, max, []);
      const r = await gate.approvalOptions(m[1] as string, m[2] as string, bearer(req));
      return json(200, { options: r.options, digest: r.pending.digest });
    }],
    ['POST', new RegExp(`^/v1/tenants/${TENANT}/approvals/${ID}/approve$`), async (req, m) => {
      const b = await body(req, max, ['response']);
      const r = await gate.approve(m[1] as string, m[2] as string, bearer(req), b['response']);
      return json(200, r.status === 'done' ? { status: 'done', intent: r.intent, outcome: r.outcome, result: r.result } : r);
    }],
    ['POST', new RegExp(`^/v1/tenants/${TENANT}/approvals/${ID}/reject$`), async (req, m) => {
      const b = await body(req, max, ['reason']);
      await gate.reject(m[1] as string, m[2] as string, bearer(req), String(b['reason'] ?? 'rejected'));
      return json(200, { status: 'rejected' });
    }],
    ['GET', /^\/v1\/operator\/overview$/, async (req) => {
      if (!o.operatorOverview) throw new SiosError('ERR_NOT_FOUND', 'no operator overview in this server');
      return json(200, await o.operatorOverview(bearer(req)));
    }],
    ['GET', new RegExp(`^/v1/tenants/${TENANT}/quarantine$`), async (req, m) => {
      const tenant = m[1] as string;
      const caller = gate.authenticate(bearer(req), tenant, 'quarantine.read');
      if (caller.principal.role !== 'tenant-admin' && caller.principal.role !== 'auditor') throw new SiosError('ERR_FORBIDDEN', 'quarantined content is reviewed by tenant administrators and auditors');
      return json(200, { items: o.quarantine ? o.quarantine(tenant) : [] });
    }],
    ['GET', new RegExp(`^/v1/tenants/${TENANT}/ledger/events$`), async (req, m) => {
      const tenant = m[1] as string;
      gate.authenticate(bearer(req), tenant, 'ledger.read');
      const url = new URL(req.url);
      const a = Number(url.searchParams.get('after') ?? '-1');
      const after = Number.isSafeInteger(a) ? Math.max(-1, a) : -1;
      const store = deployment.ledgerStore(tenant);
      try {
        const size = store.latestCheckpoint()?.size ?? 0;
        const rows = store.readEntries(after + 1, Math.min(size, after + 1 + 500));
        return json(200, { size, entries: rows.map((e) => JSON.parse(new TextDecoder().decode(e.bytes)) as Json) });
      } finally { store.close(); }
    }],
    ['GET', new RegExp(`^/v1/tenants/${TENANT}/ledger/export$`), async (req, m) => {
      const tenant = m[1] as string;
      gate.authenticate(bearer(req), tenant, 'ledger.export');
      const store = deployment.ledgerStore(tenant);
      const parts: string[] = [];
      try {
        // TPM evidence referenced by the exported checkpoints travels with the bundle (as `sios ledger export` does).
        exportBundle(store, { origin: deployment.originOf(tenant), tenant, crypto: nodeVerifyCrypto, publicKeys: [deployment.signer.publicKey], evidenceFor: (notes) => evidenceForCheckpoints(layout(deployment.dir).systemDb, notes) }, (s) => { parts.push(s); });
      } finally { store.close(); }
      return new Response(parts.join(''), { status: 200, headers: { 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="${tenant}.sios-bundle"`, 'cache-control': 'no-store' } });
    }],
  ];
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const t0 = performance.now();
    let res: Response;
    try {
      if (url.pathname.startsWith('/v1/auth/')) res = await o.auth(req);
      else {
        const page = o.pages?.[url.pathname];
        if (page && req.method === 'GET') {
          res = new Response(await page(), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' } });
        } else {
          let matched = false;
          res = json(404, { error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${url.pathname}; see /v1/openapi.json` } });
          for (const [method, re, h] of routes) {
            const m = re.exec(url.pathname);
            if (!m) continue;
            matched = true;
            if (method !== req.method) continue;
            res = await h(req, m as unknown as string[]);
            matched = false;
            break;
          }
          if (matched) res = json(405, { error: { code: 'ERR_UNSUPPORTED', message: `method ${req.method} not allowed on ${url.pathname}` } });
        }
      }
    } catch (e) {
      res = apiError(e, o.log);
    }
    // Path shape only: approval ids are replaced, query strings (which may carry ids) are dropped.
    o.log?.({ event: 'request', method: req.method, path: url.pathname.replace(/\/approvals\/[^/]+/, '/approvals/:id'), status: res.status, ms: Math.round((performance.now() - t0) * 100) / 100 });
    return res;
  };
}
