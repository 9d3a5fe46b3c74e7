/**
 * The intent draft and its digest. A person approves exactly this digest with their passkey
 * (the WebAuthn challenge), and the sealed intent OAR carries every draft field plus the
 * approvals, so anyone can recompute the digest from the ledger entry and check the assertion:
 *   digest = SHA-256("sios-intent/v1" || 0x00 || JCS(entry.body without digest, approvals, commitments) with args = commitments.args)
 */
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { concat, utf8 } from '../encoding/bytes.ts';
import { nodeVerifyCrypto } from '../crypto/node.ts';

export interface IntentDraft {
  principal: { id: string; name: string; role: string; clearance: number };
  credential: { kind: 'session' | 'token'; id: string };
  brain: { id: string; version: string; digest: string } | null;
  skill: { id: string; version: string; digest: string; risk: string; clearance: number };
  /** Salted commitment to the arguments (base64url); the arguments themselves are encrypted beside the ledger. */
  args: string;
  policy: { version: string; decision: string; policyIds: string[]; reasons: string[] };
  rate: Json;
  sentinel: Json;
  dryRun: Json | null;
  needs: { brains: number; human: boolean };
  nonce: string;
}

export function intentDigest(d: IntentDraft): Uint8Array {
  return nodeVerifyCrypto.sha256(concat(utf8('sios-intent/v1'), Uint8Array.of(0), utf8(canonicalize(d as unknown as Json))));
}

/** Recompute the digest from a sealed intent entry's body (for auditors and tests). */
export function digestOfSealedIntent(body: Record<string, Json>): Uint8Array {
  const { digest: _d, approvals: _a, commitments, ...rest } = body as Record<string, Json> & { commitments?: Record<string, Json> };
  void _d; void _a;
  const draft = { ...rest, args: (commitments as Record<string, Json> | undefined)?.['args'] } as unknown as IntentDraft;
  return intentDigest(draft);
}
