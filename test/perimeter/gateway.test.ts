import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EgressGateway } from '../../src/perimeter/gateway.ts';
import type { EgressPolicy } from '../../src/perimeter/policy.ts';
import { DEFAULT_BUDGETS } from '../../src/perimeter/policy.ts';
import { auditLog, startOrigin, rawExchange, connectAndGet, until } from './helpers.ts';
import type { Origin } from './helpers.ts';

let dir: string;
let origin: Origin;
before(async () => { dir = mkdtempSync(join(tmpdir(), 'sios-gw-')); origin = await startOrigin(); });
after(async () => { await origin.close(); rmSync(dir, { recursive: true, force: true }); });

let n = 0;
function policy(extra: Partial<EgressPolicy> = {}): EgressPolicy {
  return {
    tenant: 'bank',
    allow: [{ host: 'origin.test', ports: [origin.port] }, { host: '127.0.0.1', ports: [origin.port] }, { host: 'private.test', ports: [origin.port] }],
    internalRanges: ['127.0.0.1/32'],
    budgets: DEFAULT_BUDGETS,
    ...extra,
  };
}

/** The test resolver: origin.test -> 127.0.0.1 (operator-approved range), private.test -> 10.1.2.3. */
const resolver = async (name: string): Promise<string[]> => {
  if (name === 'origin.test') return ['127.0.0.1'];
  if (name === 'private.test') return ['10.1.2.3'];
  throw new Error('NXDOMAIN');
};

async function gw(extra: Partial<EgressPolicy> = {}, opts: Partial<ConstructorParameters<typeof EgressGateway>[0]> = {}) {
  const log = auditLog();
  const g = new EgressGateway({ policy: policy(extra), audit: log.audit, resolver, ...opts });
  const path = await g.listenUnix({ cell: `cell-${++n}`, skill: 'fetch', path: join(dir, `g${n}.sock`) });
  return { g, path, log };
}

test('CONNECT to an allowlisted name is relayed, resolved by the gateway, and audited before and after', async (t) => {
  const { g, path, log } = await gw();
  t.after(() => g.close());
  const r = await connectAndGet(path, `origin.test:${origin.port}`, '/hello');
  assert.equal(r.connect.status, 200);
  assert.equal(r.origin?.status, 200);
  assert.match(r.origin?.body ?? '', /"line":"GET \/hello HTTP\/1.1"/);
  await until(() => log.egress().length === 2, 'outcome event');
  const [d, o] = log.egress();
  assert.equal(d?.phase, 'decision');
  assert.equal(d?.verdict, 'allowed');
  assert.equal(d?.resolvedAddress, '127.0.0.1');
  assert.equal(d?.destination, `origin.test:${origin.port}`);
  assert.equal(d?.cell, `cell-${n}`);
  assert.equal(o?.phase, 'outcome');
  assert.equal(o?.connection, d?.connection);
  assert.ok((o?.bytesDown ?? 0) > 100 && (o?.bytesUp ?? 0) > 20, 'bytes counted both ways');
});

test('default deny: a name or port not in the allowlist is refused and recorded', async (t) => {
  const { g, path, log } = await gw();
  t.after(() => g.close());
  const a = await rawExchange(path, `CONNECT other.test:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(a.status, 403);
  assert.equal(a.reason, 'not-allowlisted');
  const b = await rawExchange(path, `CONNECT origin.test:1 HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(b.status, 403);
  assert.deepEqual(log.egress().map((e) => [e.verdict, e.reason]), [['refused', 'not-allowlisted'], ['refused', 'not-allowlisted']]);
});

test('names resolving to private addresses and every loopback literal notation are refused before dialling', async (t) => {
  // No internal range at all: loopback is not operator-approved here.
  const literals = ['127.0.0.1', '2130706433', '0177.0.0.1', '0x7f.1', '127.1', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[64:ff9b::7f00:1]', '[fe80::1]', '[fc00::1]', '[ff02::1]', '0.0.0.0', '169.254.169.254'];
  const { g, path, log } = await gw({
    internalRanges: [],
    allow: [{ host: 'private.test', ports: [origin.port] }, ...literals.map((h) => ({ host: h, ports: [origin.port] }))],
  });
  t.after(() => g.close());
  const before = origin.accepted;
  const priv = await rawExchange(path, `CONNECT private.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(priv.status, 403);
  assert.equal(priv.reason, 'address-private');
  for (const h of literals) {
    const r = await rawExchange(path, `CONNECT ${h}:${origin.port} HTTP/1.1\r\n\r\n`);
    assert.equal(r.status, 403, h);
    assert.match(r.reason, /^address-(loopback|link-local|private|multicast|unspecified|metadata)$/, `${h}: ${r.reason}`);
  }
  assert.equal(origin.accepted, before, 'nothing was dialled');
  const ev = log.egress();
  assert.equal(ev.length, literals.length + 1);
  assert.ok(ev.every((e) => e.verdict === 'refused' && e.phase === 'decision'));
  assert.equal(ev.find((e) => e.destination.startsWith('2130706433') || e.destination.startsWith('127.0.0.1'))?.resolvedAddress, '127.0.0.1');
});

test('absolute-form plain HTTP goes through the same policy, one request per connection, hop-by-hop stripped', async (t) => {
  const { g, path, log } = await gw();
  t.after(() => g.close());
  const r = await rawExchange(path, `POST http://origin.test:${origin.port}/submit?q=1 HTTP/1.1\r\nHost: origin.test\r\nProxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\nContent-Length: 5\r\n\r\nhelloGET http://evil.test/ HTTP/1.1\r\n\r\n`);
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body) as { line: string; headers: string[]; bodyLength: number };
  assert.equal(seen.line, 'POST /submit?q=1 HTTP/1.1');
  assert.equal(seen.bodyLength, 5);
  assert.ok(seen.headers.includes('x-keep: 2'));
  assert.ok(!seen.headers.some((h) => /^(proxy-authorization|x-drop):/i.test(h)), 'hop-by-hop and proxy headers removed');
  assert.ok(seen.headers.includes('Connection: close'));
  await until(() => log.egress().length === 2, 'outcome');
  assert.equal(log.egress().filter((e) => e.destination.startsWith('evil')).length, 0, 'the pipelined second request was never interpreted');
  const https = await rawExchange(path, `GET https://origin.test:${origin.port}/ HTTP/1.1\r\n\r\n`);
  assert.equal(https.status, 400);
  const origin1 = await rawExchange(path, `GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n`);
  assert.equal(origin1.reason, 'not-proxy-request');
  const hex = await rawExchange(path, `GET http://0x7f.1:${origin.port}/ HTTP/1.1\r\n\r\n`);
  assert.equal(hex.status, 200, '0x7f.1 is 127.0.0.1, which this policy allowlists');
  assert.ok(log.egress().some((e) => e.destination === `127.0.0.1:${origin.port}` && e.mode === 'absolute-form'), 'recorded under its normalised form');
  const other = await rawExchange(path, `GET http://10.0.0.1:${origin.port}/ HTTP/1.1\r\n\r\n`);
  assert.equal(other.reason, 'not-allowlisted');
});

test('smuggling, malformed and oversized heads are refused, recorded, and the gateway keeps serving', async (t) => {
  const { g, path, log } = await gw({}, { limits: { maxHeaderBytes: 2048 } });
  t.after(() => g.close());
  const u = `http://origin.test:${origin.port}/`;
  const cases: Array<[string, string]> = [
    [`POST ${u} HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'smuggling-cl-te'],
    [`POST ${u} HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 'smuggling-content-length'],
    [`POST ${u} HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello`, 'smuggling-content-length'],
    [`POST ${u} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'transfer-encoding-unsupported'],
    [`POST ${u} HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n`, 'bad-header'],
    [`GET ${u} HTTP/1.1\r\nX: a\r\n b\r\n\r\n`, 'obs-fold'],
    [`GET ${u} HTTP/1.1\nHost: x\r\n\r\n`, 'bare-line-ending'],
    [`CONNECT origin.test:${origin.port} HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc`, 'smuggling-connect-body'],
    [`CONNECT user@origin.test:${origin.port} HTTP/1.1\r\n\r\n`, 'bad-target'],
    [`GET http://user:pw@origin.test:${origin.port}/ HTTP/1.1\r\n\r\n`, 'bad-target'],
    [`GET ${u} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, 'bad-header'],
    [`GARBAGE\r\n\r\n`, 'bad-request-line'],
    [`GET ${u} HTTP/1.1\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`, 'header-too-large'],
    [`GET ${u} HTTP/1.1\r\nX-Big: ${'a'.repeat(4000)}`, 'header-too-large'],
  ];
  const before = origin.accepted;
  for (const [req, reason] of cases) {
    const r = await rawExchange(path, req);
    assert.equal(r.reason, reason, JSON.stringify(req.slice(0, 60)));
    assert.ok(r.status >= 400);
  }
  assert.equal(origin.accepted, before);
  assert.equal(log.egress().length, cases.length);
  assert.ok(log.egress().every((e) => e.verdict === 'refused'));
  const ok = await connectAndGet(path, `origin.test:${origin.port}`);
  assert.equal(ok.origin?.status, 200, 'still serving after the attacks');
});

test('slowloris: a head that never completes is cut by the header timeout and recorded', async (t) => {
  const { g, path, log } = await gw({}, { limits: { headerTimeoutMs: 150 } });
  t.after(() => g.close());
  const r = await rawExchange(path, [`CONNECT origin.test:${origin.port} HTTP/1.1\r\n`, 'X-Slow: 1\r\n']);
  assert.equal(r.status, 408);
  assert.equal(log.egress()[0]?.reason, 'header-timeout');
});

test('rebinding: the name is resolved once and the checked address is the dialled one', async (t) => {
  let calls = 0;
  // First answer is the approved address, any later answer is a private one.
  const rebinding = async (): Promise<string[]> => (++calls === 1 ? ['127.0.0.1'] : ['10.9.9.9']);
  const { g, path, log } = await gw({}, { resolver: rebinding });
  t.after(() => g.close());
  const r1 = await connectAndGet(path, `origin.test:${origin.port}`);
  assert.equal(r1.origin?.status, 200);
  assert.equal(calls, 1, 'one resolution per connection');
  assert.equal(JSON.parse(r1.origin?.body ?? '{}').peer, '127.0.0.1');
  const r2 = await rawExchange(path, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(r2.status, 403);
  assert.equal(r2.reason, 'address-private');
  const mixed = async (): Promise<string[]> => ['127.0.0.1', '10.0.0.1'];
  const m = await gw({}, { resolver: mixed });
  t.after(() => m.g.close());
  const r3 = await rawExchange(m.path, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(r3.reason, 'address-private', 'a mixed answer is refused as a whole');
  assert.equal(log.egress().filter((e) => e.verdict === 'allowed' && e.phase === 'decision')[0]?.resolvedAddress, '127.0.0.1');
});

test('sign-before-run: nothing is dialled until the audit resolves; a rejecting audit refuses (fail closed)', async (t) => {
  let release: (() => void) | undefined;
  const held: string[] = [];
  const audit = async (e: { type: string; phase?: string; verdict?: string }): Promise<void> => {
    held.push(`${e.type}:${e.phase}:${e.verdict}`);
    if (e.phase === 'decision' && e.verdict === 'allowed') await new Promise<void>((r) => { release = r; });
  };
  const g = new EgressGateway({ policy: policy(), audit, resolver });
  t.after(() => g.close());
  const path = await g.listenUnix({ cell: 'c', skill: 's', path: join(dir, 'hold.sock') });
  const before = origin.accepted;
  const pending = connectAndGet(path, `origin.test:${origin.port}`);
  await until(() => release !== undefined, 'decision audit');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(origin.accepted, before, 'not dialled while the decision is being sealed');
  release?.();
  assert.equal((await pending).origin?.status, 200);

  const failing = new EgressGateway({ policy: policy(), audit: async () => { throw new Error('ledger down'); }, resolver });
  t.after(() => failing.close());
  const p2 = await failing.listenUnix({ cell: 'c', skill: 's', path: join(dir, 'fail.sock') });
  const before2 = origin.accepted;
  const r = await rawExchange(p2, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(r.status, 503);
  assert.equal(r.reason, 'audit-unavailable');
  assert.equal(origin.accepted, before2);
});

test('kill switch destroys existing connections at once and refuses new ones until restored', async (t) => {
  const { g, path, log } = await gw();
  t.after(() => g.close());
  const s = connect(path);
  const got: Buffer[] = [];
  let closed = false;
  s.on('data', (d: Buffer) => got.push(d));
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  s.write(`CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  await until(() => Buffer.concat(got).includes('200 Connection established'), 'tunnel');
  s.write(`GET /hold HTTP/1.1\r\nHost: x\r\n\r\n`);
  await until(() => Buffer.concat(got).includes('partial'), 'partial response');
  assert.equal(g.stats().active, 1);
  const destroyed = await g.kill('incident 42');
  assert.equal(destroyed, 1);
  await until(() => closed && origin.sockets.size === 0, 'both sides closed');
  const r = await rawExchange(path, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(r.status, 503);
  assert.equal(r.reason, 'kill-switch');
  await until(() => log.egress().some((e) => e.phase === 'outcome'), 'outcome');
  assert.equal(log.egress().find((e) => e.phase === 'outcome')?.end, 'killed');
  assert.ok(log.events.some((e) => e.type === 'egress-kill' && e.engaged && e.destroyed === 1));
  await g.restore('incident closed');
  assert.equal((await connectAndGet(path, `origin.test:${origin.port}`)).origin?.status, 200);
});

test('budgets: concurrency, connections per window and bytes per window', async (t) => {
  const { g, path, log } = await gw({ budgets: { maxConcurrent: 1, maxConnectionsPerWindow: 3, maxBytesPerWindow: 50_000, windowMs: 3_600_000 } });
  t.after(() => g.close());
  const s = connect(path);
  s.on('error', () => {});
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.write(`CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  await until(() => Buffer.concat(got).includes('200'), 'first tunnel');
  const second = await rawExchange(path, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(second.reason, 'budget-concurrency');
  s.destroy();
  await until(() => g.stats().active === 0, 'first closed');
  const big = await connectAndGet(path, `origin.test:${origin.port}`, '/big/100000');
  assert.equal(big.connect.status, 200);
  assert.ok((big.origin?.body.length ?? 0) < 100_000, 'cut when the byte budget was crossed');
  await until(() => log.egress().some((e) => e.end === 'budget-exceeded'), 'budget outcome');
  const third = await rawExchange(path, `CONNECT origin.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.match(third.reason, /^budget-(connections|bytes)$/);
});

test('operator upstream: all egress goes through the named upstream proxy (here a second gateway)', async (t) => {
  const upLog = auditLog();
  const upstream = new EgressGateway({ policy: { ...policy(), tenant: 'edge' }, audit: upLog.audit, resolver });
  t.after(() => upstream.close());
  const upPort = await upstream.listenTcp({ cell: 'edge', skill: 'upstream', host: '127.0.0.1', port: 0 });
  const { g, path, log } = await gw({ upstream: { name: 'edge-proxy', host: '127.0.0.1', port: upPort, resolveVia: 'gateway' }, internalRanges: ['127.0.0.1/32'] });
  t.after(() => g.close());
  const r = await connectAndGet(path, `origin.test:${origin.port}`, '/via');
  assert.equal(r.origin?.status, 200);
  await until(() => upLog.egress().length === 2 && log.egress().length === 2, 'both gateways recorded');
  assert.equal(upLog.egress()[0]?.destination, `127.0.0.1:${origin.port}`, 'the upstream was asked for the checked IP, not the name');
  assert.equal(log.egress()[0]?.upstream, 'edge-proxy');
  const refusedUp = await gw({ upstream: { name: 'edge-proxy', host: '127.0.0.1', port: upPort, resolveVia: 'upstream' }, allow: [{ host: 'private.test', ports: [origin.port] }] });
  t.after(() => refusedUp.g.close());
  const r2 = await rawExchange(refusedUp.path, `CONNECT private.test:${origin.port} HTTP/1.1\r\n\r\n`);
  assert.equal(r2.status, 502, 'the upstream refused (its own policy), and the gateway reports it');
  await until(() => refusedUp.log.egress().some((e) => e.end === 'upstream-refused'), 'upstream-refused outcome');
});

test('constructor and listeners reject bad options loudly', () => {
  assert.throws(() => new EgressGateway({ policy: policy(), audit: async () => {}, bogus: 1 } as never), /unknown option "bogus"/);
  const g = new EgressGateway({ policy: policy(), audit: async () => {} });
  return assert.rejects(g.listenTcp({ cell: 'c', skill: 's', host: '0.0.0.0' as '127.0.0.1', port: 0 }), /loopback only/);
});

/**
 * An origin that speaks first: on accept it sends `size` random bytes and closes (as a banner-first
 * protocol would, before the client says anything). Resolves the bytes each connection was sent.
 */
async function startSpeaker(size: number): Promise<{ port: number; sent: Buffer[]; close: () => Promise<void> }> {
  const sent: Buffer[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    const data = randomBytes(size);
    sent.push(data);
    s.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, sent, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** CONNECT, then read the tunnel to its end; `slow` pauses the reader often so backpressure builds. */
function tunnelRead(target: string | number, authority: string, slow: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    const parts: Buffer[] = [];
    let n = 0;
    s.on('data', (d: Buffer) => {
      parts.push(d);
      if (slow && ++n % 4 === 0) { s.pause(); setTimeout(() => s.resume(), 2); }
    });
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(parts);
      const idx = all.indexOf('\r\n\r\n');
      if (!/^HTTP\/1\.[01] 200/.test(all.subarray(0, idx).toString('latin1'))) { reject(new Error(`tunnel refused: ${all.subarray(0, 200).toString('latin1')}`)); return; }
      resolve(all.subarray(idx + 4));
      s.destroy();
    });
    s.on('connect', () => s.write(`CONNECT ${authority} HTTP/1.1\r\n\r\n`));
  });
}

test('relay integrity: large and server-first bodies arrive byte-exact under backpressure, read buffers reused', async (t) => {
  const speaker = await startSpeaker(3 * 1024 * 1024 + 17);
  t.after(() => speaker.close());
  const { g, path, log } = await gw({ allow: [{ host: '127.0.0.1', ports: [speaker.port] }] });
  t.after(() => g.close());
  const authority = `127.0.0.1:${speaker.port}`;
  // Sequential connections reuse the pooled read buffer: each must get its own bytes, none stale.
  for (let i = 0; i < 3; i++) {
    const got = await tunnelRead(path, authority, i % 2 === 0);
    assert.ok(got.equals(speaker.sent[i] as Buffer), `connection ${i}: ${got.length} bytes received, bytes differ from what the origin sent`);
  }
  // Concurrent connections each have their own buffer.
  const many = await Promise.all([0, 1, 2, 3].map((i) => tunnelRead(path, authority, i % 2 === 1)));
  const sentLater = speaker.sent.slice(3);
  for (const got of many) assert.ok(sentLater.some((b) => b.equals(got)), 'a concurrent tunnel received bytes no connection was sent');
  await until(() => log.egress().filter((e) => e.phase === 'outcome').length === 7, 'seven outcomes');
  for (const o of log.egress().filter((e) => e.phase === 'outcome')) assert.equal(o.bytesDown, 3 * 1024 * 1024 + 17, 'every byte counted');
});

test('relay integrity through an upstream proxy: bytes that follow its CONNECT answer are delivered', async (t) => {
  const speaker = await startSpeaker(200_000);
  t.after(() => speaker.close());
  const upstream = new EgressGateway({ policy: { ...policy(), tenant: 'edge', allow: [{ host: '127.0.0.1', ports: [speaker.port] }] }, audit: async () => {}, resolver });
  t.after(() => upstream.close());
  const upPort = await upstream.listenTcp({ cell: 'edge', skill: 'upstream', host: '127.0.0.1', port: 0 });
  const { g, path } = await gw({ allow: [{ host: '127.0.0.1', ports: [speaker.port] }], upstream: { name: 'edge-proxy', host: '127.0.0.1', port: upPort, resolveVia: 'gateway' } });
  t.after(() => g.close());
  for (let i = 0; i < 3; i++) {
    const got = await tunnelRead(path, `127.0.0.1:${speaker.port}`, i === 1);
    assert.ok(got.equals(speaker.sent[i] as Buffer), `connection ${i}: ${got.length} bytes received, bytes differ from what the origin sent`);
  }
});
