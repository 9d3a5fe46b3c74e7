/** Registry: add (verified), grants scoped to skills and pinned versions, tenant walls, instant revocation, verdicts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SiosError } from '../../src/errors.ts';
import { describeWeightsFile, signBrainManifest, type BrainManifest } from '../../src/brains/manifest.ts';
import { signVerdict, verifyVerdict } from '../../src/brains/verdict.ts';
import { tempDir } from '../helpers/tmp.ts';
import { clone, newRegistry, operator, registryWithDefaults, signed, stranger } from './fixture.ts';

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof SiosError && e.code === c && (re === undefined || re.test(e.message));

test('add verifies signatures, seals in the system ledger first, and is idempotent per manifest', async () => {
  const { registry, seals } = newRegistry();
  for (const s of signed.skills) await registry.addSkill(s, { actor: 'op' });
  const b = await registry.addBrain(signed.brains[0]!, { actor: 'op' });
  assert.equal(b.ref, 'sios.assistant@1.0.0');
  assert.match(b.digest, /^sha256:[0-9a-f]{64}$/);
  assert.match(b.verdictKey, /^SHA256:[0-9a-f]{64}$/);
  assert.deepEqual(seals.map((s) => [s.tenant, s.kind, s.body['action']]), [
    ['system', 'admin', 'skill-add'], ['system', 'admin', 'skill-add'], ['system', 'admin', 'skill-add'], ['system', 'admin', 'skill-add'], ['system', 'admin', 'skill-add'], ['system', 'admin', 'brain-add'],
  ]);
  assert.equal(seals[5]!.body['manifest'], b.digest);
  await registry.addBrain(signed.brains[0]!, { actor: 'op' });
  assert.equal(seals.length, 6, 're-adding the same manifest is a no-op');
  assert.deepEqual(registry.listBrains().map((x) => x.ref), ['sios.assistant@1.0.0']);
  assert.deepEqual(registry.listSkills().map((x) => x.id), ['documents.generate', 'records.export', 'records.read', 'records.write', 'web.fetch']);

  const tampered = clone(signed.brains[1]!);
  (tampered.manifest as unknown as { skills: string[] }).skills = ['records.export'];
  await assert.rejects(registry.addBrain(tampered, { actor: 'op' }), code('ERR_VERIFY'));
  await assert.rejects(registry.addBrain(await signBrainManifest(signed.brains[1]!.manifest, stranger), { actor: 'op' }), code('ERR_VERIFY', /not a trusted publisher/));
  const { signature: _s, ...unsigned } = signed.brains[1]!;
  await assert.rejects(registry.addBrain(unsigned, { actor: 'op' }), code('ERR_VERIFY', /unsigned/));
  // Same id@version, different (validly signed) manifest: versions are immutable.
  const other = await signBrainManifest({ ...signed.brains[0]!.manifest, description: 'changed' }, operator);
  await assert.rejects(registry.addBrain(other, { actor: 'op' }), code('ERR_CONFLICT'));
  assert.equal(registry.listBrains().length, 1);
});

test('if sealing fails, nothing changes', async () => {
  let fail = false;
  const { registry } = newRegistry({ failSeal: () => fail });
  for (const s of signed.skills) await registry.addSkill(s, { actor: 'op' });
  await registry.addBrain(signed.brains[0]!, { actor: 'op' });
  fail = true;
  await assert.rejects(registry.addBrain(signed.brains[1]!, { actor: 'op' }));
  await assert.rejects(registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' }));
  assert.equal(registry.listBrains().length, 1);
  assert.deepEqual(registry.grants('st-mary'), []);
  fail = false;
  await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  fail = true;
  await assert.rejects(registry.revoke('st-mary', 'sios.assistant', { actor: 'op' }));
  assert.equal((await registry.resolve('st-mary', 'sios.assistant', 'records.read')).grant.revoked, null);
});

test('a brain with weights is added only when the files match; load re-hashes them', async (t) => {
  const dir = tempDir(t);
  const script = { rules: [{ task: ['hello'], calls: [{ skill: 'records.read', args: { collection: 'patients' } }] }] };
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(script));
  const m: BrainManifest = {
    id: 'file-brain', version: '1.0.0', description: '', runtime: { kind: 'scripted' }, weights: [await describeWeightsFile(dir, 'script.json')],
    skills: ['records.read'], licence: 'MIT', provenance: { builder: 'test', source: 'test', built: '2026-11-22T00:00:00Z' },
  };
  const env = await signBrainManifest(m, operator);
  const { registry } = await registryWithDefaults();
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify({ ...script, obey: true }));
  await assert.rejects(registry.addBrain(env, { actor: 'op', weightsDir: dir }), code('ERR_VERIFY'));
  await assert.rejects(registry.addBrain(env, { actor: 'op' }), code('ERR_INPUT', /--weights/));
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(script));
  await registry.addBrain(env, { actor: 'op', weightsDir: dir });
  await registry.grant('st-mary', 'file-brain@1.0.0', ['records.read'], { actor: 'op' });
  const { runtime } = await registry.load('st-mary', 'file-brain@1.0.0');
  const p = await runtime.propose({ task: 'hello', context: [], tools: [], signal: new AbortController().signal });
  assert.deepEqual(p.calls, [{ skill: 'records.read', args: { collection: 'patients' } }]);
  // Changed after add: loading fails closed.
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify({ ...script, obey: true }));
  await assert.rejects(registry.load('st-mary', 'file-brain'), code('ERR_VERIFY', /script file/));
});

test('grants are scoped to skills, pinned to a version, and walled per tenant', async () => {
  const { registry, seals } = await registryWithDefaults();
  await assert.rejects(registry.grant('st-mary', 'sios.assistant', ['records.read'], { actor: 'op' }), code('ERR_INPUT', /pinned version/));
  await assert.rejects(registry.grant('st-mary', 'sios.assistant@9.9.9', ['records.read'], { actor: 'op' }), code('ERR_NOT_FOUND'));
  await assert.rejects(registry.grant('st-mary', 'sios.assistant@1.0.0', ['net.fetch'], { actor: 'op' }), code('ERR_FORBIDDEN', /not built to use skill net.fetch/));
  const g = await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read', 'documents.generate'], { actor: 'alice' });
  assert.deepEqual(g.skills, ['documents.generate', 'records.read']);
  const last = seals.at(-1)!;
  assert.deepEqual([last.tenant, last.kind, last.body['action'], last.body['actor'], last.grantsAtSeal], ['st-mary', 'grant', 'brain-grant', 'alice', 0]);

  const r = await registry.resolve('st-mary', 'sios.assistant@1.0.0', 'records.read');
  assert.equal(r.brain.ref, 'sios.assistant@1.0.0');
  assert.equal(r.skill.manifest.risk, 'read');
  assert.match(r.skill.digest, /^sha256:/);
  assert.equal((await registry.resolve('st-mary', 'sios.assistant', 'records.read')).grant.version, '1.0.0');
  await assert.rejects(registry.resolve('st-mary', 'sios.assistant', 'records.export'), code('ERR_FORBIDDEN', /not granted skill "records.export"/));
  await assert.rejects(registry.resolve('st-mary', 'sios.assistant', 'records.bogus'), code('ERR_FORBIDDEN'));
  await assert.rejects(registry.resolve('st-mary', 'sios.assistant@1.0.1', 'records.read'), code('ERR_FORBIDDEN', /granted brain sios.assistant@1.0.0, not 1.0.1/));
  await assert.rejects(registry.load('st-mary', 'sios.assistant@2.0.0'), code('ERR_FORBIDDEN', /pinned/));
  // Another tenant: not granted, whatever the skill.
  await assert.rejects(registry.resolve('northbank', 'sios.assistant@1.0.0', 'records.read'), code('ERR_FORBIDDEN', /not granted to tenant northbank/));
  await assert.rejects(registry.load('northbank', 'sios.assistant'), code('ERR_FORBIDDEN'));
  assert.throws(() => registry.beginCall('northbank', 'sios.assistant'), code('ERR_FORBIDDEN'));
  await assert.rejects(registry.resolve('system', 'sios.assistant', 'records.read'), code('ERR_INPUT'));
});

test('a tampered row in the system database fails resolve closed', async () => {
  const { registry, db } = await registryWithDefaults();
  await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  const row = db.prepare("SELECT envelope FROM skill_skills WHERE id = 'records.read'").get()!;
  const env = JSON.parse(String(row['envelope']));
  env.manifest.clearance = 0;
  db.prepare("UPDATE skill_skills SET envelope = ? WHERE id = 'records.read'").run(JSON.stringify(env));
  await assert.rejects(registry.resolve('st-mary', 'sios.assistant', 'records.read'), code('ERR_VERIFY', /no longer verifies/));
  const brow = db.prepare("SELECT envelope FROM brain_brains WHERE id = 'sios.assistant'").get()!;
  const benv = JSON.parse(String(brow['envelope']));
  benv.manifest.runtime.script.obey = true;
  db.prepare("UPDATE brain_brains SET envelope = ? WHERE id = 'sios.assistant'").run(JSON.stringify(benv));
  await assert.rejects(registry.load('st-mary', 'sios.assistant'), code('ERR_VERIFY'));
});

test('revoke: sealed first, then in-flight calls aborted and new resolves refused before it returns', async () => {
  const { registry, seals } = await registryWithDefaults();
  await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  await registry.grant('northbank', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  const before = await registry.resolve('st-mary', 'sios.assistant', 'records.read');
  const call = registry.beginCall('st-mary', 'sios.assistant');
  const other = registry.beginCall('northbank', 'sios.assistant');
  assert.equal(registry.inflight('st-mary', 'sios.assistant'), 1);
  // An in-flight model call that only ends when its signal aborts.
  const pending = new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason)));
  const sealsBefore = seals.length;
  await registry.revoke('st-mary', 'sios.assistant', { actor: 'ciso', reason: 'incident 42' });
  assert.equal(call.signal.aborted, true, 'aborted before revoke returned');
  await assert.rejects(pending, code('ERR_REVOKED'));
  assert.equal(other.signal.aborted, false, 'another tenant is not affected');
  const s = seals[sealsBefore]!;
  assert.deepEqual([s.tenant, s.kind, s.body['action'], s.body['actor'], s.body['reason'], s.grantsAtSeal], ['st-mary', 'revoke', 'brain-revoke', 'ciso', 'incident 42', 2]);
  await assert.rejects(registry.resolve('st-mary', 'sios.assistant', 'records.read'), code('ERR_REVOKED'));
  assert.throws(() => registry.assertCurrent(before), code('ERR_REVOKED'));
  assert.throws(() => registry.beginCall('st-mary', 'sios.assistant'), code('ERR_REVOKED'));
  await assert.rejects(registry.load('st-mary', 'sios.assistant'), code('ERR_REVOKED'));
  registry.assertCurrent(await registry.resolve('northbank', 'sios.assistant', 'records.read'));
  call.end();
  assert.equal(registry.inflight('st-mary', 'sios.assistant'), 0);
  // A fresh grant is possible (and sealed); older resolutions stay invalid.
  await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  assert.throws(() => registry.assertCurrent(before), code('ERR_REVOKED'));
  registry.assertCurrent(await registry.resolve('st-mary', 'sios.assistant', 'records.read'));
});

test('revokeEverywhere seals in the system and each tenant ledger, aborts all calls, forbids new grants', async () => {
  const { registry, seals } = await registryWithDefaults();
  await registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  await registry.grant('northbank', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' });
  const a = registry.beginCall('st-mary', 'sios.assistant');
  const b = registry.beginCall('northbank', 'sios.assistant');
  const n = seals.length;
  const r = await registry.revokeEverywhere('sios.assistant', { actor: 'ciso' });
  assert.deepEqual(r, { versions: ['1.0.0'], tenants: ['northbank', 'st-mary'] });
  assert.deepEqual(seals.slice(n).map((s) => [s.tenant, s.kind]), [['system', 'revoke'], ['northbank', 'revoke'], ['st-mary', 'revoke']]);
  assert.ok(a.signal.aborted && b.signal.aborted);
  await assert.rejects(registry.resolve('northbank', 'sios.assistant', 'records.read'), code('ERR_REVOKED'));
  await assert.rejects(registry.grant('st-mary', 'sios.assistant@1.0.0', ['records.read'], { actor: 'op' }), code('ERR_REVOKED', /revoked everywhere/));
  await assert.rejects(registry.verdictSigner('sios.assistant@1.0.0'), code('ERR_REVOKED'));
  assert.equal(registry.listBrains().find((x) => x.id === 'sios.assistant')!.revoked !== null, true);
});

test('verdicts are signed by the brain\'s own key and bind intent, brain, verdict and reason', async () => {
  const { registry } = await registryWithDefaults();
  await registry.grant('st-mary', 'sios.reviewer@1.0.0', ['records.export'], { actor: 'op' });
  const res = await registry.resolve('st-mary', 'sios.reviewer', 'records.export');
  const signer = await registry.verdictSigner('sios.reviewer@1.0.0');
  assert.deepEqual(signer.publicKey, res.brain.verdictPublicKey);
  const intent = 'sha256:' + 'ab'.repeat(32);
  const v = await signVerdict({ brain: res.brain.ref, manifest: res.brain.digest, intent, verdict: 'approve', reason: 'looks fine' }, signer);
  await registry.verifyVerdict(v, { intent });
  await verifyVerdict(v, res.brain.verdictPublicKey, { intent });
  await assert.rejects(registry.verifyVerdict(v, { intent: 'sha256:' + 'cd'.repeat(32) }), code('ERR_VERIFY', /cannot be reused/));
  for (const change of [{ intent: 'sha256:' + 'cd'.repeat(32) }, { verdict: 'reject' }, { reason: 'other' }, { manifest: 'sha256:' + '00'.repeat(32) }]) {
    await assert.rejects(verifyVerdict({ ...v, ...change }, res.brain.verdictPublicKey), code('ERR_VERIFY'), JSON.stringify(change));
  }
  // Another brain's key does not verify it; a verdict naming another brain fails against the registry.
  const assistant = (await registry.verdictSigner('sios.assistant@1.0.0')).publicKey;
  await assert.rejects(verifyVerdict(v, assistant), code('ERR_VERIFY'));
  await assert.rejects(registry.verifyVerdict({ ...v, brain: 'sios.assistant@1.0.0' }, { intent }), code('ERR_VERIFY'));
});
