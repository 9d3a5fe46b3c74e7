/**
 * Build-time assembly of a self-contained page's parts, shared by the console and the offline
 * verifier: the style is the shared theme (base.css: colours, fonts, base elements) followed by the
 * page's own styles.css, minified; script and style are checked inline-safe and hashed for the CSP.
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertInlineSafe, cspHash, type PageParts } from './inline.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

export async function assemblePage(script: string, pageCssFile: string): Promise<PageParts> {
  const source = fs.readFileSync(path.join(HERE, 'base.css'), 'utf8') + '\n' + fs.readFileSync(pageCssFile, 'utf8');
  const css = (await esbuild.transform(source, { loader: 'css', minify: true, charset: 'utf8' })).code.trim();
  const js = script.trim();
  assertInlineSafe(js, 'script');
  assertInlineSafe(css, 'style');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  return { css, script: js, scriptHash: cspHash(js), styleHash: cspHash(css), version: pkg.version ?? '0' };
}
