/**
 * Writes the evaluation's set of real technical documentation (SENTINEL_EVAL_PYDOCS, eval-sentinel.ts):
 * chunks of the Python 3.11 documentation as Debian ships it (package python3.11-doc
 * 3.11.2-6+deb12u8, its reStructuredText sources under usr/share/doc/python3.11/html/_sources; PSF
 * License Agreement, code examples also Zero-Clause BSD). Nothing of it is in the repository or trained on.
 *
 * Why: real technical writing is full of what the classifier learns to read as an attack ("You can
 * safely disable this new warning with the following assignment", "import urllib.request", "the first
 * new directive is ``dump``"), written by many people over twenty years, unlike the hand-written
 * technical corpora (benign-corpus-techdocs-*) and the evaluation's other documentation (man pages,
 * tldr-pages, READMEs), which are short and formulaic.
 *
 * What it writes: every source file (sorted by path) is cut into chunks of whole paragraphs of at most
 * CHUNK characters (a longer paragraph is a chunk of its own); chunks under MIN_CHUNK are dropped. Files
 * fall in two halves by the first byte of the SHA-256 of their path, and only the odd half is written,
 * as `{"id", "text"}` lines (also what `sios sentinel scan` reads): the even half is kept apart for
 * training experiments (session 17 trained on 500 of its chunks; see docs/decisions.md). The output is
 * deterministic; the package is checked against the digest below.
 *
 *   apt-get download python3.11-doc=3.11.2-6+deb12u8
 *   node scripts/import-pydocs.ts python3.11-doc_3.11.2-6+deb12u8_all.deb OUT.jsonl
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const PACKAGE = 'python3.11-doc_3.11.2-6+deb12u8_all.deb';
export const PACKAGE_SHA256 = '50eb63e7f636c4281e9ce1b8f10386f1def42159eddce34fc1f41c46261df71b';
const SOURCES = 'usr/share/doc/python3.11/html/_sources';
export const CHUNK = 2000;
export const MIN_CHUNK = 300;

export interface Chunk { readonly path: string; readonly index: number; readonly text: string }

/** A source file's chunks: whole paragraphs (split at blank lines), up to CHUNK characters, trimmed; short ones dropped. */
export function chunksOf(path: string, source: string): Chunk[] {
  const out: Chunk[] = [];
  let cur = '', index = 0;
  const flush = (): void => {
    const t = cur.trim();
    if (t.length >= MIN_CHUNK) out.push({ path, index, text: t });
    if (t.length > 0) index++;
    cur = '';
  };
  for (const para of source.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    if (cur !== '' && cur.length + para.length > CHUNK) flush();
    cur += para + '\n\n';
  }
  flush();
  return out;
}

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Whether a source file is in the half kept for training experiments (the other half is written for the evaluation). */
export function trainable(path: string): boolean {
  return sha256(path)[0]! % 2 === 0;
}

/** The evaluation line of a chunk: `{"id": "path#index", "text"}`. */
export function evalLine(c: Chunk): string {
  return JSON.stringify({ id: `${c.path}#${c.index}`, text: c.text });
}

function walk(dir: string, root: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, root, out);
    else if (e.isFile() && e.name.endsWith('.rst.txt')) out.push(relative(root, p));
  }
}

function fail(msg: string): never {
  process.stderr.write(`import-pydocs: ${msg}\n`);
  process.exit(1);
}

function main(argv: string[]): void {
  if (argv.length !== 2) {
    process.stderr.write(`usage: node scripts/import-pydocs.ts <${PACKAGE}> OUT.jsonl\n  (get the package with: apt-get download python3.11-doc=3.11.2-6+deb12u8)\n`);
    process.exit(2);
  }
  const [deb, out] = argv as [string, string];
  let buf: Buffer;
  try { buf = readFileSync(deb); } catch (e) { fail(`cannot read ${deb} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); get it with: apt-get download python3.11-doc=3.11.2-6+deb12u8`); }
  const got = sha256(buf).toString('hex');
  if (got !== PACKAGE_SHA256) fail(`${deb} has SHA-256 ${got}, not ${PACKAGE_SHA256}: take ${PACKAGE} from Debian 12`);
  const dir = mkdtempSync(join(tmpdir(), 'sios-pydocs-'));
  try {
    const x = spawnSync('dpkg-deb', ['-x', deb, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (x.error !== undefined || x.status !== 0) fail(`dpkg-deb -x failed (${x.error?.message ?? x.stderr.toString().trim()}); it comes with Debian's dpkg`);
    const root = join(dir, SOURCES);
    const files: string[] = [];
    walk(root, root, files);
    files.sort();
    const chunks = files.flatMap((f) => chunksOf(f, readFileSync(join(root, f), 'utf8')));
    const held = chunks.filter((c) => !trainable(c.path));
    // Written whole or not at all: a run cut short leaves no truncated file for the evaluation to read.
    writeFileSync(`${out}.part`, held.map(evalLine).join('\n') + '\n');
    renameSync(`${out}.part`, out);
    process.stdout.write(`import-pydocs: ${files.length} files, ${chunks.length} chunks; the ${held.length} of the evaluation half -> ${out}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) main(process.argv.slice(2));
