/**
 * Scans benign documents from the wild that no one wrote for SIOS and that nothing trains on: every
 * manual page installed on this machine (/usr/share/man, all languages), every text file under
 * /usr/share/doc (up to 300 KB), and, when SENTINEL_EVAL_TLDR names a checkout of tldr-pages, its
 * pages. Each file is read in chunks of 3,000 characters (at most four per file). Prints how many
 * chunks the detector flags at the operating threshold.
 *
 * Then it reads library source code the same way (every .py file under /usr/lib/python3, every .js,
 * .mjs and .cjs file under the repo's node_modules) and counts the chunks in which the code layer
 * (src/sentinel/code.ts) finds a behaviour: a strong one there is a false alarm of that layer.
 *
 *   node scripts/scan-wild.ts [--compare DIR]
 *
 * --compare DIR: DIR is another SIOS checkout (e.g. `git worktree add /tmp/old <commit>`, with its
 * node_modules); its detector scans the same chunks, and the chunks one flags and the other does not
 * are listed. The figures depend on the packages installed on the machine.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { defaultDetector, type Verdict } from '../src/sentinel/index.ts';
import { codeBehaviours, codeEvidence } from '../src/sentinel/code.ts';

const CHUNK = 3000, CHUNKS_PER_FILE = 4, MAX_FILE = 300_000;

let compareDir: string | undefined;
try {
  compareDir = parseArgs({ options: { compare: { type: 'string' } }, strict: true, allowPositionals: false }).values.compare;
} catch (e) {
  process.stderr.write(`scan-wild: ${(e as Error).message} (options: --compare DIR)\n`);
  process.exit(2);
}
const tldr = process.env['SENTINEL_EVAL_TLDR'];
if (tldr !== undefined && !existsSync(join(tldr, 'pages'))) {
  process.stderr.write(`scan-wild: SENTINEL_EVAL_TLDR=${tldr} is not a tldr-pages checkout (no pages/ folder in it)\n`);
  process.exit(2);
}
let other: { scan(t: string): Verdict } | null = null;
if (compareDir !== undefined) {
  const entry = join(resolve(compareDir), 'src/sentinel/index.ts');
  if (!existsSync(entry)) {
    process.stderr.write(`scan-wild: --compare ${compareDir} is not a SIOS checkout (no src/sentinel/index.ts in it)\n`);
    process.exit(2);
  }
  other = ((await import(pathToFileURL(entry).href)) as { defaultDetector(): { scan(t: string): Verdict } }).defaultDetector();
}

/** Every file under `dir` (no symlinks followed), depth-first, sorted. */
function walk(dir: string, f: (path: string) => void): void {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, f); else if (e.isFile()) f(p);
  }
}
/** The text of a file (gunzipped when it ends in .gz), or null for binary and oversized files. */
function textOf(path: string): string | null {
  try {
    if (statSync(path).size > MAX_FILE) return null;
    const raw = readFileSync(path);
    const t = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    return t.includes('\u0000') ? null : t;
  } catch { return null; }
}
const chunks: Array<{ path: string; text: string }> = [];
const add = (path: string): void => {
  const t = textOf(path);
  if (t !== null) for (let i = 0; i < t.length && i < CHUNK * CHUNKS_PER_FILE; i += CHUNK) chunks.push({ path, text: t.slice(i, i + CHUNK) });
};
walk('/usr/share/man', (p) => { if (p.endsWith('.gz')) add(p); });
walk('/usr/share/doc', add);
if (tldr !== undefined) walk(tldr, (p) => { if (p.endsWith('.md') && p.includes(`${join(tldr, 'pages')}`)) add(p); });

const det = defaultDetector();
let flagged = 0, otherFlagged = 0, otherHigh = 0;
/** Chunks scoring HIGH or more, by the kind of their first reason that can set such a score alone. */
const HIGH = 0.9, FLOOR_KINDS = ['encoded-prose', 'scrambled-prose', 'hidden', 'exfil-link', 'code', 'rule'] as const;
const high = new Map<string, number>();
const onlyHere: string[] = [], onlyThere: string[] = [];
const t0 = performance.now();
for (const c of chunks) {
  const v = det.scan(c.text);
  if (v.verdict === 'injection') flagged++;
  if (v.score >= HIGH) {
    const kind = FLOOR_KINDS.find((k) => v.reasons.some((r) => r.startsWith(`${k}:`))) ?? 'classifier';
    high.set(kind, (high.get(kind) ?? 0) + 1);
  }
  if (other !== null) {
    const o = other.scan(c.text);
    if (o.verdict === 'injection') otherFlagged++;
    if (o.score >= HIGH) otherHigh++;
    if (v.verdict !== o.verdict) (v.verdict === 'injection' ? onlyHere : onlyThere).push(`${o.score.toFixed(3)} -> ${v.score.toFixed(3)}  ${c.path}  ${v.reasons.slice(0, 3).join(' ')}`);
  }
}
const secs = ((performance.now() - t0) / 1000).toFixed(0);
process.stdout.write(`${chunks.length} chunks of ${new Set(chunks.map((c) => c.path)).size} files (man pages, /usr/share/doc${tldr !== undefined ? ', tldr-pages' : ''}); flagged at 0.5: ${flagged} (${(100 * flagged / Math.max(1, chunks.length)).toFixed(2)}%); ${secs} s\n`);
process.stdout.write(`scoring ${HIGH} or more: ${[...high.values()].reduce((a, b) => a + b, 0)} (by evidence: ${[...high].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})\n`);
if (other !== null) {
  process.stdout.write(`the detector of ${compareDir}: ${otherFlagged} flagged, ${otherHigh} scoring ${HIGH} or more; flagged only by this one: ${onlyHere.length}; only by that one: ${onlyThere.length}\n`);
  for (const l of onlyHere) process.stdout.write(`  newly flagged   ${l}\n`);
  for (const l of onlyThere) process.stdout.write(`  no longer       ${l}\n`);
}

// Library source code: what the code layer finds in programs no one planted anything in.
const code: Array<{ path: string; text: string }> = [];
const source = (dir: string, exts: readonly string[]): void => walk(dir, (p) => {
  if (!exts.some((e) => p.endsWith(e))) return;
  const t = textOf(p);
  if (t !== null) for (let i = 0; i < t.length && i < CHUNK * CHUNKS_PER_FILE; i += CHUNK) code.push({ path: p, text: t.slice(i, i + CHUNK) });
});
source('/usr/lib/python3', ['.py']);
source(join(import.meta.dirname, '..', 'node_modules'), ['.js', '.mjs', '.cjs']);
const byBehaviour = new Map<string, number>();
const strong: string[] = [];
for (const c of code) {
  const b = codeBehaviours(c.text);
  for (const x of b) byBehaviour.set(x, (byBehaviour.get(x) ?? 0) + 1);
  if (codeEvidence(b) >= 1) strong.push(`  strong behaviour ${b.join('+')}  ${c.path}`);
}
process.stdout.write(`${code.length} chunks of library source code (${new Set(code.map((c) => c.path)).size} files: /usr/lib/python3 *.py, node_modules *.js); chunks with a strong code behaviour: ${strong.length}; behaviours found: ${[...byBehaviour].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}\n`);
for (const l of strong) process.stdout.write(l + '\n');
