/**
 * Detector packs on disk: a directory with the model, the tokenizer and the signed manifest
 * (PACK_MANIFEST_FILE). Loading fails closed: the envelope must verify against the trusted
 * publishers (the operator key) before anything else is read, and every pinned file must match its
 * size and SHA-256; any failure is a SiosError (ERR_VERIFY for signatures and files), never a
 * fallback to the built-in detector alone.
 *
 * Signing is for a pack the operator obtained elsewhere (for example Llama Prompt Guard 2 exported
 * to ONNX): the files are measured, the model is opened and run once so that tensor names and the
 * output shape are known to work, and the manifest is signed with the operator key.
 */
import type * as Ort from 'onnxruntime-web';
import { SiosError } from '../../errors.ts';
import { fromUtf8 } from '../../encoding/bytes.ts';
import type { Signer } from '../../crypto/suite.ts';
import { manifestDigest, type Provenance, type TrustedPublishers } from '../../skills/envelope.ts';
import {
  detectorRef, PACK_MANIFEST_FILE, parseDetectorManifest, signDetectorManifest, verifyDetectorManifest,
  type DetectorManifest, type PackFile, type PackFileRole, type SignedDetector,
} from './manifest.ts';
import { packHas, packRoot, readPackFile, readSmallFile, writeAtomic } from './files.ts';
import { OnnxClassifier, openSession, type ClassifierLimits, type WindowScore } from './runtime.ts';
import { ThreadedOnnxClassifier } from './thread.ts';
import { round3, toScore } from '../detector.ts';

/** Bound on the envelope file: a 64 KiB manifest plus a 3309-byte signature in base64url, pretty-printed. */
const MAX_ENVELOPE_BYTES = 256 * 1024;


export interface VerifiedPack {
  readonly manifest: DetectorManifest;
  /** "sha256:<hex>" of the manifest's JCS bytes. */
  readonly digest: string;
  readonly signer: string;
  readonly dir: string;
}

async function openPackEnvelope(dir: string, trust: TrustedPublishers): Promise<VerifiedPack> {
  const root = packRoot(dir);
  const raw = readSmallFile(root, PACK_MANIFEST_FILE, MAX_ENVELOPE_BYTES);
  if (raw === null) {
    throw new SiosError('ERR_VERIFY', `detector pack ${dir} has no signed manifest ${PACK_MANIFEST_FILE}; sign the pack with 'sios sentinel plugin sign --dir ${dir} ...'`);
  }
  let env: unknown;
  try { env = JSON.parse(fromUtf8(raw, `${dir}/${PACK_MANIFEST_FILE}`)); } catch (cause) {
    if (cause instanceof SiosError) throw cause;
    throw new SiosError('ERR_INPUT', `${dir}/${PACK_MANIFEST_FILE} is not valid JSON (${(cause as Error).message}); re-sign the pack`, { cause });
  }
  const r = await verifyDetectorManifest(env, trust);
  return { ...r, dir: root };
}

const ROLES: readonly PackFileRole[] = ['model', 'tokenizer', 'tokenizerConfig'];

async function readPinned(p: VerifiedPack): Promise<{ model: Uint8Array; tokenizer: Uint8Array; tokenizerConfig?: Uint8Array }> {
  const what = `detector ${detectorRef(p.manifest)}`;
  const got: Partial<Record<PackFileRole, Uint8Array>> = {};
  for (const role of ROLES) {
    const f: PackFile | undefined = p.manifest.files[role];
    if (f !== undefined) got[role] = (await readPackFile(p.dir, f.path, role, what, f)).bytes;
  }
  return { model: got.model!, tokenizer: got.tokenizer!, ...(got.tokenizerConfig ? { tokenizerConfig: got.tokenizerConfig } : {}) };
}

/**
 * Verifies a pack without running it: the envelope's signature and every file's size and digest.
 * Reads each file once; memory is bounded by the largest file.
 */
export async function verifyDetectorPack(dir: string, trust: TrustedPublishers): Promise<VerifiedPack> {
  const p = await openPackEnvelope(dir, trust);
  const what = `detector ${detectorRef(p.manifest)}`;
  for (const role of ROLES) {
    const f = p.manifest.files[role];
    if (f !== undefined) await readPackFile(p.dir, f.path, role, what, f);
  }
  return p;
}

export interface PluginScore {
  /** Maximum injection probability over the windows. */
  readonly p: number;
  /** `p` calibrated so that the manifest's threshold is 0.5. */
  readonly score: number;
  readonly windows: number;
  readonly tokens: number;
  readonly runMs: number;
}

/** A verified, loaded detector pack. */
export class OnnxDetector {
  readonly manifest: DetectorManifest;
  readonly digest: string;
  readonly signer: string;
  readonly #classifier: ThreadedOnnxClassifier;
  private constructor(p: VerifiedPack, c: ThreadedOnnxClassifier) {
    this.manifest = p.manifest;
    this.digest = p.digest;
    this.signer = p.signer;
    this.#classifier = c;
  }

  /** Verifies (signature, then every file) and loads the pack in `dir`; throws on any failure. */
  static async load(dir: string, trust: TrustedPublishers, limits: ClassifierLimits = {}): Promise<OnnxDetector> {
    const p = await openPackEnvelope(dir, trust);
    const files = await readPinned(p);
    return new OnnxDetector(p, await ThreadedOnnxClassifier.create(p.manifest, files, limits));
  }

  get ref(): string { return detectorRef(this.manifest); }

  async score(text: string): Promise<PluginScore> {
    const r = await this.#classifier.score(text);
    return { ...r, score: toScore(r.p, this.manifest.threshold) };
  }

  /** One full window of benign text through the model (OnnxClassifier.selfTest). */
  async selfTest(): Promise<PluginScore> {
    const r = await this.#classifier.selfTest();
    return { ...r, score: toScore(r.p, this.manifest.threshold) };
  }

  /** The verdict reason naming this pack and the probability, e.g. "onnx:prompt-guard@1.0.0:0.973". */
  reason(p: number): string { return `onnx:${this.ref}:${round3(p)}`; }

  close(): Promise<void> { return this.#classifier.close(); }
}

/** What the operator states when signing a pack; the rest is measured or read from the model. */
export interface SignPackInput {
  readonly id: string;
  readonly version: string;
  readonly description?: string;
  readonly licence: string;
  readonly provenance: Provenance;
  readonly threshold: number;
  readonly injectionIndex: number;
  readonly maxTokens?: number;
  readonly strideTokens?: number;
  /** Paths inside the pack (defaults: model.onnx, tokenizer.json, and tokenizer_config.json if present). */
  readonly files?: { readonly model?: string; readonly tokenizer?: string; readonly tokenizerConfig?: string };
  /** Tensor names (defaults: input_ids, attention_mask and token_type_ids as the model has them; its only output or "logits"). */
  readonly inputs?: { readonly ids?: string; readonly attentionMask?: string; readonly tokenTypeIds?: string };
  readonly outputName?: string;
}

const SIGN_KEYS = ['id', 'version', 'description', 'licence', 'provenance', 'threshold', 'injectionIndex', 'maxTokens', 'strideTokens', 'files', 'inputs', 'outputName'];

function defaultInputs(s: Ort.InferenceSession, given: SignPackInput['inputs'], what: string): DetectorManifest['inputs'] {
  const names = [...s.inputNames];
  const pick = (explicit: string | undefined, conventional: string): string | undefined =>
    explicit ?? (names.includes(conventional) ? conventional : undefined);
  const ids = pick(given?.ids, 'input_ids') ?? (names.length === 1 ? names[0] : undefined);
  if (ids === undefined) throw new SiosError('ERR_INPUT', `${what}: cannot tell which model input takes the token ids (inputs: ${names.join(', ')}); name it with --input-ids`);
  const attentionMask = pick(given?.attentionMask, 'attention_mask');
  const tokenTypeIds = pick(given?.tokenTypeIds, 'token_type_ids');
  const named = [ids, attentionMask, tokenTypeIds].filter((x) => x !== undefined);
  const other = names.filter((n) => !named.includes(n));
  if (other.length > 0) throw new SiosError('ERR_INPUT', `${what}: the model has inputs SIOS cannot fill (${other.join(', ')}); only token ids, attention mask and token type ids are supported`);
  return { ids, ...(attentionMask ? { attentionMask } : {}), ...(tokenTypeIds ? { tokenTypeIds } : {}) };
}

/**
 * Measures the pack's files, checks that the model runs with the stated tensor names, signs the
 * manifest with `signer` and writes it to DIR/PACK_MANIFEST_FILE (replacing an earlier one).
 */
export async function signDetectorPack(dir: string, input: SignPackInput, signer: Signer): Promise<{ manifest: DetectorManifest; digest: string; envelope: SignedDetector; probeMs: number }> {
  if (typeof input !== 'object' || input === null) throw new SiosError('ERR_INPUT', 'signDetectorPack needs the pack description');
  for (const k of Object.keys(input)) if (!SIGN_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `signDetectorPack: unknown field '${k}'; allowed: ${SIGN_KEYS.join(', ')}`);
  const root = packRoot(dir);
  const what = `detector ${input.id}@${input.version}`;
  const rels: Partial<Record<PackFileRole, string>> = {
    model: input.files?.model ?? 'model.onnx',
    tokenizer: input.files?.tokenizer ?? 'tokenizer.json',
  };
  const cfg = input.files?.tokenizerConfig ?? (packHas(root, 'tokenizer_config.json') ? 'tokenizer_config.json' : undefined);
  if (cfg !== undefined) rels.tokenizerConfig = cfg;
  const bytes: Partial<Record<PackFileRole, Uint8Array>> = {};
  const pinned: Partial<Record<PackFileRole, PackFile>> = {};
  for (const role of ROLES) {
    const rel = rels[role];
    if (rel === undefined) continue;
    const r = await readPackFile(root, rel, role, what);
    bytes[role] = r.bytes; pinned[role] = r.file;
  }
  const session = await openSession(bytes.model!, what);
  let classifier: OnnxClassifier | undefined;
  try {
    const outputs = [...session.outputNames];
    const outputName = input.outputName ?? (outputs.length === 1 ? outputs[0]! : outputs.includes('logits') ? 'logits' : undefined);
    if (outputName === undefined) throw new SiosError('ERR_INPUT', `${what}: the model has several outputs (${outputs.join(', ')}); name the logits output with --output`);
    const maxTokens = input.maxTokens ?? 512;
    const manifest = parseDetectorManifest({
      id: input.id, version: input.version, description: input.description ?? '',
      licence: input.licence, provenance: input.provenance,
      files: pinned,
      inputs: defaultInputs(session, input.inputs, what),
      output: { name: outputName, injectionIndex: input.injectionIndex },
      maxTokens, strideTokens: input.strideTokens ?? Math.max(1, Math.floor(maxTokens / 2)),
      threshold: input.threshold,
    });
    classifier = await OnnxClassifier.create(manifest, { model: bytes.model!, tokenizer: bytes.tokenizer!, ...(bytes.tokenizerConfig ? { tokenizerConfig: bytes.tokenizerConfig } : {}) }, {}, session);
    const c = classifier;
    // One real run of a full window: the window length, the output shape and the class index are
    // checked before anything is signed.
    let probe: WindowScore;
    try {
      probe = await c.selfTest();
    } catch (cause) {
      if (cause instanceof SiosError && cause.code !== 'ERR_INTERNAL') throw cause;
      const why = ((cause as Error).cause as Error | undefined)?.message ?? (cause as Error).message;
      throw new SiosError('ERR_INPUT', `${what}: the model fails on a full window of ${manifest.maxTokens} tokens (${why.replace(/\s+/g, ' ').trim()}); set --max-tokens to at most the model's maximum sequence length`, { cause });
    }
    const envelope = await signDetectorManifest(manifest, signer);
    writeAtomic(root, PACK_MANIFEST_FILE, JSON.stringify(envelope, null, 2) + '\n');
    return { manifest, digest: manifestDigest(manifest), envelope, probeMs: probe.runMs };
  } finally {
    if (classifier) await classifier.close(); else await session.release().catch(() => undefined);
  }
}
