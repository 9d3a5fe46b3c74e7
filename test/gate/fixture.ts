/** A real SIOS (deployment, identities, registry, policies, gate, HTTP server on loopback) for tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initDeployment } from '../../src/deployment/deployment.ts';
import { passphraseProtector } from '../../src/crypto/passphrase.ts';
import { App, type AppOptions } from '../../src/app/app.ts';
import { HOSPITAL_POLICY, HOSPITAL_ROWS, TRADING_POLICY, TRADING_ROWS } from '../../src/app/example-tenants.ts';
import { serve, type RunningServer } from '../../src/api/node-adapter.ts';

export const PASS = 'correct horse battery staple';

export interface Fixture {
  dir: string;
  app: App;
  server: RunningServer;
  tokens: Record<'nurse' | 'doctor' | 'analyst' | 'risk' | 'auditor', string>;
  ids: Record<'nurse' | 'doctor' | 'analyst' | 'risk' | 'auditor', string>;
  call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function prepare(dir: string): Promise<void> {
  const p = passphraseProtector(PASS);
  await initDeployment(dir, [p], { id: 'test' });
  const app = await App.open(dir, p);
  await app.installBuiltins();
  for (const [t, pol, rows] of [['st-mary', HOSPITAL_POLICY, HOSPITAL_ROWS], ['northbank', TRADING_POLICY, TRADING_ROWS]] as const) {
    await app.deployment.createTenant(t, 'operator');
    await app.setPolicy(t, pol, 'operator');
    for (const r of rows) app.deployment.store(t).put(pol.collections[0]!.name, r);
    for (const b of ['sios.assistant@1.0.0', 'sios.reviewer@1.0.0']) await app.registry.grant(t, b, ['records.read', 'records.write', 'documents.generate', 'records.export'], { actor: 'operator' });
  }
  await app.close();
}

export async function fixture(t: { after(fn: () => Promise<void> | void): void }, o: AppOptions = {}): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-gate-'));
  await prepare(dir);
  const app = await App.open(dir, passphraseProtector(PASS), { rpID: 'localhost', origins: ['http://localhost'], ...o });
  const P = app.principals;
  const people = {
    nurse: P.create({ tenant: 'st-mary', name: 'nurse-joy', role: 'member', clearance: 2, attributes: { roles: 'nurse', ward: 'w3' } }),
    doctor: P.create({ tenant: 'st-mary', name: 'dr-grey', role: 'member', clearance: 3, attributes: { roles: 'doctor' } }),
    analyst: P.create({ tenant: 'northbank', name: 'ana', role: 'member', clearance: 3, attributes: { roles: 'analyst', desk: 'rates' } }),
    risk: P.create({ tenant: 'northbank', name: 'rita', role: 'tenant-admin', clearance: 3, attributes: { roles: 'risk-officer' } }),
    auditor: P.create({ tenant: 'st-mary', name: 'audrey', role: 'auditor', clearance: 1, attributes: {} }),
  };
  const scope = ['skills.invoke.*', 'approvals.decide', 'ledger.read', 'ledger.export'];
  const tokens = Object.fromEntries(Object.entries(people).map(([k, p]) => [k, app.tokens.issue({ principalId: p.id, scope: k === 'auditor' ? ['ledger.read', 'ledger.export'] : scope }).token])) as Fixture['tokens'];
  const ids = Object.fromEntries(Object.entries(people).map(([k, p]) => [k, p.id])) as Fixture['ids'];
  const server = await serve(app.api(), { host: '127.0.0.1' });
  const f: Fixture = {
    dir, app, server, tokens, ids,
    async call(method, url, token, body) {
      const r = await fetch(server.url + url, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await r.text();
      let b: Record<string, unknown>;
      try { b = JSON.parse(text) as Record<string, unknown>; } catch { b = { raw: text }; }
      return { status: r.status, body: b };
    },
    async close() { await server.close(); await app.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
  t.after(() => f.close());
  return f;
}

/** The last entry of a tenant's ledger, parsed. */
export function lastEntry(f: Fixture, tenant: string): { seq: number; kind: string; body: Record<string, unknown> } {
  const l = f.app.deployment.ledger(tenant);
  const store = f.app.deployment.ledgerStore(tenant);
  try {
    const [e] = store.readEntries(l.size - 1, l.size);
    return JSON.parse(new TextDecoder().decode(e!.bytes)) as { seq: number; kind: string; body: Record<string, unknown> };
  } finally { store.close(); }
}
