/**
 * Turning SIOS principals, collections, columns and rows into Cedar entities, in two shapes that
 * must agree: the JSON the Cedar Wasm module takes, and the in-memory form the compiled residual
 * evaluator (residual.ts) reads. Every input is checked against the tenant's declarations here, so
 * both paths see the same, well-typed facts.
 */
import type { CedarValueJson, EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { SiosError } from '../errors.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { checkClearance, describe, type AttrDecl, type Clearance, type ParsedDeclarations } from './schema.ts';
import { CSet, entityKey, type CVal, type EvalEntity } from './residual.ts';

/** A fact value: what a declared attribute may hold. */
export type AttrValue = string | number | boolean | readonly string[];

/** Who asks. `kind` defaults to "Principal" (a person); brains only appear in `invoke`. */
export interface PolicyPrincipal {
  readonly kind?: 'Principal' | 'Brain';
  readonly id: string;
  readonly tenant: string;
  /** Primary role (also a Role parent, so `principal in Role::"<role>"` matches). */
  readonly role: string;
  /** Further roles the principal holds. */
  readonly roles?: readonly string[];
  readonly clearance: Clearance;
  /** Tenant-declared attributes (declarations.principal), for example `{ ward: "w3" }`. */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface ColumnSpec {
  readonly clearance: Clearance;
  /** Free label policies can test (`resource.category == "billing"`); default "general". */
  readonly category?: string;
}

export interface CollectionSpec {
  readonly name: string;
  readonly clearance: Clearance;
  /** Column whose value identifies a row (Record id is "<collection>/<value>"). */
  readonly idColumn: string;
  /** Optional column holding the row's own clearance level (0..4). */
  readonly rowClearanceColumn?: string;
  /** Every column that may be returned; columns not listed here are never returned. */
  readonly columns: Readonly<Record<string, ColumnSpec>>;
}

export type Row = Readonly<Record<string, unknown>>;

export interface PrincipalInfo {
  /** Canonical form: equal keys mean equal Cedar facts (the decision-cache key). */
  readonly key: string;
  readonly type: 'Principal' | 'Brain';
  readonly id: string;
  readonly roles: ReadonlySet<string>;
  readonly eval: EvalEntity;
  /** Principal plus its Role entities, as Cedar JSON. */
  readonly json: EntityJson[];
  readonly evalRoles: EvalEntity[];
}

export interface CollectionInfo {
  readonly spec: CollectionSpec;
  readonly columnNames: readonly string[];
  readonly collectionEval: EvalEntity;
  readonly collectionJson: EntityJson;
  readonly columnsEval: ReadonlyMap<string, EvalEntity>;
  readonly columnsJson: readonly EntityJson[];
  readonly clearance: Clearance;
  /** Shared ancestor set of every Record of this collection. */
  readonly recordAncestors: ReadonlySet<string>;
}

const ID_RE = /^[^\u0000-\u001f/]{1,256}$/;

function checkName(v: unknown, what: string): string {
  if (typeof v !== 'string' || !ID_RE.test(v) || !v.isWellFormed()) {
    throw new SiosError('ERR_INPUT', `${what} must be a 1-256 character string without "/" or control characters, got ${describe(v)}`);
  }
  return v;
}

/** Checks a value against a declared attribute type; returns both representations. */
/** Checks a value against a declared attribute type; returns the evaluator value (and sets json). */
function fact(v: unknown, d: AttrDecl, what: () => string): CVal {
  switch (d.type) {
    case 'String':
      if (typeof v === 'string' && v.isWellFormed()) return v;
      break;
    case 'Long':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v === 0 ? 0 : v;
      break;
    case 'Boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'Set<String>':
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.isWellFormed())) return new CSet([...new Set(v as string[])]);
      break;
  }
  throw new SiosError('ERR_INPUT', `${what()} must be a ${d.type === 'Long' ? 'safe integer (Long)' : d.type}, got ${describe(v)}`);
}

function factJson(v: CVal): CedarValueJson {
  return v instanceof CSet ? (v.items as string[]) : (v as string | number | boolean);
}

/** Reads the declared attributes from src into attrs (and json when given); `what` names src in errors. */
function facts(
  src: Readonly<Record<string, unknown>>, decl: ReadonlyMap<string, AttrDecl>, what: () => string, strict: boolean,
  json: Record<string, CedarValueJson> | null, attrs: Map<string, CVal>,
): void {
  if (strict) {
    for (const k of Object.keys(src)) {
      if (!decl.has(k)) throw new SiosError('ERR_INPUT', `${what()} has undeclared attribute "${k}"; declare it in the tenant declarations or remove it`);
    }
  }
  for (const [name, d] of decl) {
    const v = Object.hasOwn(src, name) ? src[name] : undefined;
    if (v === undefined || v === null) {
      if (!d.optional) throw new SiosError('ERR_INPUT', `${what()} lacks required attribute "${name}" (${d.type})`);
      continue;
    }
    const f = fact(v, d, () => `${what()} attribute "${name}"`);
    attrs.set(name, f);
    if (json !== null) json[name] = factJson(f);
  }
}

export function principalInfo(p: PolicyPrincipal, decl: ParsedDeclarations): PrincipalInfo {
  if (typeof p !== 'object' || p === null) throw new SiosError('ERR_INPUT', 'principal must be an object { id, tenant, role, clearance, attrs? }');
  for (const k of Object.keys(p)) {
    if (!['kind', 'id', 'tenant', 'role', 'roles', 'clearance', 'attrs'].includes(k)) {
      throw new SiosError('ERR_INPUT', `unknown principal field "${k}"; allowed: kind, id, tenant, role, roles, clearance, attrs`);
    }
  }
  const type = p.kind ?? 'Principal';
  if (type !== 'Principal' && type !== 'Brain') throw new SiosError('ERR_INPUT', `principal kind must be "Principal" or "Brain", got ${describe(type)}`);
  const id = checkName(p.id, 'principal id');
  const tenant = checkName(p.tenant, 'principal tenant');
  const role = checkName(p.role, 'principal role');
  const clearance = checkClearance(p.clearance, `clearance of principal "${id}"`);
  if (p.roles !== undefined && !Array.isArray(p.roles)) throw new SiosError('ERR_INPUT', `roles of principal "${id}" must be an array of role names`);
  const roles = new Set<string>([role, ...(p.roles ?? []).map((r) => checkName(r, `a role of principal "${id}"`))]);
  const sortedRoles = [...roles].sort();
  const json: Record<string, CedarValueJson> = { tenant, clearance };
  const attrs = new Map<string, CVal>([['tenant', tenant], ['clearance', clearance]]);
  if (type === 'Principal') {
    json['role'] = role;
    attrs.set('role', role);
    const a = p.attrs ?? {};
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new SiosError('ERR_INPUT', `attrs of principal "${id}" must be an object`);
    facts(a, decl.principal, () => `principal "${id}"`, true, json, attrs);
  } else {
    json['name'] = id;
    attrs.set('name', id);
    if (p.attrs !== undefined && Object.keys(p.attrs).length > 0) {
      throw new SiosError('ERR_INPUT', `brain "${id}" has attrs; brains carry only tenant, name, clearance and roles`);
    }
  }
  const parents = sortedRoles.map((r) => ({ type: 'Role', id: r }));
  const evalRoles: EvalEntity[] = sortedRoles.map((r) => ({ type: 'Role', id: r, key: entityKey('Role', r), attrs: new Map(), ancestors: new Set() }));
  const entityJson: EntityJson = { uid: { type, id }, attrs: json, parents };
  return {
    key: canonicalize(entityJson),
    type, id, roles,
    eval: { type, id, key: entityKey(type, id), attrs, ancestors: new Set(sortedRoles.map((r) => entityKey('Role', r))) },
    json: [entityJson, ...sortedRoles.map((r) => ({ uid: { type: 'Role', id: r }, attrs: {}, parents: [] }))],
    evalRoles,
  };
}

export function collectionInfo(spec: CollectionSpec): CollectionInfo {
  if (typeof spec !== 'object' || spec === null) throw new SiosError('ERR_INPUT', 'a collection spec must be an object { name, clearance, idColumn, columns }');
  for (const k of Object.keys(spec)) {
    if (!['name', 'clearance', 'idColumn', 'rowClearanceColumn', 'columns'].includes(k)) {
      throw new SiosError('ERR_INPUT', `unknown collection field "${k}"; allowed: name, clearance, idColumn, rowClearanceColumn, columns`);
    }
  }
  const name = checkName(spec.name, 'collection name');
  const clearance = checkClearance(spec.clearance, `clearance of collection "${name}"`);
  if (typeof spec.columns !== 'object' || spec.columns === null) throw new SiosError('ERR_INPUT', `columns of collection "${name}" must be an object of { clearance, category? }`);
  const columnNames = Object.keys(spec.columns).sort();
  if (columnNames.length === 0) throw new SiosError('ERR_INPUT', `collection "${name}" declares no columns`);
  checkName(spec.idColumn, `idColumn of collection "${name}"`);
  if (spec.rowClearanceColumn !== undefined) checkName(spec.rowClearanceColumn, `rowClearanceColumn of collection "${name}"`);
  const colKey = entityKey('Collection', name);
  const columnsEval = new Map<string, EvalEntity>();
  const columnsJson: EntityJson[] = [];
  for (const c of columnNames) {
    checkName(c, `a column name of collection "${name}"`);
    const cs = spec.columns[c]!;
    for (const k of Object.keys(cs)) {
      if (k !== 'clearance' && k !== 'category') throw new SiosError('ERR_INPUT', `unknown field "${k}" on column "${c}" of collection "${name}"; allowed: clearance, category`);
    }
    const level = Math.max(clearance, checkClearance(cs.clearance, `clearance of column "${c}" in collection "${name}"`));
    const category = cs.category ?? 'general';
    if (typeof category !== 'string') throw new SiosError('ERR_INPUT', `category of column "${c}" must be a string`);
    const id = `${name}/${c}`;
    columnsEval.set(c, {
      type: 'Column', id, key: entityKey('Column', id),
      attrs: new Map<string, CVal>([['name', c], ['collection', name], ['category', category], ['clearance', level]]),
      ancestors: new Set([colKey]),
    });
    columnsJson.push({ uid: { type: 'Column', id }, attrs: { name: c, collection: name, category, clearance: level }, parents: [{ type: 'Collection', id: name }] });
  }
  return {
    spec, columnNames, clearance, columnsEval, columnsJson, recordAncestors: new Set([colKey]),
    collectionEval: { type: 'Collection', id: name, key: colKey, attrs: new Map<string, CVal>([['name', name], ['clearance', clearance]]), ancestors: new Set() },
    collectionJson: { uid: { type: 'Collection', id: name }, attrs: { name, clearance }, parents: [] },
  };
}

/**
 * The Record entity for one row: id "<collection>/<row id>", clearance = max(collection level,
 * row level), and the declared record attributes found in the row. `withJson` also builds the
 * Cedar JSON (only needed when Cedar itself evaluates the row).
 */
export function rowEntity(c: CollectionInfo, row: Row, decl: ParsedDeclarations, withJson: boolean): { eval: EvalEntity; json: EntityJson | null } {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new SiosError('ERR_INPUT', `a row of collection "${c.spec.name}" must be an object`);
  const rawId = row[c.spec.idColumn];
  if (!((typeof rawId === 'string' && rawId.length > 0 && rawId.isWellFormed()) || (typeof rawId === 'number' && Number.isSafeInteger(rawId)))) {
    throw new SiosError('ERR_INPUT', `a row of collection "${c.spec.name}" has id column "${c.spec.idColumn}" = ${describe(rawId)}; it must be a non-empty string or a safe integer`);
  }
  const id = `${c.spec.name}/${String(rawId)}`;
  let level: number = c.clearance;
  if (c.spec.rowClearanceColumn !== undefined) {
    const l = checkClearance(row[c.spec.rowClearanceColumn], `row "${id}" column "${c.spec.rowClearanceColumn}"`);
    if (l > level) level = l;
  }
  const json: Record<string, CedarValueJson> | null = withJson ? { collection: c.spec.name, clearance: level } : null;
  const attrs = new Map<string, CVal>([['collection', c.spec.name], ['clearance', level]]);
  facts(row, decl.record, () => `row "${id}"`, false, json, attrs);
  return {
    eval: { type: 'Record', id, key: entityKey('Record', id), attrs, ancestors: c.recordAncestors },
    json: json === null ? null : { uid: { type: 'Record', id }, attrs: json, parents: [{ type: 'Collection', id: c.spec.name }] },
  };
}

/** Checks skill-call argument facts against declarations.args; returns the Cedar JSON record. */
export function argFacts(args: Readonly<Record<string, unknown>>, decl: ParsedDeclarations): Record<string, CedarValueJson> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new SiosError('ERR_INPUT', 'invoke args must be an object of declared argument facts');
  const json: Record<string, CedarValueJson> = {};
  facts(args, decl.args, () => 'invoke args', true, json, new Map());
  return json;
}
