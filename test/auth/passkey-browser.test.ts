/**
 * End to end in Debian's headless Chromium with a CDP virtual authenticator (CTAP2, internal,
 * user verification): registration, login, stale session and step-up with the injected clock,
 * tenant switch, single-use challenges, counter regression (a cloned authenticator), and
 * human approval of an exact digest re-verified offline from stored bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SiosError, VerifyError } from '../../src/errors.ts';
import { SYSTEM_TENANT } from '../../src/auth/principals.ts';
import { evidenceFromJson, evidenceToJson, verifyStoredAssertion } from '../../src/auth/evidence.ts';
import { ceremony, getAssertion, post, register, startFixture, type Fixture } from './fixture.ts';

let f: Fixture;
before(async () => { f = await startFixture(); });
after(async () => { await f?.close(); });

function sha256(s: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(s).digest());
}

function rejectsWith(fn: () => unknown, code: string, reason?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SiosError, `expected SiosError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (reason !== undefined) assert.equal(e.details['reason'], reason);
    return true;
  });
}

async function enrolAndLogin(name: string, tenant: string, role: 'member' | 'operator' | 'tenant-admin', clearance: number) {
  const p = f.principals.create({ tenant, name, role, clearance });
  const tab = await f.newTab();
  const { code } = f.passkeys.createEnrolment(p.id);
  const reg = await register(tab.page, code);
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const login = await ceremony(tab.page, 'login');
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return { p, tab, token: login.body.token as string, login };
}

describe('passkeys in headless Chromium', () => {
  test('registration, login, stale session, step-up, logout', async () => {
    const { p, tab, token, login } = await enrolAndLogin('dr-ada', 'ward-a', 'member', 2);
    assert.equal(login.body.session.principal.id, p.id);
    assert.equal(login.body.session.tenant, 'ward-a');
    assert.deepEqual(login.body.session.fresh, [true, true, true, true, true]);
    assert.match(token, /^siosS_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const creds = f.passkeys.credentials(p.id);
    assert.equal(creds.length, 1);
    assert.ok(creds[0]!.counter >= 1, 'Chromium\'s virtual authenticator counts signatures');

    let s = f.sessions.authenticate(token);
    s = f.sessions.requireFresh(s, 2);
    // Clearance 2 idles out after 15 min by default; 1 after 30 min; 0 after 8 h.
    f.clock.advance(16 * 60);
    rejectsWith(() => f.sessions.requireFresh(s, 2), 'ERR_AUTH', 'step-up-required');
    s = f.sessions.requireFresh(s, 1); // still fresh at 1 (and this use does not warm level 2)
    rejectsWith(() => f.sessions.requireFresh(s, 2), 'ERR_AUTH', 'step-up-required');
    rejectsWith(() => f.sessions.requireFresh(s, 3), 'ERR_FORBIDDEN', 'clearance');
    assert.equal((await post(tab.page, '/auth/session', {}, token)).status, 405);
    const got = await tab.page.evaluate(async (t) => (await fetch('/auth/session', { headers: { authorization: 'Bearer ' + t } })).json(), token);
    assert.deepEqual(got.session.fresh, [true, true, false, false, false]);

    const up = await ceremony(tab.page, 'step-up', {}, token);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual(up.body.session.fresh, [true, true, true, true, true]);
    s = f.sessions.requireFresh(f.sessions.authenticate(token), 2);
    assert.equal(s.verifiedAt, f.clock.now);

    // Absolute lifetime: activity keeps idle away, but 4 h after the last verification level 2 is stale.
    for (let i = 0; i < 24; i++) { f.clock.advance(10 * 60); s = f.sessions.requireFresh(s, 2); } // 240 min: still fresh
    f.clock.advance(60);
    rejectsWith(() => f.sessions.requireFresh(s, 2), 'ERR_AUTH', 'step-up-required');
    s = f.sessions.requireFresh(s, 1); // level 1 lives 8 h

    const out = await post(tab.page, '/auth/logout', {}, token);
    assert.equal(out.status, 200);
    const again = await post(tab.page, '/auth/step-up/options', {}, token);
    assert.equal(again.status, 401);
    assert.equal(again.body.error.reason, 'session-revoked');
    await tab.page.close();
  });

  test('a session past its level-0 lifetime is over; step-up cannot revive it', async () => {
    const { tab, token } = await enrolAndLogin('nurse-bo', 'ward-a', 'member', 1);
    f.clock.advance(8 * 3600 + 1);
    const r = await post(tab.page, '/auth/step-up/options', {}, token);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.reason, 'session-expired');
    await tab.page.close();
  });

  test('policies are per tenant and per clearance', async () => {
    f.sessions.setPolicy('ward-c', [
      { idleSeconds: 3600, absoluteSeconds: 7200 },
      { idleSeconds: 600, absoluteSeconds: 3600 },
      { idleSeconds: 60, absoluteSeconds: 600 },
      { idleSeconds: 60, absoluteSeconds: 600 },
      { idleSeconds: 30, absoluteSeconds: 120 },
    ]);
    assert.throws(() => f.sessions.setPolicy('ward-c', [
      { idleSeconds: 60, absoluteSeconds: 600 }, { idleSeconds: 600, absoluteSeconds: 600 },
      { idleSeconds: 60, absoluteSeconds: 600 }, { idleSeconds: 60, absoluteSeconds: 600 }, { idleSeconds: 30, absoluteSeconds: 120 },
    ]), (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT' && /stricter/.test(e.message));
    const c = await enrolAndLogin('dr-hal', 'ward-c', 'member', 4);
    const a = await enrolAndLogin('dr-ivy', 'ward-a', 'member', 4);
    let sc = f.sessions.authenticate(c.token);
    let sa = f.sessions.authenticate(a.token);
    f.clock.advance(31);
    assert.equal(f.sessions.state(sc, 4), 'stale'); // ward-c: 30 s at level 4
    assert.equal(f.sessions.state(sc, 3), 'fresh');
    assert.equal(f.sessions.state(sa, 4), 'fresh'); // ward-a uses the defaults: 2 min at level 4
    sc = f.sessions.requireFresh(sc, 3);
    sa = f.sessions.requireFresh(sa, 4);
    f.clock.advance(50);
    assert.equal(f.sessions.state(sc, 3), 'fresh');
    f.clock.advance(11);
    assert.equal(f.sessions.state(sc, 3), 'stale');
    assert.equal(f.sessions.state(sc, 1), 'fresh');
    // Level-0 activity was at t = 31 s; its idle limit is 3600 s (inclusive).
    f.clock.advance(3600 - 61);
    assert.equal(f.sessions.state(sc, 0), 'fresh');
    assert.equal(f.sessions.state(sc, 1), 'stale');
    f.clock.advance(1);
    assert.equal(f.sessions.state(sc, 0), 'expired');
    rejectsWith(() => f.sessions.authenticate(c.token), 'ERR_AUTH', 'session-expired');
    assert.equal(f.sessions.state(sa, 0), 'fresh');
    assert.equal(f.sessions.state(sa, 1), 'stale');
    await c.tab.page.close();
    await a.tab.page.close();
  });

  test('a challenge cannot be reused, and a response for one purpose is refused for another', async () => {
    const { tab, login, token } = await enrolAndLogin('clerk-cy', 'ward-a', 'member', 1);
    const replay = await post(tab.page, '/auth/login/verify', { response: login.response });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.reason, 'challenge-unknown');

    // A login response presented as step-up: the challenge is burned and the purpose refused.
    const o = await post(tab.page, '/auth/login/options', {});
    const response = await getAssertion(tab.page, o.body.options);
    const wrong = await post(tab.page, '/auth/step-up/verify', { response }, token);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.reason, 'wrong-purpose');
    const late = await post(tab.page, '/auth/login/verify', { response });
    assert.equal(late.body.error.reason, 'challenge-unknown');

    // Expiry: the server clock passes the challenge lifetime before the answer arrives.
    const o2 = await post(tab.page, '/auth/login/options', {});
    const r2 = await getAssertion(tab.page, o2.body.options);
    f.clock.advance(121);
    const expired = await post(tab.page, '/auth/login/verify', { response: r2 });
    assert.equal(expired.body.error.reason, 'challenge-expired');
    await tab.page.close();
  });

  test('switching tenant always demands a fresh assertion and rotates the token', async () => {
    const op = await enrolAndLogin('op-dee', SYSTEM_TENANT, 'operator', 2);
    assert.equal(op.login.body.session.tenant, SYSTEM_TENANT);
    // A step-up assertion cannot be used to switch tenants.
    const so = await post(op.tab.page, '/auth/step-up/options', {}, op.token);
    const stepResp = await getAssertion(op.tab.page, so.body.options);
    const a = await f.passkeys.verifyAuthentication(stepResp, 'step-up');
    rejectsWith(() => f.sessions.switchTenant(f.sessions.authenticate(op.token), a), 'ERR_AUTH', 'wrong-purpose');

    const sw = await ceremony(op.tab.page, 'tenant', { tenant: 'ward-a' }, op.token);
    assert.equal(sw.status, 200, JSON.stringify(sw.body));
    assert.equal(sw.body.session.tenant, 'ward-a');
    assert.notEqual(sw.body.token, op.token);
    const old = await post(op.tab.page, '/auth/step-up/options', {}, op.token);
    assert.equal(old.body.error.reason, 'session-revoked');
    // The switch assertion is single use: replaying it with the new session fails.
    const replay = await post(op.tab.page, '/auth/tenant/verify', { response: sw.response }, sw.body.token);
    assert.equal(replay.body.error.reason, 'challenge-unknown');

    // A member cannot carry its session into another tenant with its own passkey.
    const m = await enrolAndLogin('dr-eve', 'ward-a', 'member', 1);
    const denied = await ceremony(m.tab.page, 'tenant', { tenant: 'ward-b' }, m.token);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.reason, 'not-a-member');
    await op.tab.page.close();
    await m.tab.page.close();
  });

  test('the server demands user verification even when the page asks for less', async () => {
    const { tab, token } = await enrolAndLogin('dr-jon', 'ward-a', 'member', 2);
    const { cdp, authenticatorId } = tab.authenticator;
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    const o = await post(tab.page, '/auth/step-up/options', {}, token);
    assert.equal(o.body.options.userVerification, 'required');
    // A tampered page downgrades the request; the authenticator then signs with UV = 0.
    const response = await getAssertion(tab.page, { ...o.body.options, userVerification: 'discouraged' });
    const flags = Buffer.from(response.response.authenticatorData, 'base64url')[32]!;
    assert.equal(flags & 0x04, 0, 'the browser produced an assertion without user verification');
    const r = await post(tab.page, '/auth/step-up/verify', { response }, token);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.reason, 'assertion-invalid');
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });

    // A second passkey can be added from a fresh session (here on another device: a new tab).
    const other = await f.newTab();
    const reg = await register(other.page, null, token);
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const login = await ceremony(other.page, 'login');
    assert.equal(login.body.session.principal.name, 'dr-jon');
    // ... but not from a stale one.
    f.clock.advance(16 * 60);
    const third = await f.newTab();
    const stale = await register(third.page, null, token);
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error.reason, 'step-up-required');
    await Promise.all([tab.page.close(), other.page.close(), third.page.close()]);
  });

  test('a cloned authenticator (signature counter going backwards) is refused', async () => {
    const { p, tab } = await enrolAndLogin('dr-fay', 'ward-a', 'member', 1);
    const { cdp, authenticatorId } = tab.authenticator;
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    const c = credentials[0]!;
    // Export the private key and re-import it with the counter reset: what a clone would present.
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...c, signCount: 0 } });
    const before = f.passkeys.credentials(p.id)[0]!.counter;
    const r = await ceremony(tab.page, 'login');
    assert.equal(r.status, 401);
    assert.equal(r.body.error.reason, 'counter-regression');
    assert.equal(f.passkeys.credentials(p.id)[0]!.counter, before);
    // Once the counter moves past the stored value, the genuine authenticator signs in again.
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: c.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...c, signCount: before + 10 } });
    const ok = await ceremony(tab.page, 'login');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await tab.page.close();
  });

  test('approval of an exact digest: verified online, re-verified offline from stored bytes only', async () => {
    const { p, tab } = await enrolAndLogin('dr-gus', 'ward-a', 'member', 3);
    const digest = sha256('intent: transfer patient 17 to ward b');
    const other = sha256('intent: delete patient 17');
    const options = await f.passkeys.assertionForDigest(digest, { principalId: p.id });
    const response = await getAssertion(tab.page, options);
    // The same response cannot approve another action.
    await assert.rejects(f.passkeys.verifyDigestAssertion(other, response), (e: unknown) => e instanceof SiosError && e.details['reason'] === 'wrong-digest');
    const a = await f.passkeys.verifyDigestAssertion(digest, response);
    assert.equal(a.principal.id, p.id);
    assert.equal(a.purpose, 'approve');
    await assert.rejects(f.passkeys.verifyDigestAssertion(digest, response), (e: unknown) => e instanceof SiosError && e.details['reason'] === 'challenge-unknown');

    // What the ledger stores: JSON with base64url bytes. Re-verify with nothing but those bytes.
    const stored = JSON.stringify(evidenceToJson(a.evidence));
    const expect = { digest, rpID: 'localhost', origins: [f.origin] };
    const ev = evidenceFromJson(JSON.parse(stored));
    const res = await verifyStoredAssertion(ev, { ...expect, publicKey: f.passkeys.credentials(p.id)[0]!.publicKey });
    assert.equal(res.credentialId, a.credentialId);
    assert.equal(res.userVerified, true);

    const fail = async (e: typeof ev, x: typeof expect, reason: string) =>
      assert.rejects(verifyStoredAssertion(e, x), (err: unknown) => err instanceof VerifyError && err.reason === reason);
    await fail(ev, { ...expect, digest: other }, 'bad-evidence');
    await fail(ev, { ...expect, rpID: 'example.org' }, 'bad-evidence');
    await fail(ev, { ...expect, origins: ['http://localhost:1'] }, 'bad-evidence');
    const sig = ev.signature.slice(); sig[sig.length - 5]! ^= 1;
    await fail({ ...ev, signature: sig }, expect, 'bad-signature');
    const ad = ev.authenticatorData.slice(); ad[32]! &= ~0x04; // clear the UV flag (WebAuthn §6.1 flags bit 2)
    await fail({ ...ev, authenticatorData: ad }, expect, 'bad-evidence');
    const ad2 = ev.authenticatorData.slice(); ad2[36]! ^= 1; // counter byte: breaks the signature
    await fail({ ...ev, authenticatorData: ad2 }, expect, 'bad-signature');
    await assert.rejects(verifyStoredAssertion(ev, { ...expect, publicKey: new Uint8Array(77) }), (e: unknown) => e instanceof VerifyError && e.reason === 'unknown-key');
    assert.throws(() => evidenceFromJson({ ...JSON.parse(stored), extra: 1 }), (e: unknown) => e instanceof VerifyError && e.reason === 'malformed');
    await tab.page.close();
  });
});
