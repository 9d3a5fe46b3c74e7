/**
 * Loading a tenant's policy text: parse, check annotations, validate against the SIOS schema
 * (Cedar strict mode), and index each policy by the actions and collections its scope can match,
 * so a request only ever evaluates the slice of policies that could apply to it.
 *
 * Slicing is sound because a Cedar policy whose scope (principal/action/resource constraints) does
 * not match a request is never satisfied and never errors (scope constraints cannot error). The
 * index is conservative: when in doubt a policy is kept in the slice.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError, PolicyJson, EntityUidJson, TypeAndId } from '@cedar-policy/cedar-wasm/nodejs';
import { SiosError } from '../errors.ts';
import { BASELINE_POLICIES, RESERVED_ID_PREFIX } from './schema.ts';

/** Annotations a tenant policy may carry; anything else is rejected (a typo must not drop an approval). */
export const ALLOWED_ANNOTATIONS = ['id', 'reason', 'description', 'approvals', 'human'] as const;
export const MAX_POLICY_TEXT = 16 * 1024 * 1024;
export const MAX_POLICIES = 100_000;
export const MAX_APPROVALS = 16;

export type DataAction = 'read' | 'write' | 'readColumn' | 'writeColumn';
export type ActionName = DataAction | 'invoke';
export const ACTIONS: readonly ActionName[] = ['read', 'write', 'readColumn', 'writeColumn', 'invoke'];

export interface LoadedPolicy {
  readonly id: string;
  readonly text: string;
  readonly json: PolicyJson;
  readonly effect: 'permit' | 'forbid';
  readonly baseline: boolean;
  /** `@reason` or a generated sentence; shown in decisions. */
  readonly reason: string;
  /** From `@approvals("k")`: approving brains this permit demands (0 when absent). */
  readonly approvals: number;
  /** From `@human("required")`. */
  readonly human: boolean;
  /** Actions the scope can match. */
  readonly actions: ReadonlySet<ActionName>;
  /** Collections (for Record/Column resources) or skills (for invoke) the resource scope can match; null = any. */
  readonly resourceKeys: ReadonlySet<string> | null;
}

export interface LoadedPolicySet {
  readonly policies: readonly LoadedPolicy[];
  readonly byId: ReadonlyMap<string, LoadedPolicy>;
}

/** "line L, column C" of a UTF-16 offset in text (Cedar reports offsets into the text it was given). */
function position(text: string, offset: number): string {
  let line = 1, col = 1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) { line++; col = 1; } else col++;
  }
  return `line ${line}, column ${col}`;
}

export function formatCedarError(e: DetailedError, text?: string): string {
  let s = e.message;
  const loc = e.sourceLocations?.[0];
  if (text !== undefined && loc !== undefined) {
    const snippet = text.slice(loc.start, Math.min(loc.end, loc.start + 60)).replace(/\s+/g, ' ');
    s += ` (at ${position(text, loc.start)}: \`${snippet}\`)`;
  }
  if (e.help) s += `; ${e.help}`;
  return s;
}

function uidOf(e: EntityUidJson): TypeAndId {
  return '__entity' in e ? e.__entity : e;
}

const RECORD_ACTIONS: readonly ActionName[] = ['read', 'write'];
const COLUMN_ACTIONS: readonly ActionName[] = ['readColumn', 'writeColumn'];

function actionsOf(json: PolicyJson): Set<ActionName> {
  const a = json.action;
  if (a.op === 'All') return new Set(ACTIONS);
  const ids: TypeAndId[] = a.op === '==' ? ('entity' in a ? [uidOf(a.entity)] : []) : ('entity' in a ? [uidOf(a.entity)] : a.entities.map(uidOf));
  // The schema declares no action groups, so `action in [A, B]` is equality with one of them.
  const out = new Set<ActionName>();
  for (const u of ids) if (u.type === 'Action' && (ACTIONS as readonly string[]).includes(u.id)) out.add(u.id as ActionName);
  return out;
}

/**
 * Which collections (Record/Column ids are "<collection>/<name>") or skills a resource scope can
 * match, and which actions survive given the resource type. null = no restriction.
 */
function resourceScope(json: PolicyJson, actions: Set<ActionName>): ReadonlySet<string> | null {
  const r = json.resource;
  if (r.op === 'All') return null;
  let type: string | undefined;
  let target: TypeAndId | undefined;
  if (r.op === 'is') {
    type = r.entity_type;
    if (r.in !== undefined && 'entity' in r.in) target = uidOf(r.in.entity);
  } else if ('entity' in r) {
    target = uidOf(r.entity);
    if (r.op === '==') type = target.type;
  }
  // Drop actions whose resource type cannot be the scope's type.
  if (type !== undefined) {
    for (const a of [...actions]) {
      const want = RECORD_ACTIONS.includes(a) ? 'Record' : COLUMN_ACTIONS.includes(a) ? 'Column' : 'Skill';
      if (want !== type) actions.delete(a);
    }
  }
  if (target === undefined) return null;
  switch (target.type) {
    case 'Collection':
      // Only Records and Columns are in a Collection.
      for (const a of [...actions]) if (a === 'invoke') actions.delete(a);
      return new Set([target.id]);
    case 'Record':
    case 'Column': {
      const slash = target.id.indexOf('/');
      for (const a of [...actions]) {
        const ok = target.type === 'Record' ? RECORD_ACTIONS.includes(a) : COLUMN_ACTIONS.includes(a);
        if (!ok) actions.delete(a);
      }
      return new Set(slash < 0 ? [] : [target.id.slice(0, slash)]);
    }
    case 'Skill':
      for (const a of [...actions]) if (a !== 'invoke') actions.delete(a);
      return new Set([target.id]);
    default:
      // Record/Column/Skill are members of nothing else: such a scope matches no request.
      actions.clear();
      return new Set();
  }
}

function annotationError(id: string, msg: string): SiosError {
  return new SiosError('ERR_INPUT', `policy "${id}": ${msg}`, { details: { policyId: id } });
}

function describePolicy(json: PolicyJson): string {
  return json.effect === 'permit' ? 'permitted by policy' : 'forbidden by policy';
}

function toLoaded(id: string, text: string, json: PolicyJson, baseline: boolean): LoadedPolicy {
  const ann = json.annotations ?? {};
  let approvals = 0, human = false;
  for (const [k, v] of Object.entries(ann)) {
    if (!(ALLOWED_ANNOTATIONS as readonly string[]).includes(k)) {
      throw annotationError(id, `unknown annotation @${k}; allowed annotations are ${ALLOWED_ANNOTATIONS.map((a) => '@' + a).join(', ')}`);
    }
    if (v === null && k !== 'description') throw annotationError(id, `annotation @${k} needs a value, for example @${k}("...")`);
  }
  if (ann['approvals'] !== undefined) {
    const v = ann['approvals'];
    if (!/^(0|[1-9][0-9]?)$/.test(v) || Number(v) > MAX_APPROVALS) {
      throw annotationError(id, `@approvals("${v}") must be a whole number of approving brains from 0 to ${MAX_APPROVALS}`);
    }
    approvals = Number(v);
  }
  if (ann['human'] !== undefined) {
    const v = ann['human'];
    if (v !== 'required' && v !== 'none') throw annotationError(id, `@human("${v}") must be "required" or "none"`);
    human = v === 'required';
  }
  if ((approvals > 0 || human) && json.effect !== 'permit') {
    throw annotationError(id, '@approvals/@human demand approvals for what a policy permits; they have no meaning on a forbid policy: move them to the permit policy');
  }
  const actions = actionsOf(json);
  const resourceKeys = resourceScope(json, actions);
  if ((approvals > 0 || human) && !actions.has('invoke')) {
    throw annotationError(id, '@approvals/@human apply to skill invocation only; scope the policy to action == Action::"invoke"');
  }
  return Object.freeze({
    id, text, json, effect: json.effect, baseline,
    reason: ann['reason'] ?? `${describePolicy(json)} "${id}"`,
    approvals, human, actions, resourceKeys,
  });
}

/**
 * Parses and validates a tenant's policy text against `schema`. Every tenant policy must carry a
 * unique `@id("...")` (ids appear in signed decisions, so they must be stable). Throws ERR_INPUT
 * naming the policy and the problem.
 */
export function loadPolicySet(text: string, schema: string): LoadedPolicySet {
  if (typeof text !== 'string') throw new SiosError('ERR_INPUT', 'policy text must be a string of Cedar policies');
  if (text.length > MAX_POLICY_TEXT) throw new SiosError('ERR_TOO_LARGE', `policy text is ${text.length} characters; the limit is ${MAX_POLICY_TEXT}: split the tenant's policies`);
  if (!text.isWellFormed()) throw new SiosError('ERR_ENCODING', 'policy text contains a lone UTF-16 surrogate; supply well-formed Unicode');
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    const msg = parts.errors.map((e) => formatCedarError(e, text)).join('; ');
    throw new SiosError('ERR_INPUT', `tenant policy text does not parse: ${msg}`);
  }
  if (parts.policy_templates.length > 0) {
    throw new SiosError('ERR_INPUT', 'tenant policy text contains a template (?principal / ?resource slot); SIOS accepts static policies only: write the policy for each principal or role');
  }
  if (parts.policies.length > MAX_POLICIES) throw new SiosError('ERR_TOO_LARGE', `${parts.policies.length} policies exceed the limit of ${MAX_POLICIES} per tenant`);
  const policies: LoadedPolicy[] = [];
  const byId = new Map<string, LoadedPolicy>();
  parts.policies.forEach((ptext, i) => {
    const j = cedar.policyToJson(ptext);
    if (j.type === 'failure') {
      throw new SiosError('ERR_INPUT', `policy #${i + 1} cannot be read: ${j.errors.map((e) => formatCedarError(e, ptext)).join('; ')}`);
    }
    const id = j.json.annotations?.['id'];
    const head = ptext.slice(0, 80).replace(/\s+/g, ' ');
    if (id === undefined || id === null || id === '') {
      throw new SiosError('ERR_INPUT', `policy #${i + 1} (\`${head}\`) has no @id annotation; add @id("a-stable-name") so decisions can name it`);
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._:\/-]{0,127}$/.test(id)) {
      throw new SiosError('ERR_INPUT', `policy #${i + 1} has @id("${id.slice(0, 60)}"); ids are 1-128 characters of letters, digits and . _ : / - starting with a letter or digit`);
    }
    if (id.startsWith(RESERVED_ID_PREFIX)) {
      throw new SiosError('ERR_INPUT', `policy id "${id}" uses the prefix "${RESERVED_ID_PREFIX}" reserved for SIOS baseline policies; rename it`);
    }
    if (byId.has(id)) throw new SiosError('ERR_INPUT', `policy id "${id}" is used twice (policies #${policies.indexOf(byId.get(id)!) + 1} and #${i + 1}); ids must be unique`);
    const p = toLoaded(id, ptext, j.json, false);
    policies.push(p);
    byId.set(id, p);
  });
  for (const [id, ptext] of Object.entries(BASELINE_POLICIES)) {
    const j = cedar.policyToJson(ptext);
    if (j.type === 'failure') throw new SiosError('ERR_INTERNAL', `baseline policy ${id} does not parse`);
    const p = toLoaded(id, ptext, j.json, true);
    policies.push(p);
    byId.set(id, p);
  }
  const v = cedar.validate({
    schema,
    policies: { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (v.type === 'failure') {
    throw new SiosError('ERR_INPUT', `policy set cannot be validated: ${v.errors.map((e) => formatCedarError(e)).join('; ')}`);
  }
  if (v.validationErrors.length > 0) {
    const msgs = v.validationErrors.slice(0, 10).map((e) => {
      const p = byId.get(e.policyId);
      return `policy "${e.policyId}": ${formatCedarError(e.error, p?.text)}`;
    });
    const more = v.validationErrors.length > 10 ? ` (and ${v.validationErrors.length - 10} more)` : '';
    throw new SiosError('ERR_INPUT', `tenant policies do not validate against the SIOS schema: ${msgs.join('; ')}${more}`, {
      details: { policyIds: [...new Set(v.validationErrors.map((e) => e.policyId))] },
    });
  }
  return { policies, byId };
}

/** The policies whose scope can match `action` on a resource of `key` (collection or skill name). */
export function slice(set: LoadedPolicySet, action: ActionName, key: string): LoadedPolicy[] {
  const out: LoadedPolicy[] = [];
  for (const p of set.policies) {
    if (!p.actions.has(action)) continue;
    if (p.resourceKeys !== null && !p.resourceKeys.has(key)) continue;
    out.push(p);
  }
  return out;
}

/** Could the principal scope of `p` match a principal of `type` with uid `id` and ancestors `roles`? */
export function principalScopeMayMatch(p: LoadedPolicy, type: string, id: string, ancestors: ReadonlySet<string>): boolean {
  const s = p.json.principal;
  const hit = (u: TypeAndId): boolean => (u.type === type && u.id === id) || (u.type === 'Role' && ancestors.has(u.id));
  switch (s.op) {
    case 'All': return true;
    case '==': return 'entity' in s ? (uidOf(s.entity).type === type && uidOf(s.entity).id === id) : true;
    case 'in': return 'entity' in s ? hit(uidOf(s.entity)) : true;
    case 'is':
      if (s.entity_type !== type) return false;
      return s.in !== undefined && 'entity' in s.in ? hit(uidOf(s.in.entity)) : true;
    default: return true;
  }
}
