/**
 * The per-tenant policy engine: one Cedar policy set per tenant, validated against the SIOS schema
 * (schema.ts), with the SIOS baseline forbids appended (clearance caps).
 *
 * Decision rule (the same on every path):
 *   allow  iff  a permit policy is satisfied, no forbid policy is satisfied, and no forbid policy
 *   errors. Default deny. A permit that errors grants nothing (as in Cedar); a forbid that errors
 *   denies (SIOS fails closed where Cedar would skip the policy).
 *
 * How a read stays fast while Cedar remains the source of truth:
 *  1. Slice: only policies whose scope can match (action, collection) and the principal are used
 *     (policyset.ts). A scope that cannot match is never satisfied and never errors in Cedar.
 *  2. Partial evaluation: Cedar evaluates the slice once per (principal facts, action, collection)
 *     with the resource unknown; the residual policies are compiled to closures (residual.ts) and
 *     cached. A row then costs one closure call; columns are decided once per cache entry.
 *  3. Fallback: a residual outside the compiled subset, or a Long beyond 2^53, is evaluated by
 *     Cedar itself (pre-parsed slice, statefulIsAuthorized) for that row.
 * A TenantPolicy is immutable: a new policy version is a new TenantPolicy (and a fresh cache), so
 * a decision can never come from an older version's cache.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer, Context, EntityJson, EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import { SiosError } from '../errors.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { checkClearance, describe, parseDeclarations, schemaText, SKILL_RISKS, type Clearance, type ParsedDeclarations, type SkillRisk, type TenantDeclarations } from './schema.ts';
import { loadPolicySet, principalScopeMayMatch, slice, formatCedarError, type ActionName, type DataAction, type LoadedPolicy, type LoadedPolicySet } from './policyset.ts';
import { compileResiduals, NeedsCedar, type Decider, type EvalEntity } from './residual.ts';
import {
  argFacts, collectionInfo, principalInfo, rowEntity,
  type CollectionInfo, type CollectionSpec, type PolicyPrincipal, type PrincipalInfo, type Row,
} from './entities.ts';

export type { PolicyPrincipal, CollectionSpec, ColumnSpec, Row, AttrValue } from './entities.ts';

export interface TenantPolicyOptions {
  readonly tenant: string;
  /** Version label of this policy text (recorded with decisions). */
  readonly version: string;
  /** Cedar policies; each must carry a unique @id("..."). */
  readonly text: string;
  readonly declarations?: TenantDeclarations;
  readonly collections: readonly CollectionSpec[];
  /** Decision-cache entries kept (least recently used evicted). Default 4096. */
  readonly cacheSize?: number;
}

export interface SkillFacts {
  readonly name: string;
  readonly risk: SkillRisk;
  readonly clearance: Clearance;
}

export interface InvokeRequest {
  readonly principal: PolicyPrincipal;
  readonly skill: SkillFacts;
  /** Decision time, epoch milliseconds (supplied by the caller so decisions are reproducible). */
  readonly at: number;
  /** Rate state of this principal for this skill in the current window. */
  readonly rate: { readonly count: number; readonly limit: number };
  /** Argument facts, as declared in declarations.args. */
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface InvokeDecision {
  readonly decision: 'allow' | 'deny';
  /** Human-readable reasons: each determining policy's @reason, or the default-deny sentence. */
  readonly reasons: readonly string[];
  /** Determining policies: satisfied permits on allow; satisfied or erroring forbids on deny. Sorted. */
  readonly policyIds: readonly string[];
  /** Approvals demanded: the largest @approvals among satisfied permits, @human("required") on any. */
  readonly approvals: { readonly brains: number; readonly human: boolean };
  readonly policyVersion: string;
}

export type WriteDecision =
  | { readonly allow: true; readonly policyIds: readonly string[] }
  | { readonly allow: false; readonly reason: string; readonly policyIds: readonly string[] };

export interface EngineStats {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Rows or columns evaluated by Cedar because the compiled path could not decide them. */
  readonly cedarFallbacks: number;
  /** Cache entries whose residuals could not be compiled (every resource goes to Cedar). */
  readonly uncompiled: number;
}

interface CacheEntry {
  readonly decider: Decider | null;
  readonly store: ReadonlyMap<string, EvalEntity>;
  readonly entitiesJson: readonly EntityJson[];
  readonly principalUid: EntityUidJson;
  readonly sliceId: string;
  /** readColumn entries: the readable column names, computed once. */
  columns: readonly string[] | null;
}

let instanceSeq = 0;
const DEFAULT_CACHE = 4096;

function actionUid(a: ActionName): EntityUidJson {
  return { type: 'Action', id: a };
}

/**
 * The top-level context attributes that `policies` read, sorted; null when some policy uses the
 * context other than through `context.<attr>` or `context has <attr>` (then all of it matters).
 * Walks each policy's JSON form (Cedar EST): every use of the context is a {"Var":"context"} node.
 */
export function contextAttributes(policies: readonly LoadedPolicy[]): readonly string[] | null {
  const attrs = new Set<string>();
  let whole = false;
  const isContext = (x: unknown): boolean => typeof x === 'object' && x !== null && (x as Record<string, unknown>)['Var'] === 'context';
  const walk = (x: unknown): void => {
    if (whole || typeof x !== 'object' || x === null) return;
    if (Array.isArray(x)) { for (const y of x) walk(y); return; }
    const o = x as Record<string, unknown>;
    if (o['Var'] === 'context') { whole = true; return; }
    for (const [k, v] of Object.entries(o)) {
      if ((k === '.' || k === 'has') && typeof v === 'object' && v !== null && isContext((v as Record<string, unknown>)['left'])) {
        const a = (v as Record<string, unknown>)['attr'];
        const first = Array.isArray(a) ? a[0] : a;
        if (typeof first === 'string') attrs.add(first); else whole = true;
        continue;
      }
      walk(v);
    }
  };
  for (const p of policies) walk(p.json.conditions);
  return whole ? null : [...attrs].sort();
}

function isDeeplyFrozen(p: PolicyPrincipal): boolean {
  return Object.isFrozen(p) && (p.roles === undefined || Object.isFrozen(p.roles)) && (p.attrs === undefined || Object.isFrozen(p.attrs))
    && (p.attrs === undefined || Object.values(p.attrs).every((v) => typeof v !== 'object' || Object.isFrozen(v)));
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export class TenantPolicy {
  readonly tenant: string;
  readonly version: string;
  /** Number of tenant policies (baseline excluded). */
  readonly policyCount: number;
  /** The Cedar schema text the set was validated against. */
  readonly schema: string;
  readonly #decl: ParsedDeclarations;
  readonly #set: LoadedPolicySet;
  readonly #collections: ReadonlyMap<string, CollectionInfo>;
  readonly #effects: ReadonlyMap<string, 'permit' | 'forbid'>;
  readonly #slices = new Map<string, LoadedPolicy[]>();
  readonly #preparsed = new Map<string, string>();
  readonly #cache = new Map<string, CacheEntry>();
  /** Invoke decisions by everything Cedar's answer depends on (see decideInvoke). */
  readonly #invokeCache = new Map<string, InvokeDecision>();
  /** Per skill: the context attributes its invoke slice reads; null = the whole context. */
  readonly #invokeContextDeps = new Map<string, readonly string[] | null>();
  /** PrincipalInfo of deeply frozen PolicyPrincipal objects (the gate hands the same one back while its credential is cached). */
  readonly #principals = new WeakMap<PolicyPrincipal, PrincipalInfo>();
  readonly #cacheSize: number;
  readonly #prefix: string;
  #hits = 0;
  #misses = 0;
  #invokeHits = 0;
  #fallbacks = 0;
  #uncompiled = 0;

  private constructor(o: TenantPolicyOptions) {
    if (typeof o !== 'object' || o === null) throw new SiosError('ERR_INPUT', 'TenantPolicy.load needs { tenant, version, text, collections, declarations?, cacheSize? }');
    for (const k of Object.keys(o)) {
      if (!['tenant', 'version', 'text', 'declarations', 'collections', 'cacheSize'].includes(k)) {
        throw new SiosError('ERR_INPUT', `unknown TenantPolicy option "${k}"; allowed: tenant, version, text, declarations, collections, cacheSize`);
      }
    }
    if (typeof o.tenant !== 'string' || o.tenant.length === 0) throw new SiosError('ERR_INPUT', 'tenant must be a non-empty string');
    if (typeof o.version !== 'string' || o.version.length === 0) throw new SiosError('ERR_INPUT', 'version must be a non-empty string naming this policy text');
    const cacheSize = o.cacheSize ?? DEFAULT_CACHE;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 1) throw new SiosError('ERR_INPUT', `cacheSize must be a positive integer, got ${describe(o.cacheSize)}`);
    this.tenant = o.tenant;
    this.version = o.version;
    this.#cacheSize = cacheSize;
    this.#decl = parseDeclarations(o.declarations);
    this.schema = schemaText(this.#decl);
    const sc = cedar.checkParseSchema(this.schema);
    if (sc.type === 'failure') {
      throw new SiosError('ERR_INPUT', `tenant declarations give an invalid schema: ${sc.errors.map((e) => formatCedarError(e)).join('; ')}`);
    }
    this.#set = loadPolicySet(o.text, this.schema);
    this.policyCount = this.#set.policies.filter((p) => !p.baseline).length;
    this.#effects = new Map(this.#set.policies.map((p) => [p.id, p.effect]));
    if (!Array.isArray(o.collections)) throw new SiosError('ERR_INPUT', 'collections must be an array of collection specs');
    const cols = new Map<string, CollectionInfo>();
    for (const spec of o.collections) {
      const ci = collectionInfo(spec);
      if (cols.has(ci.spec.name)) throw new SiosError('ERR_INPUT', `collection "${ci.spec.name}" is declared twice`);
      cols.set(ci.spec.name, ci);
    }
    this.#collections = cols;
    this.#prefix = `sios#${++instanceSeq}`;
  }

  /** Parses, validates and indexes a tenant's policies. Throws ERR_INPUT naming the bad policy. */
  static load(o: TenantPolicyOptions): TenantPolicy {
    return new TenantPolicy(o);
  }

  /** Ids of the tenant's policies (baseline excluded), in text order. */
  policyIds(): string[] {
    return this.#set.policies.filter((p) => !p.baseline).map((p) => p.id);
  }

  stats(): EngineStats {
    return { cacheHits: this.#hits, cacheMisses: this.#misses, cedarFallbacks: this.#fallbacks, uncompiled: this.#uncompiled };
  }

  /** Invoke decisions answered from the decision cache (for benchmarks and tests). */
  get invokeCacheHits(): number {
    return this.#invokeHits;
  }

  /**
   * The rows `principal` may read, each with the columns it may not read removed. Rows it may not
   * read are left out silently, and forbidden columns are dropped silently: a read never fails in
   * a way that reveals what exists. Columns not declared in the collection spec are never returned.
   * A principal that may read no column of the collection gets no rows (not empty objects).
   */
  filterRows(principal: PolicyPrincipal, collection: string, rows: readonly Row[]): Row[] {
    if (!Array.isArray(rows)) throw new SiosError('ERR_INPUT', 'rows must be an array of row objects');
    const p = this.#principal(principal);
    const c = this.#collection(collection);
    const cols = this.#readableColumns(p, c);
    const out: Row[] = [];
    if (cols.length === 0) {
      // Still validate the rows, so malformed data is reported whatever the principal's rights.
      for (const r of rows) rowEntity(c, r, this.#decl, false);
      return out;
    }
    const entry = this.#entry('read', p, c);
    for (const row of rows) {
      const re = rowEntity(c, row, this.#decl, false);
      if (!this.#decide(entry, 'read', re.eval, () => rowEntity(c, row, this.#decl, true).json!)) continue;
      const o: Record<string, unknown> = {};
      for (const name of cols) if (Object.hasOwn(row, name)) o[name] = row[name];
      out.push(o);
    }
    return out;
  }

  /** Names of the columns of `collection` that `principal` may read (sorted). */
  readableColumns(principal: PolicyPrincipal, collection: string): string[] {
    return [...this.#readableColumns(this.#principal(principal), this.#collection(collection))];
  }

  /**
   * May `principal` write `record` (the row as it will be after the change) changing
   * `changedColumns`? With `before`, the row as it is now must be writable too (so a write cannot
   * move a row out of the principal's reach, for example to another desk).
   */
  authorizeWrite(principal: PolicyPrincipal, collection: string, record: Row, changedColumns: readonly string[], options: { readonly before?: Row } = {}): WriteDecision {
    const p = this.#principal(principal);
    const c = this.#collection(collection);
    if (!Array.isArray(changedColumns)) throw new SiosError('ERR_INPUT', 'changedColumns must be an array of column names');
    for (const k of Object.keys(options)) if (k !== 'before') throw new SiosError('ERR_INPUT', `unknown authorizeWrite option "${k}"; allowed: before`);
    const changed = [...new Set(changedColumns)].sort();
    for (const col of changed) {
      if (!c.columnsEval.has(col)) throw new SiosError('ERR_INPUT', `column "${String(col)}" is not declared in collection "${c.spec.name}"; declare it in the collection spec`);
    }
    const entry = this.#entry('write', p, c);
    const permitted: string[] = [];
    const rows: [string, Row][] = options.before === undefined ? [['the record', record]] : [['the record as it is', options.before], ['the record as written', record]];
    for (const [label, row] of rows) {
      const re = rowEntity(c, row, this.#decl, true);
      const ex = this.#explain(entry, 'write', re.eval, re.json!);
      if (!ex.allow) return { allow: false, reason: this.#denyReason(`writing ${label} ${re.eval.id}`, ex), policyIds: ex.policies };
      permitted.push(...ex.policies);
    }
    const centry = this.#entry('writeColumn', p, c);
    for (const col of changed) {
      const ce = c.columnsEval.get(col)!;
      const cj = c.columnsJson.find((j) => (j.uid as { id: string }).id === ce.id)!;
      const ex = this.#explain(centry, 'writeColumn', ce, cj);
      if (!ex.allow) return { allow: false, reason: this.#denyReason(`writing column "${col}" of ${c.spec.name}`, ex), policyIds: ex.policies };
      permitted.push(...ex.policies);
    }
    return { allow: true, policyIds: [...new Set(permitted)].sort() };
  }

  /**
   * The governance decision for a skill invocation. Evaluated by Cedar on the slice of policies
   * that can apply to this skill (statefulIsAuthorized, pre-parsed per skill). Approvals are read
   * from the annotations of the satisfied permit policies:
   *   @approvals("k")    k approving brains (the largest k among satisfied permits applies)
   *   @human("required") a human confirmation (if any satisfied permit demands it)
   * SIOS floor: a high-impact skill always needs a human confirmation, whatever the policies say.
   * Context seen by policies: context.now (epoch seconds), context.hour (0-23, UTC),
   * context.weekday (0 Sunday - 6, UTC), context.rate.{count,limit}, context.args.<declared fact>.
   */
  decideInvoke(request: InvokeRequest): InvokeDecision {
    if (typeof request !== 'object' || request === null) throw new SiosError('ERR_INPUT', 'decideInvoke needs { principal, skill, at, rate, args? }');
    for (const k of Object.keys(request)) {
      if (!['principal', 'skill', 'at', 'rate', 'args'].includes(k)) throw new SiosError('ERR_INPUT', `unknown invoke request field "${k}"; allowed: principal, skill, at, rate, args`);
    }
    const p = this.#principal(request.principal);
    const s = request.skill;
    if (typeof s !== 'object' || s === null) throw new SiosError('ERR_INPUT', 'skill must be { name, risk, clearance }');
    if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > 256) throw new SiosError('ERR_INPUT', `skill name must be a 1-256 character string, got ${describe(s.name)}`);
    if (!SKILL_RISKS.includes(s.risk)) throw new SiosError('ERR_INPUT', `skill risk must be one of ${SKILL_RISKS.join(', ')}, got ${describe(s.risk)}`);
    const skillClearance = checkClearance(s.clearance, `clearance of skill "${s.name}"`);
    if (!Number.isSafeInteger(request.at) || request.at < 0) throw new SiosError('ERR_INPUT', `at must be epoch milliseconds (a non-negative integer), got ${describe(request.at)}`);
    const r = request.rate;
    if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.count) || !Number.isSafeInteger(r.limit) || r.count < 0 || r.limit < 0) {
      throw new SiosError('ERR_INPUT', 'rate must be { count, limit } with non-negative integers');
    }
    const args = argFacts(request.args ?? {}, this.#decl);
    const d = new Date(request.at);
    const context: Context = {
      now: Math.floor(request.at / 1000), hour: d.getUTCHours(), weekday: d.getUTCDay(),
      rate: { count: r.count, limit: r.limit }, args,
    };
    // Cedar's answer is a function of the policy slice (fixed for this skill in this immutable
    // TenantPolicy), the principal entity with its roles (p.key is their canonical JSON), the skill
    // entity and the context attributes the slice reads. Equal keys therefore give equal answers, and
    // a cached decision is the decision Cedar would return; attributes no policy of the slice reads
    // (typically context.rate.count, which changes on every call) are left out of the key.
    const deps = this.#contextDeps(s.name);
    // Every part is JSON (no raw newline), so the newline-joined key is unambiguous.
    let key = `${p.key}\n${JSON.stringify(s.name)}\n${s.risk}\n${skillClearance}`;
    if (deps === null) key += '\n*' + canonicalize(context);
    else for (const a of deps) key += `\n${JSON.stringify(a)}=${Object.hasOwn(context, a) ? canonicalize(context[a]) : ''}`;
    const hit = this.#invokeCache.get(key);
    if (hit !== undefined) {
      this.#invokeHits++;
      this.#invokeCache.delete(key);
      this.#invokeCache.set(key, hit);
      return hit;
    }
    const decision = deepFreeze(this.#decideInvoke(p, s, skillClearance, context));
    this.#invokeCache.set(key, decision);
    if (this.#invokeCache.size > this.#cacheSize) {
      const oldest = this.#invokeCache.keys().next().value;
      if (oldest !== undefined) this.#invokeCache.delete(oldest);
    }
    return decision;
  }

  #decideInvoke(p: PrincipalInfo, s: SkillFacts, skillClearance: Clearance, context: Context): InvokeDecision {
    const skillEntity: EntityJson = { uid: { type: 'Skill', id: s.name }, attrs: { name: s.name, risk: s.risk, clearance: skillClearance }, parents: [] };
    const ans = cedar.statefulIsAuthorized({
      principal: { type: p.type, id: p.id }, action: actionUid('invoke'), resource: { type: 'Skill', id: s.name }, context,
      preparsedPolicySetId: this.#sliceId('invoke', s.name), entities: [...p.json, skillEntity],
    });
    const res = this.#answer(ans, 'invoke');
    const base = { policyVersion: this.version };
    if (res.erroredForbids.length > 0) {
      const ids = [...res.erroredForbids].sort();
      return { ...base, decision: 'deny', reasons: ids.map((id) => `forbid policy "${id}" could not be evaluated (${res.errors.get(id) ?? 'error'}); denied to fail closed`), policyIds: ids, approvals: { brains: 0, human: false } };
    }
    const ids = [...res.reason].sort();
    if (!res.allow) {
      const reasons = ids.length > 0
        ? ids.map((id) => this.#set.byId.get(id)?.reason ?? id)
        : [`no policy permits ${p.type} "${p.id}" to invoke skill "${s.name}" (default deny)`];
      return { ...base, decision: 'deny', reasons, policyIds: ids, approvals: { brains: 0, human: false } };
    }
    let brains = 0, human = false;
    const reasons: string[] = [];
    for (const id of ids) {
      const pol = this.#set.byId.get(id);
      if (pol === undefined) continue;
      brains = Math.max(brains, pol.approvals);
      human ||= pol.human;
      reasons.push(pol.reason);
    }
    if (s.risk === 'high-impact' && !human) {
      human = true;
      reasons.push('SIOS floor: a high-impact skill needs a human confirmation');
    }
    return { ...base, decision: 'allow', reasons, policyIds: ids, approvals: { brains, human } };
  }

  /** The context attributes the invoke slice of `skill` reads (sorted), or null if it uses the context as a whole. */
  #contextDeps(skill: string): readonly string[] | null {
    let deps = this.#invokeContextDeps.get(skill);
    if (deps === undefined) {
      deps = contextAttributes(this.#slice('invoke', skill));
      if (this.#invokeContextDeps.size > this.#cacheSize) this.#invokeContextDeps.clear();
      this.#invokeContextDeps.set(skill, deps);
    }
    return deps;
  }

  /**
   * The plain Cedar request SIOS evaluates for one resource, for differential testing and audit
   * replay: evaluate it with cedar.isAuthorized against `fullPolicySet()` and apply the decision
   * rule in this file's header.
   */
  cedarRequest(principal: PolicyPrincipal, action: DataAction, collection: string, target: Row | string): {
    principal: EntityUidJson; action: EntityUidJson; resource: EntityUidJson; context: Context; entities: EntityJson[];
  } {
    const p = this.#principal(principal);
    const c = this.#collection(collection);
    let res: EntityJson;
    if (action === 'read' || action === 'write') {
      if (typeof target === 'string') throw new SiosError('ERR_INPUT', `${action} targets a row object`);
      res = rowEntity(c, target, this.#decl, true).json!;
    } else {
      if (typeof target !== 'string' || !c.columnsEval.has(target)) throw new SiosError('ERR_INPUT', `${action} targets a declared column name`);
      res = c.columnsJson.find((j) => (j.uid as { id: string }).id === `${c.spec.name}/${target}`)!;
    }
    const isRow = action === 'read' || action === 'write';
    return {
      principal: { type: p.type, id: p.id }, action: actionUid(action), resource: res.uid, context: {},
      entities: [...p.json, c.collectionJson, ...(isRow ? [res] : c.columnsJson)],
    };
  }

  /** The whole set (tenant policies and baseline) as id -> text, for plain Cedar evaluation. */
  fullPolicySet(): Record<string, string> {
    return Object.fromEntries(this.#set.policies.map((p) => [p.id, p.text]));
  }

  // ---- internals ----

  #principal(principal: PolicyPrincipal): PrincipalInfo {
    // A deeply frozen principal cannot change after its facts were checked, so its checked form is
    // reused; anything else is checked on every call.
    const frozen = isDeeplyFrozen(principal);
    const known = frozen ? this.#principals.get(principal) : undefined;
    if (known !== undefined) return known;
    const p = principalInfo(principal, this.#decl);
    if (principal.tenant !== this.tenant) {
      throw new SiosError('ERR_FORBIDDEN', `principal "${p.id}" belongs to tenant "${principal.tenant}", not "${this.tenant}"; use that tenant's policy engine`);
    }
    if (frozen) this.#principals.set(principal, p);
    return p;
  }

  #collection(name: string): CollectionInfo {
    const c = typeof name === 'string' ? this.#collections.get(name) : undefined;
    if (c === undefined) throw new SiosError('ERR_NOT_FOUND', `collection ${describe(name)} is not declared for tenant "${this.tenant}"; add it to the collections given to TenantPolicy.load`);
    return c;
  }

  #slice(action: ActionName, key: string): LoadedPolicy[] {
    const k = `${action}\n${key}`;
    let s = this.#slices.get(k);
    if (s === undefined) { s = slice(this.#set, action, key); this.#slices.set(k, s); }
    return s;
  }

  /** Pre-parses (once) the slice for (action, key) into Cedar's thread-local cache; returns its id. */
  #sliceId(action: ActionName, key: string): string {
    const k = `${action}\n${key}`;
    let id = this.#preparsed.get(k);
    if (id === undefined) {
      id = `${this.#prefix}:${action}:${key}`;
      const r = cedar.preparsePolicySet(id, { staticPolicies: Object.fromEntries(this.#slice(action, key).map((p) => [p.id, p.text])) });
      if (r.type === 'failure') throw new SiosError('ERR_INTERNAL', `Cedar refused a validated policy slice: ${r.errors.map((e) => formatCedarError(e)).join('; ')}`);
      this.#preparsed.set(k, id);
    }
    return id;
  }

  #entry(action: DataAction, p: PrincipalInfo, c: CollectionInfo): CacheEntry {
    const key = `${action}\n${c.spec.name}\n${p.key}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#hits++;
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    this.#misses++;
    const isColumn = action === 'readColumn' || action === 'writeColumn';
    const entitiesJson: EntityJson[] = [...p.json, c.collectionJson, ...(isColumn ? c.columnsJson : [])];
    const store = new Map<string, EvalEntity>();
    for (const e of [p.eval, ...p.evalRoles, c.collectionEval, ...(isColumn ? c.columnsEval.values() : [])]) store.set(e.key, e);
    const principalUid = { type: p.type, id: p.id };
    const relevant = this.#slice(action, c.spec.name).filter((pol) => principalScopeMayMatch(pol, p.type, p.id, p.roles));
    const partial = cedar.isAuthorizedPartial({
      principal: principalUid, action: actionUid(action), resource: null, context: {},
      policies: { staticPolicies: Object.fromEntries(relevant.map((pol) => [pol.id, pol.text])) },
      entities: entitiesJson,
    });
    if (partial.type === 'failure') {
      throw new SiosError('ERR_INTERNAL', `Cedar partial evaluation failed for ${action} on ${c.spec.name}: ${partial.errors.map((e) => formatCedarError(e)).join('; ')}`);
    }
    const decider = compileResiduals(partial.response, this.#effects);
    if (decider === null) this.#uncompiled++;
    const entry: CacheEntry = { decider, store, entitiesJson, principalUid, sliceId: this.#sliceId(action, c.spec.name), columns: null };
    this.#cache.set(key, entry);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return entry;
  }

  #readableColumns(p: PrincipalInfo, c: CollectionInfo): readonly string[] {
    const entry = this.#entry('readColumn', p, c);
    if (entry.columns === null) {
      const cols: string[] = [];
      for (const [i, name] of c.columnNames.entries()) {
        const ce = c.columnsEval.get(name)!;
        if (this.#decide(entry, 'readColumn', ce, () => c.columnsJson[i]!)) cols.push(name);
      }
      entry.columns = Object.freeze(cols);
    }
    return entry.columns;
  }

  #decide(entry: CacheEntry, action: DataAction, resource: EvalEntity, json: () => EntityJson): boolean {
    if (entry.decider !== null) {
      try {
        return entry.decider.decide({ resource, store: entry.store });
      } catch (e) {
        if (!(e instanceof NeedsCedar)) throw e;
      }
    }
    return this.#cedarOne(entry, action, json()).allow;
  }

  #explain(entry: CacheEntry, action: DataAction, resource: EvalEntity, json: EntityJson): { allow: boolean; policies: string[]; erroredForbids: string[] } {
    if (entry.decider !== null) {
      try {
        return entry.decider.explain({ resource, store: entry.store });
      } catch (e) {
        if (!(e instanceof NeedsCedar)) throw e;
      }
    }
    const r = this.#cedarOne(entry, action, json);
    return { allow: r.allow, policies: r.erroredForbids.length > 0 ? [] : [...r.reason].sort(), erroredForbids: r.erroredForbids };
  }

  #cedarOne(entry: CacheEntry, action: DataAction, resource: EntityJson): { allow: boolean; reason: string[]; erroredForbids: string[] } {
    this.#fallbacks++;
    const isColumn = action === 'readColumn' || action === 'writeColumn';
    const ans = cedar.statefulIsAuthorized({
      principal: entry.principalUid, action: actionUid(action), resource: resource.uid, context: {},
      preparsedPolicySetId: entry.sliceId, entities: isColumn ? [...entry.entitiesJson] : [...entry.entitiesJson, resource],
    });
    return this.#answer(ans, action);
  }

  #answer(ans: AuthorizationAnswer, what: string): { allow: boolean; reason: string[]; erroredForbids: string[]; errors: Map<string, string> } {
    if (ans.type === 'failure') {
      throw new SiosError('ERR_INTERNAL', `Cedar could not evaluate the ${what} request: ${ans.errors.map((e) => formatCedarError(e)).join('; ')}`);
    }
    const errors = new Map<string, string>();
    const erroredForbids: string[] = [];
    for (const e of ans.response.diagnostics.errors) {
      errors.set(e.policyId, e.error.message);
      if (this.#effects.get(e.policyId) === 'forbid') erroredForbids.push(e.policyId);
    }
    const allow = ans.response.decision === 'allow' && erroredForbids.length === 0;
    return { allow, reason: ans.response.diagnostics.reason, erroredForbids, errors };
  }

  #denyReason(what: string, ex: { policies: string[]; erroredForbids: string[] }): string {
    if (ex.erroredForbids.length > 0) return `${what} is denied: forbid policy ${ex.erroredForbids.map((i) => `"${i}"`).join(', ')} could not be evaluated (fail closed)`;
    if (ex.policies.length > 0) return `${what} is denied: ${ex.policies.map((i) => this.#set.byId.get(i)?.reason ?? i).join('; ')}`;
    return `${what} is denied: no policy permits it (default deny)`;
  }
}

