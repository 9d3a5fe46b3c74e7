/**
 * A skill that needs the outside, through the gate: web.fetch runs in a bubblewrap cell whose only
 * way out is the tenant's egress gateway. An allowlisted origin is reached; anything else is refused;
 * the intent, the cell and every connection attempt are sealed in the tenant's ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture } from './fixture.ts';
import { allowEgress } from '../../src/perimeter/store.ts';
import { nodeVerifyCrypto } from '../../src/crypto/node.ts';

test('web.fetch through the gate: allowlisted origin fetched from a cell, others refused, all sealed', async (t) => {
  const f = await fixture(t);
  const origin = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('lab result ok'); });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => origin.close(() => r())));
  const port = (origin.address() as AddressInfo).port;
  await f.app.registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read', 'web.fetch'], { actor: 'operator' });
  // The operator allowlists exactly this host and approves its (loopback, test-only) address.
  await allowEgress(f.app.deployment, 'st-mary', { host: '127.0.0.1', ports: [port], actor: 'operator', internalRanges: ['127.0.0.1/32'] }, { crypto: nodeVerifyCrypto });
  const before = f.app.deployment.ledger('st-mary').size;
  const ok = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, { brain: null, skill: 'web.fetch', args: { url: `http://127.0.0.1:${port}/results` } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const res = ok.body['result'] as { outcome: string; status: number; bytes: number };
  assert.equal(res.outcome, 'fetched');
  assert.equal(res.status, 200);
  assert.equal(res.bytes, 'lab result ok'.length);
  // another port of the same host is not allowlisted: refused by the gateway, recorded
  const no = await f.call('POST', '/v1/tenants/st-mary/actions', f.tokens.nurse, { brain: null, skill: 'web.fetch', args: { url: `http://127.0.0.1:${port + 1}/x` } });
  assert.equal(no.status, 403, JSON.stringify(no.body));
  assert.equal((no.body['error'] as { code: string }).code, 'ERR_EGRESS');
  // northbank has no allowlist at all
  await f.app.registry.grant('northbank', 'sios.assistant@1.0.0', ['records.read', 'web.fetch'], { actor: 'operator' });
  const nb = await f.call('POST', '/v1/tenants/northbank/actions', f.tokens.analyst, { brain: null, skill: 'web.fetch', args: { url: `http://127.0.0.1:${port}/results` } });
  assert.equal(nb.status, 403);
  // the ledger tells the story: intent, cell start, egress decision and outcome, cell end, outcome
  const store = f.app.deployment.ledgerStore('st-mary');
  try {
    const kinds = store.readEntries(before, f.app.deployment.ledger('st-mary').size).map((e) => e.kind);
    for (const k of ['intent', 'cell', 'egress', 'outcome']) assert.ok(kinds.includes(k), `ledger lacks a ${k} entry: ${kinds.join(',')}`);
  } finally { store.close(); }
});
