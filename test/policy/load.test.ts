/** Loading tenant policy text: invalid policies are rejected with a message naming the policy and the problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TenantPolicy } from '../../src/policy/engine.ts';
import { HOSPITAL } from '../../src/policy/defaults.ts';
import { SiosError } from '../../src/errors.ts';

function rejects(text: string, re: RegExp, opts: Partial<Parameters<typeof TenantPolicy.load>[0]> = {}): SiosError {
  let caught: unknown;
  try {
    TenantPolicy.load({ ...HOSPITAL, version: 'bad', text, ...opts });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SiosError, `expected a SiosError for: ${text}`);
  assert.equal(caught.code === 'ERR_INPUT' || caught.code === 'ERR_TOO_LARGE', true, caught.message);
  assert.match(caught.message, re);
  return caught;
}

const ok = '@id("ok") permit(principal in Role::"doctor", action == Action::"read", resource in Collection::"patients");\n';

test('the example sets load and report their policies', () => {
  const tp = TenantPolicy.load(HOSPITAL);
  assert.equal(tp.policyCount, 15);
  assert.ok(tp.policyIds().includes('nurse.read.own-ward'));
  assert.ok(!tp.policyIds().some((id) => id.startsWith('sios.')));
  assert.match(tp.schema, /entity Record in \[Collection\] \{ collection: String, clearance: Long, ward\?: String \}/);
});

test('a syntax error is reported with its line and column', () => {
  rejects(ok + '@id("x") permit(principal, action, resource) when { resource.ward = "w1" };', /does not parse: '=' is not a valid operator.*line 2, column \d+.*try using '=='/);
});

test('a type error names the policy id and the problem', () => {
  const e = rejects(ok + '@id("nurse.typo") permit(principal, action == Action::"read", resource) when { resource.wrad == "w1" };', /policy "nurse\.typo":.*wrad/);
  assert.deepEqual(e.details['policyIds'], ['nurse.typo']);
  // Optional attribute used without `has`.
  rejects('@id("unguarded") permit(principal, action == Action::"read", resource) when { resource.ward == "w1" };', /policy "unguarded":.*optional attribute `ward`/);
  // Action applied to the wrong resource type.
  rejects('@id("wrong-type") permit(principal, action == Action::"invoke", resource) when { resource.category == "x" };', /policy "wrong-type"/);
  // Unknown entity type.
  rejects('@id("ghost") permit(principal in Group::"g", action, resource);', /policy "ghost":.*Group/);
});

test('ids: required, unique, well-formed, not in the reserved sios. namespace', () => {
  rejects('permit(principal, action, resource);', /policy #1 .*has no @id annotation/);
  rejects(ok + ok, /policy id "ok" is used twice \(policies #1 and #2\)/);
  rejects('@id("sios.clearance.record") permit(principal, action, resource);', /reserved for SIOS baseline/);
  rejects('@id("has space") permit(principal, action, resource);', /ids are 1-128 characters/);
});

test('annotations: unknown keys and bad values are refused (a typo must not drop an approval)', () => {
  rejects('@id("a") @aprovals("2") permit(principal, action == Action::"invoke", resource);', /policy "a": unknown annotation @aprovals/);
  rejects('@id("a") @approvals("two") permit(principal, action == Action::"invoke", resource);', /@approvals\("two"\) must be a whole number/);
  rejects('@id("a") @approvals("17") permit(principal, action == Action::"invoke", resource);', /from 0 to 16/);
  rejects('@id("a") @human("yes") permit(principal, action == Action::"invoke", resource);', /must be "required" or "none"/);
  rejects('@id("a") @human("required") forbid(principal, action == Action::"invoke", resource);', /no meaning on a forbid policy/);
  rejects('@id("a") @approvals("1") permit(principal, action == Action::"read", resource);', /apply to skill invocation only/);
});

test('templates, bad declarations and unknown options are refused', () => {
  rejects('@id("t") permit(principal == ?principal, action, resource);', /template/);
  rejects(ok, /type "Float" of principal attribute "ward"/, { declarations: { principal: { ward: 'Float' } } });
  rejects(ok, /built in/, { declarations: { record: { clearance: 'Long' } } });
  rejects(ok, /unknown key "rows"/, { declarations: { rows: {} } as never });
  assert.throws(() => TenantPolicy.load({ ...HOSPITAL, strict: false } as never), /unknown TenantPolicy option "strict"/);
  assert.throws(() => TenantPolicy.load({ ...HOSPITAL, collections: [{ ...HOSPITAL.collections[0]!, name: 'a/b' }] }), /collection name must be/);
});

test('an empty policy set loads and denies everything (default deny)', () => {
  const tp = TenantPolicy.load({ ...HOSPITAL, version: 'empty', text: '' });
  assert.equal(tp.policyCount, 0);
  const doc = { id: 'd', tenant: 'st-mary', role: 'doctor', clearance: 4 as const };
  assert.deepEqual(tp.filterRows(doc, 'patients', [{ id: 1, level: 0, ward: 'w1' }]), []);
  assert.equal(tp.authorizeWrite(doc, 'patients', { id: 1, level: 0 }, []).allow, false);
});
