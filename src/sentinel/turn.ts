/**
 * A guarded brain turn (gate/agent.ts runTurn delegates here when Sentinel is on): the TurnGuard
 * prepares the context and labels each proposed call; every call then goes through the gate with
 * its vouched labels, so the hook decides on provenance and seals the labels in the intent OAR.
 * Also the factory that wires one Sentinel (hook + guard + quarantines) to a deployment.
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import type { Json } from '../encoding/jcs.ts';
import type { BrainRuntime, ToolSpec } from '../brains/runtime.ts';
import type { ActionRequest, ActionResult } from '../gate/gate.ts';
import type { SentinelHook } from '../gate/types.ts';
import { createSentinelHook, LabelAuthority, type SentinelHookOptions } from './hook.ts';
import { CanaryBook, TurnGuard, type RetrievedItem } from './context.ts';
import { Quarantine } from './quarantine.ts';
import type { Verdict } from './detector.ts';

export interface GuardedTurnResult {
  text: string | undefined;
  calls: { skill: string; args: unknown; planned: boolean; result?: ActionResult; error?: { code: string; message: string } }[];
  /** Ids of the items quarantined this turn (never shown to the brain). */
  quarantined: string[];
  /** Canary leaks in the brain's text (the text was withheld). */
  leaks: number;
}

export async function guardedTurn(o: {
  gate: { submit(req: ActionRequest): Promise<ActionResult> };
  guard: TurnGuard; runtime: BrainRuntime; tools: readonly ToolSpec[];
  credential: string; tenant: string; brain: string; task: string; context: readonly RetrievedItem[];
  /** The principal's clearance (confidentiality of what the brain reads for them); default 4, the most cautious. */
  clearance?: number;
  signal?: AbortSignal;
}): Promise<GuardedTurnResult> {
  const p = await o.guard.propose({
    runtime: o.runtime, tenant: o.tenant, clearance: o.clearance ?? 4, task: o.task, context: o.context, tools: o.tools,
    signal: o.signal ?? AbortSignal.timeout(30_000),
  });
  const out: GuardedTurnResult = { text: p.text, calls: [], quarantined: p.quarantined.map((q) => q.id), leaks: p.leaks.length };
  try {
    for (const c of p.calls) {
      try {
        const result = await o.gate.submit({ credential: o.credential, tenant: o.tenant, brain: o.brain, skill: c.skill, args: c.args as Json, labels: c.labels });
        out.calls.push({ skill: c.skill, args: c.args, planned: c.planned, result });
      } catch (e) {
        const err = e as { code?: string; message?: string };
        out.calls.push({ skill: c.skill, args: c.args, planned: c.planned, error: { code: err.code ?? 'ERR_INTERNAL', message: err.message ?? String(e) } });
      }
    }
  } finally {
    p.end();
  }
  return out;
}

/** What Sentinel needs from the deployment (deployment/deployment.ts has all of it). */
export interface SentinelDeployment {
  tenantDb(tenant: string): DatabaseSync;
  tenantDataKey(tenant: string): Uint8Array;
  ledger(tenant: string): { seal(req: { kind: string; body: Record<string, Json> }): Promise<{ seq: number }> };
}

export interface Sentinel {
  readonly hook: SentinelHook;
  readonly guard: TurnGuard;
  quarantine(tenant: string): Quarantine;
}

/**
 * One Sentinel for a deployment: the gate hook and the agent loop's guard share the label
 * authority and the canary book; quarantines are per tenant (own database, own data key).
 * `person(tenant, id)` checks a releasing person (an active principal of that tenant).
 */
export function createSentinel(d: SentinelDeployment, o: {
  scan: ((text: string) => Verdict | Promise<Verdict>) | null;
  person?: (tenant: string, principalId: string) => { name: string };
  hook?: Omit<SentinelHookOptions, 'scan' | 'canaries' | 'authority'>;
}): Sentinel {
  for (const k of Object.keys(o)) if (!['scan', 'person', 'hook'].includes(k)) throw new SiosError('ERR_INPUT', `createSentinel: unknown option '${k}'`);
  const authority = new LabelAuthority();
  const canaries = new CanaryBook();
  const quarantines = new Map<string, Quarantine>();
  const quarantine = (tenant: string): Quarantine => {
    let q = quarantines.get(tenant);
    if (!q) {
      const person = o.person;
      q = new Quarantine({
        tenant, db: d.tenantDb(tenant), dataKey: d.tenantDataKey(tenant),
        seal: (kind, body) => d.ledger(tenant).seal({ kind, body }),
        ...(person ? { person: (id: string) => person(tenant, id) } : {}),
      });
      quarantines.set(tenant, q);
    }
    return q;
  };
  const hook = createSentinelHook({ ...(o.hook ?? {}), scan: o.scan, canaries: (t) => canaries.active(t), authority });
  const guard = new TurnGuard({ scan: o.scan, authority, canaries, quarantine });
  return { hook, guard, quarantine };
}
