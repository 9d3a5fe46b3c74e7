/** Skill manifests: strict parsing, signatures by trusted publishers, domain separation, digests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import { canonicalize } from '../../src/encoding/jcs.ts';
import { SiosError } from '../../src/errors.ts';
import { TrustedPublishers, manifestDigest } from '../../src/skills/envelope.ts';
import { parseSkillManifest, signSkillManifest, verifySkillManifest, type SkillManifest } from '../../src/skills/manifest.ts';
import { builtinSkillManifests } from '../../src/skills/builtin.ts';
import { verifyBrainManifest } from '../../src/brains/manifest.ts';
import { clone, operator, stranger, trust } from '../brains/fixture.ts';

const base = builtinSkillManifests().find((m) => m.id === 'records.export')!;

function code(c: string, re?: RegExp) {
  return (e: unknown) => e instanceof SiosError && e.code === c && (re === undefined || re.test(e.message));
}

test('a signed skill manifest verifies and its digest is SHA-256 of the JCS bytes', async () => {
  const env = await signSkillManifest(base, operator);
  const v = await verifySkillManifest(clone(env), trust);
  assert.equal(v.manifest.id, 'records.export');
  assert.equal(v.manifest.maxConfidentiality, 2);
  assert.deepEqual(v.manifest.untrustedArgs, []);
  assert.equal(v.digest, 'sha256:' + nodeCrypto.createHash('sha256').update(canonicalize(base)).digest('hex'));
  assert.equal(v.digest, manifestDigest(clone(base)));
});

test('a changed manifest, a flipped signature, a missing signature are refused with ERR_VERIFY', async () => {
  const env = await signSkillManifest(base, operator);
  const tampered = clone(env);
  (tampered.manifest as { risk: string }).risk = 'read';
  await assert.rejects(verifySkillManifest(tampered, trust), code('ERR_VERIFY', /changed after signing/));
  const looser = clone(env);
  (looser.manifest as { clearance: number }).clearance = 0;
  await assert.rejects(verifySkillManifest(looser, trust), code('ERR_VERIFY'));
  const sig = { ...clone(env), signature: (env.signature[0] === 'A' ? 'B' : 'A') + env.signature.slice(1) };
  await assert.rejects(verifySkillManifest(sig, trust), code('ERR_VERIFY'));
  const { signature: _s, ...unsigned } = clone(env);
  await assert.rejects(verifySkillManifest(unsigned, trust), code('ERR_VERIFY', /unsigned/));
  await assert.rejects(verifySkillManifest({ ...clone(env), extra: 1 }, trust), code('ERR_INPUT', /unknown field "extra"/));
});

test('a manifest signed by an untrusted key is refused; configuring the publisher key accepts it', async () => {
  const env = await signSkillManifest(base, stranger);
  await assert.rejects(verifySkillManifest(env, trust), code('ERR_VERIFY', /not a trusted publisher/));
  const more = new TrustedPublishers(operator.publicKey, [stranger.publicKey]);
  assert.equal((await verifySkillManifest(env, more)).manifest.id, 'records.export');
  // Claiming the operator as signer with the stranger's signature does not help.
  const lie = { ...env, signer: (await signSkillManifest(base, operator)).signer };
  await assert.rejects(verifySkillManifest(lie, more), code('ERR_VERIFY'));
});

test('a skill manifest signature is not valid as a brain manifest signature (domain separation)', async () => {
  const env = await signSkillManifest(base, operator);
  await assert.rejects(verifyBrainManifest(env, trust), code('ERR_VERIFY'));
});

test('strict parsing: unknown fields, bad schemas, bad licences, untrustedArgs and dry-run rules', () => {
  const ok = (m: unknown) => parseSkillManifest(m);
  const mut = (f: (m: Record<string, unknown>) => void): Record<string, unknown> => { const m = clone(base) as unknown as Record<string, unknown>; f(m); return m; };
  assert.equal(ok(clone(base)).id, 'records.export');
  assert.throws(() => ok(mut((m) => { m['surprise'] = true; })), code('ERR_INPUT', /unknown field "surprise"/));
  assert.throws(() => ok(mut((m) => { m['risk'] = 'medium'; })), code('ERR_INPUT', /risk must be one of/));
  assert.throws(() => ok(mut((m) => { m['dryRun'] = false; })), code('ERR_INPUT', /high-impact and must provide a dry run/));
  assert.throws(() => ok(mut((m) => { m['untrustedArgs'] = ['nope']; })), code('ERR_INPUT', /not a property of argsSchema/));
  assert.throws(() => ok(mut((m) => { m['maxConfidentiality'] = 5; })), code('ERR_INPUT', /maxConfidentiality must be an integer 0..4/));
  assert.throws(() => ok(mut((m) => { m['licence'] = 'NOASSERTION'; })), code('ERR_INPUT', /must state a licence/));
  assert.throws(() => ok(mut((m) => { m['licence'] = 'Apache 2.0 please'; })), code('ERR_INPUT', /SPDX/));
  assert.equal(ok(mut((m) => { m['licence'] = '(MIT OR Apache-2.0) AND LicenseRef-Bank-Internal'; })).licence, '(MIT OR Apache-2.0) AND LicenseRef-Bank-Internal');
  assert.throws(() => ok(mut((m) => { (m['argsSchema'] as Record<string, unknown>)['additionalProperties'] = true; })), code('ERR_INPUT', /additionalProperties/));
  assert.throws(() => ok(mut((m) => { (m['argsSchema'] as Record<string, unknown>)['frobnicate'] = 1; })), code('ERR_INPUT', /not a valid strict JSON Schema/));
  assert.throws(() => ok(mut((m) => { (m['argsSchema'] as Record<string, unknown>)['$ref'] = 'https://evil.example/schema.json'; })), code('ERR_INPUT', /non-local \$ref/));
  assert.throws(() => ok(mut((m) => { m['implementation'] = { kind: 'module', path: '../../etc/passwd', sha256: 'a'.repeat(64), bytes: 1 }; })), code('ERR_INPUT', /relative path/));
  assert.throws(() => ok(mut((m) => { m['egress'] = [{ host: 'api.example.com', port: 70000 }]; })), code('ERR_INPUT', /port/));
  assert.throws(() => ok(mut((m) => { (m['provenance'] as Record<string, unknown>)['built'] = 'yesterday'; })), code('ERR_INPUT', /RFC 3339/));
  assert.throws(() => ok(mut((m) => { m['description'] = 'x'.repeat(2000); })), code('ERR_INPUT', /at most 1024/));
  const big = mut((m) => { m['description'] = 'ok'; (m['resultSchema'] as Record<string, unknown>)['description'] = 'y'.repeat(70_000); });
  return assert.rejects(signSkillManifest(big as unknown as SkillManifest, operator), code('ERR_TOO_LARGE'));
});
