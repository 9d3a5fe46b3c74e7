/**
 * npm run bench [-- name ...]: runs every benchmark in bench/ (or the named ones) one after the
 * other, each in its own process so one's warm-up cannot flatter another.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// Not benchmarks: this runner, shared helpers, and ab-gate.ts (an A/B tool run by hand on two source trees).
const NOT_BENCHMARKS = ['run.ts', 'lib.ts', 'gate-fixture.ts', 'ab-gate.ts'];
const all = fs.readdirSync(here).filter((f) => f.endsWith('.ts') && !NOT_BENCHMARKS.includes(f)).map((f) => f.slice(0, -3)).sort();
const names = wanted.length ? wanted : all;
let failed = 0;
console.log(`SIOS benchmarks on ${process.platform} ${process.arch}, Node ${process.versions.node} (OpenSSL ${process.versions.openssl}), ${new Date().toISOString()}`);
for (const n of names) {
  if (!all.includes(n)) { console.error(`no benchmark named ${n}; have: ${all.join(', ')}`); failed++; continue; }
  console.log(`\n════ ${n} ════`);
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(here, n + '.ts')], { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`benchmark ${n} exited with ${r.status}`); failed++; }
}
process.exitCode = failed ? 1 : 0;
