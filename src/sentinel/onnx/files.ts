/**
 * Reading a detector pack's files from disk (the node:fs edge of sentinel/onnx/).
 *
 * The bytes that are hashed are the bytes that are loaded: each file is read once into memory while
 * its SHA-256 is computed chunk by chunk, and only that buffer is handed to the runtime, so the file
 * cannot be swapped between verification and use. As in brains/manifest.ts verifyWeights: paths are
 * relative to the pack directory, symlinks that resolve outside it and non-regular files are refused.
 */
import { writeFileAtomic } from '../../atomic-file.ts';
import * as fs from 'node:fs';
import * as nodeCrypto from 'node:crypto';
import * as path from 'node:path';
import { SiosError } from '../../errors.ts';
import { MAX_FILE_BYTES, type PackFile, type PackFileRole } from './manifest.ts';

const CHUNK = 1 << 20;

/** Canonical path of an existing pack directory. */
export function packRoot(dir: string): string {
  let real: string;
  try { real = fs.realpathSync(dir); } catch (cause) {
    throw new SiosError('ERR_NOT_FOUND', `detector pack directory ${dir} does not exist; pass the directory holding model.onnx and tokenizer.json`, { cause });
  }
  if (!fs.statSync(real).isDirectory()) throw new SiosError('ERR_INPUT', `detector pack ${dir} is not a directory`);
  return real;
}

/** Resolves `rel` inside `root`, refusing escapes; `what` names the pack in errors. */
function resolveInside(root: string, rel: string, role: PackFileRole, what: string): string {
  let real: string;
  try { real = fs.realpathSync(path.join(root, rel)); } catch (cause) {
    throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} is missing from ${root}; copy it there (SIOS never downloads weights)`, { cause, details: { path: rel, role } });
  }
  if (!real.startsWith(root + path.sep)) throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} resolves outside the pack directory; replace the symlink with the file`, { details: { path: rel, role } });
  return real;
}

/**
 * Reads a file of the pack into memory, hashing it on the way. With `expect` (a pinned manifest
 * entry), a different size or digest is ERR_VERIFY naming the file; without it (signing), the size
 * is only bounded by the role's limit.
 */
export async function readPackFile(root: string, rel: string, role: PackFileRole, what: string, expect?: PackFile): Promise<{ bytes: Uint8Array; file: PackFile }> {
  const real = resolveInside(root, rel, role, what);
  let fh: fs.promises.FileHandle;
  try { fh = await fs.promises.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); } catch (cause) {
    // Replaced by a symlink or removed since it was resolved, or unreadable.
    throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} cannot be opened (${(cause as NodeJS.ErrnoException).code ?? 'error'}); check the file and its permissions`, { cause, details: { path: rel, role } });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SiosError('ERR_VERIFY', `${what}: ${role} path ${rel} is not a regular file`, { details: { path: rel, role } });
    if (expect !== undefined && st.size !== expect.bytes) {
      throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} is ${st.size} bytes, the signed manifest says ${expect.bytes}; restore the original file`, { details: { path: rel, role } });
    }
    if (st.size > MAX_FILE_BYTES[role]) throw new SiosError('ERR_TOO_LARGE', `${what}: ${role} file ${rel} is ${st.size} bytes; the limit is ${MAX_FILE_BYTES[role]}`, { details: { path: rel, role } });
    if (st.size === 0) throw new SiosError('ERR_INPUT', `${what}: ${role} file ${rel} is empty`, { details: { path: rel, role } });
    const bytes = new Uint8Array(st.size);
    const h = nodeCrypto.createHash('sha256');
    let n = 0;
    while (n < bytes.length) {
      const { bytesRead } = await fh.read(bytes, n, Math.min(CHUNK, bytes.length - n), n);
      if (bytesRead === 0) break;
      h.update(bytes.subarray(n, n + bytesRead));
      n += bytesRead;
    }
    // A file that shrank or grew while being read is not the file that was measured.
    const extra = await fh.read(new Uint8Array(1), 0, 1, n);
    if (n !== bytes.length || extra.bytesRead !== 0) throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} changed while it was read; stop whatever is writing it and retry`, { details: { path: rel, role } });
    const sha256 = h.digest('hex');
    if (expect !== undefined && sha256 !== expect.sha256) {
      throw new SiosError('ERR_VERIFY', `${what}: ${role} file ${rel} has SHA-256 ${sha256}, the signed manifest pins ${expect.sha256}; the file was changed or corrupted, restore the original`, { details: { path: rel, role } });
    }
    return { bytes, file: { path: rel, sha256, bytes: n } };
  } finally {
    await fh.close();
  }
}

/** Whether `rel` exists inside the pack directory (used to pick up an optional tokenizer_config.json). */
export function packHas(root: string, rel: string): boolean {
  return fs.existsSync(path.join(root, rel));
}

/** Reads a small JSON file of the pack (the signed envelope) with a size bound; null when absent. */
export function readSmallFile(root: string, rel: string, max: number): Uint8Array | null {
  const p = path.join(root, rel);
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SiosError('ERR_INPUT', `cannot read ${p} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  if (!st.isFile()) throw new SiosError('ERR_INPUT', `${p} is not a regular file`);
  if (st.size > max) throw new SiosError('ERR_TOO_LARGE', `${p} is ${st.size} bytes; a signed detector manifest is at most ${max}`);
  return new Uint8Array(fs.readFileSync(p));
}

/** Writes `data` to root/rel atomically (see src/atomic-file.ts). */
export function writeAtomic(root: string, rel: string, data: string): void {
  writeFileAtomic(path.join(root, rel), data, 0o644);
}
