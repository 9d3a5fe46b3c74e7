/**
 * Test fixture: the real auth stack on a temporary SQLite file, served on 127.0.0.1 through a
 * node:http adapter around the fetch handler, with a tiny page whose script drives
 * navigator.credentials in headless Chromium against a CDP virtual authenticator. Time is an
 * injected clock the tests move by hand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Page } from 'playwright-core';
import { migrateAuth } from '../../src/auth/schema.ts';
import { PrincipalStore } from '../../src/auth/principals.ts';
import { Passkeys } from '../../src/auth/passkeys.ts';
import { Sessions } from '../../src/auth/sessions.ts';
import { ApiTokens } from '../../src/auth/tokens.ts';
import { createAuthHandler, type FetchHandler } from '../../src/auth/http.ts';
import { TestClock } from './clock.ts';
import { addVirtualAuthenticator, launchChromium, type LaunchedChromium, type VirtualAuthenticator } from '../browser/chromium.ts';

export const PAGE = `<!doctype html><meta charset="utf-8"><title>SIOS auth test</title>
<script>
async function call(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const r = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
async function create(options) {
  const c = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
  return c.toJSON();
}
async function get(options) {
  const c = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  return c.toJSON();
}
window.sios = {
  call, create, get,
  async register(enrolment, token) {
    const o = await call('/auth/register/options', enrolment ? { enrolment } : {}, token);
    if (o.status !== 200) return o;
    const response = await create(o.body.options);
    return { ...(await call('/auth/register/verify', { response })), response };
  },
  async ceremony(name, body, token) {
    const o = await call('/auth/' + name + '/options', body, token);
    if (o.status !== 200) return o;
    const response = await get(o.body.options);
    return { ...(await call('/auth/' + name + '/verify', { response }, token)), response };
  },
};
</script>`;

export interface Reply { status: number; body: any; response?: any }


export interface Fixture {
  dir: string;
  db: DatabaseSync;
  clock: TestClock;
  principals: PrincipalStore;
  passkeys: Passkeys;
  sessions: Sessions;
  tokens: ApiTokens;
  handler: FetchHandler;
  origin: string;
  browser: LaunchedChromium;
  /** A new tab at the test page with its own virtual authenticator (authenticators are per tab). */
  newTab(): Promise<{ page: Page; authenticator: VirtualAuthenticator }>;
  close(): Promise<void>;
}

function adapt(handler: FetchHandler, origin: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE);
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const body = chunks.length ? Buffer.concat(chunks) : null;
      const r = await handler(new Request(origin + req.url, { method: req.method ?? 'GET', headers, ...(body && req.method !== 'GET' ? { body } : {}) }));
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(Buffer.from(await r.arrayBuffer()));
    })().catch((e: unknown) => { res.writeHead(500); res.end(String(e)); });
  };
}

export async function startFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sios-auth-'));
  const db = new DatabaseSync(join(dir, 'system.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
  migrateAuth(db);
  const clock = new TestClock();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const origin = `http://localhost:${port}`;
  const principals = new PrincipalStore(db, { clock: clock.fn });
  const passkeys = new Passkeys(db, principals, { rpID: 'localhost', rpName: 'SIOS test', origins: [origin], clock: clock.fn });
  const sessions = new Sessions(db, principals, { clock: clock.fn });
  const tokens = new ApiTokens(db, principals, { clock: clock.fn });
  const handler = createAuthHandler({ principals, passkeys, sessions, onInternalError: (e) => { console.error('internal', e); } });
  server.on('request', adapt(handler, origin));
  let browser: LaunchedChromium;
  try {
    browser = await launchChromium();
  } catch (e) {
    server.close(); db.close(); rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir, db, clock, principals, passkeys, sessions, tokens, handler, origin, browser,
    async newTab() {
      const page = await browser.context.newPage();
      const authenticator = await addVirtualAuthenticator(page);
      await page.goto(origin + '/');
      return { page, authenticator };
    },
    async close() {
      try { await browser.close(); } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs a registration in the tab with an enrolment code (or a session token). */
export function register(page: Page, enrolment: string | null, token?: string): Promise<Reply> {
  return page.evaluate(([e, t]) => (window as any).sios.register(e, t), [enrolment, token ?? null] as const);
}

/** Runs an assertion ceremony: 'login' | 'step-up' | 'tenant'. */
export function ceremony(page: Page, name: 'login' | 'step-up' | 'tenant', body: Record<string, unknown> = {}, token?: string): Promise<Reply> {
  return page.evaluate(([n, b, t]) => (window as any).sios.ceremony(n, b, t), [name, body, token ?? null] as const);
}

/** Asks the tab's authenticator for an assertion over server-made options; returns the JSON response. */
export function getAssertion(page: Page, options: unknown): Promise<any> {
  return page.evaluate((o) => (window as any).sios.get(o), options as any);
}

export function post(page: Page, path: string, body: unknown, token?: string): Promise<Reply> {
  return page.evaluate(([p, b, t]) => (window as any).sios.call(p, b, t), [path, body, token ?? null] as const);
}
