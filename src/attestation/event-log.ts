/**
 * The SIOS event list: which files were measured and how they fold into one PCR extend.
 * Runtime-agnostic (crypto.subtle, Uint8Array): the browser verifier replays it unchanged.
 *
 * PCR choice: SIOS extends PCR 23 ("application support" in the TCG PC Client PTP: resettable from
 * locality 0, never touched by firmware or the OS). At start SIOS resets it and extends it exactly
 * once with the measurement digest, so the expected value is SHA-256(0^32 || digest) and a service
 * restart does not need a reboot. The price, stated in the README: a process with TPM access on a
 * running machine can reset PCR 23 and extend a known-good digest. The boot PCRs 0-7 (firmware,
 * bootloader) are not resettable and are quoted and sealed alongside.
 */
import { VerifyError } from '../errors.ts';
import { canonicalize } from '../encoding/jcs.ts';
import { concat, fromHex, toHex, utf8 } from '../encoding/bytes.ts';
import { sha256 } from './tpm-wire.ts';

export const SIOS_PCR = 23;
export const BOOT_PCRS: readonly number[] = Object.freeze([0, 1, 2, 3, 4, 5, 6, 7]);
export const MEASUREMENT_DOMAIN = 'sios/measurement/v1';

export interface MeasurementEvent {
  /** Path relative to the installation root, '/' separated. */
  readonly path: string;
  /** Lower-case hex SHA-256 of the file's bytes (or of the link target for a symlink). */
  readonly sha256: string;
  /** Present only for symbolic links, which are recorded, not followed. */
  readonly kind?: 'symlink';
}

export interface Measurement {
  readonly pcr: number;
  readonly events: readonly MeasurementEvent[];
  /** Hex SHA-256 over the canonical event list: what is extended into the PCR. */
  readonly digest: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Validate shape and order: paths strictly increasing (the order is part of the digest). */
export function checkEvents(events: unknown): MeasurementEvent[] {
  if (!Array.isArray(events)) throw new VerifyError('bad-evidence', 'measurement events are not a list');
  const out: MeasurementEvent[] = [];
  let prev: string | undefined;
  for (const [i, e] of events.entries()) {
    if (typeof e !== 'object' || e === null) throw new VerifyError('bad-evidence', `measurement event ${i} is not an object`);
    const { path, sha256: h, kind, ...rest } = e as Record<string, unknown>;
    if (Object.keys(rest).length) throw new VerifyError('bad-evidence', `measurement event ${i} has unknown fields ${Object.keys(rest).join(', ')}`);
    if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new VerifyError('bad-evidence', `measurement event ${i} has an invalid path`);
    }
    if (typeof h !== 'string' || !HEX64.test(h)) throw new VerifyError('bad-evidence', `measurement event ${i} (${path}) has no lower-case hex SHA-256`);
    if (kind !== undefined && kind !== 'symlink') throw new VerifyError('bad-evidence', `measurement event ${i} (${path}) has unknown kind`);
    if (prev !== undefined && !(prev < path)) throw new VerifyError('bad-evidence', `measurement events are not sorted or repeat a path at ${path}`);
    prev = path;
    out.push(kind === undefined ? { path, sha256: h } : { path, sha256: h, kind });
  }
  return out;
}

/** SHA-256 of the JCS encoding of {domain, events}: one value that names the whole installation. */
export async function measurementDigest(events: readonly MeasurementEvent[]): Promise<string> {
  const checked = checkEvents(events);
  return toHex(await sha256(utf8(canonicalize({ domain: MEASUREMENT_DOMAIN, events: checked }))));
}

/** PCR value after reset (zero) and one extend with the measurement digest. */
export async function replayPcr(digestHex: string): Promise<Uint8Array> {
  if (!HEX64.test(digestHex)) throw new VerifyError('bad-evidence', 'measurement digest is not lower-case hex SHA-256');
  return sha256(concat(new Uint8Array(32), fromHex(digestHex)));
}

/** Paths added, removed or changed between two event lists: what an operator needs to see. */
export function diffEvents(expected: readonly MeasurementEvent[], actual: readonly MeasurementEvent[]): { added: string[]; removed: string[]; changed: string[] } {
  const a = new Map(expected.map((e) => [e.path, e.sha256 + (e.kind ?? '')]));
  const b = new Map(actual.map((e) => [e.path, e.sha256 + (e.kind ?? '')]));
  const added: string[] = [], removed: string[] = [], changed: string[] = [];
  for (const [p, h] of b) { const o = a.get(p); if (o === undefined) added.push(p); else if (o !== h) changed.push(p); }
  for (const p of a.keys()) if (!b.has(p)) removed.push(p);
  return { added, removed, changed };
}
