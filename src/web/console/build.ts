/**
 * Builds the console: one self-contained HTML string with the bundled page script and the
 * stylesheet inlined (esbuild, as scripts/build-web.ts does for the verifier), nothing fetched at
 * run time but the same-origin /v1 API.
 *
 *   import { buildConsoleHtml }           in-process (`sios serve`, tests)
 *   node src/web/console/build.ts [OUT]   writes dist/web/console.html
 */
import * as esbuild from 'esbuild';
import { assemblePage } from '../assemble.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consolePageHtml } from './page.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
export const CONSOLE_OUT = path.join(ROOT, 'dist/web/console.html');

export async function buildConsoleHtml(): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [path.join(HERE, 'app.ts')],
    bundle: true, platform: 'browser', format: 'iife', target: 'es2022', minify: true, write: false,
    legalComments: 'eof', charset: 'utf8', logLevel: 'silent', splitting: false,
  });
  const files = r.outputFiles ?? [];
  if (files.length !== 1) throw new Error(`esbuild produced ${files.length} files for the console; expected 1`);
  const script = (files[0] as esbuild.OutputFile).text.trim();
  return consolePageHtml(await assemblePage(script, path.join(HERE, 'styles.css')));
}

if (import.meta.main) {
  const out = process.argv[2] ? path.resolve(process.argv[2]) : CONSOLE_OUT;
  const html = await buildConsoleHtml();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.${process.pid}.tmp`, html);
  fs.renameSync(`${out}.${process.pid}.tmp`, out);
  process.stdout.write(`wrote ${path.relative(process.cwd(), out) || out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB)\n`);
}
