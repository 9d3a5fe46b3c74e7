/**
 * Signed review verdicts of approving brains. Each brain has its own ML-DSA-65 verdict key,
 * generated when the brain is added (registry.ts). The signature is over
 *   utf8("SIOS brain verdict v1\n") || JCS({ v, brain, manifest, intent, verdict, reason })
 * binding the digest of the intent under review, the brain (id@version and manifest digest), the
 * verdict and the reason; change any of them and the signature no longer verifies.
 */
import { SiosError } from '../errors.ts';
import { concat, fromBase64url, toBase64url, utf8 } from '../encoding/bytes.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';
import type { Signer } from '../crypto/suite.ts';
import { describeValue } from '../skills/envelope.ts';
import { MAX_REASON } from './runtime.ts';

export const VERDICT_DOMAIN = 'SIOS brain verdict v1\n';

export interface VerdictBody {
  readonly v: 1;
  /** "id@version" of the reviewing brain. */
  readonly brain: string;
  /** Manifest digest of the reviewing brain. */
  readonly manifest: string;
  /** Digest of the intent (OAR) under review, as the gate writes it. */
  readonly intent: string;
  readonly verdict: 'approve' | 'reject';
  readonly reason: string;
}

export interface SignedVerdict extends VerdictBody {
  /** base64url ML-DSA-65 signature by the brain's verdict key. */
  readonly signature: string;
}

function checkBody(b: unknown): VerdictBody {
  if (typeof b !== 'object' || b === null) throw new SiosError('ERR_INPUT', 'a verdict must be an object');
  const o = b as Record<string, unknown>;
  const s = (k: string, max: number): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || !v.isWellFormed()) throw new SiosError('ERR_INPUT', `verdict field "${k}" must be a 1-${max} character string, got ${describeValue(v)}`);
    return v;
  };
  if (o['v'] !== 1) throw new SiosError('ERR_INPUT', `verdict format version must be 1, got ${describeValue(o['v'])}`);
  if (o['verdict'] !== 'approve' && o['verdict'] !== 'reject') throw new SiosError('ERR_INPUT', `verdict must be "approve" or "reject", got ${describeValue(o['verdict'])}`);
  return { v: 1, brain: s('brain', 200), manifest: s('manifest', 200), intent: s('intent', 256), verdict: o['verdict'], reason: s('reason', MAX_REASON) };
}

function message(b: VerdictBody): Uint8Array {
  return concat(utf8(VERDICT_DOMAIN), utf8(canonicalize({ v: b.v, brain: b.brain, manifest: b.manifest, intent: b.intent, verdict: b.verdict, reason: b.reason })));
}

export async function signVerdict(body: Omit<VerdictBody, 'v'>, signer: Signer): Promise<SignedVerdict> {
  const b = checkBody({ v: 1, ...body, reason: body.reason === '' ? '(no reason given)' : body.reason });
  return { ...b, signature: toBase64url(await signer.sign(message(b))) };
}

/**
 * Verifies `v` with the brain's verdict public key and, when given, that it is about `intent`.
 * Throws ERR_VERIFY on any mismatch (never returns false).
 */
export async function verifyVerdict(v: unknown, publicKey: Uint8Array, expect: { intent?: string; brain?: string } = {}): Promise<SignedVerdict> {
  const b = checkBody(v);
  const sigText = (v as Record<string, unknown>)['signature'];
  if (typeof sigText !== 'string') throw new SiosError('ERR_VERIFY', `the verdict of brain ${b.brain} is unsigned`);
  const sig = fromBase64url(sigText, 'verdict signature');
  if (!(await nodeVerifyCrypto.verifyMlDsa65(publicKey, message(b), sig))) {
    throw new SiosError('ERR_VERIFY', `the verdict of brain ${b.brain} does not verify with that brain's verdict key: it was altered or signed by another key`);
  }
  if (expect.intent !== undefined && b.intent !== expect.intent) throw new SiosError('ERR_VERIFY', `the verdict of brain ${b.brain} is about intent ${b.intent.slice(0, 80)}, not ${expect.intent.slice(0, 80)}; it cannot be reused for another action`);
  if (expect.brain !== undefined && b.brain !== expect.brain) throw new SiosError('ERR_VERIFY', `the verdict names brain ${b.brain}, expected ${expect.brain}`);
  return { ...b, signature: sigText };
}
