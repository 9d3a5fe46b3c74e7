/** decideInvoke: the governance decision for a skill call, with approvals from annotations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextAttributes, TenantPolicy, type InvokeRequest } from '../../src/policy/engine.ts';
import { loadPolicySet } from '../../src/policy/policyset.ts';
import { HOSPITAL, TRADING } from '../../src/policy/defaults.ts';
import { SiosError } from '../../src/errors.ts';

const hospital = TenantPolicy.load(HOSPITAL);
const trading = TenantPolicy.load(TRADING);
const TEN_UTC = Date.UTC(2026, 10, 23, 10, 0, 0);
const brain = { kind: 'Brain' as const, id: 'scribe', tenant: 'st-mary', role: 'clinical-assistant', clearance: 2 as const };
const req = (over: Partial<InvokeRequest> = {}): InvokeRequest => ({
  principal: brain, skill: { name: 'draft-prescription', risk: 'write', clearance: 2 }, at: TEN_UTC, rate: { count: 0, limit: 10 }, args: { dose_mg: 500 }, ...over,
});

test('a permit with @approvals and @human demands them', () => {
  const d = hospital.decideInvoke(req());
  assert.deepEqual(d, {
    policyVersion: 'ward-policy-1', decision: 'allow', policyIds: ['skill.prescribe'], approvals: { brains: 1, human: true },
    reasons: ['a draft prescription up to 1000 mg needs one approving brain and a clinician'],
  });
});

test('a permit without annotations demands nothing; a high-impact skill always needs a human', () => {
  const d = hospital.decideInvoke(req({ skill: { name: 'summarise-notes', risk: 'read', clearance: 1 }, args: {} }));
  assert.equal(d.decision, 'allow');
  assert.deepEqual(d.approvals, { brains: 0, human: false });
  const h = hospital.decideInvoke(req({ skill: { name: 'summarise-notes', risk: 'high-impact', clearance: 1 }, args: {} }));
  assert.equal(h.decision, 'allow');
  assert.deepEqual(h.approvals, { brains: 0, human: true });
  assert.ok(h.reasons.some((r) => /SIOS floor/.test(r)));
});

test('argument facts, rate state and time decide', () => {
  const big = hospital.decideInvoke(req({ args: { dose_mg: 5000 } }));
  assert.equal(big.decision, 'deny');
  assert.deepEqual(big.policyIds, []);
  assert.match(big.reasons[0]!, /no policy permits Brain "scribe" to invoke skill "draft-prescription" \(default deny\)/);
  assert.equal(hospital.decideInvoke(req({ args: {} })).decision, 'deny', 'missing dose fact: the guarded permit does not apply');
  const rate = hospital.decideInvoke(req({ rate: { count: 10, limit: 10 } }));
  assert.equal(rate.decision, 'deny');
  assert.deepEqual(rate.policyIds, ['skill.rate-cap']);
  assert.deepEqual(rate.reasons, ['the rate limit for this skill is reached']);
  assert.deepEqual(rate.approvals, { brains: 0, human: false });
  const night = hospital.decideInvoke(req({ skill: { name: 'summarise-notes', risk: 'high-impact', clearance: 1 }, at: Date.UTC(2026, 10, 23, 23, 30), args: {} }));
  assert.deepEqual(night.policyIds, ['skill.night-high-impact']);
});

test('trading: two approving brains and a human, in market hours only', () => {
  const tb = { kind: 'Brain' as const, id: 'exec-1', tenant: 'northbank', role: 'trading-brain', clearance: 2 as const };
  const base: InvokeRequest = { principal: tb, skill: { name: 'place-order', risk: 'high-impact', clearance: 2 }, at: Date.UTC(2026, 10, 23, 9), rate: { count: 0, limit: 5 }, args: { notional: 1_000_000 } };
  assert.deepEqual(trading.decideInvoke(base).approvals, { brains: 2, human: true });
  assert.equal(trading.decideInvoke({ ...base, at: Date.UTC(2026, 10, 23, 18) }).decision, 'deny');
  assert.equal(trading.decideInvoke({ ...base, args: { notional: 6_000_000 } }).decision, 'deny');
  assert.equal(trading.decideInvoke({ ...base, principal: { ...tb, clearance: 1 } }).decision, 'deny');
});

test('the strictest demand among satisfied permits applies', () => {
  const tp = TenantPolicy.load({
    ...HOSPITAL, version: 'two-permits',
    text: `@id("loose") permit(principal, action == Action::"invoke", resource == Skill::"s");
           @id("strict") @approvals("3") permit(principal in Role::"clinical-assistant", action == Action::"invoke", resource == Skill::"s");
           @id("humane") @human("required") @approvals("1") permit(principal, action == Action::"invoke", resource) when { resource.risk == "write" };`,
  });
  const d = tp.decideInvoke(req({ skill: { name: 's', risk: 'write', clearance: 0 } }));
  assert.deepEqual(d.policyIds, ['humane', 'loose', 'strict']);
  assert.deepEqual(d.approvals, { brains: 3, human: true });
  const other = tp.decideInvoke(req({ principal: { ...brain, role: 'other' }, skill: { name: 's', risk: 'read', clearance: 0 } }));
  assert.deepEqual(other.approvals, { brains: 0, human: false });
});

test('a forbid that errors denies (fail closed); an erroring permit grants nothing', () => {
  const tp = TenantPolicy.load({
    ...HOSPITAL, version: 'overflow',
    text: `@id("p") permit(principal, action == Action::"invoke", resource);
           @id("f") forbid(principal, action == Action::"invoke", resource) when { context.args has dose_mg && context.args.dose_mg * 1000000000000 > 5 };`,
  });
  assert.equal(tp.decideInvoke(req({ args: { dose_mg: 1 } })).decision, 'deny'); // forbid satisfied
  assert.equal(tp.decideInvoke(req({ args: { dose_mg: 0 } })).decision, 'allow');
  const d = tp.decideInvoke(req({ args: { dose_mg: 9_000_000_000 } })); // overflow inside the forbid
  assert.equal(d.decision, 'deny');
  assert.deepEqual(d.policyIds, ['f']);
  assert.match(d.reasons[0]!, /could not be evaluated.*overflow.*fail closed/);
  const onlyPermit = TenantPolicy.load({
    ...HOSPITAL, version: 'overflow-permit',
    text: '@id("p") permit(principal, action == Action::"invoke", resource) when { context.args has dose_mg && context.args.dose_mg * 1000000000000 > 5 };',
  });
  assert.equal(onlyPermit.decideInvoke(req({ args: { dose_mg: 1 } })).decision, 'allow');
  const e = onlyPermit.decideInvoke(req({ args: { dose_mg: 9_000_000_000 } }));
  assert.equal(e.decision, 'deny');
  assert.deepEqual(e.policyIds, []);
});

test('invoke requests are checked', () => {
  const isInput = (re: RegExp) => (e: unknown) => e instanceof SiosError && e.code === 'ERR_INPUT' && re.test(e.message);
  assert.throws(() => hospital.decideInvoke(req({ args: { dose: 1 } })), isInput(/undeclared attribute "dose"/));
  assert.throws(() => hospital.decideInvoke(req({ args: { dose_mg: '5' } })), isInput(/dose_mg.*Long/));
  assert.throws(() => hospital.decideInvoke(req({ skill: { name: 'x', risk: 'risky' as 'read', clearance: 0 } })), isInput(/risk must be one of/));
  assert.throws(() => hospital.decideInvoke(req({ at: -1 })), isInput(/epoch milliseconds/));
  assert.throws(() => hospital.decideInvoke({ ...req(), extra: 1 } as InvokeRequest), isInput(/unknown invoke request field "extra"/));
});

test('the context attributes a slice reads are found; a whole-context use is noticed', () => {
  const attrs = (text: string): readonly string[] | null => {
    const tp = TenantPolicy.load({ ...HOSPITAL, version: 'ctx', text });
    return contextAttributes(loadPolicySet(text, tp.schema).policies);
  };
  assert.deepEqual(attrs('@id("p") permit(principal, action == Action::"invoke", resource);'), []);
  assert.deepEqual(attrs('@id("p") permit(principal, action == Action::"invoke", resource) when { context.rate.count < context.rate.limit && context.hour > 3 };'), ['hour', 'rate']);
  assert.deepEqual(attrs('@id("p") permit(principal, action == Action::"invoke", resource) when { context has args && context.args has dose_mg };'), ['args']);
  assert.equal(attrs('@id("p") permit(principal, action == Action::"invoke", resource) when { context == context };'), null);
  assert.equal(attrs('@id("p") permit(principal, action == Action::"invoke", resource) when { [context].contains(context) };'), null);
});

test('remembered invoke decisions equal Cedar\'s answer for every request (time, rate, args, principal)', () => {
  const cached = TenantPolicy.load(HOSPITAL);
  const requests: InvokeRequest[] = [];
  for (const at of [TEN_UTC, Date.UTC(2026, 10, 23, 23, 30), Date.UTC(2026, 10, 24, 6, 59), Date.UTC(2026, 10, 24, 7, 0)]) {
    for (const count of [0, 9, 10, 11]) {
      for (const args of [{ dose_mg: 500 }, { dose_mg: 5000 }, {}]) {
        for (const principal of [brain, { ...brain, clearance: 1 as const }, { ...brain, role: 'other' }]) {
          for (const skill of [{ name: 'draft-prescription', risk: 'write' as const, clearance: 2 as const }, { name: 'summarise-notes', risk: 'high-impact' as const, clearance: 1 as const }]) {
            requests.push({ principal, skill, at, rate: { count, limit: 10 }, args });
          }
        }
      }
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const r of requests) {
      // A fresh TenantPolicy has an empty cache: its answer is Cedar's.
      const fresh = TenantPolicy.load({ ...HOSPITAL, version: HOSPITAL.version });
      assert.deepEqual(cached.decideInvoke(r), fresh.decideInvoke(r), JSON.stringify(r));
    }
  }
  assert.ok(cached.invokeCacheHits >= requests.length, `second round answered from the cache (${cached.invokeCacheHits} hits)`);
  // Only what a policy reads is in the key: a skill whose slice reads no rate shares its decision
  // across rate counts, so the counter changing on every call does not defeat the cache.
  const open = TenantPolicy.load({ ...HOSPITAL, version: 'open', text: '@id("p") permit(principal, action == Action::"invoke", resource);' });
  for (let count = 0; count < 50; count++) open.decideInvoke(req({ rate: { count, limit: 100 } }));
  assert.equal(open.invokeCacheHits, 49);
});

test('a remembered decision cannot be altered by its receiver', () => {
  const tp = TenantPolicy.load(HOSPITAL);
  const d = tp.decideInvoke(req());
  assert.throws(() => { (d.policyIds as string[]).push('forged'); });
  assert.throws(() => { (d.approvals as { human: boolean }).human = false; });
  assert.deepEqual(tp.decideInvoke(req()).approvals, { brains: 1, human: true });
});
