/** Brain manifests and weights: signatures, strict parsing, streaming digest checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SiosError } from '../../src/errors.ts';
import { describeWeightsFile, parseBrainManifest, parseBrainRef, signBrainManifest, verifyBrainManifest, verifyWeights, type BrainManifest } from '../../src/brains/manifest.ts';
import { DEFAULT_BRAINS } from '../../src/brains/defaults.ts';
import { tempDir } from '../helpers/tmp.ts';
import { clone, operator, stranger, trust } from './fixture.ts';

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof SiosError && e.code === c && (re === undefined || re.test(e.message));

async function modelBrain(dir: string): Promise<BrainManifest> {
  fs.writeFileSync(path.join(dir, 'model.gguf'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  fs.mkdirSync(path.join(dir, 'tok'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tok', 'tokenizer.json'), '{"v":1}');
  return {
    id: 'ward-llm', version: '2.1.0', description: 'a local model', runtime: { kind: 'openai-chat', model: 'ward-llm', endpoint: 'http://127.0.0.1:8080/v1' },
    weights: [await describeWeightsFile(dir, 'model.gguf'), await describeWeightsFile(dir, 'tok/tokenizer.json')],
    skills: ['records.read'], licence: 'Llama-3.1', provenance: { builder: 'Bank ML team', source: 'meta-llama/Llama-3.1-8B@sha256:ab…, fine-tune run 42', built: '2026-10-01T12:00:00Z' },
  };
}

test('a signed brain manifest with weights verifies; a changed weights file is refused', async (t) => {
  const dir = tempDir(t);
  const m = await modelBrain(dir);
  const env = await signBrainManifest(m, operator);
  const v = await verifyBrainManifest(clone(env), trust);
  assert.equal(v.manifest.weights[0]!.bytes, 3 * 1024 * 1024 + 17);
  await verifyWeights(v.manifest, dir);
  // One byte changed in the middle of the 3 MiB file (same size).
  const fd = fs.openSync(path.join(dir, 'model.gguf'), 'r+');
  fs.writeSync(fd, Buffer.from([8]), 0, 1, 2 * 1024 * 1024);
  fs.closeSync(fd);
  await assert.rejects(verifyWeights(v.manifest, dir), code('ERR_VERIFY', /model\.gguf has SHA-256 .* pins/));
  fs.writeFileSync(path.join(dir, 'model.gguf'), Buffer.alloc(10));
  await assert.rejects(verifyWeights(v.manifest, dir), code('ERR_VERIFY', /is 10 bytes/));
  fs.rmSync(path.join(dir, 'model.gguf'));
  await assert.rejects(verifyWeights(v.manifest, dir), code('ERR_VERIFY', /missing .* never downloaded/));
  // A symlink leading outside the weights directory is refused even with the right content.
  const outside = tempDir(t);
  fs.writeFileSync(path.join(outside, 'tokenizer.json'), '{"v":1}');
  fs.rmSync(path.join(dir, 'tok', 'tokenizer.json'));
  fs.symlinkSync(path.join(outside, 'tokenizer.json'), path.join(dir, 'tok', 'tokenizer.json'));
  const onlyTok = { ...v.manifest, weights: [v.manifest.weights[1]!] };
  await assert.rejects(verifyWeights(onlyTok, dir), code('ERR_VERIFY', /outside the weights directory/));
});

test('a tampered brain manifest, a swapped weights digest or an untrusted signer is refused', async (t) => {
  const dir = tempDir(t);
  const env = await signBrainManifest(await modelBrain(dir), operator);
  const swapped = clone(env);
  (swapped.manifest.weights[0] as { sha256: string }).sha256 = 'f'.repeat(64);
  await assert.rejects(verifyBrainManifest(swapped, trust), code('ERR_VERIFY'));
  const more = clone(env);
  (more.manifest as unknown as { skills: string[] }).skills = ['records.read', 'records.export'];
  await assert.rejects(verifyBrainManifest(more, trust), code('ERR_VERIFY'));
  await assert.rejects(verifyBrainManifest(await signBrainManifest(await modelBrain(dir), stranger), trust), code('ERR_VERIFY', /not a trusted publisher/));
});

test('strict brain manifest parsing', () => {
  const base = clone(DEFAULT_BRAINS[0]!) as unknown as Record<string, unknown>;
  const mut = (f: (m: Record<string, unknown>) => void) => { const m = clone(base); f(m); return () => parseBrainManifest(m); };
  assert.equal(parseBrainManifest(clone(base)).id, 'sios.assistant');
  assert.throws(mut((m) => { m['download'] = 'https://huggingface.co/x'; }), code('ERR_INPUT', /unknown field "download"/));
  assert.throws(mut((m) => { m['runtime'] = { kind: 'openai-chat', model: 'x', endpoint: 'http://10.0.0.5:8080/v1' }; }), code('ERR_EGRESS', /not a loopback/));
  assert.throws(mut((m) => { m['runtime'] = { kind: 'openai-chat', model: 'x', endpoint: 'https://api.openai.com/v1' }; }), code('ERR_EGRESS'));
  assert.throws(mut((m) => { m['runtime'] = { kind: 'tensorflow' }; }), code('ERR_INPUT', /runtime.kind/));
  assert.throws(mut((m) => { m['weights'] = [{ path: '../x', sha256: 'a'.repeat(64), bytes: 1 }]; }), code('ERR_INPUT', /relative path/));
  assert.throws(mut((m) => { m['weights'] = [{ path: '/etc/x', sha256: 'a'.repeat(64), bytes: 1 }]; }), code('ERR_INPUT', /relative path/));
  assert.throws(mut((m) => { m['weights'] = [{ path: 'x', sha256: 'A'.repeat(64), bytes: 1 }]; }), code('ERR_INPUT', /sha256/));
  assert.throws(mut((m) => { m['version'] = 'latest'; }), code('ERR_INPUT', /semantic version/));
  assert.throws(mut((m) => { m['skills'] = ['records.read', 'records.read']; }), code('ERR_INPUT', /twice/));
  assert.throws(mut((m) => { (m['runtime'] as Record<string, unknown>)['script'] = { rules: [{ calls: [{ skill: 'x', args: {} }], when: 1 }] }; }), code('ERR_INPUT', /unknown field "when"/));
  assert.throws(mut((m) => { m['weights'] = [{ path: 'script.json', sha256: 'a'.repeat(64), bytes: 1 }]; }), code('ERR_INPUT', /inline script has no weights/));
});

test('brain references: id or id@semver', () => {
  assert.deepEqual(parseBrainRef('sios.assistant@1.0.0'), { id: 'sios.assistant', version: '1.0.0' });
  assert.deepEqual(parseBrainRef('sios.assistant'), { id: 'sios.assistant', version: undefined });
  assert.throws(() => parseBrainRef('sios.assistant@latest'), code('ERR_INPUT'));
  assert.throws(() => parseBrainRef('Bad Name'), code('ERR_INPUT'));
});
