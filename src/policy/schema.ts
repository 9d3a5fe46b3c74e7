/**
 * The Cedar schema every tenant policy set is validated against, and the SIOS baseline policies
 * that are appended to every tenant set and cannot be removed or overridden.
 *
 * Entity model (Cedar 4 schema syntax, no namespace so tenant policies stay short):
 *   Role                          groups principals and brains (`principal in Role::"nurse"`)
 *   Principal in [Role]           a person: tenant, role, clearance 0..4, tenant-declared attributes
 *   Brain in [Role]               an AI agent: tenant, name, clearance
 *   Skill                         name, risk ("read" | "write" | "high-impact"), clearance
 *   Collection                    name, clearance
 *   Record in [Collection]        one row: id "<collection>/<row id>", clearance, tenant-declared
 *                                 row attributes (for example ward, desk) taken from the row
 *   Column in [Collection]        id "<collection>/<column>": name, category, clearance
 *   actions read/write (Principal -> Record), readColumn/writeColumn (Principal -> Column),
 *   invoke ([Principal, Brain] -> Skill, context: time, rate state, argument facts).
 *
 * Tenant-declared attributes are flat (`resource.ward`, `principal.desk`). Optional ones (`?`)
 * must be guarded with `has` (Cedar strict validation enforces it), which is how a policy stays
 * correct when a row or a principal lacks the fact.
 */
import { SiosError } from '../errors.ts';

/** Five clearance levels; a principal at level L sees and does only what requires <= L. */
export const CLEARANCE_LEVELS = ['public', 'internal', 'confidential', 'secret', 'restricted'] as const;
export type ClearanceName = (typeof CLEARANCE_LEVELS)[number];
/** 0 public, 1 internal, 2 confidential, 3 secret, 4 restricted. */
export type Clearance = 0 | 1 | 2 | 3 | 4;

export function isClearance(v: unknown): v is Clearance {
  return v === 0 || v === 1 || v === 2 || v === 3 || v === 4;
}

export function checkClearance(v: unknown, what: string): Clearance {
  if (!isClearance(v)) {
    throw new SiosError('ERR_INPUT', `${what} must be a clearance level 0..4 (0 public, 1 internal, 2 confidential, 3 secret, 4 restricted), got ${describe(v)}`);
  }
  return v;
}

/** Attribute types a tenant may declare. `Set<String>` is for tags such as a principal's desks. */
export type AttrType = 'String' | 'Long' | 'Boolean' | 'Set<String>';
const ATTR_TYPES: readonly AttrType[] = ['String', 'Long', 'Boolean', 'Set<String>'];

export interface AttrDecl { readonly type: AttrType; readonly optional: boolean }

/**
 * What a tenant adds to the fixed entity model. Keys are attribute names; a value is a type,
 * with a trailing `?` for optional (for example `{ ward: 'String?' }`).
 */
export interface TenantDeclarations {
  /** Extra attributes of Principal (for example ward, desk). */
  readonly principal?: Readonly<Record<string, string>>;
  /** Row attributes exposed to policies as Record attributes (taken from same-named row columns). */
  readonly record?: Readonly<Record<string, string>>;
  /** Facts about a skill call's arguments exposed as `context.args.<name>`. */
  readonly args?: Readonly<Record<string, string>>;
}

export interface ParsedDeclarations {
  readonly principal: ReadonlyMap<string, AttrDecl>;
  readonly record: ReadonlyMap<string, AttrDecl>;
  readonly args: ReadonlyMap<string, AttrDecl>;
}

const RESERVED: Readonly<Record<keyof ParsedDeclarations, readonly string[]>> = {
  principal: ['tenant', 'role', 'clearance', 'name'],
  record: ['clearance', 'collection', 'id'],
  args: [],
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// Cedar reserved words cannot be attribute names in the schema grammar without quoting; refuse them.
const CEDAR_RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', 'principal', 'action', 'resource', 'context', '__cedar']);

export function parseDeclarations(d: TenantDeclarations = {}): ParsedDeclarations {
  if (typeof d !== 'object' || d === null) throw new SiosError('ERR_INPUT', 'tenant declarations must be an object with optional keys principal, record, args');
  for (const k of Object.keys(d)) {
    if (k !== 'principal' && k !== 'record' && k !== 'args') {
      throw new SiosError('ERR_INPUT', `unknown key "${k}" in tenant declarations; allowed keys are principal, record, args`);
    }
  }
  const one = (kind: keyof ParsedDeclarations): Map<string, AttrDecl> => {
    const src = d[kind] ?? {};
    const out = new Map<string, AttrDecl>();
    for (const [name, spec] of Object.entries(src)) {
      if (!IDENT.test(name) || CEDAR_RESERVED.has(name)) {
        throw new SiosError('ERR_INPUT', `declared ${kind} attribute name "${name}" is not a plain identifier (letters, digits, _; not a Cedar keyword); rename it`);
      }
      if (RESERVED[kind].includes(name)) {
        throw new SiosError('ERR_INPUT', `declared ${kind} attribute "${name}" is built in (${RESERVED[kind].join(', ')}); choose another name`);
      }
      if (typeof spec !== 'string') throw new SiosError('ERR_INPUT', `type of ${kind} attribute "${name}" must be a string such as "String" or "Long?"`);
      const optional = spec.endsWith('?');
      const type = (optional ? spec.slice(0, -1) : spec) as AttrType;
      if (!ATTR_TYPES.includes(type)) {
        throw new SiosError('ERR_INPUT', `type "${spec}" of ${kind} attribute "${name}" is not one of ${ATTR_TYPES.join(', ')} (append ? for optional)`);
      }
      out.set(name, { type, optional });
    }
    return out;
  };
  return { principal: one('principal'), record: one('record'), args: one('args') };
}

function attrLines(m: ReadonlyMap<string, AttrDecl>): string {
  let s = '';
  // Cedar's schema syntax spells the boolean type `Bool`.
  for (const [name, a] of [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1))) s += `, ${name}${a.optional ? '?' : ''}: ${a.type === 'Boolean' ? 'Bool' : a.type}`;
  return s;
}

/** The schema text (Cedar schema syntax) for a tenant's declarations; deterministic. */
export function schemaText(decl: ParsedDeclarations): string {
  const args = attrLines(decl.args).slice(2);
  return [
    '// SIOS policy schema v1 (src/policy/schema.ts)',
    'entity Role;',
    'entity Collection { name: String, clearance: Long };',
    `entity Principal in [Role] { tenant: String, role: String, clearance: Long${attrLines(decl.principal)} };`,
    'entity Brain in [Role] { tenant: String, name: String, clearance: Long };',
    'entity Skill { name: String, risk: String, clearance: Long };',
    `entity Record in [Collection] { collection: String, clearance: Long${attrLines(decl.record)} };`,
    'entity Column in [Collection] { name: String, collection: String, category: String, clearance: Long };',
    'action read, write appliesTo { principal: [Principal], resource: [Record], context: {} };',
    'action readColumn, writeColumn appliesTo { principal: [Principal], resource: [Column], context: {} };',
    'action invoke appliesTo { principal: [Principal, Brain], resource: [Skill], context: {',
    '  now: Long, hour: Long, weekday: Long,',
    '  rate: { count: Long, limit: Long },',
    `  args: { ${args} }`,
    '} };',
    '',
  ].join('\n');
}

/** Prefix reserved for SIOS baseline policy ids; tenant policies may not use it. */
export const RESERVED_ID_PREFIX = 'sios.';

/**
 * Baseline policies, appended to every tenant set. Cedar's forbid-overrides-permit rule makes the
 * clearance cap absolute: no tenant permit can grant above the principal's clearance.
 */
export const BASELINE_POLICIES: Readonly<Record<string, string>> = Object.freeze({
  'sios.clearance.record':
    '@id("sios.clearance.record") @reason("the record requires a higher clearance than the principal holds")\n' +
    'forbid(principal, action, resource is Record) when { principal.clearance < resource.clearance };',
  'sios.clearance.column':
    '@id("sios.clearance.column") @reason("the column requires a higher clearance than the principal holds")\n' +
    'forbid(principal, action, resource is Column) when { principal.clearance < resource.clearance };',
  'sios.clearance.skill':
    '@id("sios.clearance.skill") @reason("the skill requires a higher clearance than the principal holds")\n' +
    'forbid(principal, action == Action::"invoke", resource is Skill) when { principal.clearance < resource.clearance };',
});

export const SKILL_RISKS = ['read', 'write', 'high-impact'] as const;
export type SkillRisk = (typeof SKILL_RISKS)[number];

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
