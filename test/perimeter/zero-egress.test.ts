/**
 * Zero egress, proven by running it: SIOS's main job (`sios demo`, and init -> tenant -> seal ->
 * export -> verify through the CLI) inside a fresh network namespace that has nothing but the
 * loopback device, so there is no route to anywhere, and the same outside: the results must be the
 * same. Inside, an operator also allowlists one intranet host for a tenant, a cell reaches it and a
 * cell trying elsewhere is refused, and `sios doctor` then reports the deployment clean.
 *
 * The intranet host is a test origin on 198.51.100.7 (TEST-NET-2) assigned to the namespace's own
 * `lo`, which adds no route; the operator approves exactly that address (--internal-range /32).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, firstLine } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIOS = join(ROOT, 'bin/sios.mjs');
/** `egress` and `cell` through their modules until they are registered in main.ts; the rest is main(). */
const CLI = join(FIXTURES, 'sios-cli.ts');
const INTRANET = '198.51.100.7';

interface Run { code: number | null; stdout: string; stderr: string }

function runner(ns: string | undefined, data: string) {
  return (script: string, ...args: string[]): Run => {
    const argv = [process.execPath, '--disable-warning=ExperimentalWarning', script, ...args];
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: data, SIOS_DATA: join(data, 'd'), SIOS_PASSPHRASE: 'zero egress passphrase', TMPDIR: tmpdir() };
    const r = ns === undefined
      ? spawnSync(argv[0] as string, argv.slice(1), { env, encoding: 'utf8', timeout: 60_000, cwd: ROOT })
      : spawnSync('ip', ['netns', 'exec', ns, ...argv], { env, encoding: 'utf8', timeout: 60_000, cwd: ROOT });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
}

/** The main job; returns what must not depend on the network. */
function mainJob(ns: string | undefined, data: string): { demo: string[]; cli: string[] } {
  const sios = runner(ns, data);
  const demo = sios(SIOS, 'demo', '--data', join(data, 'demo'), '--no-color');
  assert.equal(demo.code, 0, demo.stderr + demo.stdout);
  const demoLines = demo.stdout.split('\n').map((l) => l.trim()).filter((l) => /^(VERIFIED|REFUSED)\s/.test(l)).map((l) => l.replace(/\s+/g, ' ').replace(/digest \S+…/, 'digest <random challenge>…'));
  assert.ok(demoLines.length >= 4, demo.stdout);
  const ok = (r: Run): Run => { assert.equal(r.code, 0, r.stderr + r.stdout); return r; };
  ok(sios(SIOS, 'init', '--id', 'zero'));
  ok(sios(SIOS, 'tenant', 'create', 'ward'));
  ok(sios(SIOS, 'seal', '--tenant', 'ward', '--actor', 'nurse', '--action', 'records.read', '--args', '{"patient":7}', '--outcome', 'ok'));
  ok(sios(SIOS, 'seal', '--tenant', 'ward', '--actor', 'nurse', '--action', 'records.write', '--outcome', 'ok'));
  const bundle = join(data, 'ward.bundle');
  ok(sios(SIOS, 'ledger', 'export', '--tenant', 'ward', '--out', bundle));
  const v = ok(sios(SIOS, 'verify', bundle, '--key', join(data, 'd', 'operator.pub'), '--tenant', 'ward'));
  assert.match(v.stdout, /^VERIFIED/m);
  const list = ok(sios(SIOS, 'ledger', 'list'));
  const counts = list.stdout.split('\n').map((l) => /^(\S+)\s+(\d+)\s/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} ${m[2]}`);
  return { demo: demoLines, cli: [...counts, (v.stdout.split('\n')[0] ?? '').replace(data, '<data>')] };
}

test('the main job gives the same results with and without any network, and doctor is clean in the air gap', async (t) => {
  const name = `sios-zero-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => { try { execFileSync('ip', ['netns', 'del', name]); } catch { /* gone */ } });
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const links = execFileSync('ip', ['-n', name, '-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(links.length, 1, `only lo in the namespace: ${links.join(' | ')}`);
  const routes = execFileSync('ip', ['-n', name, 'route', 'show', 'table', 'main'], { encoding: 'utf8' }).trim();
  assert.equal(routes, '', 'no route at all');

  const inside = mkdtempSync(join(tmpdir(), 'sios-zero-in-'));
  const outside = mkdtempSync(join(tmpdir(), 'sios-zero-out-'));
  t.after(() => { rmSync(inside, { recursive: true, force: true }); rmSync(outside, { recursive: true, force: true }); });
  chmodSync(inside, 0o711); // cell socket directories must be reachable by the cell user

  const a = mainJob(name, inside);
  const b = mainJob(undefined, outside);
  assert.deepEqual(a.demo, b.demo, 'the demo verifies the same ledgers, entry for entry');
  assert.deepEqual(a.cli, b.cli, 'same ledger sizes and the same verification verdict');
  assert.ok(a.cli.includes('ward 5'), `genesis + two intents with their outcomes: ${a.cli.join(', ')}`);

  // The perimeter in the air gap: one intranet host for tenant ward, a cell that reaches it, one that tries elsewhere.
  execFileSync('ip', ['-n', name, 'addr', 'add', `${INTRANET}/32`, 'dev', 'lo']);
  const origin = spawn('ip', ['netns', 'exec', name, process.execPath, join(FIXTURES, 'origin-paths.ts'), INTRANET, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { origin.kill('SIGKILL'); });
  const port = Number((await firstLine(origin)).split(' ')[1]);
  const sios = runner(name, inside);
  const allow = sios(CLI, 'egress', 'allow', '--tenant', 'ward', '--host', INTRANET, '--port', String(port), '--internal-range', `${INTRANET}/32`, '--actor', 'alice');
  assert.equal(allow.code, 0, allow.stderr);
  const fetched = sios(CLI, 'cell', 'fetch', '--tenant', 'ward', `http://${INTRANET}:${port}/census`);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.match(fetched.stdout, /HTTP 200, \d+ bytes/);
  const elsewhere = sios(CLI, 'cell', 'fetch', '--tenant', 'ward', `http://${INTRANET}:${port + (port === 65535 ? -1 : 1)}/x`);
  assert.equal(elsewhere.code, 3, elsewhere.stdout + elsewhere.stderr);
  assert.match(elsewhere.stderr, /REFUSED .*403 not-allowlisted/);
  const show = sios(SIOS, 'ledger', 'show', '--tenant', 'ward', '--last', '20');
  assert.match(show.stdout, /admin\s+alice\s+egress-allow/);
  assert.match(show.stdout, new RegExp(`egress\\s+allowed ${INTRANET.replace(/\./g, '\\.')}:${port}`));
  assert.match(show.stdout, /egress\s+refused /);
  assert.match(show.stdout, /ended .*\(closed\)\s+→ \d+/);

  // Doctor, with the policy configured, once the test origin (not part of SIOS) is gone.
  origin.kill('SIGKILL');
  await new Promise((r) => origin.once('close', r));
  const doctor = sios(SIOS, 'doctor');
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /All checks passed/);
  const perim = sios('--input-type=module', '-e',
    `import { perimeterDoctorFor } from ${JSON.stringify(join(ROOT, 'src/perimeter/store.ts'))};
     import { nodeVerifyCrypto } from ${JSON.stringify(join(ROOT, 'src/crypto/node.ts'))};
     process.stdout.write(JSON.stringify(perimeterDoctorFor(process.env.SIOS_DATA, nodeVerifyCrypto)));`);
  const checks = JSON.parse(perim.stdout || '[]') as Array<{ name: string; ok: boolean; detail: string }>;
  assert.ok(checks.length > 0, perim.stderr);
  assert.deepEqual(checks.filter((c) => !c.ok), [], 'every perimeter check passes with the policy configured');
  assert.match(checks.find((c) => c.name === 'egress-policy:ward')?.detail ?? '', new RegExp(`allows ${INTRANET.replace(/\./g, '\\.')}:${port}; internal range ${INTRANET.replace(/\./g, '\\.')}/32`));
  assert.equal(checks.find((c) => c.name === 'routes')?.ok, true);
});
