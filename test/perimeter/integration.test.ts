/**
 * The perimeter wired into a real deployment: per-tenant egress state sealed in the tenant ledger,
 * a bubblewrap cell whose only way out is the tenant's gateway, every attempt sealed, bundles that
 * verify offline, the kill switch.
 *
 * Where the origin lives: in a network namespace this test creates, joined to the test's own
 * namespace by a veth on a /30 of 198.51.100.0/24 (TEST-NET-2, never routed). That address is not
 * globally routable, so the operator approves exactly it (`internalRanges: [<addr>/32]`), which is
 * what a site does for an intranet host. Names resolve through a test resolver (partner.test ->
 * that address); nothing here addresses anything outside loopback and that namespace.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { initDeployment, Deployment } from '../../src/deployment/deployment.ts';
import { layout } from '../../src/deployment/layout.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { nodeVerifyCrypto } from '../../src/crypto/node.ts';
import { exportBundle } from '../../src/ledger/export.ts';
import { verifyBundle } from '../../src/ledger/verify.ts';
import { parseEntry, type Entry } from '../../src/ledger/entry.ts';
import type { Ledger } from '../../src/ledger/ledger.ts';
import { fromUtf8, utf8 } from '../../src/encoding/bytes.ts';
import { SiosError } from '../../src/errors.ts';
import { runEgressSkill } from '../../src/perimeter/egress-skill.ts';
import {
  allowEgress, denyEgress, egressState, killEgress, liveGateways, perimeterDoctorFor, readEgressStates, restoreEgress, setSandboxOptOut,
} from '../../src/perimeter/store.ts';
import type { TenantHost } from '../../src/perimeter/store.ts';
import { createNetns, firstLine, FIXTURES, until } from './helpers.ts';
import type { Netns } from './helpers.ts';

const PASS = 'integration test passphrase';
const o = { crypto: nodeVerifyCrypto };
let root: string;
let dir: string;
let d: Deployment;
let ns: Netns;
let origin: ChildProcess;
let port: number;
let resolver: (name: string) => Promise<string[]>;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'sios-int-'));
  chmodSync(root, 0o711); // cells run as nobody: their socket directories must be reachable
  dir = join(root, 'data');
  const p = passphraseProtector(PASS);
  await initDeployment(dir, [p]);
  d = await Deployment.open(dir, p);
  p.dispose();
  await d.createTenant('a', 'test');
  await d.createTenant('b', 'test');
  ns = createNetns();
  origin = ns.spawnIn([process.execPath, join(FIXTURES, 'origin-paths.ts'), ns.nsAddr, '0']);
  port = Number((await firstLine(origin)).split(' ')[1]);
  resolver = async (name) => {
    if (name === 'partner.test') return [ns.nsAddr];
    throw new Error(`test resolver: no such name ${name}`);
  };
});

after(async () => {
  origin?.kill('SIGKILL');
  ns?.cleanup();
  await d?.close();
  rmSync(root, { recursive: true, force: true });
});

function entries(tenant: string): Entry[] {
  const s = d.ledgerStore(tenant);
  try {
    const n = s.latestCheckpoint()?.size ?? 0;
    return s.readEntries(0, n).map((e) => parseEntry(fromUtf8(e.bytes), e.seq));
  } finally { s.close(); }
}

const run = (tenant: string, url: string) => runEgressSkill({ deployment: d, tenant, url, resolver, workRoot: join(root, 'cells') });

/** How many connections the namespace origin accepted (asked directly over the test veth). */
function originAccepted(): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request({ host: ns.nsAddr, port, path: '/stats', agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve((JSON.parse(b) as { accepted: number }).accepted));
    });
    r.on('error', reject);
    r.end();
  });
}

test('operator allowlists one host for tenant a: sealed admin OAR first, then the stored policy', async () => {
  const before = d.ledger('a').size;
  await assert.rejects(allowEgress(d, 'a', { host: 'bad host', ports: [80], actor: 'alice' }, o), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  await assert.rejects(allowEgress(d, 'a', { host: '*', ports: [80], actor: 'alice' }, o), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT');
  assert.equal(d.ledger('a').size, before, 'an invalid change never reaches the ledger');
  assert.equal(egressState(d, 'a', o).policy.allow.length, 0, 'default deny');

  const r = await allowEgress(d, 'a', { host: 'Partner.Test', ports: [port], actor: 'alice', internalRanges: [`${ns.nsAddr}/32`] }, o);
  const admin = entries('a')[r.seq] as Entry;
  assert.equal(admin.kind, 'admin');
  assert.deepEqual({ ...admin.body, state: undefined }, { action: 'egress-allow', actor: 'alice', host: 'partner.test', ports: [port], internalRanges: [`${ns.nsAddr}/32`], state: undefined });
  const st = egressState(d, 'a', o);
  assert.deepEqual(st.policy.allow, [{ host: 'partner.test', ports: [port] }]);
  assert.equal(st.seq, r.seq);
  assert.equal(egressState(d, 'b', o).policy.allow.length, 0, 'tenant b is untouched');
});

test('a cell of tenant a reaches the allowlisted host; another host and tenant b are refused; all sealed', async () => {
  const a0 = d.ledger('a').size;
  const ok = await run('a', `http://partner.test:${port}/quarterly-report-secret-path`);
  assert.equal(ok.outcome, 'fetched', ok.message);
  assert.equal(ok.status, 200);
  assert.ok((ok.bytes ?? 0) > 20);

  const other = await run('a', `http://elsewhere.test:${port}/x`);
  assert.equal(other.outcome, 'refused', other.message);
  assert.equal(other.status, 403);
  assert.equal(other.reason, 'not-allowlisted');
  const literal = await run('a', `http://${ns.nsAddr}:${port}/x`);
  assert.equal(literal.reason, 'not-allowlisted', 'the same machine by address is another destination');

  const b0 = d.ledger('b').size;
  const b = await run('b', `http://partner.test:${port}/x`);
  assert.equal(b.outcome, 'refused');
  assert.equal(b.reason, 'not-allowlisted');

  const ea = entries('a').slice(a0);
  const egress = ea.filter((e) => e.kind === 'egress');
  const dec = egress.find((e) => e.body['phase'] === 'decision' && e.body['verdict'] === 'allowed');
  assert.ok(dec, 'allowed decision sealed');
  assert.equal(dec.body['destination'], `partner.test:${port}`);
  assert.equal(dec.body['resolvedAddress'], ns.nsAddr);
  assert.equal(dec.body['rule'], `partner.test via ${ns.nsAddr}/32`);
  const out = egress.find((e) => e.body['phase'] === 'outcome');
  assert.ok(out, 'outcome sealed');
  assert.ok(out.seq > dec.seq, 'decision sealed before the outcome');
  assert.equal((out.body['decision'] as { seq: number }).seq, dec.seq, 'the outcome names its decision');
  assert.equal(out.body['end'], 'closed');
  assert.ok((out.body['bytesDown'] as number) > 20 && (out.body['bytesUp'] as number) > 20);
  const refused = egress.filter((e) => e.body['verdict'] === 'refused').map((e) => e.body['destination']);
  assert.deepEqual(refused, [`elsewhere.test:${port}`, `${ns.nsAddr}:${port}`]);
  const cells = ea.filter((e) => e.kind === 'cell');
  assert.equal(cells.length, 6, 'three cells, each with a sealed start and end');
  assert.ok(cells.every((e) => e.body['event'] === 'cell-end' || (e.body['sandbox'] === 'bwrap' && e.body['egress'] === true)));
  assert.deepEqual(cells.filter((e) => e.body['event'] === 'cell-end').map((e) => e.body['exitCode']), [0, 3, 3]);

  const eb = entries('b').slice(b0).filter((e) => e.kind === 'egress');
  assert.equal(eb.length, 1);
  assert.equal(eb[0]?.body['verdict'], 'refused');
  assert.equal(eb[0]?.body['destination'], `partner.test:${port}`);
  assert.ok(!entries('a').some((e) => e.tenant !== 'a'), 'nothing of b in a');

  // Exported bundles verify offline; no request path in them (payload-free records).
  for (const t of ['a', 'b']) {
    const parts: string[] = [];
    const s = d.ledgerStore(t);
    try { exportBundle(s, { origin: d.originOf(t), tenant: t, crypto: nodeVerifyCrypto, publicKeys: [d.signer.publicKey] }, (c) => { parts.push(c); }); } finally { s.close(); }
    const text = parts.join('');
    const rep = await verifyBundle(utf8(text), { crypto: nodeVerifyCrypto, trustedKeys: [d.signer.publicKey], expectedTenant: t });
    assert.ok(rep.ok, JSON.stringify(rep.failure));
    assert.equal(rep.entries, d.ledger(t).size);
    assert.ok(!text.includes('quarterly-report'), 'the URL path is not in the ledger');
  }
});

test('sign-before-dial: when the decision cannot be sealed, nothing is dialled', async () => {
  const before = await originAccepted();
  const real = d.ledger('a');
  // The same deployment, except that sealing an egress decision fails.
  const failing: TenantHost = {
    tenantDb: (t) => d.tenantDb(t),
    ledger: (t) => {
      const l = d.ledger(t);
      return new Proxy(l, {
        get(target, prop) {
          if (prop === 'seal') {
            return (req: Parameters<Ledger['seal']>[0]) => req.kind === 'egress' && req.body['phase'] === 'decision'
              ? Promise.reject(new SiosError('ERR_STORE', 'disk full (simulated)'))
              : target.seal(req);
          }
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
  const r = await runEgressSkill({ deployment: failing, tenant: 'a', url: `http://partner.test:${port}/x`, resolver, workRoot: join(root, 'cells') });
  assert.equal(r.outcome, 'refused', r.message);
  assert.equal(r.reason, 'audit-unavailable');
  assert.equal(await originAccepted(), before + 1, 'only this test\'s own /stats request reached the origin');
  assert.ok(real.size > 0);
});

test('kill switch: sealed, cuts a live connection, refuses new ones until restored', async () => {
  const a0 = d.ledger('a').size;
  const running = run('a', `http://partner.test:${port}/hold`);
  // Live: the origin's first bytes have crossed the gateway.
  await until(() => liveGateways(d, 'a').some((g) => g.stats().windowBytes > 0), 'a live connection through the gateway');
  const k = await killEgress(d, 'a', { actor: 'alice', reason: 'incident 42' }, o);
  assert.equal(k.destroyed, 1);
  const cut = await running;
  assert.equal(cut.outcome, 'failed');
  // The gateway has forwarded the origin's first bytes; whether the cell's client read them before the
  // cut depends on scheduling (on a loaded machine it had not: the connection ended with no complete head).
  assert.match(cut.message, /ended after 7 of 1000000 bytes|ECONNRESET|socket|response has no complete head/);

  const refused = await run('a', `http://partner.test:${port}/x`);
  assert.equal(refused.outcome, 'refused', refused.message);
  assert.equal(refused.reason, 'kill-switch');
  assert.equal(refused.status, 503);
  await assert.rejects(allowEgress(d, 'a', { host: 'partner.test', ports: [port], actor: 'alice' }, o).then(() => run('a', `http://partner.test:${port}/x`)).then((r) => {
    if (r.reason === 'kill-switch') throw new SiosError('ERR_EGRESS', 'still killed');
  }), /still killed/, 'changing the allowlist does not lift the kill switch');

  await restoreEgress(d, 'a', { actor: 'bob', reason: 'incident closed' }, o);
  const again = await run('a', `http://partner.test:${port}/x`);
  assert.equal(again.outcome, 'fetched', again.message);

  const ea = entries('a').slice(a0);
  const kill = ea.find((e) => e.kind === 'admin' && e.body['action'] === 'egress-kill');
  assert.deepEqual([kill?.body['actor'], kill?.body['reason']], ['alice', 'incident 42']);
  const ev = ea.find((e) => e.kind === 'egress' && e.body['event'] === 'egress-kill');
  assert.equal(ev?.body['destroyed'], 1);
  assert.ok((ev?.seq ?? 0) > (kill?.seq ?? Infinity), 'the admin record precedes the cut record');
  const killedOutcome = ea.find((e) => e.kind === 'egress' && e.body['phase'] === 'outcome' && e.body['end'] === 'killed');
  assert.ok(killedOutcome, 'the cut connection\'s outcome is sealed as killed');
  assert.ok(ea.some((e) => e.kind === 'egress' && e.body['reason'] === 'kill-switch' && e.body['verdict'] === 'refused'));
  assert.ok(ea.some((e) => e.kind === 'admin' && e.body['action'] === 'egress-restore' && e.body['actor'] === 'bob'));
});

test('a policy edited behind SIOS\'s back is refused, by skills and by doctor', async () => {
  await denyEgress(d, 'a', { host: 'partner.test', actor: 'alice' }, o);
  await allowEgress(d, 'a', { host: 'partner.test', ports: [port], actor: 'alice', internalRanges: [] }, o);
  const good = perimeterDoctorFor(dir, nodeVerifyCrypto);
  const pa = good.find((c) => c.name === 'egress-policy:a');
  assert.ok(pa?.ok, pa?.detail);
  assert.match(pa?.detail ?? '', new RegExp(`allows partner\\.test:${port}`));
  assert.match(good.find((c) => c.name === 'egress-policy:b')?.detail ?? '', /default deny/);

  const db = new DatabaseSync(layout(dir).tenantDb('a'));
  const row = db.prepare('SELECT state FROM egress_policy WHERE id = 1').get() as { state: string };
  const tampered = row.state.replace('"partner.test"', '"evil.test"');
  assert.notEqual(tampered, row.state);
  db.prepare('UPDATE egress_policy SET state = ? WHERE id = 1').run(tampered);
  try {
    await assert.rejects(run('a', 'http://evil.test/'), (e: unknown) => e instanceof SiosError && e.code === 'ERR_STORE' && /changed outside SIOS/.test(e.message));
    assert.equal(readEgressStates(dir, nodeVerifyCrypto).problems[0]?.tenant, 'a');
    assert.equal(perimeterDoctorFor(dir, nodeVerifyCrypto).find((c) => c.name === 'egress-policy:a')?.ok, false);
  } finally {
    db.prepare('UPDATE egress_policy SET state = ? WHERE id = 1').run(row.state);
    db.close();
  }
  assert.equal(egressState(d, 'a', o).policy.allow[0]?.host, 'partner.test');
});

test('sandbox opt-out is sealed, used by the runner and flagged by doctor', async () => {
  const r = await setSandboxOptOut(d, 'b', { actor: 'alice', reason: 'legacy skill needs host tools', optOut: true }, o);
  assert.equal(entries('b')[r.seq]?.body['action'], 'sandbox-opt-out');
  const res = await run('b', `http://partner.test:${port}/x`);
  assert.equal(res.outcome, 'refused', 'still only the gateway decides: b has no allowlist');
  const start = entries('b').reverse().find((e) => e.kind === 'cell' && e.body['event'] === 'cell-start');
  assert.equal(start?.body['sandbox'], 'none');
  assert.deepEqual(start?.body['optOut'], { operator: 'alice', reason: 'legacy skill needs host tools' });
  assert.equal(perimeterDoctorFor(dir, nodeVerifyCrypto).find((c) => c.name === 'sandbox-opt-out:b')?.ok, false);
  await setSandboxOptOut(d, 'b', { actor: 'alice', reason: 'done', optOut: false }, o);
  assert.equal(perimeterDoctorFor(dir, nodeVerifyCrypto).some((c) => c.name === 'sandbox-opt-out:b'), false);
});
