/** The HTTP adapter under overload: requests in progress are bounded, and one more is refused at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../src/api/node-adapter.ts';

test('one request over maxInFlight is answered 429 ERR_RATE_LIMITED with Retry-After, its handler never run', async (t) => {
  let calls = 0;
  const gates: Array<() => void> = [];
  const server = await serve(async (r) => {
    calls++;
    if (new URL(r.url).pathname === '/slow') await new Promise<void>((resolve) => gates.push(resolve));
    return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
  }, { host: '127.0.0.1', maxInFlight: 2 });
  t.after(() => server.close());

  const slow = [fetch(`${server.url}/slow`), fetch(`${server.url}/slow`)];
  while (gates.length < 2) await new Promise((r) => setTimeout(r, 5));
  const refused = await fetch(`${server.url}/fast`);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  const body = await refused.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'ERR_RATE_LIMITED');
  assert.match(body.error.message, /server busy: 2 requests in progress .*retry in 1 s/);
  assert.equal(calls, 2, 'the refused request never reached the handler');

  for (const g of gates) g();
  for (const r of await Promise.all(slow)) { assert.equal(r.status, 200); await r.arrayBuffer(); }
  const again = await fetch(`${server.url}/fast`);
  assert.equal(again.status, 200, 'slots are given back when requests finish');
  await again.arrayBuffer();
});

test('a failing handler answers 500 and gives its slot back', async (t) => {
  const server = await serve(async (r) => {
    if (new URL(r.url).pathname === '/boom') throw new Error('secret detail that must not leak');
    return new Response('ok');
  }, { host: '127.0.0.1', maxInFlight: 1 });
  t.after(() => server.close());
  const boom = await fetch(`${server.url}/boom`);
  assert.equal(boom.status, 500);
  const text = await boom.text();
  assert.match(text, /ERR_INTERNAL/);
  assert.doesNotMatch(text, /secret detail/);
  const ok = await fetch(`${server.url}/fine`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'ok');
});

test('maxInFlight must be a whole number of at least 1', async () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(serve(async () => new Response('x'), { maxInFlight: bad }), (e: Error & { code?: string }) => e.code === 'ERR_INPUT' && /maxInFlight must be a whole number of at least 1/.test(e.message));
  }
});
