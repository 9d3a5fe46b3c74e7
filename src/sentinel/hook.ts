/**
 * Sentinel's gate hook (issue 5): decides, per action, whether data of the provenance the caller
 * reports may flow into the skill's arguments.
 *
 * Labels on the wire (ActionRequest.labels, sealed back into the intent OAR's `sentinel.labels`):
 *   { "v": 1, "args"?: { "<arg>": Label }, "default"?: Label, "mac"?: "..." }
 * with Label = { "source": [SourceKind...], "integrity": "trusted"|"untrusted", "confidentiality": 0..4 }.
 *
 * The rule for an argument's label (the fallback F first):
 *   1. a person acting directly (brain null): F = trusted principal input, confidentiality 0 —
 *      the person typed it and is accountable for it;
 *   2. else (a brain proposed the call and nobody says what it read): untrusted, from source
 *      'brain', as confidential as anything the principal may read (their clearance). We cannot
 *      rule out that the brain read untrusted content, so we fail closed. `unlabelledBrain:
 *      'trusted'` turns this off for deployments whose brains never read external content.
 * An argument's own label (or `default`) replaces F when SIOS's agent loop vouched for the labels
 * (LabelAuthority MAC over tenant, skill and arguments); otherwise it is joined with F, so a caller
 * can declare data untrusted or secret, never launder it into trusted.
 * Then checkFlow (labels.ts) decides: above the skill's confidentiality limit → deny; untrusted
 * data in an argument the skill has not declared in `untrustedArgs` → deny; any untrusted argument
 * of a skill at or above `approvalAt` risk (default: every write, since a write is an effect) →
 * require-approval (dry run + a named person's passkey), or deny where `onUntrustedEffect` says so.
 * Finally every string inside an untrusted argument is scanned by the detector (deny on
 * 'injection'), and every argument is searched for active canary tokens (deny: a leak).
 */
import * as nodeCrypto from 'node:crypto';
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import type { PolicyPrincipal } from '../policy/engine.ts';
import type { BrainHandle, Risk, SentinelHook, SentinelVerdict, SkillHandle } from '../gate/types.ts';
import { checkFlow, label, join, type Confidentiality, type Label, type SkillFlowDecl, type SourceKind } from './labels.ts';
import { findCanaries, type Canary } from './canary.ts';
import type { Verdict } from './detector.ts';

export type EffectRule = 'require-approval' | 'deny';

export interface SentinelHookOptions {
  /**
   * The detector (index.ts `scan`), or null to rely on labels alone. May be async, e.g. the
   * built-in detector with an ONNX plug-in (onnx/combined.ts): `(t) => combined.scan(t)`.
   */
  scan: ((text: string) => Verdict | Promise<Verdict>) | null;
  /** Canaries live in some brain's context in this tenant now (context.ts CanaryBook). */
  canaries?: (tenant: string) => readonly Canary[];
  /** Lowest skill risk at which untrusted arguments need a person (default 'write'). */
  approvalAt?: Exclude<Risk, 'read'>;
  /** Per tenant, per skill (or '*'): what an untrusted-derived effect gets (default require-approval). */
  onUntrustedEffect?: Readonly<Record<string, Readonly<Record<string, EffectRule>>>>;
  /** Label rule 2 above (default 'untrusted'). */
  unlabelledBrain?: 'untrusted' | 'trusted';
  /** Longest text of one argument handed to the detector (default 256 KiB); longer is denied. */
  maxScanChars?: number;
  /** Shared with the agent loop's TurnGuard: labels it vouches for are believed as given. */
  authority?: LabelAuthority;
}

const OPTION_KEYS = ['scan', 'canaries', 'approvalAt', 'onUntrustedEffect', 'unlabelledBrain', 'maxScanChars', 'authority'];
const SOURCES: readonly SourceKind[] = ['principal', 'tenant-record', 'tool-result', 'egress-response', 'file', 'brain'];
const RISK_ORDER: Readonly<Record<Risk, number>> = { read: 0, write: 1, 'high-impact': 2 };

/** Parse one Label from the wire; throws ERR_INPUT with the path on anything unexpected. */
export function parseLabel(v: unknown, what: string): Label {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SiosError('ERR_INPUT', `${what} must be a label object {source, integrity, confidentiality}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'source' && k !== 'integrity' && k !== 'confidentiality') throw new SiosError('ERR_INPUT', `${what}: unknown key '${k.slice(0, 40)}'`);
  const src = o['source'];
  if (!Array.isArray(src) || src.length === 0 || src.length > SOURCES.length) throw new SiosError('ERR_INPUT', `${what}.source must be a non-empty array of sources`);
  const parts = src.map((s, i) => {
    if (!SOURCES.includes(s as SourceKind)) throw new SiosError('ERR_INPUT', `${what}.source[${i}] is not one of ${SOURCES.join(', ')}`);
    return label(s as SourceKind, o['confidentiality'] as Confidentiality, o['integrity'] as 'trusted' | 'untrusted');
  });
  return join(...parts);
}

export function labelToJson(l: Label): Json {
  return { source: [...l.source], integrity: l.integrity, confidentiality: l.confidentiality };
}

/** The wire form the agent loop sends with a call. */
export function labelsJson(o: { default?: Label; args?: Readonly<Record<string, Label>> }): Json {
  const out: Record<string, Json> = { v: 1 };
  if (o.default) out['default'] = labelToJson(o.default);
  if (o.args) out['args'] = Object.fromEntries(Object.entries(o.args).map(([k, l]) => [k, labelToJson(l)]));
  return out;
}

interface ParsedLabels { default: Label | undefined; args: Record<string, Label> }

function parseLabels(v: Json | undefined): ParsedLabels | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SiosError('ERR_INPUT', 'labels must be an object {v: 1, args?, default?}');
  for (const k of Object.keys(v)) if (k !== 'v' && k !== 'args' && k !== 'default' && k !== 'mac') throw new SiosError('ERR_INPUT', `labels: unknown key '${k.slice(0, 40)}'`);
  if (v['v'] !== 1) throw new SiosError('ERR_INPUT', 'labels.v must be 1');
  const args: Record<string, Label> = {};
  const a = v['args'];
  if (a !== undefined) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new SiosError('ERR_INPUT', 'labels.args must be an object of labels by argument name');
    for (const [k, l] of Object.entries(a)) args[k] = parseLabel(l, `labels.args.${k.slice(0, 40)}`);
  }
  return { default: v['default'] === undefined ? undefined : parseLabel(v['default'], 'labels.default'), args };
}

/** Every string (keys included: a key is text the brain chose too) inside a JSON value. */
function strings(v: unknown, out: string[], depth = 0): void {
  if (depth > 64) throw new SiosError('ERR_INPUT', 'argument nesting is deeper than 64 levels');
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out, depth + 1);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); strings(x, out, depth + 1); }
}

function fingerprint(token: string): string {
  // Evidence names the canary without repeating it (the ledger is read by more people than the prompt).
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) { h ^= token.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, '0');
}

export function createSentinelHook(opts: SentinelHookOptions): SentinelHook {
  if (typeof opts !== 'object' || opts === null) throw new SiosError('ERR_INPUT', 'createSentinelHook needs an options object');
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new SiosError('ERR_INPUT', `createSentinelHook: unknown option '${k}'; allowed: ${OPTION_KEYS.join(', ')}`);
  if (opts.scan !== null && typeof opts.scan !== 'function') throw new SiosError('ERR_INPUT', 'createSentinelHook: scan must be the detector function or null (labels only)');
  const approvalAt = opts.approvalAt ?? 'write';
  if (approvalAt !== 'write' && approvalAt !== 'high-impact') throw new SiosError('ERR_INPUT', `approvalAt must be 'write' or 'high-impact', got ${String(approvalAt)}`);
  const unlabelled = opts.unlabelledBrain ?? 'untrusted';
  if (unlabelled !== 'untrusted' && unlabelled !== 'trusted') throw new SiosError('ERR_INPUT', `unlabelledBrain must be 'untrusted' or 'trusted'`);
  const maxScan = opts.maxScanChars ?? 256 * 1024;
  const effects = opts.onUntrustedEffect ?? {};
  for (const [t, m] of Object.entries(effects)) for (const [s, r] of Object.entries(m)) {
    if (r !== 'require-approval' && r !== 'deny') throw new SiosError('ERR_INPUT', `onUntrustedEffect.${t}.${s} must be 'require-approval' or 'deny'`);
  }
  const effectRule = (tenant: string, skill: string): EffectRule =>
    effects[tenant]?.[skill] ?? effects[tenant]?.['*'] ?? effects['*']?.[skill] ?? effects['*']?.['*'] ?? 'require-approval';

  return {
    async inspect(req: { tenant: string; principal: PolicyPrincipal; brain: BrainHandle | null; skill: SkillHandle; args: unknown; labels?: Json }): Promise<SentinelVerdict> {
      const { skill } = req;
      let parsed: ParsedLabels | undefined;
      try {
        parsed = parseLabels(req.labels);
      } catch (e) {
        return { decision: 'deny', reasons: [`the provenance labels are malformed (${(e as Error).message}); fail closed`] };
      }
      if (typeof req.args !== 'object' || req.args === null || Array.isArray(req.args)) {
        return { decision: 'deny', reasons: ['arguments are not an object; Sentinel cannot attribute provenance'] };
      }
      const args = req.args as Record<string, unknown>;
      let rule: 'vouched' | 'claimed' | 'principal' | 'unlabelled-brain';
      let fallback: Label;
      if (req.brain === null) { rule = 'principal'; fallback = label('principal', 0, 'trusted'); }
      else if (unlabelled === 'trusted') { rule = 'unlabelled-brain'; fallback = label('brain', 0, 'trusted'); }
      else { rule = 'unlabelled-brain'; fallback = label('brain', Math.min(4, Math.max(0, req.principal.clearance)) as Confidentiality, 'untrusted'); }
      // Believe labels as given only when SIOS's own loop vouched for them (see LabelAuthority).
      const vouched = parsed !== undefined && opts.authority !== undefined && opts.authority.verify(req.tenant, skill.id, args, req.labels as Record<string, Json>);
      if (parsed?.default) {
        if (vouched) fallback = parsed.default; else fallback = join(parsed.default, fallback);
      }
      const argLabels: Record<string, Label> = {};
      for (const name of Object.keys(args)) {
        const own = parsed?.args[name];
        argLabels[name] = own === undefined ? fallback : (vouched ? own : join(own, fallback));
      }
      const reasons: string[] = [];
      const deny: string[] = [];
      for (const name of Object.keys(parsed?.args ?? {})) if (!Object.hasOwn(args, name)) deny.push(`a label names argument '${name.slice(0, 40)}', which the call does not have`);

      const decl: SkillFlowDecl = {
        skill: skill.id,
        impact: RISK_ORDER[skill.risk] >= RISK_ORDER[approvalAt] ? 'high' : 'low',
        args: Object.fromEntries(Object.keys(args).map((n) => [n, { acceptsUntrusted: skill.untrustedArgs.includes(n) }])),
        maxConfidentiality: Math.min(4, Math.max(0, skill.maxConfidentiality)) as Confidentiality,
        onUntrustedHighImpact: effectRule(req.tenant, skill.id),
      };
      const flow = checkFlow(decl, argLabels);
      if (flow.decision === 'deny') deny.push(...flow.reasons); else reasons.push(...flow.reasons);

      // Detector over untrusted argument text: a second line, never the only one.
      const scans: Json[] = [];
      if (opts.scan) {
        for (const [name, l] of Object.entries(argLabels)) {
          if (l.integrity !== 'untrusted') continue;
          const parts: string[] = [];
          strings(args[name], parts);
          const text = parts.join('\n');
          if (text.trim() === '') continue;
          if (text.length > maxScan) { deny.push(`argument '${name}' carries ${text.length} characters of untrusted text, over the ${maxScan} Sentinel scans`); continue; }
          const v = await opts.scan(text);
          scans.push({ arg: name, verdict: v.verdict, score: v.score, reasons: [...v.reasons].slice(0, 8) });
          if (v.verdict === 'injection') deny.push(`argument '${name}' carries text the detector judges a prompt injection (score ${v.score}: ${v.reasons.slice(0, 4).join(', ')})`);
        }
      }
      // Canaries: the brain's secret instructions must never reach a skill.
      const canaries = opts.canaries?.(req.tenant) ?? [];
      const leaks: Json[] = [];
      if (canaries.length > 0) {
        const all: string[] = [];
        strings(args, all);
        for (const f of findCanaries(all.join('\n'), canaries)) {
          leaks.push({ canary: fingerprint(f.token), via: f.via });
          deny.push(`the arguments contain a canary from the brain's instructions (canary ${fingerprint(f.token)}, ${f.via}): the instructions leaked`);
        }
      }
      if (parsed?.default || Object.keys(parsed?.args ?? {}).length > 0) rule = vouched ? 'vouched' : 'claimed';
      const labels: Json = {
        v: 1, rule, vouched,
        args: Object.fromEntries(Object.entries(argLabels).map(([k, l]) => [k, labelToJson(l)])),
        ...(scans.length ? { scans } : {}),
        ...(leaks.length ? { canaryLeaks: leaks } : {}),
      };
      if (deny.length > 0) return { decision: 'deny', reasons: [...deny, ...reasons], labels };
      if (flow.decision === 'require-approval') return { decision: 'require-approval', reasons, labels };
      return { decision: 'allow', reasons, labels };
    },
  };
}

/**
 * Labels vouched for by SIOS's own agent loop. Anyone can send `labels` through the API, so a label
 * that says "trusted" is believed only when it carries a MAC under this in-process key, bound to
 * the tenant, skill and exact arguments (no replay onto another call). Unvouched labels can only
 * make things worse: each is joined with the label rule's fallback.
 */
export class LabelAuthority {
  readonly #key = nodeCrypto.randomBytes(32);
  #mac(tenant: string, skill: string, args: unknown, body: Json): string {
    const input = canonicalize({ d: 'sios-sentinel-labels/v1', tenant, skill, args: args as Json, body });
    return nodeCrypto.createHmac('sha256', this.#key).update(input).digest('base64url');
  }
  /** Wire labels for one call, vouched. */
  vouch(tenant: string, skill: string, args: unknown, o: { default?: Label; args?: Readonly<Record<string, Label>> }): Json {
    const body = labelsJson(o) as Record<string, Json>;
    return { ...body, mac: this.#mac(tenant, skill, args, body) };
  }
  verify(tenant: string, skill: string, args: unknown, labels: Record<string, Json>): boolean {
    const { mac, ...body } = labels;
    if (typeof mac !== 'string') return false;
    let want: string;
    try { want = this.#mac(tenant, skill, args, body); } catch { return false; }
    const a = Buffer.from(mac), b = Buffer.from(want);
    return a.length === b.length && nodeCrypto.timingSafeEqual(a, b);
  }
}
