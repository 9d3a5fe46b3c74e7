/**
 * Principals: the people (and machine identities) SIOS knows. A principal belongs to exactly one
 * tenant; operators belong to the reserved SYSTEM_TENANT, which no real tenant can be named (tenant
 * ids cannot start with "_"). Operators run the machine and hold keys; they get no read access to
 * tenant data from their role (that is decided by tenant policy, not here).
 */
import type { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../errors.ts';
import { toHex } from '../encoding/bytes.ts';
import { randomBytes } from '../crypto/node.ts';
import { systemClock, type Clock } from './clock.ts';
import { Sql, blob, num, str, type Row } from './db.ts';
import { TENANT_RE, expectInt, expectObject, expectPattern, expectString, isRecord } from './validate.ts';

export type Role = 'operator' | 'tenant-admin' | 'member' | 'auditor';
export const ROLES: readonly Role[] = ['operator', 'tenant-admin', 'member', 'auditor'];

/** 0 public, 1 internal, 2 confidential, 3 secret, 4 restricted. */
export type Clearance = 0 | 1 | 2 | 3 | 4;
export const MAX_CLEARANCE = 4;

export const SYSTEM_TENANT = '_system';

export interface Principal {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly role: Role;
  readonly clearance: Clearance;
  /** Attributes for attribute-based policy (for example ward, desk). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewPrincipal {
  tenant: string;
  name: string;
  role: Role;
  clearance: number;
  attributes?: Record<string, string>;
}

export interface PrincipalPatch {
  name?: string;
  role?: Role;
  clearance?: number;
  attributes?: Record<string, string>;
  disabled?: boolean;
}

const ID_RE = /^p_[0-9a-f]{32}$/;
const ATTR_KEY_RE = /^[a-z][a-z0-9_.-]{0,63}$/;
const MAX_ATTRS = 32;

export function checkPrincipalId(id: unknown): string {
  return expectPattern(id, 'principal id', ID_RE, '"p_" followed by 32 hexadecimal digits');
}

export function checkClearance(v: unknown, what = 'clearance'): Clearance {
  return expectInt(v, what, 0, MAX_CLEARANCE) as Clearance;
}

function checkTenant(tenant: unknown, role: Role): string {
  if (role === 'operator') {
    if (tenant !== SYSTEM_TENANT) throw new SiosError('ERR_INPUT', `operators belong to the tenant "${SYSTEM_TENANT}"; create tenant roles (tenant-admin, member, auditor) inside a tenant`);
    return SYSTEM_TENANT;
  }
  if (tenant === SYSTEM_TENANT) throw new SiosError('ERR_INPUT', `only operators belong to "${SYSTEM_TENANT}"; give a tenant id for role ${role}`);
  return expectPattern(tenant, 'tenant', TENANT_RE, 'a tenant id of lower-case letters, digits and inner hyphens (at most 63)');
}

function checkRole(v: unknown): Role {
  if (typeof v !== 'string' || !(ROLES as readonly string[]).includes(v)) {
    throw new SiosError('ERR_INPUT', `role must be one of ${ROLES.join(', ')}`);
  }
  return v as Role;
}

function checkAttributes(v: unknown): Record<string, string> {
  if (!isRecord(v)) throw new SiosError('ERR_INPUT', 'attributes must be an object of string values');
  const keys = Object.keys(v);
  if (keys.length > MAX_ATTRS) throw new SiosError('ERR_INPUT', `a principal has at most ${MAX_ATTRS} attributes, got ${keys.length}`);
  const out: Record<string, string> = {};
  for (const k of keys.sort()) {
    expectPattern(k, 'attribute name', ATTR_KEY_RE, 'lower-case letters, digits, "_", "." or "-" starting with a letter (at most 64)');
    out[k] = expectString(v[k], `attribute ${k}`, 256, 0);
  }
  return out;
}

function fromRow(r: Row): Principal {
  return Object.freeze({
    id: str(r, 'id'),
    tenant: str(r, 'tenant'),
    name: str(r, 'name'),
    role: checkRole(str(r, 'role')),
    clearance: num(r, 'clearance') as Clearance,
    attributes: Object.freeze(JSON.parse(str(r, 'attributes')) as Record<string, string>),
    disabled: num(r, 'disabled') === 1,
    createdAt: num(r, 'created_at'),
    updatedAt: num(r, 'updated_at'),
  });
}

const COLS = 'id, tenant, name, role, clearance, attributes, disabled, created_at, updated_at';

export class PrincipalStore {
  readonly #sql: Sql;
  readonly #clock: Clock;
  #generation = 0;

  constructor(db: DatabaseSync, options: { clock?: Clock } = {}) {
    this.#sql = new Sql(db);
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Moves whenever a principal is changed or deleted through this store, so that caches of verified
   * credentials (tokens.ts) drop what they learnt about principals at once.
   */
  get generation(): number {
    return this.#generation;
  }

  create(input: NewPrincipal): Principal {
    const o = expectObject(input, 'principal', ['tenant', 'name', 'role', 'clearance', 'attributes'], ['tenant', 'name', 'role', 'clearance']);
    const role = checkRole(o['role']);
    const tenant = checkTenant(o['tenant'], role);
    const name = expectString(o['name'], 'principal name', 128);
    const clearance = checkClearance(o['clearance']);
    const attributes = checkAttributes(o['attributes'] ?? {});
    const id = 'p_' + toHex(randomBytes(16));
    const now = this.#clock();
    // The WebAuthn user handle is random and carries no personal data (WebAuthn §14.6.1).
    const userHandle = randomBytes(32);
    try {
      this.#sql.run(`INSERT INTO auth_principal (${COLS}, user_handle) VALUES (?,?,?,?,?,?,0,?,?,?)`,
        id, tenant, name, role, clearance, JSON.stringify(attributes), now, now, userHandle);
    } catch (e) {
      if (e instanceof SiosError && e.code === 'ERR_CONFLICT') {
        throw new SiosError('ERR_CONFLICT', `tenant ${tenant} already has a principal named "${name}"; choose another name`);
      }
      throw e;
    }
    return this.require(id);
  }

  get(id: string): Principal | undefined {
    const r = this.#sql.get(`SELECT ${COLS} FROM auth_principal WHERE id = ?`, checkPrincipalId(id));
    return r ? fromRow(r) : undefined;
  }

  /** Like get, but a missing principal is ERR_NOT_FOUND. */
  require(id: string): Principal {
    const p = this.get(id);
    if (!p) throw new SiosError('ERR_NOT_FOUND', `no principal ${id}; list the tenant's principals to find the right id`);
    return p;
  }

  findByName(tenant: string, name: string): Principal | undefined {
    const r = this.#sql.get(`SELECT ${COLS} FROM auth_principal WHERE tenant = ? AND name = ?`, tenant, name);
    return r ? fromRow(r) : undefined;
  }

  list(tenant: string): Principal[] {
    return this.#sql.all(`SELECT ${COLS} FROM auth_principal WHERE tenant = ? ORDER BY name`, tenant).map(fromRow);
  }

  update(id: string, patch: PrincipalPatch): Principal {
    const o = expectObject(patch, 'principal update', ['name', 'role', 'clearance', 'attributes', 'disabled']);
    const cur = this.require(id);
    const role = o['role'] === undefined ? cur.role : checkRole(o['role']);
    if ((role === 'operator') !== (cur.role === 'operator')) {
      throw new SiosError('ERR_INPUT', 'a principal cannot move between operator and tenant roles; create a new principal instead');
    }
    const name = o['name'] === undefined ? cur.name : expectString(o['name'], 'principal name', 128);
    const clearance = o['clearance'] === undefined ? cur.clearance : checkClearance(o['clearance']);
    const attributes = o['attributes'] === undefined ? cur.attributes : checkAttributes(o['attributes']);
    let disabled = cur.disabled;
    if (o['disabled'] !== undefined) {
      if (typeof o['disabled'] !== 'boolean') throw new SiosError('ERR_INPUT', 'disabled must be true or false');
      disabled = o['disabled'];
    }
    this.#generation++;
    this.#sql.run('UPDATE auth_principal SET name = ?, role = ?, clearance = ?, attributes = ?, disabled = ?, updated_at = ? WHERE id = ?',
      name, role, clearance, JSON.stringify(attributes), disabled ? 1 : 0, this.#clock(), cur.id);
    return this.require(cur.id);
  }

  disable(id: string): Principal { return this.update(id, { disabled: true }); }

  /** Deletes the principal with its passkeys, sessions, enrolments and API tokens. */
  delete(id: string): void {
    this.#generation++;
    const n = this.#sql.run('DELETE FROM auth_principal WHERE id = ?', checkPrincipalId(id));
    if (n === 0) throw new SiosError('ERR_NOT_FOUND', `no principal ${id} to delete`);
  }

  /** The WebAuthn user handle (user.id) of the principal. */
  userHandle(id: string): Uint8Array {
    const r = this.#sql.get('SELECT user_handle FROM auth_principal WHERE id = ?', checkPrincipalId(id));
    if (!r) throw new SiosError('ERR_NOT_FOUND', `no principal ${id}`);
    return blob(r, 'user_handle');
  }

  /** A principal that may act now: exists and is not disabled. */
  requireActive(id: string): Principal {
    const p = this.get(id);
    if (!p) throw new SiosError('ERR_AUTH', 'the principal of this credential no longer exists; ask an administrator to re-enrol you');
    if (p.disabled) throw new SiosError('ERR_REVOKED', 'this principal is disabled; ask a tenant administrator to re-enable it');
    return p;
  }
}
