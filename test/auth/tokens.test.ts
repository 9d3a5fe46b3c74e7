import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SiosError } from '../../src/errors.ts';
import { PrincipalStore } from '../../src/auth/principals.ts';
import { DatabaseSync } from 'node:sqlite';
import { ApiTokens, scopeAllows, VERIFIED_TTL_MS } from '../../src/auth/tokens.ts';
import { hashSecret, parseSecret } from '../../src/auth/secrets.ts';
import { tempAuthDb } from './store.ts';
import { TestClock } from './clock.ts';

const store = tempAuthDb();
after(() => store.close());
const clock = new TestClock();
const principals = new PrincipalStore(store.db, { clock: clock.fn });
const tokens = new ApiTokens(store.db, principals, { clock: clock.fn });
const bot = principals.create({ tenant: 'bank-a', name: 'reconciler', role: 'member', clearance: 2 });

function fails(fn: () => unknown, code: string, reason?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SiosError && e.code === code && (reason === undefined || e.details['reason'] === reason));
}

test('a token is shown once, stored only as a hash, and verifies for its scope and tenant', () => {
  const { token, record } = tokens.issue({ principalId: bot.id, scope: ['ledger.read', 'skills.invoke.*'], label: 'nightly' });
  assert.match(token, /^sios_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const row = store.db.prepare('SELECT * FROM auth_token WHERE id = ?').get(record.id) as Record<string, unknown>;
  const { id, secret } = parseSecret('api-token', token);
  assert.deepEqual(new Uint8Array(row['hash'] as Uint8Array), hashSecret('api-token', id, secret));
  assert.ok(!JSON.stringify(Object.values(row).map(String)).includes(token.slice(-43)), 'the secret is not stored');
  const ok = tokens.verify(token, { operation: 'skills.invoke.triage', tenant: 'bank-a' });
  assert.equal(ok.principal.id, bot.id);
  assert.equal(ok.token.lastUsedAt, clock.now);
  fails(() => tokens.verify(token, { operation: 'ledger.write', tenant: 'bank-a' }), 'ERR_FORBIDDEN', 'out-of-scope');
  fails(() => tokens.verify(token, { operation: 'skills.invoke', tenant: 'bank-a' }), 'ERR_FORBIDDEN', 'out-of-scope');
  fails(() => tokens.verify(token, { operation: 'ledger.read', tenant: 'bank-b' }), 'ERR_FORBIDDEN', 'wrong-tenant');
});

test('wrong, truncated or altered secrets are refused alike', () => {
  const { token } = tokens.issue({ principalId: bot.id, scope: ['ledger.read'] });
  // Alter one character in the middle of the secret (the last one carries padding bits).
  const altered = token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9);
  for (const bad of [altered, token.slice(0, -1), token + 'A', 'sios_0000000000000000_' + token.slice(-43), '', 'Bearer ' + token]) {
    fails(() => tokens.verify(bad, { operation: 'ledger.read', tenant: 'bank-a' }), 'ERR_AUTH');
  }
});

test('revocation, expiry and disabling the principal stop a token', () => {
  const a = tokens.issue({ principalId: bot.id, scope: ['ledger.read'] });
  tokens.revoke(a.record.id);
  fails(() => tokens.verify(a.token, { operation: 'ledger.read', tenant: 'bank-a' }), 'ERR_REVOKED', 'token-revoked');
  fails(() => tokens.revoke(a.record.id), 'ERR_NOT_FOUND');

  const b = tokens.issue({ principalId: bot.id, scope: ['ledger.read'], expiresAt: clock.now + 60_000 });
  tokens.verify(b.token, { operation: 'ledger.read', tenant: 'bank-a' });
  clock.advance(60);
  fails(() => tokens.verify(b.token, { operation: 'ledger.read', tenant: 'bank-a' }), 'ERR_AUTH', 'token-expired');

  const c = tokens.issue({ principalId: bot.id, scope: ['ledger.read'] });
  principals.disable(bot.id);
  fails(() => tokens.verify(c.token, { operation: 'ledger.read', tenant: 'bank-a' }), 'ERR_REVOKED');
  principals.update(bot.id, { disabled: false });
  tokens.verify(c.token, { operation: 'ledger.read', tenant: 'bank-a' });
});

test('issuing validates scope, expiry and unknown fields', () => {
  fails(() => tokens.issue({ principalId: bot.id, scope: [] }), 'ERR_INPUT');
  fails(() => tokens.issue({ principalId: bot.id, scope: ['*'] }), 'ERR_INPUT');
  fails(() => tokens.issue({ principalId: bot.id, scope: ['Ledger Read'] }), 'ERR_INPUT');
  fails(() => tokens.issue({ principalId: bot.id, scope: ['ledger.read'], expiresAt: clock.now - 1 }), 'ERR_INPUT');
  fails(() => tokens.issue({ principalId: bot.id, scope: ['ledger.read'], admin: true } as never), 'ERR_INPUT');
  assert.equal(scopeAllows(['a.b.*'], 'a.bc'), false);
  assert.equal(scopeAllows(['a.b.*'], 'a.b.c'), true);
  assert.ok(tokens.list('bank-a').length >= 4);
  assert.equal(tokens.list('bank-b').length, 0);
});

test('a remembered verification never outlives a revocation, a principal change or its TTL', () => {
  const op = { operation: 'ledger.read', tenant: 'bank-a' };
  const who = principals.create({ tenant: 'bank-a', name: 'remembered', role: 'member', clearance: 1 });
  // Revoked through this process: refused on the very next call.
  const a = tokens.issue({ principalId: who.id, scope: ['ledger.read'] });
  tokens.verify(a.token, op);
  tokens.revoke(a.record.id);
  fails(() => tokens.verify(a.token, op), 'ERR_REVOKED', 'token-revoked');
  // Revoked by another process (another connection to the same database, as a CLI command would).
  const b = tokens.issue({ principalId: who.id, scope: ['ledger.read'] });
  tokens.verify(b.token, op);
  const other = new DatabaseSync(store.db.location()!);
  try {
    other.prepare('UPDATE auth_token SET revoked_at = ? WHERE id = ?').run(clock.now, b.record.id);
    fails(() => tokens.verify(b.token, op), 'ERR_REVOKED', 'token-revoked');
    // A principal changed by another process: its new facts are read at once.
    const c = tokens.issue({ principalId: who.id, scope: ['ledger.read'] });
    assert.equal(tokens.verify(c.token, op).principal.clearance, 1);
    other.prepare('UPDATE auth_principal SET clearance = 3 WHERE id = ?').run(who.id);
    assert.equal(tokens.verify(c.token, op).principal.clearance, 3);
    // Changed through this process.
    principals.update(who.id, { clearance: 2 });
    assert.equal(tokens.verify(c.token, op).principal.clearance, 2);
  } finally { other.close(); }
  // The same secret is still checked: a wrong one is refused even while the right one is remembered.
  const d = tokens.issue({ principalId: who.id, scope: ['ledger.read'] });
  tokens.verify(d.token, op);
  const wrong = d.token.slice(0, -10) + (d.token.at(-10) === 'A' ? 'B' : 'A') + d.token.slice(-9);
  fails(() => tokens.verify(wrong, op), 'ERR_AUTH');
  // A change written behind every cache's back (same connection, not through the stores) is seen
  // once the remembered verification expires.
  store.db.prepare('UPDATE auth_token SET revoked_at = ? WHERE id = ?').run(clock.now, d.record.id);
  clock.now += VERIFIED_TTL_MS;
  fails(() => tokens.verify(d.token, op), 'ERR_REVOKED', 'token-revoked');
});
