/**
 * The passkey ceremonies as web-standard fetch handlers (Request → Promise<Response>), JSON in and
 * out, so they mount in any server and test in-process. Session tokens travel only in
 * `Authorization: Bearer …` (no cookies, hence no CSRF surface). Inputs are checked strictly:
 * unknown fields are refused and bodies are bounded. Errors are {error:{code,message,reason?}};
 * internal faults never expose their cause on the wire.
 *
 * Routes (under basePath, default /auth):
 *   POST register/options {enrolment?}     → {options}   (enrolment code, or a fresh session)
 *   POST register/verify  {response}       → {credentialId}
 *   POST login/options    {}               → {options}
 *   POST login/verify     {response}       → {token, session}
 *   POST step-up/options  {}               → {options}   (Bearer)
 *   POST step-up/verify   {response}       → {session}   (Bearer)
 *   POST tenant/options   {tenant}         → {options}   (Bearer)
 *   POST tenant/verify    {response}       → {token, session} (Bearer; old token ends)
 *   POST logout           {}               → {ok:true}   (Bearer)
 *   GET  session                           → {session}   (Bearer)
 */
import { SiosError, isSiosError, type SiosErrorCode } from '../errors.ts';
import { MAX_CLEARANCE, SYSTEM_TENANT, type PrincipalStore } from './principals.ts';
import type { Passkeys } from './passkeys.ts';
import type { Session, Sessions } from './sessions.ts';
import { TENANT_RE, expectObject, expectPattern, expectString, isRecord } from './validate.ts';

export interface AuthHttpOptions {
  principals: PrincipalStore;
  passkeys: Passkeys;
  sessions: Sessions;
  basePath?: string;
  maxBodyBytes?: number;
  /** Receives unexpected (non-SiosError) faults for the operator log. */
  onInternalError?: (e: unknown) => void;
  /**
   * Seals identity events (passkey registered, login, step-up, tenant switch, logout) in the
   * tenant's ledger before the response is sent; if it fails, the new session is revoked and the
   * request fails (fail closed).
   */
  audit?: (tenant: string, event: Record<string, string | number | null>) => Promise<void>;
}

export type FetchHandler = (request: Request) => Promise<Response>;

const STATUS: Partial<Record<SiosErrorCode, number>> = {
  ERR_INPUT: 400, ERR_ENCODING: 400, ERR_TOO_LARGE: 413, ERR_AUTH: 401, ERR_REVOKED: 401, ERR_FORBIDDEN: 403,
  ERR_NOT_FOUND: 404, ERR_CONFLICT: 409, ERR_RATE_LIMITED: 429, ERR_UNSUPPORTED: 415,
};

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: HEADERS });
}

/** Maps an error to the wire: stable code, message meant for the user, reason when there is one. */
export function errorResponse(e: unknown, onInternal?: (e: unknown) => void): Response {
  if (isSiosError(e) && STATUS[e.code] !== undefined) {
    const reason = e.details['reason'];
    const error: Record<string, unknown> = { code: e.code, message: e.message };
    if (typeof reason === 'string') error['reason'] = reason;
    const res = json(STATUS[e.code]!, { error });
    if (e.code === 'ERR_AUTH') res.headers.set('www-authenticate', 'Bearer realm="sios"');
    return res;
  }
  onInternal?.(e);
  return json(500, { error: { code: 'ERR_INTERNAL', message: 'internal error; the operator log has the details' } });
}

async function readJson(req: Request, max: number): Promise<Record<string, unknown>> {
  const ct = req.headers.get('content-type') ?? '';
  if (!/^application\/json(\s*;\s*charset=utf-8)?$/i.test(ct.trim())) throw new SiosError('ERR_UNSUPPORTED', 'send the body as application/json');
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > max) throw new SiosError('ERR_TOO_LARGE', `the body is larger than ${max} bytes`);
  const chunks: Uint8Array[] = [];
  let n = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > max) { await reader.cancel(); throw new SiosError('ERR_TOO_LARGE', `the body is larger than ${max} bytes`); }
      chunks.push(value);
    }
  }
  const buf = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { buf.set(c, o); o += c.length; }
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch (cause) {
    throw new SiosError('ERR_ENCODING', 'the body is not valid UTF-8', { cause });
  }
  let v: unknown;
  try { v = JSON.parse(text.length === 0 ? '{}' : text); } catch (cause) {
    throw new SiosError('ERR_INPUT', 'the body is not valid JSON', { cause });
  }
  return expectObject(v, 'request body', isRecord(v) ? Object.keys(v) : []); // shape only; routes check fields
}

function bearer(req: Request): string {
  const h = req.headers.get('authorization');
  const m = h === null ? null : /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(h);
  if (!m) throw new SiosError('ERR_AUTH', 'sign in first: send the session token as "Authorization: Bearer <token>"', { details: { reason: 'no-session' } });
  return m[1]!;
}

export function createAuthHandler(options: AuthHttpOptions): FetchHandler {
  const { principals, passkeys, sessions } = options;
  const audit = async (tenant: string, event: Record<string, string | number | null>, undo?: () => void): Promise<void> => {
    if (!options.audit) return;
    try { await options.audit(tenant, event); } catch (e) { undo?.(); throw e; }
  };
  const base = (options.basePath ?? '/auth').replace(/\/+$/, '');
  const max = options.maxBodyBytes ?? 64 * 1024;

  const view = (s: Session): Record<string, unknown> => {
    const p = principals.require(s.principalId);
    const fresh: boolean[] = [];
    for (let c = 0; c <= MAX_CLEARANCE; c++) fresh.push(sessions.state(s, c) === 'fresh');
    return {
      id: s.id, tenant: s.tenant, verifiedAt: s.verifiedAt, fresh,
      principal: { id: p.id, name: p.name, role: p.role, tenant: p.tenant, clearance: p.clearance },
    };
  };

  type Route = (req: Request) => Promise<Response>;
  const post = (fields: readonly string[], required: readonly string[], fn: (body: Record<string, unknown>, req: Request) => Promise<unknown>): Route =>
    async (req) => {
      const body = expectObject(await readJson(req, max), 'request body', fields, required);
      return json(200, await fn(body, req));
    };

  const routes: Record<string, Record<string, Route>> = {
    '/register/options': {
      POST: post(['enrolment'], [], async (b, req) => {
        if (b['enrolment'] !== undefined) {
          return { options: await passkeys.registrationOptionsForEnrolment(expectString(b['enrolment'], 'enrolment', 200)) };
        }
        // Adding a passkey with an existing session needs that session fresh at the person's own level.
        const s = sessions.authenticate(bearer(req));
        const p = principals.requireActive(s.principalId);
        sessions.requireFresh(s, Math.max(1, p.clearance));
        return { options: await passkeys.registrationOptions(p.id) };
      }),
    },
    '/register/verify': {
      POST: post(['response'], ['response'], async (b) => {
        const c = await passkeys.verifyRegistration(b['response']);
        const p = principals.require(c.principalId);
        await audit(p.tenant, { action: 'passkey-registered', principal: p.id, credential: c.id }, () => passkeys.revokeCredential(c.id));
        return { credentialId: c.id };
      }),
    },
    '/login/options': {
      POST: post([], [], async () => ({ options: await passkeys.authenticationOptions({ purpose: 'login' }) })),
    },
    '/login/verify': {
      POST: post(['response'], ['response'], async (b) => {
        const a = await passkeys.verifyAuthentication(b['response'], 'login');
        const { token, session } = sessions.start(a);
        await audit(session.tenant, { action: 'login', principal: session.principalId, session: session.id, credential: a.credentialId }, () => sessions.revoke(session.id));
        return { token, session: view(session) };
      }),
    },
    '/step-up/options': {
      POST: post([], [], async (_b, req) => {
        const s = sessions.authenticate(bearer(req));
        return { options: await passkeys.authenticationOptions({ purpose: 'step-up', principalId: s.principalId, sessionId: s.id }) };
      }),
    },
    '/step-up/verify': {
      POST: post(['response'], ['response'], async (b, req) => {
        const s = sessions.authenticate(bearer(req));
        const a = await passkeys.verifyAuthentication(b['response'], 'step-up');
        const up = sessions.stepUp(s, a);
        await audit(up.tenant, { action: 'step-up', principal: up.principalId, session: up.id, credential: a.credentialId });
        return { session: view(up) };
      }),
    },
    '/tenant/options': {
      POST: post(['tenant'], ['tenant'], async (b, req) => {
        const s = sessions.authenticate(bearer(req));
        const tenant = b['tenant'] === SYSTEM_TENANT ? SYSTEM_TENANT
          : expectPattern(b['tenant'], 'tenant', TENANT_RE, 'a tenant id of lower-case letters, digits and inner hyphens');
        const me = principals.requireActive(s.principalId);
        // An operator confirms with its own passkey; anyone else with their principal's in the target.
        const opts = me.role === 'operator'
          ? await passkeys.authenticationOptions({ purpose: 'switch-tenant', principalId: me.id, sessionId: s.id, context: tenant })
          : await passkeys.authenticationOptions({ purpose: 'switch-tenant', sessionId: s.id, context: tenant });
        return { options: opts };
      }),
    },
    '/tenant/verify': {
      POST: post(['response'], ['response'], async (b, req) => {
        const s = sessions.authenticate(bearer(req));
        const a = await passkeys.verifyAuthentication(b['response'], 'switch-tenant');
        const { token, session } = sessions.switchTenant(s, a);
        await audit(s.tenant, { action: 'tenant-switch-out', principal: s.principalId, session: s.id, to: session.tenant });
        await audit(session.tenant, { action: 'tenant-switch-in', principal: session.principalId, session: session.id, from: s.tenant }, () => sessions.revoke(session.id));
        return { token, session: view(session) };
      }),
    },
    '/logout': {
      POST: post([], [], async (_b, req) => {
        const s = sessions.authenticate(bearer(req));
        sessions.revoke(s.id);
        await audit(s.tenant, { action: 'logout', principal: s.principalId, session: s.id });
        return { ok: true };
      }),
    },
    '/session': {
      GET: async (req) => json(200, { session: view(sessions.authenticate(bearer(req))) }),
    },
  };

  return async (req: Request): Promise<Response> => {
    try {
      const path = new URL(req.url).pathname;
      if (!path.startsWith(base + '/')) return json(404, { error: { code: 'ERR_NOT_FOUND', message: `no auth route ${path}` } });
      const r = routes[path.slice(base.length)];
      if (!r) return json(404, { error: { code: 'ERR_NOT_FOUND', message: `no auth route ${path}` } });
      const h = r[req.method];
      if (!h) {
        const res = json(405, { error: { code: 'ERR_INPUT', message: `use ${Object.keys(r).join(' or ')} for ${path}` } });
        res.headers.set('allow', Object.keys(r).join(', '));
        return res;
      }
      return await h(req);
    } catch (e) {
      return errorResponse(e, options.onInternalError);
    }
  };
}
