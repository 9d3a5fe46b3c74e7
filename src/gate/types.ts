/**
 * What the gate needs from the rest of SIOS, as narrow interfaces: the gate composes the parts
 * (DESIGN.md "gate/"), and each part stays testable on its own.
 */
import type { Json } from '../encoding/jcs.ts';
import type { PolicyPrincipal } from '../policy/engine.ts';

export type Risk = 'read' | 'write' | 'high-impact';

/** A resolved, verified skill ready to run. */
export interface SkillHandle {
  id: string;
  version: string;
  /** SHA-256 of the signed manifest (base64url), recorded in every OAR. */
  digest: string;
  risk: Risk;
  clearance: number;
  /** Argument names that may carry untrusted data (Sentinel). */
  untrustedArgs: readonly string[];
  maxConfidentiality: number;
  hasDryRun: boolean;
  validateArgs(args: unknown): void;
  validateResult(result: unknown): void;
  /** Throws ERR_REVOKED if the grant changed since this handle was resolved (checked right before execution). */
  assertCurrent(): void;
  execute(ctx: SkillContext, args: unknown): Promise<Json>;
  dryRun(ctx: SkillContext, args: unknown): Promise<Json>;
}

export interface BrainHandle {
  id: string;
  version: string;
  digest: string;
}

export interface SkillContext {
  tenant: string;
  principal: PolicyPrincipal;
  signal: AbortSignal;
}

/** Brains, skills and grants (brains/, skills/). */
export interface Capabilities {
  /** Resolve a brain's grant and one of its skills in a tenant; throws ERR_REVOKED / ERR_FORBIDDEN / ERR_NOT_FOUND. */
  resolve(tenant: string, brain: string | null, skill: string): Promise<{ brain: BrainHandle | null; skill: SkillHandle }>;
  /** Register an in-flight call so that revocation aborts it. */
  beginCall(tenant: string, brain: string | null): { signal: AbortSignal; end(): void };
  /** Up to k approving brains granted to the tenant, other than `exclude`, each giving a signed verdict. */
  review(tenant: string, exclude: string | null, k: number, request: { digest: Uint8Array; proposal: Json; dryRun: Json | null; signal: AbortSignal }): Promise<BrainVerdict[]>;
}

export interface BrainVerdict {
  brain: string;
  verdict: 'approve' | 'reject';
  reason: string;
  /** ML-DSA-65 signature of the brain's verdict key over the digest and verdict (base64url). */
  signature: string;
  publicKey: string;
}

/** Sentinel's hook: a no-op until Sentinel decides (issue 5). */
export interface SentinelHook {
  inspect(request: { tenant: string; principal: PolicyPrincipal; brain: BrainHandle | null; skill: SkillHandle; args: unknown; labels?: Json }): Promise<SentinelVerdict>;
}

export interface SentinelVerdict {
  decision: 'allow' | 'require-approval' | 'deny';
  reasons: string[];
  labels?: Json;
}

export const allowAllSentinel: SentinelHook = {
  async inspect() { return { decision: 'allow', reasons: [] }; },
};
