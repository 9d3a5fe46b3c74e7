/**
 * Builds the offline verifier page: one self-contained HTML file (dist/web/verifier.html) with the
 * stylesheet, the page script and the Web Worker inlined, no external reference of any kind, and a
 * Content-Security-Policy that admits exactly the inlined script and style (by SHA-256) and
 * Blob-URL workers. It opens from file:// (a USB stick) as well as from `sios serve`.
 *
 *   node scripts/build-web.ts            writes dist/web/verifier.html
 *   import { buildVerifierHtml }         builds it in-process (tests, `sios serve`)
 */
import * as esbuild from 'esbuild';
import { assemblePage } from '../src/web/assemble.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifierPageHtml } from '../src/web/verifier/page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src/web/verifier');
export const VERIFIER_OUT = path.join(ROOT, 'dist/web/verifier.html');

const common: esbuild.BuildOptions = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  write: false,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'silent',
  // Nothing may be fetched at run time: no code splitting, no external modules, no assets by URL.
  splitting: false,
};

function only(r: esbuild.BuildResult, what: string): string {
  const files = r.outputFiles ?? [];
  if (files.length !== 1) throw new Error(`esbuild produced ${files.length} files for ${what}; expected 1`);
  return (files[0] as esbuild.OutputFile).text;
}

export async function buildVerifierHtml(): Promise<string> {
  const worker = only(await esbuild.build({ ...common, entryPoints: [path.join(SRC, 'worker.ts')] }), 'the worker');
  const app = only(await esbuild.build({
    ...common,
    entryPoints: [path.join(SRC, 'app.ts')],
    define: { __SIOS_VERIFIER_WORKER__: JSON.stringify(worker) },
  }), 'the page script');
  return verifierPageHtml(await assemblePage(app, path.join(SRC, 'styles.css')));
}

/** Builds the page and writes it to `out` (default dist/web/verifier.html); returns its size. */
export async function writeVerifierHtml(out = VERIFIER_OUT): Promise<{ path: string; bytes: number }> {
  const html = await buildVerifierHtml();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, html);
  fs.renameSync(tmp, out);
  return { path: out, bytes: Buffer.byteLength(html) };
}

if (import.meta.main) {
  const r = await writeVerifierHtml(process.argv[2] ? path.resolve(process.argv[2]) : VERIFIER_OUT);
  process.stdout.write(`wrote ${path.relative(process.cwd(), r.path) || r.path} (${(r.bytes / 1024).toFixed(0)} KiB)\n`);
}
