/**
 * Compiles Cedar residual policies (the output of partial evaluation with the resource unknown)
 * into TypeScript closures, so that filtering 100 rows costs microseconds instead of 100 calls
 * into the Cedar Wasm module.
 *
 * Cedar stays the source of truth: partial evaluation (done by Cedar) folds everything that does
 * not depend on the resource; this module only evaluates what remains, with Cedar's semantics for
 * that subset (Cedar 4 language reference, "Operators"):
 *   - `==` never errors and compares by type and value (sets as sets, records field by field);
 *   - `&&`, `||` short-circuit and error on non-Boolean operands; `<`, `+`, ... need Longs and
 *     `+ - *` error on i64 overflow; `.` errors on a missing attribute or entity; `has` does not.
 * What it cannot do exactly it does not guess:
 *   - an expression form outside the subset (extension functions, tags, slots) makes compile()
 *     return null, and the caller evaluates that request with Cedar itself;
 *   - a Long beyond 2^53 (JavaScript cannot hold it exactly) throws NeedsCedar at run time, and the
 *     caller re-evaluates that one resource with Cedar.
 * The randomized differential test in test/policy/differential.test.ts checks this module against
 * Cedar's own per-row evaluation.
 */
import type { CedarValueJson, Expr, PolicyJson, ResidualResponse } from '@cedar-policy/cedar-wasm/nodejs';

export class EntityRef {
  readonly type: string;
  readonly id: string;
  readonly key: string;
  constructor(type: string, id: string) {
    this.type = type;
    this.id = id;
    this.key = entityKey(type, id);
  }
}
export class CSet {
  readonly items: readonly CVal[];
  constructor(items: readonly CVal[]) { this.items = items; }
}
export class CRecord {
  readonly fields: ReadonlyMap<string, CVal>;
  constructor(fields: ReadonlyMap<string, CVal>) { this.fields = fields; }
}
export type CVal = boolean | number | string | EntityRef | CSet | CRecord;

export function entityKey(type: string, id: string): string {
  return type + '::' + JSON.stringify(id);
}

/** An entity as the evaluator sees it: attributes and the keys of all its ancestors. */
export interface EvalEntity {
  readonly type: string;
  readonly id: string;
  readonly key: string;
  readonly attrs: ReadonlyMap<string, CVal>;
  readonly ancestors: ReadonlySet<string>;
}

export interface EvalEnv {
  readonly resource: EvalEntity;
  readonly store: ReadonlyMap<string, EvalEntity>;
}

/** A Cedar evaluation error (the policy "errored"). */
class EvalError extends Error {}
/** The value cannot be computed exactly here; ask Cedar for this resource. */
export class NeedsCedar extends Error {}
/** The residual uses a form this compiler does not support. */
class Unsupported extends Error {}

const EVAL_ERR = new EvalError('cedar evaluation error');
const NEEDS_CEDAR = new NeedsCedar('value outside the exactly-representable range');
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

type Fn = (env: EvalEnv) => CVal;

function lookup(env: EvalEnv, key: string): EvalEntity | undefined {
  return env.resource.key === key ? env.resource : env.store.get(key);
}

export function valueEquals(a: CVal, b: CVal): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof EntityRef) return b instanceof EntityRef && a.key === b.key;
  if (a instanceof CSet) {
    if (!(b instanceof CSet)) return false;
    for (const x of a.items) if (!b.items.some((y) => valueEquals(x, y))) return false;
    for (const y of b.items) if (!a.items.some((x) => valueEquals(x, y))) return false;
    return true;
  }
  if (!(b instanceof CRecord)) return false;
  if (a.fields.size !== b.fields.size) return false;
  for (const [k, v] of a.fields) {
    const w = b.fields.get(k);
    if (w === undefined || !valueEquals(v, w)) return false;
  }
  return true;
}

/** Converts a Cedar JSON value (as found in residuals) to an evaluator value. */
export function fromCedarJson(v: CedarValueJson): CVal {
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Unsupported('long outside the safe range');
    return v;
  }
  if (v === null) throw new Unsupported('null value');
  if (Array.isArray(v)) return new CSet(v.map(fromCedarJson));
  if ('__entity' in v && typeof v.__entity === 'object' && v.__entity !== null && !Array.isArray(v.__entity)) {
    const e = v.__entity as { type?: unknown; id?: unknown };
    if (typeof e.type === 'string' && typeof e.id === 'string') return new EntityRef(e.type, e.id);
  }
  if ('__extn' in v) throw new Unsupported('extension value');
  const m = new Map<string, CVal>();
  for (const [k, x] of Object.entries(v as Record<string, CedarValueJson>)) m.set(k, fromCedarJson(x));
  return new CRecord(m);
}

function asBool(v: CVal): boolean {
  if (typeof v !== 'boolean') throw EVAL_ERR;
  return v;
}
function asLong(v: CVal): number {
  if (typeof v !== 'number') throw EVAL_ERR;
  return v;
}
function asSet(v: CVal): CSet {
  if (!(v instanceof CSet)) throw EVAL_ERR;
  return v;
}
function asEntity(v: CVal): EntityRef {
  if (!(v instanceof EntityRef)) throw EVAL_ERR;
  return v;
}
function arith(op: '+' | '-' | '*', a: number, b: number): number {
  const r = op === '+' ? a + b : op === '-' ? a - b : a * b;
  if (Number.isSafeInteger(r)) return r === 0 ? 0 : r; // -0 is 0 in i64
  const exact = op === '+' ? BigInt(a) + BigInt(b) : op === '-' ? BigInt(a) - BigInt(b) : BigInt(a) * BigInt(b);
  if (exact > I64_MAX || exact < I64_MIN) throw EVAL_ERR; // Cedar: integer overflow is an error
  // In i64 but beyond 2^53: JavaScript numbers cannot carry it exactly, so let Cedar decide.
  throw NEEDS_CEDAR;
}

function entityIn(env: EvalEnv, left: EntityRef, right: CVal): boolean {
  const targets: EntityRef[] = right instanceof CSet ? right.items.map(asEntity) : [asEntity(right)];
  const e = lookup(env, left.key);
  for (const t of targets) {
    if (t.key === left.key) return true;
    if (e !== undefined && e.ancestors.has(t.key)) return true;
  }
  return false;
}

/** Cedar `like`: `*` matches any sequence of characters (Unicode scalar values). */
function likeMatch(s: string, pattern: readonly ('Wildcard' | { Literal: string })[]): boolean {
  const str = Array.from(s);
  const pat: (string | null)[] = [];
  for (const p of pattern) {
    if (p === 'Wildcard') pat.push(null);
    else for (const ch of Array.from(p.Literal)) pat.push(ch);
  }
  // Iterative glob match with backtracking on the last wildcard.
  let i = 0, j = 0, star = -1, mark = 0;
  while (i < str.length) {
    if (j < pat.length && pat[j] !== null && pat[j] === str[i]) { i++; j++; }
    else if (j < pat.length && pat[j] === null) { star = j++; mark = i; }
    else if (star >= 0) { j = star + 1; i = ++mark; }
    else return false;
  }
  while (j < pat.length && pat[j] === null) j++;
  return j === pat.length;
}

function getAttr(env: EvalEnv, v: CVal, attr: string): CVal {
  if (v instanceof EntityRef) {
    const e = lookup(env, v.key);
    if (e === undefined) throw EVAL_ERR;
    const a = e.attrs.get(attr);
    if (a === undefined) throw EVAL_ERR;
    return a;
  }
  if (v instanceof CRecord) {
    const a = v.fields.get(attr);
    if (a === undefined) throw EVAL_ERR;
    return a;
  }
  throw EVAL_ERR;
}

function hasAttr(env: EvalEnv, v: CVal, attr: string): boolean {
  if (v instanceof EntityRef) {
    const e = lookup(env, v.key);
    return e !== undefined && e.attrs.has(attr);
  }
  if (v instanceof CRecord) return v.fields.has(attr);
  throw EVAL_ERR;
}

type BinOp = '==' | '!=' | 'in' | '<' | '<=' | '>' | '>=' | '&&' | '||' | '+' | '-' | '*' | 'contains' | 'containsAll' | 'containsAny';
const BINOPS: readonly BinOp[] = ['==', '!=', 'in', '<', '<=', '>', '>=', '&&', '||', '+', '-', '*', 'contains', 'containsAll', 'containsAny'];

function compileExpr(e: Expr, depth: number): Fn {
  if (depth > 200) throw new Unsupported('expression too deep');
  if (typeof e !== 'object' || e === null) throw new Unsupported('not an expression');
  const keys = Object.keys(e);
  if (keys.length !== 1) throw new Unsupported('ambiguous expression');
  const k = keys[0] as string;
  const body = (e as Record<string, unknown>)[k];
  const sub = (x: unknown): Fn => compileExpr(x as Expr, depth + 1);
  switch (k) {
    case 'Value': {
      const v = fromCedarJson(body as CedarValueJson);
      return () => v;
    }
    case 'Var':
      if (body === 'resource') return (env) => resourceRef(env);
      throw new Unsupported(`variable ${String(body)} left in a residual`);
    case 'unknown': {
      // Partial evaluation writes the unknown resource as the extension call unknown("resource").
      const args = body as Expr[];
      const only = args.length === 1 ? (args[0] as { Value?: unknown }).Value : undefined;
      if (only !== 'resource') throw new Unsupported('unknown other than the resource');
      return (env) => resourceRef(env);
    }
    case '!': {
      const a = sub((body as { arg: Expr }).arg);
      return (env) => !asBool(a(env));
    }
    case 'neg': {
      const a = sub((body as { arg: Expr }).arg);
      return (env) => arith('-', 0, asLong(a(env)));
    }
    case 'isEmpty': {
      const a = sub((body as { arg: Expr }).arg);
      return (env) => asSet(a(env)).items.length === 0;
    }
    case '.': {
      const b = body as { left: Expr; attr: string };
      const l = sub(b.left);
      const attr = b.attr;
      return (env) => getAttr(env, l(env), attr);
    }
    case 'has': {
      const b = body as { left: Expr; attr: string | string[] };
      const l = sub(b.left);
      const path = typeof b.attr === 'string' ? [b.attr] : b.attr;
      if (path.length === 0) throw new Unsupported('empty has path');
      return (env) => {
        let v = l(env);
        for (let i = 0; i < path.length; i++) {
          const a = path[i] as string;
          if (!hasAttr(env, v, a)) return false;
          if (i + 1 < path.length) v = getAttr(env, v, a);
        }
        return true;
      };
    }
    case 'like': {
      const b = body as { left: Expr; pattern: ('Wildcard' | { Literal: string })[] };
      const l = sub(b.left);
      const pat = b.pattern;
      if (!Array.isArray(pat)) throw new Unsupported('like pattern');
      return (env) => {
        const s = l(env);
        if (typeof s !== 'string') throw EVAL_ERR;
        return likeMatch(s, pat);
      };
    }
    case 'is': {
      const b = body as { left: Expr; entity_type: string; in?: Expr };
      const l = sub(b.left);
      const t = b.entity_type;
      const r = b.in === undefined ? undefined : sub(b.in);
      return (env) => {
        const v = asEntity(l(env));
        if (v.type !== t) return false;
        return r === undefined ? true : entityIn(env, v, r(env));
      };
    }
    case 'if-then-else': {
      const b = body as { if: Expr; then: Expr; else: Expr };
      const c = sub(b.if), t = sub(b.then), f = sub(b.else);
      return (env) => (asBool(c(env)) ? t(env) : f(env));
    }
    case 'Set': {
      const items = (body as Expr[]).map(sub);
      return (env) => new CSet(items.map((f) => f(env)));
    }
    case 'Record': {
      const fields = Object.entries(body as Record<string, Expr>).map(([n, x]) => [n, sub(x)] as const);
      return (env) => new CRecord(new Map(fields.map(([n, f]) => [n, f(env)])));
    }
    default:
      break;
  }
  if ((BINOPS as readonly string[]).includes(k)) {
    const b = body as { left: Expr; right: Expr };
    const l = sub(b.left), r = sub(b.right);
    switch (k as BinOp) {
      case '==': return (env) => valueEquals(l(env), r(env));
      case '!=': return (env) => !valueEquals(l(env), r(env));
      case '&&': return (env) => asBool(l(env)) && asBool(r(env));
      case '||': return (env) => asBool(l(env)) || asBool(r(env));
      case '<': return (env) => { const a = asLong(l(env)); return a < asLong(r(env)); };
      case '<=': return (env) => { const a = asLong(l(env)); return a <= asLong(r(env)); };
      case '>': return (env) => { const a = asLong(l(env)); return a > asLong(r(env)); };
      case '>=': return (env) => { const a = asLong(l(env)); return a >= asLong(r(env)); };
      case '+': return (env) => { const a = asLong(l(env)); return arith('+', a, asLong(r(env))); };
      case '-': return (env) => { const a = asLong(l(env)); return arith('-', a, asLong(r(env))); };
      case '*': return (env) => { const a = asLong(l(env)); return arith('*', a, asLong(r(env))); };
      case 'in': return (env) => { const a = asEntity(l(env)); return entityIn(env, a, r(env)); };
      case 'contains': return (env) => { const s = asSet(l(env)); const x = r(env); return s.items.some((y) => valueEquals(x, y)); };
      case 'containsAll': return (env) => { const s = asSet(l(env)); const t = asSet(r(env)); return t.items.every((x) => s.items.some((y) => valueEquals(x, y))); };
      case 'containsAny': return (env) => { const s = asSet(l(env)); const t = asSet(r(env)); return t.items.some((x) => s.items.some((y) => valueEquals(x, y))); };
    }
  }
  throw new Unsupported(`expression form ${k}`);
}

// One EntityRef per resource entity, reused across the expression (identity is by key anyway).
const refCache = new WeakMap<EvalEntity, EntityRef>();
function resourceRef(env: EvalEnv): EntityRef {
  let r = refCache.get(env.resource);
  if (r === undefined) { r = new EntityRef(env.resource.type, env.resource.id); refCache.set(env.resource, r); }
  return r;
}

interface CompiledPolicy {
  readonly id: string;
  readonly applies: (env: EvalEnv) => boolean;
  /**
   * An index key: the policy can only apply to a resource whose attribute `attr` equals `value`.
   * Set only when that is exact under Cedar's semantics, including errors (see indexKey).
   */
  readonly key?: { readonly attr: string; readonly value: string | number | boolean };
}

function isUnknownResource(e: Expr | undefined): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const u = (e as { unknown?: Expr[] }).unknown;
  if (Array.isArray(u) && u.length === 1 && (u[0] as { Value?: unknown }).Value === 'resource') return true;
  return (e as { Var?: unknown }).Var === 'resource';
}

/** The conjuncts of a left-to-right `&&` chain, in evaluation order. */
function conjuncts(e: Expr, out: Expr[]): Expr[] {
  const a = (e as { '&&'?: { left: Expr; right: Expr } })['&&'];
  if (a !== undefined && Object.keys(e).length === 1) { conjuncts(a.left, out); conjuncts(a.right, out); } else out.push(e);
  return out;
}

/**
 * Finds `resource.A == <primitive>` in the leading `&&` chain of the first `when` condition such
 * that skipping the policy when the resource's A differs is exact: every conjunct before it is
 * one that can neither error nor depend on anything but the resource's type, parents and
 * attribute presence (a literal `true`, `resource has X`, `resource in <entity>`, `resource is T`),
 * and `resource has A` is among them (so a resource without A makes the policy not apply rather
 * than error). Such a policy evaluates, on a resource whose A differs, to "does not apply" with no
 * error, exactly as skipping it does.
 */
function isEntityLiteral(e: unknown): boolean {
  const v = (e as { Value?: unknown } | undefined)?.Value;
  return typeof v === 'object' && v !== null && '__entity' in v;
}

/**
 * Is `c` a conjunct that cannot error and depends only on the resource's type, parents and
 * attribute presence? (`true`, `resource has A`, `resource in <entity>`, `resource is T [in <entity>]`.)
 * Returns the attribute name for `has`, true for the others, false when not safe.
 */
function safeConjunct(c: Expr): string | boolean {
  const k = Object.keys(c);
  if (k.length !== 1) return false;
  const op = k[0] as string;
  const b = (c as Record<string, unknown>)[op];
  if (op === 'Value') return b === true;
  const o = b as Record<string, unknown>;
  if (!isUnknownResource(o['left'] as Expr)) return false;
  if (op === 'has') return typeof o['attr'] === 'string' ? o['attr'] : false;
  if (op === 'in') return isEntityLiteral(o['right']);
  if (op === 'is') return o['in'] === undefined || isEntityLiteral(o['in']);
  return false;
}

/** A `when` body whose `&&` chain reaches a literal false after only safe conjuncts is false, without error. */
function surelyFalse(body: Expr): boolean {
  for (const c of conjuncts(body, [])) {
    if ((c as { Value?: unknown }).Value === false && Object.keys(c).length === 1) return true;
    if (safeConjunct(c) === false) return false;
  }
  return false;
}

function indexKey(p: PolicyJson): CompiledPolicy['key'] {
  // Constant Boolean conditions were dropped (or made the policy "never") by compilePolicy.
  const first = p.conditions.find((c) => !(Object.keys(c.body).length === 1 && typeof (c.body as { Value?: unknown }).Value === 'boolean'));
  if (first === undefined || first.kind !== 'when') return undefined;
  const guarded = new Set<string>();
  for (const c of conjuncts(first.body, [])) {
    const safe = safeConjunct(c);
    if (typeof safe === 'string') { guarded.add(safe); continue; }
    if (safe === true) continue;
    const eq = (c as { '=='?: { left: Expr; right: Expr } })['=='];
    if (eq !== undefined && Object.keys(c).length === 1) {
      const dot = (eq.left as { '.'?: { left: Expr; attr: string } })['.'];
      const val = (eq.right as { Value?: unknown }).Value;
      if (dot !== undefined && isUnknownResource(dot.left) && guarded.has(dot.attr) &&
          (typeof val === 'string' || typeof val === 'boolean' || (typeof val === 'number' && Number.isSafeInteger(val)))) {
        return { attr: dot.attr, value: val };
      }
    }
    return undefined;
  }
  return undefined;
}

function compilePolicy(id: string, p: PolicyJson): CompiledPolicy | 'never' {
  if (p.principal.op !== 'All' || p.action.op !== 'All' || p.resource.op !== 'All') {
    throw new Unsupported('residual keeps a scope constraint');
  }
  const conds: { when: boolean; f: Fn }[] = [];
  for (const c of p.conditions) {
    const body = c.body as { Value?: unknown };
    const constant = Object.keys(c.body).length === 1 && 'Value' in c.body ? body.Value : undefined;
    if (typeof constant === 'boolean') {
      if (constant !== (c.kind === 'when')) return 'never';
      continue; // always satisfied condition
    }
    // Partial evaluation leaves `resource in C && false` (it does not fold past an unknown).
    if (c.kind === 'when' && surelyFalse(c.body)) return 'never';
    conds.push({ when: c.kind === 'when', f: compileExpr(c.body, 0) });
  }
  const applies = (env: EvalEnv): boolean => {
    for (const c of conds) if (asBool(c.f(env)) !== c.when) return false;
    return true;
  };
  const key = indexKey(p);
  return key === undefined ? { id, applies } : { id, applies, key };
}

/** Policies grouped so a resource only meets those that can apply to it. */
class PolicyIndex {
  readonly all: readonly CompiledPolicy[];
  readonly #unindexed: CompiledPolicy[] = [];
  readonly #byAttr = new Map<string, Map<string | number | boolean, CompiledPolicy[]>>();
  constructor(policies: CompiledPolicy[]) {
    this.all = policies;
    for (const p of policies) {
      if (p.key === undefined) { this.#unindexed.push(p); continue; }
      let m = this.#byAttr.get(p.key.attr);
      if (m === undefined) { m = new Map(); this.#byAttr.set(p.key.attr, m); }
      const l = m.get(p.key.value);
      if (l === undefined) m.set(p.key.value, [p]); else l.push(p);
    }
  }
  /** Calls f on every policy that may apply to env.resource, until f returns true. */
  some(env: EvalEnv, f: (p: CompiledPolicy) => boolean): boolean {
    for (const p of this.#unindexed) if (f(p)) return true;
    for (const [attr, m] of this.#byAttr) {
      const v = env.resource.attrs.get(attr);
      if (v === undefined || typeof v === 'object') continue; // absent, or never == a primitive
      const l = m.get(v);
      if (l !== undefined) for (const p of l) if (f(p)) return true;
    }
    return false;
  }
}

/**
 * Authorisation semantics of a compiled decider, and of the Cedar path it stands in for:
 *   allow  iff  no forbid policy is satisfied, no forbid policy errors, and a permit is satisfied.
 * Cedar itself skips a policy that errors; SIOS keeps that for permits (an erroring permit grants
 * nothing) but fails closed for forbids (an erroring forbid denies), so a bad fact can never
 * switch a prohibition off.
 */
export interface Decider {
  /** true = allow. May throw NeedsCedar: evaluate that resource with Cedar instead. */
  decide(env: EvalEnv): boolean;
  /** Ids of the satisfied permits (allow) or the satisfied/erroring forbids (deny). */
  explain(env: EvalEnv): { allow: boolean; policies: string[]; erroredForbids: string[] };
  /** Number of residual policies still evaluated per resource (for tests and the benchmark). */
  readonly residualCount: number;
}

/**
 * Builds a decider from Cedar's partial-evaluation answer, or returns null when some residual is
 * outside the compiled subset (the caller then evaluates each resource with Cedar).
 * `effects` maps a policy id to its effect; `forbidden` ids come from the tenant set.
 */
export function compileResiduals(res: ResidualResponse, effects: ReadonlyMap<string, 'permit' | 'forbid'>): Decider | null {
  const permits: CompiledPolicy[] = [];
  const forbids: CompiledPolicy[] = [];
  let constantDeny: string | null = null;
  for (const id of res.errored) if (effects.get(id) === 'forbid') constantDeny = id;
  try {
    for (const [id, p] of Object.entries(res.residuals)) {
      const eff = effects.get(id);
      if (eff === undefined || eff !== p.effect) return null;
      const c = compilePolicy(id, p);
      if (c === 'never') continue;
      (eff === 'permit' ? permits : forbids).push(c);
    }
    for (const id of res.satisfied) {
      if (id in res.residuals) continue;
      const eff = effects.get(id);
      if (eff === undefined) return null;
      (eff === 'permit' ? permits : forbids).push({ id, applies: () => true });
    }
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
  const residualCount = permits.length + forbids.length;
  const permitIx = new PolicyIndex(permits), forbidIx = new PolicyIndex(forbids);
  if (constantDeny !== null) {
    const id = constantDeny;
    return { residualCount, decide: () => false, explain: () => ({ allow: false, policies: [], erroredForbids: [id] }) };
  }
  const tryApply = (p: CompiledPolicy, env: EvalEnv): boolean | 'error' => {
    try {
      return p.applies(env);
    } catch (e) {
      if (e instanceof EvalError) return 'error';
      throw e;
    }
  };
  return {
    residualCount,
    decide(env) {
      if (forbidIx.some(env, (f) => tryApply(f, env) !== false)) return false;
      return permitIx.some(env, (p) => tryApply(p, env) === true);
    },
    explain(env) {
      const hit: string[] = [], errored: string[] = [];
      forbidIx.some(env, (f) => {
        const r = tryApply(f, env);
        if (r === true) hit.push(f.id);
        else if (r === 'error') errored.push(f.id);
        return false;
      });
      if (hit.length > 0 || errored.length > 0) return { allow: false, policies: hit.sort(), erroredForbids: errored.sort() };
      permitIx.some(env, (p) => { if (tryApply(p, env) === true) hit.push(p.id); return false; });
      return { allow: hit.length > 0, policies: hit.sort(), erroredForbids: [] };
    },
  };
}

/** Exposed for tests: compile a single expression, or null when outside the subset. */
export function compileExpressionForTest(e: Expr): ((env: EvalEnv) => CVal) | null {
  try {
    return compileExpr(e, 0);
  } catch (x) {
    if (x instanceof Unsupported) return null;
    throw x;
  }
}
