/**
 * A DatabaseSync whose prepare() reuses compiled statements. node:sqlite has no statement cache and
 * compiling a statement costs ~10 µs, while several stores on the gate's path (the tenant store,
 * the brain registry) call `db.prepare(sql).get(...)` on every action.
 *
 * prepare(sql) returns a handle on one shared compiled statement per SQL text for get(), all() and
 * run(): each of those binds, steps to completion and resets the statement before returning, so
 * sharing it between callers is invisible to them (one thread, no interleaving inside a call).
 * Anything else on the handle (iterate(), the set...() options, columns(), ...) first gives that
 * handle a statement of its own, exactly as an uncached prepare() would, so a caller that iterates
 * or changes a statement's options never affects another caller; so does prepare(sql, options).
 * The cache holds at most
 * MAX_STATEMENTS texts (least recently used dropped); every other DatabaseSync member is the
 * database's own. The result is a Proxy: hand node:sqlite functions that take a database object
 * (backup()) the underlying DatabaseSync instead.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

const MAX_STATEMENTS = 256;
const SHARED_OPS = new Set<PropertyKey>(['get', 'all', 'run']);

export function withStatementCache(db: DatabaseSync): DatabaseSync {
  const cache = new Map<string, StatementSync>();
  const shared = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      if (cache.size >= MAX_STATEMENTS) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    } else {
      cache.delete(sql);
    }
    cache.set(sql, s);
    return s;
  };
  const prepare = (sql: string, options?: Parameters<DatabaseSync['prepare']>[1]): StatementSync => {
    // Statements prepared with options are the caller's own, as without the cache.
    if (options !== undefined) return db.prepare(sql, options);
    const common = shared(sql);
    let own: StatementSync | undefined;
    return new Proxy(common, {
      get(_target, prop) {
        if (own === undefined && SHARED_OPS.has(prop)) {
          const f = common[prop as 'get'] as (...a: unknown[]) => unknown;
          return (...a: unknown[]) => f.apply(common, a);
        }
        own ??= db.prepare(sql);
        const v: unknown = Reflect.get(own, prop, own);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(own) : v;
      },
    });
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
