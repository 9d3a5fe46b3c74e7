/** Shared fixtures of the brains and skills tests (not a test file). */
import { DatabaseSync } from 'node:sqlite';
import { newSeed, softwareSigner } from '../../src/crypto/node.ts';
import { randomBytes } from '../../src/crypto/node.ts';
import type { Json } from '../../src/encoding/jcs.ts';
import { TrustedPublishers } from '../../src/skills/envelope.ts';
import { BrainRegistry } from '../../src/brains/registry.ts';
import { builtinManifests } from '../../src/brains/defaults.ts';

export const operator = softwareSigner(newSeed());
export const stranger = softwareSigner(newSeed());
export const trust = new TrustedPublishers(operator.publicKey);
export const signed = await builtinManifests(operator);

export interface SealCall { tenant: string; kind: string; body: Record<string, Json>; /** rows of brain_grants when sealed */ grantsAtSeal: number }

/** A registry over an in-memory system database, with a seal callback that records its calls. */
export function newRegistry(opts: { failSeal?: () => boolean } = {}): { registry: BrainRegistry; db: DatabaseSync; seals: SealCall[] } {
  const db = new DatabaseSync(':memory:');
  const seals: SealCall[] = [];
  const registry = new BrainRegistry({
    db, trust, keyEncryptionKey: randomBytes(32),
    seal: async (tenant, kind, body) => {
      if (opts.failSeal?.() === true) throw new Error('ledger unavailable');
      const n = Number(db.prepare("SELECT COUNT(*) AS n FROM brain_grants WHERE revoked_at IS NULL").get()?.['n'] ?? 0);
      seals.push({ tenant, kind, body, grantsAtSeal: n });
      return { seq: seals.length };
    },
  });
  return { registry, db, seals };
}

export async function registryWithDefaults(): Promise<ReturnType<typeof newRegistry>> {
  const r = newRegistry();
  for (const s of signed.skills) await r.registry.addSkill(s, { actor: 'op' });
  for (const b of signed.brains) await r.registry.addBrain(b, { actor: 'op' });
  return r;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
