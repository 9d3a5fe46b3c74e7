/**
 * Multi-brain approval: k independent approving brains, each distinct from the proposing brain
 * and from each other, review the proposed call and its dry-run result and return a verdict
 * signed with their own verdict key, bound to the intent digest. An approver must be granted (in
 * this tenant) the skill it reviews; its review runs as an in-flight call, so revoking it aborts
 * the review. Any failure of an approver counts as no approval (fail closed) and is reported.
 */
import { SiosError } from '../errors.ts';
import { parseBrainRef } from './manifest.ts';
import type { BrainRegistry } from './registry.ts';
import type { ToolCall } from './runtime.ts';
import { signVerdict, type SignedVerdict } from './verdict.ts';

export interface ApprovalRequest {
  readonly registry: BrainRegistry;
  readonly tenant: string;
  /** id (or id@version) of the brain that proposed the call. */
  readonly proposer: string;
  /** Approving brains to ask, in order ("id" or "id@version"). */
  readonly approvers: readonly string[];
  /** Approvals needed. */
  readonly k: number;
  /** Digest of the intent under review (the gate's OAR digest). */
  readonly intent: string;
  readonly proposal: ToolCall;
  readonly dryRun: unknown;
  /** Loopback endpoint per approver, for openai-chat brains without one in their manifest. */
  readonly endpointFor?: (ref: string) => string | undefined;
}

export interface ApprovalResult {
  readonly approved: boolean;
  /** Every verdict obtained (approve and reject), signed and verified. */
  readonly verdicts: readonly SignedVerdict[];
  readonly failures: readonly { readonly brain: string; readonly code: string; readonly message: string }[];
}

export async function collectApprovals(r: ApprovalRequest): Promise<ApprovalResult> {
  if (!Number.isSafeInteger(r.k) || r.k < 1 || r.k > 16) throw new SiosError('ERR_INPUT', 'k (approving brains required) must be an integer 1..16');
  const proposer = parseBrainRef(r.proposer).id;
  const seen = new Set<string>([proposer]);
  const approvers: string[] = [];
  for (const a of r.approvers) {
    const id = parseBrainRef(a).id;
    if (seen.has(id)) throw new SiosError('ERR_APPROVAL', `approving brain ${id} is ${id === proposer ? 'the proposing brain' : 'listed twice'}; approvals must come from ${r.k} distinct brains other than the proposer`);
    seen.add(id);
    approvers.push(a);
  }
  if (approvers.length < r.k) throw new SiosError('ERR_APPROVAL', `tenant policy requires ${r.k} approving brains but only ${approvers.length} are configured; grant more approving brains to tenant ${r.tenant}`);
  const verdicts: SignedVerdict[] = [];
  const failures: { brain: string; code: string; message: string }[] = [];
  let approvals = 0;
  for (const a of approvers) {
    if (approvals >= r.k) break;
    const id = parseBrainRef(a).id;
    let call: { signal: AbortSignal; end(): void } | undefined;
    try {
      const res = await r.registry.resolve(r.tenant, a, r.proposal.skill);
      call = r.registry.beginCall(r.tenant, id);
      const endpoint = r.endpointFor?.(res.brain.ref);
      const { runtime } = await r.registry.load(r.tenant, res.brain.ref, endpoint === undefined ? {} : { endpoint });
      const out = await runtime.review({ proposal: r.proposal, dryRun: r.dryRun, signal: call.signal });
      call.signal.throwIfAborted();
      r.registry.assertCurrent(res);
      const signer = await r.registry.verdictSigner(res.brain.ref);
      const v = await signVerdict({ brain: res.brain.ref, manifest: res.brain.digest, intent: r.intent, verdict: out.verdict, reason: out.reason }, signer);
      await r.registry.verifyVerdict(v, { intent: r.intent });
      verdicts.push(v);
      if (v.verdict === 'approve') approvals++;
    } catch (e) {
      failures.push({ brain: a, code: e instanceof SiosError ? e.code : 'ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) });
    } finally {
      call?.end();
    }
  }
  return { approved: approvals >= r.k, verdicts, failures };
}
