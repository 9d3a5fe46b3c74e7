/**
 * Working with context: what the agent loop does around a brain's proposal (issue 5).
 *
 *  1. Every retrieved item (tool result, record, document) is scanned; an item judged injection is
 *     QUARANTINED (encrypted, sealed, never shown to the brain). The rest are datamarked (labels.ts
 *     `datamark`) and read into the turn as untrusted, so the brain's output carries their label.
 *  2. A canary token goes into the brain's system context; its appearance in the brain's text or in
 *     a proposed call's arguments is a leak (the hook denies the call, the loop withholds the text).
 *  3. Provenance of a proposed call, by counterfactual planning: the brain is asked once more with
 *     the trusted context only (system note + the principal's task). A call it proposes identically
 *     without having read any untrusted item could not have been caused by that content, so its
 *     arguments are labelled trusted principal input; every other call is labelled with the join of
 *     everything the brain read (Turn.outputLabel). This is the CaMeL idea (plan from the trusted
 *     query alone) applied to an unmodified brain; a nondeterministic brain only loses convenience
 *     (mismatches fall back to the untrusted label), never safety.
 * Labels are vouched for with the LabelAuthority the gate's hook shares, so the gate believes them.
 */
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import type { BrainRuntime, ContextItem, ToolCall, ToolSpec } from '../brains/runtime.ts';
import { datamark, label, labeled, Turn, type Confidentiality, type Integrity, type Label, type SourceKind } from './labels.ts';
import { canaryInstruction, findCanaries, makeCanary, type Canary, type CanaryFinding } from './canary.ts';
import type { LabelAuthority } from './hook.ts';
import type { Quarantine, QuarantinedItem } from './quarantine.ts';
import type { Verdict } from './detector.ts';

/** Canaries currently planted in some brain's context, per tenant (the hook reads them). */
export class CanaryBook {
  readonly #live = new Map<string, Set<Canary>>();
  issue(tenant: string): Canary {
    const c = makeCanary();
    let s = this.#live.get(tenant);
    if (!s) { s = new Set(); this.#live.set(tenant, s); }
    s.add(c);
    return c;
  }
  retire(tenant: string, c: Canary): void {
    this.#live.get(tenant)?.delete(c);
  }
  active(tenant: string): readonly Canary[] {
    return [...(this.#live.get(tenant) ?? [])];
  }
}

/** A retrieved item with what the caller knows of its origin. */
export interface RetrievedItem extends ContextItem {
  /** Default 'tool-result'. */
  readonly kind?: SourceKind;
  /** Default: the principal's clearance (the brain read it on their behalf). */
  readonly confidentiality?: Confidentiality;
  /** Default by kind (labels.ts): only 'principal' is trusted. */
  readonly integrity?: Integrity;
}

export interface GuardOptions {
  /** The detector, or null to rely on labels alone (then nothing is quarantined). */
  scan: ((text: string) => Verdict | Promise<Verdict>) | null;
  authority: LabelAuthority;
  canaries: CanaryBook;
  /** The tenant's quarantine; required when scan is set. */
  quarantine?: (tenant: string) => Quarantine;
}

export interface GuardedCall {
  readonly skill: string;
  readonly args: unknown;
  /** Wire labels for ActionRequest.labels (vouched). */
  readonly labels: Json;
  /** True when the brain proposed this call from trusted context alone. */
  readonly planned: boolean;
}

export interface GuardedProposal {
  /** The brain's text, or undefined when withheld for a canary leak. */
  readonly text: string | undefined;
  readonly calls: readonly GuardedCall[];
  readonly quarantined: readonly QuarantinedItem[];
  readonly leaks: readonly CanaryFinding[];
  /** The label of everything the brain read this turn. */
  readonly read: Label;
  /** Retire this turn's canary once its calls went through the gate. */
  end(): void;
}

export class TurnGuard {
  readonly #o: GuardOptions;
  constructor(o: GuardOptions) {
    for (const k of Object.keys(o)) if (!['scan', 'authority', 'canaries', 'quarantine'].includes(k)) throw new SiosError('ERR_INPUT', `TurnGuard: unknown option '${k}'`);
    if (o.scan !== null && typeof o.scan !== 'function') throw new SiosError('ERR_INPUT', 'TurnGuard: scan must be the detector function or null');
    if (o.scan !== null && o.quarantine === undefined) throw new SiosError('ERR_INPUT', 'TurnGuard: with a detector, a quarantine is required (detected items must go somewhere reviewable)');
    this.#o = o;
  }

  /**
   * One guarded proposal: quarantine, datamark, plant a canary, ask the brain (twice: trusted
   * context only, then everything), label each proposed call.
   */
  async propose(i: { runtime: BrainRuntime; tenant: string; clearance: number; task: string; context: readonly RetrievedItem[]; tools: readonly ToolSpec[]; signal: AbortSignal }): Promise<GuardedProposal> {
    const o = this.#o;
    const turn = new Turn();
    const conf = Math.min(4, Math.max(0, Math.trunc(i.clearance))) as Confidentiality;
    const canary = o.canaries.issue(i.tenant);
    const end = (): void => o.canaries.retire(i.tenant, canary);
    try {
      const quarantined: QuarantinedItem[] = [];
      const trustedShown: ContextItem[] = [];
      const shown: ContextItem[] = [];
      let instruction: string | undefined;
      turn.read(labeled(i.task, label('principal', 0, 'trusted')));
      for (const item of i.context) {
        const kind = item.kind ?? 'tool-result';
        const l = label(kind, item.confidentiality ?? conf, item.integrity);
        if (l.integrity === 'trusted') { trustedShown.push({ source: item.source, text: turn.read(labeled(item.text, l)) }); continue; }
        if (o.scan) {
          const v = await scanOrHold(o.scan, item.text);
          if (v.verdict === 'injection') {
            quarantined.push(await (o.quarantine as (t: string) => Quarantine)(i.tenant).hold({ source: item.source, text: item.text, verdict: v }));
            continue;
          }
        }
        const m = datamark(turn.read(labeled(item.text, l)), kind);
        instruction = m.instruction;
        shown.push({ source: item.source, text: m.text });
      }
      const system: ContextItem = { source: 'sios:system', text: [canaryInstruction(canary), instruction ?? ''].join(' ').trim() };
      // The plan sees no untrusted item, so nothing in it can have been injected.
      const plan = await i.runtime.propose({ task: i.task, context: [system, ...trustedShown], tools: i.tools, signal: i.signal });
      const full = await i.runtime.propose({ task: i.task, context: [system, ...trustedShown, ...shown], tools: i.tools, signal: i.signal });
      const planned = new Set(plan.calls.map(callKey).filter((k): k is string => k !== null));
      const read = turn.outputLabel();
      const trusted = label('principal', 0, 'trusted');
      const calls: GuardedCall[] = full.calls.map((c) => {
        const key = callKey(c);
        const isPlanned = key !== null && planned.has(key);
        return { skill: c.skill, args: c.args, planned: isPlanned, labels: o.authority.vouch(i.tenant, c.skill, c.args, { default: isPlanned ? trusted : read }) };
      });
      const leaks = full.text === undefined ? [] : findCanaries(full.text, [canary]);
      return { text: leaks.length > 0 ? undefined : full.text, calls, quarantined, leaks, read, end };
    } catch (e) {
      end();
      throw e;
    }
  }
}

/** Identity of a call for plan matching; null (never matches) when the arguments are not plain JSON. */
function callKey(c: ToolCall): string | null {
  try { return c.skill + '\u0000' + canonicalize(c.args as Json); } catch { return null; }
}

/**
 * The detector's verdict on one context item. A text longer than the detector may score (an ONNX pack's
 * bound) is neither shown unscored nor allowed to fail the whole turn: it is held in quarantine, with
 * the reason, for a person to review and release.
 */
async function scanOrHold(scan: (t: string) => Verdict | Promise<Verdict>, text: string): Promise<Verdict> {
  try {
    return await scan(text);
  } catch (e) {
    if (e instanceof SiosError && e.code === 'ERR_TOO_LARGE') return { verdict: 'injection', score: 1, reasons: ['too-large-to-scan', e.message] };
    throw e;
  }
}
