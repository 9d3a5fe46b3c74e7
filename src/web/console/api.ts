/**
 * The console's only door to the server: same-origin JSON calls to /v1 with the session token as a
 * Bearer header (no cookies). The token lives in this tab's sessionStorage so a reload or the
 * /approve link keeps the session; it never goes to localStorage and ends with the tab.
 */

const KEY = 'sios.console.session';

/** A refusal or failure from the API, with its HTTP status and stable code/reason. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
  constructor(status: number, code: string, message: string, reason = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

export function getToken(): string | null {
  try { return sessionStorage.getItem(KEY); } catch { return null; }
}
export function setToken(t: string | null): void {
  try { if (t === null) sessionStorage.removeItem(KEY); else sessionStorage.setItem(KEY, t); } catch { /* storage disabled: the token then lives only in memory */ }
  memory = t;
}
let memory: string | null = null;
function token(): string | null { return getToken() ?? memory; }

/** GET a file (not JSON) with the session token, e.g. the ledger bundle; refusals arrive as ApiError. */
export async function download(path: string): Promise<Blob> {
  const headers: Record<string, string> = {};
  const t = token();
  if (t) headers['authorization'] = `Bearer ${t}`;
  let res: Response;
  try { res = await fetch(path, { method: 'GET', headers, cache: 'no-store', credentials: 'omit', redirect: 'error' }); } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'The SIOS server did not answer. Is `sios serve` still running?');
  }
  if (!res.ok) {
    let e: { code?: unknown; message?: unknown; reason?: unknown } | undefined;
    try { e = ((await res.json()) as { error?: typeof e } | null)?.error; } catch { e = undefined; }
    throw new ApiError(res.status, typeof e?.code === 'string' ? e.code : 'ERR_HTTP', typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`, typeof e?.reason === 'string' ? e.reason : '');
  }
  return res.blob();
}

export async function call<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token();
  if (t) headers['authorization'] = `Bearer ${t}`;
  const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (method === 'POST') { headers['content-type'] = 'application/json'; init.body = JSON.stringify(body ?? {}); }
  let res: Response;
  try { res = await fetch(path, init); } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'The SIOS server did not answer. Is `sios serve` still running?');
  }
  let data: unknown = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const e = (data as { error?: { code?: unknown; message?: unknown; reason?: unknown } } | null)?.error;
    throw new ApiError(res.status, typeof e?.code === 'string' ? e.code : 'ERR_HTTP', typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`, typeof e?.reason === 'string' ? e.reason : '');
  }
  return data as T;
}
