/**
 * Detector-pack manifests: an operator-supplied ONNX text classifier (for example Llama Prompt
 * Guard 2) and its tokenizer, pinned by SHA-256 and size, signed in a "detector" envelope
 * (skills/envelope.ts, domain "SIOS detector manifest v1\n"). A pack directory holds the files and
 * the signed envelope in PACK_MANIFEST_FILE.
 *
 *   {
 *     "id": "llama-prompt-guard-2-86m", "version": "1.0.0", "description": "...",
 *     "licence": "LLAMA-4-COMMUNITY",                       (SPDX expression, as for brains)
 *     "provenance": { "builder": "...", "source": "...", "built": "2025-04-29T00:00:00Z" },
 *     "files": {
 *       "model":           { "path": "model.onnx",            "sha256": "<hex>", "bytes": N },
 *       "tokenizer":       { "path": "tokenizer.json",        "sha256": "<hex>", "bytes": N },
 *       "tokenizerConfig": { "path": "tokenizer_config.json", "sha256": "<hex>", "bytes": N }   (optional)
 *     },
 *     "inputs": { "ids": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "..." },   (the last two optional)
 *     "output": { "name": "logits", "injectionIndex": 1 },
 *     "maxTokens": 512, "strideTokens": 256,
 *     "threshold": 0.5
 *   }
 *
 * `threshold` is the injection probability the operator calibrated as the operating point; it is
 * mapped to the score 0.5 exactly as the built-in detector maps its own (Detector.calibrate).
 * Every field is checked strictly and unknown fields are refused: a pack is either exactly
 * understood or not loaded.
 */
import { SiosError } from '../../errors.ts';
import type { Signer } from '../../crypto/suite.ts';
import {
  ID_RE, int, obj, openEnvelope, provenance, SHA256_RE, signEnvelope, spdx, str, text, VERSION_RE,
  type Provenance, type SignedEnvelope, type TrustedPublishers,
} from '../../skills/envelope.ts';
import { REL_PATH_RE } from '../../skills/manifest.ts';

/** Name of the signed envelope inside a pack directory. */
export const PACK_MANIFEST_FILE = 'sios-detector.json';

export type PackFileRole = 'model' | 'tokenizer' | 'tokenizerConfig';

/**
 * Size limits per file. ONNX models are protobuf, which cannot exceed 2 GiB in one file
 * (protobuf.dev, "Proto Limits"); models with external data files are not supported.
 */
export const MAX_FILE_BYTES: Readonly<Record<PackFileRole, number>> = Object.freeze({
  model: 2 ** 31 - 1,
  tokenizer: 64 * 1024 * 1024,
  tokenizerConfig: 1024 * 1024,
});

export interface PackFile {
  /** Relative to the pack directory; no "..", not absolute. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface DetectorManifest {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly licence: string;
  readonly provenance: Provenance;
  readonly files: { readonly model: PackFile; readonly tokenizer: PackFile; readonly tokenizerConfig?: PackFile };
  readonly inputs: { readonly ids: string; readonly attentionMask?: string; readonly tokenTypeIds?: string };
  readonly output: { readonly name: string; readonly injectionIndex: number };
  readonly maxTokens: number;
  readonly strideTokens: number;
  readonly threshold: number;
}

const FIELDS = ['id', 'version', 'description', 'licence', 'provenance', 'files', 'inputs', 'output', 'maxTokens', 'strideTokens', 'threshold'] as const;
const REQUIRED = FIELDS.filter((f) => f !== 'description');
/** ONNX tensor names are free-form in the spec; these are the names exporters write. */
const TENSOR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$/;
/** Longest token window accepted (Prompt Guard 2 uses 512; larger models rarely exceed 8192). */
export const MAX_TOKENS_LIMIT = 8192;

function packFile(v: unknown, what: string, role: PackFileRole): PackFile {
  const o = obj(v, what, ['path', 'sha256', 'bytes'], ['path', 'sha256', 'bytes']);
  return {
    path: str(o['path'], `${what}.path`, REL_PATH_RE, 'a relative path inside the pack directory, without ".." segments'),
    sha256: str(o['sha256'], `${what}.sha256`, SHA256_RE, '64 lowercase hex digits'),
    bytes: int(o['bytes'], `${what}.bytes`, 1, MAX_FILE_BYTES[role]),
  };
}

function tensorName(v: unknown, what: string): string {
  return str(v, what, TENSOR_NAME_RE, 'an ONNX tensor name such as "input_ids"');
}

export function parseDetectorManifest(v: unknown): DetectorManifest {
  const o = obj(v, 'detector manifest', FIELDS, REQUIRED);
  const id = str(o['id'], 'detector manifest id', ID_RE, 'a lowercase dotted name like "llama-prompt-guard-2-86m"');
  const what = `detector ${id}`;
  const version = str(o['version'], `${what} version`, VERSION_RE, 'a semantic version like "1.0.0"');

  const fo = obj(o['files'], `${what} files`, ['model', 'tokenizer', 'tokenizerConfig'], ['model', 'tokenizer']);
  const model = packFile(fo['model'], `${what} files.model`, 'model');
  const tokenizer = packFile(fo['tokenizer'], `${what} files.tokenizer`, 'tokenizer');
  const tokenizerConfig = fo['tokenizerConfig'] === undefined ? undefined : packFile(fo['tokenizerConfig'], `${what} files.tokenizerConfig`, 'tokenizerConfig');
  const paths = [model.path, tokenizer.path, ...(tokenizerConfig ? [tokenizerConfig.path] : [])];
  if (new Set(paths).size !== paths.length) throw new SiosError('ERR_INPUT', `${what} files: each role needs its own file; a path is listed twice`);
  if (paths.includes(PACK_MANIFEST_FILE)) throw new SiosError('ERR_INPUT', `${what} files: ${PACK_MANIFEST_FILE} is the signed manifest itself, not a file of the pack`);

  const io = obj(o['inputs'], `${what} inputs`, ['ids', 'attentionMask', 'tokenTypeIds'], ['ids']);
  const ids = tensorName(io['ids'], `${what} inputs.ids`);
  const attentionMask = io['attentionMask'] === undefined ? undefined : tensorName(io['attentionMask'], `${what} inputs.attentionMask`);
  const tokenTypeIds = io['tokenTypeIds'] === undefined ? undefined : tensorName(io['tokenTypeIds'], `${what} inputs.tokenTypeIds`);
  const names = [ids, ...(attentionMask ? [attentionMask] : []), ...(tokenTypeIds ? [tokenTypeIds] : [])];
  if (new Set(names).size !== names.length) throw new SiosError('ERR_INPUT', `${what} inputs: each input needs its own tensor name`);

  const oo = obj(o['output'], `${what} output`, ['name', 'injectionIndex'], ['name', 'injectionIndex']);
  const output = { name: tensorName(oo['name'], `${what} output.name`), injectionIndex: int(oo['injectionIndex'], `${what} output.injectionIndex`, 0, 1023) };

  // At least 3: room for the tokenizer's special tokens (e.g. [CLS] ... [SEP]) and one token of text.
  const maxTokens = int(o['maxTokens'], `${what} maxTokens`, 3, MAX_TOKENS_LIMIT);
  const strideTokens = int(o['strideTokens'], `${what} strideTokens`, 1, maxTokens);
  const t = o['threshold'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t >= 1) {
    throw new SiosError('ERR_INPUT', `${what} threshold must be the calibrated injection probability, a number strictly between 0 and 1 (for example 0.5)`);
  }
  const description = text(o['description'] ?? '', `${what} description`, 1024);
  return {
    id, version, description,
    licence: spdx(o['licence'], `${what} licence`),
    provenance: provenance(o['provenance'], `${what} provenance`),
    files: tokenizerConfig ? { model, tokenizer, tokenizerConfig } : { model, tokenizer },
    inputs: { ids, ...(attentionMask ? { attentionMask } : {}), ...(tokenTypeIds ? { tokenTypeIds } : {}) },
    output, maxTokens, strideTokens, threshold: t,
  };
}

export type SignedDetector = SignedEnvelope<DetectorManifest>;

export interface VerifiedDetectorManifest {
  readonly manifest: DetectorManifest;
  /** "sha256:<hex>" of the manifest's JCS bytes. */
  readonly digest: string;
  readonly signer: string;
}

export async function signDetectorManifest(manifest: DetectorManifest, signer: Signer): Promise<SignedDetector> {
  parseDetectorManifest(manifest);
  return signEnvelope('detector', manifest, signer);
}

/**
 * Checks the envelope's signature against the trusted publishers, then parses the manifest.
 * ERR_VERIFY for an unsigned, untrusted or altered manifest; ERR_INPUT for a malformed one.
 */
export async function verifyDetectorManifest(envelope: unknown, trust: TrustedPublishers): Promise<VerifiedDetectorManifest> {
  // openEnvelope's own "unsigned" message names a signing command per domain; give the right one here.
  if (typeof envelope === 'object' && envelope !== null && !Array.isArray(envelope) && typeof (envelope as Record<string, unknown>)['signature'] !== 'string') {
    throw new SiosError('ERR_VERIFY', "the detector manifest is unsigned (no signature); sign the pack with 'sios sentinel plugin sign --dir DIR ...'");
  }
  return openEnvelope('detector', envelope, trust, parseDetectorManifest);
}

/** "id@version" */
export function detectorRef(m: { readonly id: string; readonly version: string }): string {
  return `${m.id}@${m.version}`;
}
