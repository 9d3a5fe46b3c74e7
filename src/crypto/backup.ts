/**
 * Backups of the operator signing key, made while it is unlocked:
 *
 * (a) an export file: the key file format with format "sios-operator-key-export", sealed under a
 *     separate export passphrase, for offline storage. Its header differs from a key file's, so
 *     neither file's parts open in the other.
 * (b) k-of-n Shamir shares of the 32-byte seed as printable text lines, one per custodian:
 *
 *       sios-share-v1 k=3 n=5 i=2 fp=SHA256:<64 hex> data=<base64url, 32 bytes> check=<8 hex>
 *
 *     `fp` is the key fingerprint (public), so shares of different keys are told apart and the
 *     restored seed is checked against it; `check` is the first 4 bytes of SHA-256 over the line
 *     before " check=", so a mistyped share is caught and named before any maths is done.
 */
import { createHash } from 'node:crypto';
import { SiosError } from '../errors.ts';
import { fromBase64url, toBase64url } from '../encoding/bytes.ts';
import { fingerprint } from './fingerprint.ts';
import {
  createKeyFile, EXPORT_FILE_FORMAT, KEY_FILE_FORMAT, openKeyFile,
  type KeyFile,
} from './keystore.ts';
import { keyPairFromSeed, nodeVerifyCrypto } from './node.ts';
import type { KeyProtector } from './protector.ts';
import { shamirInterpolate, shamirSplit, type ShamirShare } from './shamir.ts';
import { ML_DSA_65 } from './suite.ts';

// ---------------------------------------------------------------------------------------------
// (a) export file

/** Re-seal the key of `keyFile` (opened with `unlock`) under `exportProtector` as an export file. */
export async function exportKeyFile(keyFile: KeyFile, unlock: KeyProtector, exportProtector: KeyProtector, opts: { created?: string } = {}): Promise<KeyFile> {
  const seed = await openKeyFile(keyFile, unlock, { format: KEY_FILE_FORMAT });
  try {
    return await createKeyFile(seed, [exportProtector], { deployment: keyFile.deployment, format: EXPORT_FILE_FORMAT, ...opts });
  } finally {
    seed.fill(0);
  }
}

/** Open an export file with its export passphrase and seal the key into a new key file under `protectors`. */
export async function importExportFile(exportFile: KeyFile, exportProtector: KeyProtector, protectors: readonly KeyProtector[], opts: { deployment?: string; created?: string } = {}): Promise<KeyFile> {
  const seed = await openKeyFile(exportFile, exportProtector, { format: EXPORT_FILE_FORMAT });
  try {
    return await createKeyFile(seed, protectors, { deployment: opts.deployment ?? exportFile.deployment, ...(opts.created === undefined ? {} : { created: opts.created }) });
  } finally {
    seed.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// (b) Shamir shares as text

export const SHARE_TAG = 'sios-share-v1';
const SHARE_RE = /^sios-share-v1 k=(\d{1,3}) n=(\d{1,3}) i=(\d{1,3}) fp=(SHA256:[0-9a-f]{64}) data=([A-Za-z0-9_-]{43}) check=([0-9a-f]{8})$/;

export interface ParsedShare {
  readonly k: number;
  readonly n: number;
  readonly index: number;
  readonly fingerprint: string;
  readonly data: Uint8Array;
}

function shareChecksum(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex').slice(0, 8);
}

export function formatShare(s: ParsedShare): string {
  const body = `${SHARE_TAG} k=${s.k} n=${s.n} i=${s.index} fp=${s.fingerprint} data=${toBase64url(s.data)}`;
  return `${body} check=${shareChecksum(body)}`;
}

/**
 * Parse one share line (surrounding and repeated whitespace tolerated). `where` names it in
 * messages, for example "line 3". Throws ERR_SHARES saying what is wrong with it.
 */
export function parseShare(line: string, where = 'the share'): ParsedShare {
  const text = String(line).trim().split(/\s+/).join(' ');
  if (!text.startsWith(SHARE_TAG + ' ')) {
    throw new SiosError('ERR_SHARES', `${where} does not start with "${SHARE_TAG}"; it is not a SIOS key share (or was made by a newer SIOS)`);
  }
  const m = SHARE_RE.exec(text);
  if (!m) {
    throw new SiosError('ERR_SHARES', `${where} is not a well-formed share line (expected "${SHARE_TAG} k=.. n=.. i=.. fp=SHA256:<64 hex> data=<43 chars> check=<8 hex>"); re-enter it from the paper copy`);
  }
  const body = text.slice(0, text.lastIndexOf(' check='));
  if (shareChecksum(body) !== m[6]) {
    throw new SiosError('ERR_SHARES', `${where} (share #${m[3]}) fails its checksum: it was mistyped or damaged; re-enter it carefully from the paper copy`);
  }
  const k = Number(m[1]), n = Number(m[2]), index = Number(m[3]);
  if (k < 2 || n < k || n > 255 || index < 1 || index > n) {
    throw new SiosError('ERR_SHARES', `${where} claims k=${k}, n=${n}, i=${index}, which is impossible (need 2 <= k <= n <= 255 and 1 <= i <= n)`);
  }
  let data: Uint8Array;
  try {
    data = fromBase64url(m[5] as string, 'share data');
  } catch (cause) {
    throw new SiosError('ERR_SHARES', `${where} has share data that is not canonical base64url; re-enter it`, { cause });
  }
  return { k, n, index, fingerprint: m[4] as string, data };
}

/** Split an ML-DSA-65 seed into n text shares, any k of which restore it (2 <= k <= n <= 255). */
export function splitSeed(seed: Uint8Array, k: number, n: number): string[] {
  if (!(seed instanceof Uint8Array) || seed.length !== ML_DSA_65.seedBytes) throw new SiosError('ERR_KEY', `an ML-DSA-65 seed is ${ML_DSA_65.seedBytes} bytes`);
  const fp = fingerprint(nodeVerifyCrypto, keyPairFromSeed(seed).publicKey);
  const shares = shamirSplit(seed, k, n);
  try {
    return shares.map((s) => formatShare({ k, n, index: s.x, fingerprint: fp, data: s.y }));
  } finally {
    for (const s of shares) s.y.fill(0);
  }
}

/** Split the key of a key file (opened with `unlock`) into text shares. */
export async function splitKeyFile(keyFile: KeyFile, unlock: KeyProtector, k: number, n: number): Promise<string[]> {
  const seed = await openKeyFile(keyFile, unlock, { format: KEY_FILE_FORMAT });
  try {
    return splitSeed(seed, k, n);
  } finally {
    seed.fill(0);
  }
}

/**
 * Combine text shares (blank lines and lines starting with "#" are skipped) into the seed. Checks
 * every line, that they agree on key and split, that there are at least k distinct ones, that any
 * extra shares agree with the first k, and that the restored key has the recorded fingerprint.
 * The caller owns the returned seed and should wipe it.
 */
export function combineShares(lines: readonly string[]): { seed: Uint8Array; fingerprint: string; publicKey: Uint8Array } {
  const parsed: { s: ParsedShare; where: string }[] = [];
  lines.forEach((line, i) => {
    const t = String(line).trim();
    if (t === '' || t.startsWith('#')) return;
    const where = `share line ${i + 1}`;
    parsed.push({ s: parseShare(t, where), where });
  });
  if (parsed.length === 0) throw new SiosError('ERR_SHARES', 'no shares given; enter at least k share lines');
  const first = parsed[0]!;
  for (const p of parsed) {
    if (p.s.fingerprint !== first.s.fingerprint) {
      throw new SiosError('ERR_SHARES', `shares belong to different keys: ${first.where} is for ${first.s.fingerprint}, ${p.where} for ${p.s.fingerprint}; use shares of one key only`);
    }
    if (p.s.k !== first.s.k || p.s.n !== first.s.n) {
      throw new SiosError('ERR_SHARES', `shares come from different splits: ${first.where} is ${first.s.k}-of-${first.s.n}, ${p.where} is ${p.s.k}-of-${p.s.n}; use shares of one split only`);
    }
  }
  const byIndex = new Map<number, string>();
  for (const p of parsed) {
    const prev = byIndex.get(p.s.index);
    if (prev !== undefined) throw new SiosError('ERR_SHARES', `share #${p.s.index} is given twice (${prev} and ${p.where}); each custodian's share counts once`);
    byIndex.set(p.s.index, p.where);
  }
  const k = first.s.k;
  if (parsed.length < k) throw new SiosError('ERR_SHARES', `need ${k} shares of this ${k}-of-${first.s.n} split, got ${parsed.length}; collect more custodians' shares`, { details: { need: k, got: parsed.length } });

  const points: ShamirShare[] = parsed.map((p) => ({ x: p.s.index, y: p.s.data }));
  const base = points.slice(0, k);
  const seed = shamirInterpolate(base, 0);
  try {
    for (let j = k; j < points.length; j++) {
      const pj = points[j]!;
      const expect = shamirInterpolate(base, pj.x);
      let diff = 0;
      for (let i = 0; i < expect.length; i++) diff |= (expect[i] as number) ^ (pj.y[i] as number);
      expect.fill(0);
      if (diff !== 0) {
        throw new SiosError('ERR_SHARES', `the shares disagree: ${parsed[j]!.where} (share #${pj.x}) does not match the first ${k}; one of them was altered or comes from another split with the same key`);
      }
    }
    const { publicKey } = keyPairFromSeed(seed);
    const fp = fingerprint(nodeVerifyCrypto, publicKey);
    if (fp !== first.s.fingerprint) {
      throw new SiosError('ERR_SHARES', `the restored key has fingerprint ${fp}, not ${first.s.fingerprint} as the shares say: at least one share was altered (with a recomputed checksum) or is from another split; try another set of k shares`);
    }
    return { seed, fingerprint: fp, publicKey };
  } catch (e) {
    seed.fill(0);
    throw e;
  } finally {
    for (const p of parsed) p.s.data.fill(0);
  }
}

/** Combine shares and seal the restored key into a new key file under `protectors`. */
export async function restoreFromShares(lines: readonly string[], protectors: readonly KeyProtector[], meta: { deployment: string; created?: string }): Promise<KeyFile> {
  const { seed } = combineShares(lines);
  try {
    return await createKeyFile(seed, protectors, meta);
  } finally {
    seed.fill(0);
  }
}
