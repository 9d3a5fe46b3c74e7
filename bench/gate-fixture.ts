/**
 * The gate benchmarks' deployment: two tenants (a hospital and a trading desk) with their example
 * policies, the assistant brain granted `records.read`, rate limits out of the way, 100 rows each, a
 * nurse and an analyst with a token each, and the one-record read each of them submits. Shared by
 * bench/gate.ts and bench/ab-gate.ts; the latter passes the modules of another source tree, so the
 * fixture takes them as arguments instead of importing them.
 */
import type { initDeployment } from '../src/deployment/deployment.ts';
import type { passphraseProtector } from '../src/crypto/passphrase.ts';
import type { App, PolicySpec } from '../src/app/app.ts';

export interface GateModules {
  initDeployment: typeof initDeployment;
  passphraseProtector: typeof passphraseProtector;
  App: typeof App;
  HOSPITAL_POLICY: PolicySpec;
  TRADING_POLICY: PolicySpec;
}

export async function gateFixture(m: GateModules, dir: string, ledgerWriter?: 'inline' | 'thread') {
  const p = m.passphraseProtector('correct horse battery staple');
  await m.initDeployment(dir, [p], { id: 'bench' });
  const app = await m.App.open(dir, p, ledgerWriter ? { ledgerWriter } : {});
  await app.installBuiltins();
  for (const [t, pol] of [['st-mary', m.HOSPITAL_POLICY], ['northbank', m.TRADING_POLICY]] as const) {
    await app.deployment.createTenant(t, 'operator');
    await app.setPolicy(t, pol, 'operator');
    await app.registry.grant(t, 'sios.assistant@1.0.0', ['records.read'], { actor: 'operator' });
    app.limiter.setLimits(t, { perCredential: { capacity: 1e9, refillPerSecond: 1e9 }, perSkill: { capacity: 1e9, refillPerSecond: 1e9 }, perTenant: { capacity: 1e9, refillPerSecond: 1e9 } });
  }
  // 100 rows each: the nurse's ward and the analyst's desk.
  const store = app.deployment.store('st-mary');
  for (let i = 0; i < 100; i++) store.put('patients', { id: `P-${1000 + i}`, name: `Patient ${i}`, ward: 'w3', medication: 'paracetamol', diagnosis: 'observation', billing_code: 'Z03', amount_due: '0', insurance_id: `INS-${i}`, level: 1 });
  const nbs = app.deployment.store('northbank');
  for (let i = 0; i < 100; i++) nbs.put('trades', { id: `T-${i}`, desk: 'rates', instrument: 'UST', side: 'buy', quantity: i, price: 99, notional: 1000 * i, trader: 'kim', counterparty: 'Bank A', level: 1 });
  const nurse = app.principals.create({ tenant: 'st-mary', name: 'nurse', role: 'member', clearance: 2, attributes: { roles: 'nurse', ward: 'w3' } });
  const analyst = app.principals.create({ tenant: 'northbank', name: 'ana', role: 'member', clearance: 2, attributes: { roles: 'analyst', desk: 'rates' } });
  const tokN = app.tokens.issue({ principalId: nurse.id, scope: ['skills.invoke.*'] }).token;
  const tokA = app.tokens.issue({ principalId: analyst.id, scope: ['skills.invoke.*'] }).token;
  // The gate's own overhead is measured on a one-record read.
  const reqN = { credential: tokN, tenant: 'st-mary', brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'patients', ids: ['P-1001'] } };
  const reqA = { credential: tokA, tenant: 'northbank', brain: 'sios.assistant@1.0.0', skill: 'records.read', args: { collection: 'trades', ids: ['T-1'] } };
  return { app, nurse, tokN, tokA, reqN, reqA };
}
