/**
 * A brain's turn: the brain proposes tool calls for a task, and every call goes through the gate
 * like any other action. The brain never executes anything itself.
 */
import type { Json } from '../encoding/jcs.ts';
import type { BrainRegistry } from '../brains/registry.ts';
import type { WorkingMemory } from '../brains/memory.ts';
import { toolSpec } from '../brains/runtime.ts';
import type { RetrievedItem, TurnGuard } from '../sentinel/context.ts';
import { guardedTurn } from '../sentinel/turn.ts';
import type { ActionResult, Gate } from './gate.ts';

export interface TurnResult {
  text: string | undefined;
  calls: { skill: string; args: unknown; result?: ActionResult; error?: { code: string; message: string } }[];
}

/**
 * With a guard (Sentinel), retrieved context is scanned, injections are quarantined, the rest is
 * datamarked and labelled, and each proposed call carries labels derived from what the brain read.
 */
export async function runTurn(o: { gate: Gate; registry: BrainRegistry; credential: string; tenant: string; brain: string; task: string; context?: RetrievedItem[]; guard?: TurnGuard | undefined; clearance?: number; memory?: WorkingMemory | undefined }): Promise<TurnResult> {
  const result = await turn(o);
  if (o.memory) {
    // The brain's working memory for this credential's session, encrypted under the tenant's key:
    // what it was asked, what it read (quarantined items excepted) and what came of its calls.
    const caller = o.gate.authenticate(o.credential, o.tenant, 'skills.invoke.records.read');
    const mem = o.memory.session(`${caller.credential.kind}-${caller.credential.id}`, o.brain.split("@")[0]!);
    const quarantined = new Set((result as { quarantined?: string[] }).quarantined ?? []);
    for (const c of o.context ?? []) if (!quarantined.has(c.source)) mem.append('context', { source: c.source, text: c.text.slice(0, 16_384) });
    mem.append('turn', { task: o.task, text: result.text ?? null, calls: result.calls.map((c) => ({ skill: c.skill, status: c.result?.status ?? 'refused', ...(c.error ? { error: c.error.code } : {}) })) });
  }
  return result;
}

async function turn(o: Parameters<typeof runTurn>[0]): Promise<TurnResult> {
  const { runtime } = await o.registry.load(o.tenant, o.brain);
  const grant = o.registry.grants(o.tenant).find((g) => `${g.brain}@${g.version}` === o.brain || g.brain === o.brain);
  const tools = [];
  for (const s of grant?.skills ?? []) tools.push(toolSpec((await o.registry.skill(s)).manifest));
  if (o.guard) return guardedTurn({ gate: o.gate, guard: o.guard, runtime, tools, credential: o.credential, tenant: o.tenant, brain: o.brain, task: o.task, context: o.context ?? [], ...(o.clearance === undefined ? {} : { clearance: o.clearance }) });
  const proposal = await runtime.propose({ task: o.task, context: o.context ?? [], tools, signal: AbortSignal.timeout(30_000) });
  const out: TurnResult = { text: proposal.text, calls: [] };
  for (const c of proposal.calls) {
    try {
      const result = await o.gate.submit({ credential: o.credential, tenant: o.tenant, brain: o.brain, skill: c.skill, args: c.args as Json });
      out.calls.push({ skill: c.skill, args: c.args, result });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      out.calls.push({ skill: c.skill, args: c.args, error: { code: err.code ?? 'ERR_INTERNAL', message: err.message ?? String(e) } });
    }
  }
  return out;
}
