import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { PrincipalStore } from '../../src/auth/principals.ts';
import { Passkeys } from '../../src/auth/passkeys.ts';
import { Sessions } from '../../src/auth/sessions.ts';
import { createAuthHandler } from '../../src/auth/http.ts';
import { SiosError } from '../../src/errors.ts';
import { tempAuthDb } from './store.ts';
import { TestClock } from './clock.ts';

const store = tempAuthDb();
after(() => store.close());
const clock = new TestClock();
const origin = 'http://localhost:8443';
const principals = new PrincipalStore(store.db, { clock: clock.fn });
const passkeys = new Passkeys(store.db, principals, { rpID: 'localhost', rpName: 'SIOS', origins: [origin], clock: clock.fn, maxPendingChallenges: 5 });
const sessions = new Sessions(store.db, principals, { clock: clock.fn });
const internal: unknown[] = [];
const handler = createAuthHandler({ principals, passkeys, sessions, onInternalError: (e) => internal.push(e) });

async function call(path: string, body: string | null, init: { method?: string; headers?: Record<string, string> } = {}) {
  const r = await handler(new Request(origin + path, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    ...(body === null ? {} : { body }),
  }));
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: JSON.parse(text) as { error?: { code: string; message: string; reason?: string }; options?: any } };
}

const fakeResponse = {
  id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {},
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
};

test('routing, methods, content type and size bounds', async () => {
  assert.equal((await call('/auth/nope', '{}')).status, 404);
  assert.equal((await call('/elsewhere', '{}')).status, 404);
  const m = await call('/auth/login/options', null, { method: 'GET' });
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'POST');
  assert.equal((await call('/auth/login/options', '{}', { headers: { 'content-type': 'text/plain' } })).status, 415);
  const big = JSON.stringify({ response: 'x'.repeat(70_000) });
  const tooBig = await call('/auth/login/verify', big);
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.error?.code, 'ERR_TOO_LARGE');
  assert.equal((await call('/auth/login/options', '{"a":')).status, 400);
  assert.equal((await call('/auth/login/options', 'null')).status, 400);
  assert.equal((await call('/auth/login/options', '[]')).status, 400);
  assert.equal(internal.length, 0);
});

test('unknown fields are refused, at the top and inside WebAuthn responses', async () => {
  const r = await call('/auth/login/options', JSON.stringify({ user: 'ada' }));
  assert.equal(r.status, 400);
  assert.match(r.body.error!.message, /unknown field "user"/);
  const cases: unknown[] = [
    { ...fakeResponse, extra: 1 },
    { ...fakeResponse, response: { ...fakeResponse.response, attestationObject: 'AAAA' } },
    { ...fakeResponse, rawId: 'BBBB' },
    { ...fakeResponse, type: 'password' },
    { ...fakeResponse, response: { ...fakeResponse.response, signature: 'not base64url!' } },
    { ...fakeResponse, response: { ...fakeResponse.response, signature: 'A'.repeat(9000) } },
    { ...fakeResponse, clientExtensionResults: { appid: true } },
    'a string',
  ];
  for (const response of cases) {
    const x = await call('/auth/login/verify', JSON.stringify({ response }));
    assert.equal(x.status, 400, JSON.stringify(response).slice(0, 80));
    assert.equal(x.body.error?.code, 'ERR_INPUT');
  }
  // Well-formed but answering no challenge.
  const none = await call('/auth/login/verify', JSON.stringify({ response: { ...fakeResponse, response: { ...fakeResponse.response, clientDataJSON: Buffer.from('{"type":"webauthn.get","challenge":"abc","origin":"x"}').toString('base64url') } } }));
  assert.equal(none.status, 401);
  assert.equal(none.body.error?.reason, 'challenge-unknown');
  assert.equal(internal.length, 0);
});

test('bearer routes need a session; errors are JSON with a code and a message', async () => {
  const r = await call('/auth/step-up/options', '{}');
  assert.equal(r.status, 401);
  assert.equal(r.body.error?.code, 'ERR_AUTH');
  assert.equal(r.body.error?.reason, 'no-session');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="sios"');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const bad = await call('/auth/session', null, { method: 'GET', headers: { authorization: 'Bearer siosS_0123456789abcdef_' + 'A'.repeat(43) } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error?.reason, 'session-unknown');
});

test('enrolment codes are single use, expire, and a wrong secret does not burn them', async () => {
  const p = principals.create({ tenant: 'ward-a', name: 'ada', role: 'member', clearance: 1 });
  const { code } = passkeys.createEnrolment(p.id, 3600);
  const wrong = code.slice(0, -10) + (code.at(-10) === 'A' ? 'B' : 'A') + code.slice(-9);
  const w = await call('/auth/register/options', JSON.stringify({ enrolment: wrong }));
  assert.equal(w.status, 401);
  assert.equal(w.body.error?.reason, 'enrolment-invalid');
  const ok = await call('/auth/register/options', JSON.stringify({ enrolment: code }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.options.authenticatorSelection.userVerification, 'required');
  assert.equal(ok.body.options.authenticatorSelection.residentKey, 'required');
  assert.equal(ok.body.options.rp.id, 'localhost');
  const again = await call('/auth/register/options', JSON.stringify({ enrolment: code }));
  assert.equal(again.body.error?.reason, 'enrolment-invalid');
  const late = passkeys.createEnrolment(p.id, 60);
  clock.advance(61);
  const expired = await call('/auth/register/options', JSON.stringify({ enrolment: late.code }));
  assert.equal(expired.body.error?.reason, 'enrolment-expired');
});

test('unanswered challenges are bounded and expire', async () => {
  clock.advance(3600); // let earlier challenges lapse
  for (let i = 0; i < 5; i++) assert.equal((await call('/auth/login/options', '{}')).status, 200);
  const full = await call('/auth/login/options', '{}');
  assert.equal(full.status, 429);
  clock.advance(121);
  assert.equal((await call('/auth/login/options', '{}')).status, 200);
  const o = (await call('/auth/login/options', '{}')).body.options;
  assert.equal(o.userVerification, 'required');
  assert.equal(o.allowCredentials, undefined, 'login is usernameless');
  assert.equal(Buffer.from(o.challenge, 'base64url').length, 32);
});

test('configuration is checked loudly', () => {
  const bad = (cfg: Record<string, unknown>) => assert.throws(() => new Passkeys(store.db, principals, { rpID: 'localhost', rpName: 'x', origins: [origin], ...cfg } as never),
    (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  bad({ origins: ['http://example.org'] });
  bad({ rpID: 'example.org', origins: ['http://example.org'] });
  bad({ origins: ['http://localhost:8443/path'] });
  bad({ origins: [] });
  bad({ challengeTtlSeconds: 5 });
  bad({ userVerification: 'preferred' });
});
