/** `sios serve --tls-cert/--tls-key`: the API over TLS 1.3 with the operator's certificate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { serve } from '../../src/api/node-adapter.ts';
import { tempDir } from '../helpers/tmp.ts';

test('serves over TLS 1.3 with the operator certificate and refuses older TLS', async (t) => {
  const dir = tempDir(t);
  const key = path.join(dir, 'key.pem'), cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const server = await serve(async (r) => new Response(JSON.stringify({ scheme: new URL(r.url).protocol }), { headers: { 'content-type': 'application/json' } }), { host: '127.0.0.1', tls: { cert: fs.readFileSync(cert), key: fs.readFileSync(key) } });
  t.after(() => server.close());
  assert.match(server.url, /^https:/);
  const get = (opts: https.RequestOptions) => new Promise<{ status: number; body: string; proto: string }>((resolve, reject) => {
    const req = https.request(server.url + '/x', { ca: fs.readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined, ...opts }, (res) => {
      const proto = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, proto }));
    });
    req.on('error', reject); req.end();
  });
  const ok = await get({});
  assert.equal(ok.status, 200);
  assert.equal(ok.proto, 'TLSv1.3');
  assert.equal(JSON.parse(ok.body).scheme, 'https:');
  await assert.rejects(get({ maxVersion: 'TLSv1.2' }), /protocol|version|alert/i);
});
