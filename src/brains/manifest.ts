/**
 * Brain manifests: a brain is a model (runtime plus weights) and the skills it may use. The
 * manifest pins every weights file by SHA-256 and size; loading re-hashes the files (streaming)
 * and fails closed on any difference. Weights are never downloaded: paths are relative to a
 * directory the operator placed on the machine.
 *
 * Runtimes:
 *  - "scripted": the in-process deterministic brain (scripted.ts). Its script is either inline in
 *    the manifest (the embedded default, no weights at all) or the single weights file, pinned by
 *    digest like any weights.
 *  - "openai-chat": an OpenAI-compatible /v1/chat/completions server on loopback (llama.cpp's
 *    server, vLLM, Ollama). The manifest names the model and, optionally, the loopback endpoint.
 */
import * as fs from 'node:fs';
import * as nodeCrypto from 'node:crypto';
import * as path from 'node:path';
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import type { Signer } from '../crypto/suite.ts';
import {
  arr, describeValue, ID_RE, int, obj, openEnvelope, provenance, SHA256_RE, signEnvelope, spdx, str, text, VERSION_RE,
  type Provenance, type SignedEnvelope, type TrustedPublishers,
} from '../skills/envelope.ts';
import { REL_PATH_RE } from '../skills/manifest.ts';
import { parseScript, type BrainScript } from './scripted.ts';
import { checkLoopbackEndpoint } from './openai.ts';

export interface WeightsFile {
  /** Relative to the brain's weights directory; no "..", not absolute. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export type BrainRuntimeSpec =
  | { readonly kind: 'scripted'; readonly script?: BrainScript }
  | { readonly kind: 'openai-chat'; readonly model: string; readonly endpoint?: string };

export interface BrainManifest {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly runtime: BrainRuntimeSpec;
  readonly weights: readonly WeightsFile[];
  /** Skills this brain may ever use (a grant narrows this further per tenant). */
  readonly skills: readonly string[];
  readonly licence: string;
  readonly provenance: Provenance;
}

const FIELDS = ['id', 'version', 'description', 'runtime', 'weights', 'skills', 'licence', 'provenance'] as const;

export function parseBrainManifest(v: unknown): BrainManifest {
  const o = obj(v, 'brain manifest', FIELDS, ['id', 'version', 'runtime', 'weights', 'skills', 'licence', 'provenance']);
  const id = str(o['id'], 'brain manifest id', ID_RE, 'a lowercase dotted name like "ward-assistant"');
  const what = `brain ${id}`;
  const version = str(o['version'], `${what} version`, VERSION_RE, 'a semantic version like "1.0.0"');
  const weights = arr(o['weights'], `${what} weights`, 256).map((w, i) => {
    const wo = obj(w, `${what} weights[${i}]`, ['path', 'sha256', 'bytes'], ['path', 'sha256', 'bytes']);
    return {
      path: str(wo['path'], `${what} weights[${i}].path`, REL_PATH_RE, 'a relative path without ".." segments'),
      sha256: str(wo['sha256'], `${what} weights[${i}].sha256`, SHA256_RE, '64 lowercase hex digits'),
      bytes: int(wo['bytes'], `${what} weights[${i}].bytes`, 0, 2 ** 45),
    };
  });
  if (new Set(weights.map((w) => w.path)).size !== weights.length) throw new SiosError('ERR_INPUT', `${what} lists a weights file twice`);
  const ro = obj(o['runtime'], `${what} runtime`, ['kind', 'script', 'model', 'endpoint'], ['kind']);
  let runtime: BrainRuntimeSpec;
  if (ro['kind'] === 'scripted') {
    for (const k of ['model', 'endpoint']) if (k in ro) throw new SiosError('ERR_INPUT', `${what}: a scripted runtime has no "${k}"`);
    if (ro['script'] === undefined) {
      if (weights.length !== 1) throw new SiosError('ERR_INPUT', `${what}: a scripted brain without an inline script needs exactly one weights file (its script)`);
      runtime = { kind: 'scripted' };
    } else {
      if (weights.length !== 0) throw new SiosError('ERR_INPUT', `${what}: a scripted brain with an inline script has no weights`);
      runtime = { kind: 'scripted', script: parseScript(ro['script'], `${what} script`) };
    }
  } else if (ro['kind'] === 'openai-chat') {
    if ('script' in ro) throw new SiosError('ERR_INPUT', `${what}: an openai-chat runtime has no "script"`);
    const model = text(ro['model'], `${what} runtime.model`, 256);
    if (model.length === 0) throw new SiosError('ERR_INPUT', `${what} runtime.model must name the model the server serves`);
    runtime = ro['endpoint'] === undefined ? { kind: 'openai-chat', model } : { kind: 'openai-chat', model, endpoint: checkLoopbackEndpoint(ro['endpoint']).href };
  } else {
    throw new SiosError('ERR_INPUT', `${what} runtime.kind must be "scripted" or "openai-chat", got ${describeValue(ro['kind'])}`);
  }
  const skills = arr(o['skills'], `${what} skills`, 256).map((s, i) => str(s, `${what} skills[${i}]`, ID_RE, 'a skill id'));
  if (new Set(skills).size !== skills.length) throw new SiosError('ERR_INPUT', `${what} lists a skill twice`);
  return {
    id, version,
    description: text(o['description'] ?? '', `${what} description`, 1024),
    runtime, weights, skills,
    licence: spdx(o['licence'], `${what} licence`),
    provenance: provenance(o['provenance'], `${what} provenance`),
  };
}

export type SignedBrain = SignedEnvelope<BrainManifest>;

export interface VerifiedBrain {
  readonly manifest: BrainManifest;
  readonly digest: string;
  readonly signer: string;
  readonly envelope: SignedBrain;
}

export async function signBrainManifest(manifest: BrainManifest, signer: Signer): Promise<SignedBrain> {
  parseBrainManifest(manifest);
  return signEnvelope('brain', manifest, signer);
}

export async function verifyBrainManifest(envelope: unknown, trust: TrustedPublishers): Promise<VerifiedBrain> {
  const r = await openEnvelope('brain', envelope, trust, parseBrainManifest);
  return { ...r, envelope: envelope as SignedBrain };
}

/** "id@version" */
export function brainRef(m: { readonly id: string; readonly version: string }): string {
  return `${m.id}@${m.version}`;
}

export function parseBrainRef(ref: string): { id: string; version: string | undefined } {
  if (typeof ref !== 'string') throw new SiosError('ERR_INPUT', 'a brain reference must be a string "id" or "id@version"');
  const at = ref.indexOf('@');
  const id = at < 0 ? ref : ref.slice(0, at);
  str(id, 'brain id', ID_RE, 'a lowercase dotted name');
  if (at < 0) return { id, version: undefined };
  return { id, version: str(ref.slice(at + 1), `version in brain reference ${JSON.stringify(ref.slice(0, 80))}`, VERSION_RE, 'a semantic version') };
}

/**
 * Re-hashes every weights file under `dir` (streaming SHA-256, constant memory) and compares size
 * and digest with the manifest. Symlinks leaving `dir` and non-regular files are refused.
 */
export async function verifyWeights(m: BrainManifest, dir: string, signal?: AbortSignal): Promise<void> {
  if (m.weights.length === 0) return;
  const root = fs.realpathSync(dir);
  for (const w of m.weights) {
    const p = path.join(root, w.path);
    let real: string;
    try { real = fs.realpathSync(p); } catch (cause) {
      throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: weights file ${w.path} is missing from ${dir}; copy it there (weights are never downloaded)`, { cause });
    }
    if (!real.startsWith(root + path.sep)) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: weights file ${w.path} resolves outside the weights directory`);
    const st = fs.statSync(real);
    if (!st.isFile()) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: weights path ${w.path} is not a regular file`);
    if (st.size !== w.bytes) throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: weights file ${w.path} is ${st.size} bytes, the signed manifest says ${w.bytes}; restore the original file`, { details: { path: w.path } });
    const h = nodeCrypto.createHash('sha256');
    const stream = fs.createReadStream(real, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
    let n = 0;
    for await (const chunk of stream) { h.update(chunk as Buffer); n += (chunk as Buffer).length; }
    const got = h.digest('hex');
    if (n !== w.bytes || got !== w.sha256) {
      throw new SiosError('ERR_VERIFY', `brain ${brainRef(m)}: weights file ${w.path} has SHA-256 ${got}, the signed manifest pins ${w.sha256}; the file was changed or corrupted, restore the original`, { details: { path: w.path } });
    }
  }
}

/** Describes a file on disk as a weights entry (used when building manifests). */
export async function describeWeightsFile(dir: string, rel: string): Promise<WeightsFile> {
  const h = nodeCrypto.createHash('sha256');
  let n = 0;
  for await (const chunk of fs.createReadStream(path.join(dir, rel))) { h.update(chunk as Buffer); n += (chunk as Buffer).length; }
  return { path: rel, sha256: h.digest('hex'), bytes: n };
}

export function runtimeJson(m: BrainManifest): Json {
  return m.runtime as unknown as Json;
}
