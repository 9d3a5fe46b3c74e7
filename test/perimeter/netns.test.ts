import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressGateway } from '../../src/perimeter/gateway.ts';
import { DEFAULT_BUDGETS } from '../../src/perimeter/policy.ts';
import { checkRoutes } from '../../src/perimeter/doctor.ts';
import { auditLog, createNetns, firstLine, connectAndGet, rawExchange, FIXTURES } from './helpers.ts';

test('rebinding against a host in a test namespace: the dialled address is the checked one', async (t) => {
  const ns = createNetns();
  t.after(() => ns.cleanup());
  const server = ns.spawnIn([process.execPath, join(FIXTURES, 'origin-server.ts'), ns.nsAddr, '0']);
  t.after(() => { server.kill('SIGKILL'); });
  const port = Number((await firstLine(server)).split(' ')[1]);
  let calls = 0;
  const log = auditLog();
  const gw = new EgressGateway({
    // The namespace host sits in TEST-NET-2, which is not globally routable: the operator approves exactly it.
    policy: { tenant: 'a', allow: [{ host: 'partner.test', ports: [port] }], internalRanges: [`${ns.nsAddr}/32`], budgets: DEFAULT_BUDGETS },
    audit: log.audit,
    resolver: async () => (++calls === 1 ? [ns.nsAddr] : ['127.0.0.1']),
  });
  t.after(() => gw.close());
  const dir = mkdtempSync(join(tmpdir(), 'sios-ns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = await gw.listenUnix({ cell: 'c1', skill: 'partner', path: join(dir, 'gw.sock') });
  const r1 = await connectAndGet(path, `partner.test:${port}`);
  assert.equal(r1.origin?.status, 200);
  const seen = JSON.parse(r1.origin?.body ?? '{}') as { peer: string; local: string };
  assert.equal(seen.local, ns.nsAddr, 'the connection landed on the checked address');
  assert.equal(seen.peer, ns.hostAddr, 'and came from the gateway through the test veth');
  assert.equal(log.egress()[0]?.resolvedAddress, ns.nsAddr);
  const r2 = await rawExchange(path, `CONNECT partner.test:${port} HTTP/1.1\r\n\r\n`);
  assert.equal(r2.status, 403);
  assert.equal(r2.reason, 'address-loopback');
  assert.equal(calls, 2);
  // The namespace with a veth has a route beyond loopback: doctor's route check must say so.
  const routes = JSON.parse(execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--input-type=module', '-e',
    `import { checkRoutes } from ${JSON.stringify(join(FIXTURES, '../../../src/perimeter/doctor.ts'))}; process.stdout.write(JSON.stringify(checkRoutes()))`], { encoding: 'utf8' })) as { ok: boolean; detail: string };
  assert.equal(routes.ok, false);
  assert.match(routes.detail, new RegExp(ns.nsAddr.split('.').slice(0, 3).join('\\.')));
});

test('the whole perimeter works inside a namespace with no route out, and doctor sees the air gap', async (t) => {
  const name = `sios-air-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => { try { execFileSync('ip', ['netns', 'del', name]); } catch { /* gone */ } });
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, '--disable-warning=ExperimentalWarning', join(FIXTURES, 'airgap.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  const line = await firstLine(child);
  const r = JSON.parse(line) as {
    before: Record<string, { ok: boolean; detail: string }>; withWide: { ok: boolean; detail: string };
    cell: { exitCode: number; stdout: string; stderr: string }; events: string[];
  };
  assert.equal(r.before['routes']?.ok, true, r.before['routes']?.detail);
  assert.equal(r.before['listeners']?.ok, true, r.before['listeners']?.detail);
  assert.equal(r.before['outbound']?.ok, true);
  assert.equal(r.withWide.ok, false, 'a 0.0.0.0 listener is reported');
  assert.match(r.withWide.detail, /0\.0\.0\.0:\d+/);
  assert.equal(r.cell.exitCode, 0, r.cell.stderr);
  const out = JSON.parse(r.cell.stdout) as Array<{ status: number; body: string }>;
  assert.equal(out[0]?.status, 200);
  assert.match(out[0]?.body ?? '', /GET \/air/);
  assert.deepEqual(r.events, ['cell-start', 'egress-attempt:decision:allowed:127.0.0.1', 'egress-attempt:outcome:allowed:127.0.0.1', 'cell-end']);
  // And in this test's own namespace, the same check runs on real routing tables.
  assert.equal(typeof checkRoutes().ok, 'boolean');
});
