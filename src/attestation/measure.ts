/**
 * Measure an installation: hash the files the caller lists (SIOS's src/, bin/, package-lock.json,
 * configuration, trust policy, brain and skill manifests) into a sorted event list and one digest.
 * Node-only (file system); the replay side lives in event-log.ts.
 */
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SiosError } from '../errors.ts';
import { measurementDigest, SIOS_PCR, type Measurement, type MeasurementEvent } from './event-log.ts';

export interface MeasureStats { readonly files: number; readonly bytes: number }

const CHUNK = 1 << 20;

/**
 * Measure `entries` (paths relative to `root`, files or directories, walked recursively).
 * Symbolic links are recorded by their target, never followed; other special files are refused.
 */
export async function measureInstallation(root: string, entries: readonly string[], pcr: number = SIOS_PCR): Promise<Measurement & { stats: MeasureStats }> {
  if (!Array.isArray(entries) || entries.length === 0) throw new SiosError('ERR_INPUT', 'nothing to measure: pass the installation paths (for example src, bin, package-lock.json, the config and trust policy)');
  const absRoot = path.resolve(root);
  const events: MeasurementEvent[] = [];
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  const visit = (rel: string): void => {
    const abs = path.join(absRoot, rel);
    let st;
    try { st = lstatSync(abs); } catch (cause) {
      throw new SiosError('ERR_NOT_FOUND', `cannot measure ${rel}: it does not exist or is unreadable; fix the measured path list or restore the file`, { cause });
    }
    if (st.isSymbolicLink()) {
      events.push({ path: rel, sha256: createHash('sha256').update(readlinkSync(abs)).digest('hex'), kind: 'symlink' });
    } else if (st.isDirectory()) {
      for (const name of readdirSync(abs)) visit(rel + '/' + name);
    } else if (st.isFile()) {
      const h = createHash('sha256');
      const fd = openSync(abs, 'r');
      try {
        for (;;) { const n = readSync(fd, buf, 0, CHUNK, null); if (n === 0) break; h.update(buf.subarray(0, n)); bytes += n; }
      } finally { closeSync(fd); }
      events.push({ path: rel, sha256: h.digest('hex') });
    } else {
      throw new SiosError('ERR_INPUT', `cannot measure ${rel}: it is neither a file, a directory nor a symbolic link; remove it from the measured paths`);
    }
  };
  for (const e of entries) {
    const norm = path.posix.normalize(e.replaceAll('\\', '/')).replace(/\/+$/, '');
    if (norm === '' || norm === '.' || norm.startsWith('/') || norm === '..' || norm.startsWith('../')) {
      throw new SiosError('ERR_INPUT', `measured path ${JSON.stringify(e)} must be relative to the installation root and stay inside it`);
    }
    visit(norm);
  }
  // Sort by UTF-16 code units (what checkEvents and JCS use); a path listed twice is an error.
  events.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.path === events[i - 1]!.path) throw new SiosError('ERR_INPUT', `${events[i]!.path} is measured twice; list each path once (a directory covers its files)`);
  }
  return { pcr, events, digest: await measurementDigest(events), stats: { files: events.length, bytes } };
}
