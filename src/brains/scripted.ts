/**
 * The scripted brain: in-process, deterministic, no weights. It is SIOS's embedded default (the
 * demo and tests run without a model) and a test instrument: in "obey" mode it follows any
 * instruction of the form `call <skill> with <json>` found in its context, which is exactly what a
 * prompt-injected model does, so Sentinel and the gate can be evaluated against it.
 *
 * Script (JSON, signed inside the brain manifest or pinned as its weights file):
 *   {
 *     "rules":   [{ "task": ["word", ...], "context": ["word", ...], "text": "...", "calls": [{ "skill": "...", "args": {...} }] }],
 *     "fallback": { "text": "...", "calls": [] },
 *     "obey":    false,
 *     "review":  { "rules": [{ "skill": "...", "argsContain": ["..."], "dryRunContains": ["..."], "verdict": "approve", "reason": "..." }],
 *                  "default": { "verdict": "reject", "reason": "..." } }
 *   }
 * A rule matches when every "task" word occurs in the task and every "context" word occurs in some
 * context item (case-insensitive substring). The first matching rule wins; then "fallback". In
 * args, the string "$task" is replaced by the task text. Review rules: first match wins; a review
 * rule matches when its skill (if given) is the proposal's, and each word occurs in the canonical
 * JSON of the arguments / the dry-run result. Same input, same output, always.
 */
import { SiosError } from '../errors.ts';
import { canonicalize, type Json } from '../encoding/jcs.ts';
import { arr, describeValue, ID_RE, obj, str, text } from '../skills/envelope.ts';
import { MAX_CALLS_PER_PROPOSAL, type BrainRuntime, type ContextItem, type Proposal, type ReviewVerdict, type ToolCall, type ToolSpec } from './runtime.ts';

export interface ScriptCall { readonly skill: string; readonly args: Json }
export interface ScriptRule {
  readonly task: readonly string[];
  readonly context: readonly string[];
  readonly text?: string;
  readonly calls: readonly ScriptCall[];
}
export interface ReviewRule {
  readonly skill?: string;
  readonly argsContain: readonly string[];
  readonly dryRunContains: readonly string[];
  readonly verdict: 'approve' | 'reject';
  readonly reason: string;
}
export interface BrainScript {
  readonly rules: readonly ScriptRule[];
  readonly fallback: { readonly text?: string; readonly calls: readonly ScriptCall[] };
  readonly obey: boolean;
  readonly review: { readonly rules: readonly ReviewRule[]; readonly default: { readonly verdict: 'approve' | 'reject'; readonly reason: string } };
}

const words = (v: unknown, what: string): string[] =>
  arr(v ?? [], what, 32).map((w, i) => { const t = text(w, `${what}[${i}]`, 256); if (t.length === 0) throw new SiosError('ERR_INPUT', `${what}[${i}] is empty`); return t; });

function calls(v: unknown, what: string): ScriptCall[] {
  return arr(v ?? [], what, MAX_CALLS_PER_PROPOSAL).map((c, i) => {
    const co = obj(c, `${what}[${i}]`, ['skill', 'args'], ['skill', 'args']);
    canonicalize(co['args']); // must be plain JSON
    return { skill: str(co['skill'], `${what}[${i}].skill`, ID_RE, 'a skill id'), args: co['args'] as Json };
  });
}

function verdictOf(v: unknown, what: string): 'approve' | 'reject' {
  if (v !== 'approve' && v !== 'reject') throw new SiosError('ERR_INPUT', `${what} must be "approve" or "reject", got ${describeValue(v)}`);
  return v;
}

export function parseScript(v: unknown, what = 'brain script'): BrainScript {
  const o = obj(v, what, ['rules', 'fallback', 'obey', 'review'], []);
  const rules = arr(o['rules'] ?? [], `${what}.rules`, 256).map((r, i) => {
    const w = `${what}.rules[${i}]`;
    const ro = obj(r, w, ['task', 'context', 'text', 'calls'], []);
    const rule: ScriptRule = { task: words(ro['task'], `${w}.task`), context: words(ro['context'], `${w}.context`), calls: calls(ro['calls'], `${w}.calls`) };
    return ro['text'] === undefined ? rule : { ...rule, text: text(ro['text'], `${w}.text`, 8192) };
  });
  const fo = obj(o['fallback'] ?? {}, `${what}.fallback`, ['text', 'calls'], []);
  const fallback = fo['text'] === undefined ? { calls: calls(fo['calls'], `${what}.fallback.calls`) }
    : { text: text(fo['text'], `${what}.fallback.text`, 8192), calls: calls(fo['calls'], `${what}.fallback.calls`) };
  if (o['obey'] !== undefined && typeof o['obey'] !== 'boolean') throw new SiosError('ERR_INPUT', `${what}.obey must be true or false`);
  const rv = obj(o['review'] ?? {}, `${what}.review`, ['rules', 'default'], []);
  const reviewRules = arr(rv['rules'] ?? [], `${what}.review.rules`, 256).map((r, i) => {
    const w = `${what}.review.rules[${i}]`;
    const ro = obj(r, w, ['skill', 'argsContain', 'dryRunContains', 'verdict', 'reason'], ['verdict', 'reason']);
    const rule: ReviewRule = {
      argsContain: words(ro['argsContain'], `${w}.argsContain`), dryRunContains: words(ro['dryRunContains'], `${w}.dryRunContains`),
      verdict: verdictOf(ro['verdict'], `${w}.verdict`), reason: text(ro['reason'], `${w}.reason`, 1024),
    };
    return ro['skill'] === undefined ? rule : { ...rule, skill: str(ro['skill'], `${w}.skill`, ID_RE, 'a skill id') };
  });
  const d = obj(rv['default'] ?? { verdict: 'reject', reason: 'no review rule approves this action' }, `${what}.review.default`, ['verdict', 'reason'], ['verdict', 'reason']);
  return {
    rules, fallback, obey: o['obey'] === true,
    review: { rules: reviewRules, default: { verdict: verdictOf(d['verdict'], `${what}.review.default.verdict`), reason: text(d['reason'], `${what}.review.default.reason`, 1024) } },
  };
}

const lc = (s: string): string => s.toLowerCase();

function substitute(v: Json, task: string): Json {
  if (v === '$task') return task;
  if (Array.isArray(v)) return v.map((x) => substitute(x, task));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, task)]));
  return v;
}

/**
 * Instructions of the form `call <skill> with <json object>` in `text`, in order of appearance.
 * The JSON object is delimited by brace matching outside strings; unparsable objects are skipped.
 */
export function findInstructions(s: string): ToolCall[] {
  const out: ToolCall[] = [];
  const re = /\bcall\s+([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*)\s+with\s*(?=\{)/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && out.length < MAX_CALLS_PER_PROPOSAL) {
    const start = re.lastIndex;
    let depth = 0, inStr = false, esc = false, end = -1;
    for (let i = start; i < s.length && i < start + 65536; i++) {
      const c = s[i];
      if (inStr) { if (esc) esc = false; else if (c === '\\') esc = true; else if (c === '"') inStr = false; continue; }
      if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}') { depth--; if (depth === 0) { end = i + 1; break; } }
    }
    if (end < 0) continue;
    try {
      out.push({ skill: m[1]!.toLowerCase(), args: JSON.parse(s.slice(start, end)) as unknown });
      re.lastIndex = end;
    } catch { /* not JSON: not an instruction this brain can follow */ }
  }
  return out;
}

export class ScriptedBrain implements BrainRuntime {
  readonly script: BrainScript;
  constructor(script: BrainScript | unknown) {
    this.script = parseScript(script);
  }

  async propose(input: { task: string; context: readonly ContextItem[]; tools: readonly ToolSpec[]; signal: AbortSignal }): Promise<Proposal> {
    input.signal.throwIfAborted();
    const task = lc(input.task);
    const ctx = input.context.map((c) => lc(c.text));
    const rule = this.script.rules.find((r) => r.task.every((w) => task.includes(lc(w))) && r.context.every((w) => ctx.some((c) => c.includes(lc(w)))));
    const chosen = rule ?? this.script.fallback;
    const out: ToolCall[] = chosen.calls.map((c) => ({ skill: c.skill, args: substitute(c.args, input.task) }));
    if (this.script.obey) {
      // A worst-case reader: like a real model it reads straight through datamarking (the U+02C6
      // marks put between words of untrusted text) and Unicode disguises, and obeys what it finds.
      for (const c of input.context) for (const call of findInstructions(c.text.replaceAll('\u02c6', ' ').normalize('NFKC'))) out.push(call);
    }
    input.signal.throwIfAborted();
    const calls = out.slice(0, MAX_CALLS_PER_PROPOSAL);
    return chosen.text === undefined ? { calls } : { text: chosen.text, calls };
  }

  async review(input: { proposal: ToolCall; dryRun: unknown; signal: AbortSignal }): Promise<ReviewVerdict> {
    input.signal.throwIfAborted();
    let argsText: string, dryText: string;
    try {
      argsText = lc(canonicalize(input.proposal.args));
      dryText = lc(canonicalize(input.dryRun ?? null));
    } catch {
      return { verdict: 'reject', reason: 'the proposal or its dry run is not plain JSON' };
    }
    for (const r of this.script.review.rules) {
      if (r.skill !== undefined && r.skill !== input.proposal.skill) continue;
      if (!r.argsContain.every((w) => argsText.includes(lc(w)))) continue;
      if (!r.dryRunContains.every((w) => dryText.includes(lc(w)))) continue;
      return { verdict: r.verdict, reason: r.reason };
    }
    return { ...this.script.review.default };
  }
}
