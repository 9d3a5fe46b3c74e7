import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellRunner, nodeRuntime, checkSandbox } from '../../src/perimeter/cell.ts';
import { EgressGateway } from '../../src/perimeter/gateway.ts';
import { DEFAULT_BUDGETS } from '../../src/perimeter/policy.ts';
import { SiosError } from '../../src/errors.ts';
import type { CellStartEvent, CellEndEvent } from '../../src/perimeter/events.ts';
import { auditLog, startOrigin, FIXTURES, SRC } from './helpers.ts';
import type { Origin } from './helpers.ts';

let dir: string;
let origin: Origin;
before(async () => { dir = mkdtempSync(join(tmpdir(), 'sios-cell-')); chmodSync(dir, 0o755); origin = await startOrigin(); });
after(async () => { await origin.close(); rmSync(dir, { recursive: true, force: true }); });

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const rt = () => nodeRuntime();
const nodeCell = (extra: Array<string | { host: string; cell: string }> = []) => [...rt().readOnly, ...extra];

test('bubblewrap is usable here (the rest of this file depends on it)', () => {
  const st = checkSandbox();
  assert.ok(st.ok, st.detail);
});

test('a cell sees no network, no host files, no other tenant, its own /proc, a clean environment', async () => {
  const tenantB = join(dir, 'tenant-b');
  writeFileSync(tenantB, 'tenant B secret', { mode: 0o644 });
  const log = auditLog();
  const runner = new CellRunner({ tenant: 'a', audit: log.audit, workRoot: join(dir, 'cells') });
  const res = await runner.run({
    skill: 'probe', argv: [rt().program, '/skill/probe.ts', tenantB, String(origin.port)],
    readOnly: nodeCell([{ host: FIXTURES, cell: '/skill' }]), env: { SKILL_MODE: 'probe' },
  });
  assert.equal(res.exitCode, 0, text(res.stderr));
  const r = JSON.parse(text(res.stdout)) as Record<string, string>;
  assert.equal(r['otherTenant'], 'err:ENOENT');
  assert.equal(r['etcPasswd'], 'err:ENOENT');
  assert.equal(r['rootListing'], 'ok:dev,lib,lib64,proc,sios,skill,tmp', 'only what was bound: no /etc, /home, /root, /work');
  assert.match(r['procPids'] ?? '', /^ok:\d(,\d)*$/, 'only the cell\'s own few processes');
  assert.equal(r['procRootEscape'], r['rootListing'], '/proc/1/root is the cell root, not the host');
  assert.equal(r['procSelfRootUp'], r['rootListing']);
  assert.match(r['writeProcSys'] ?? '', /^err:(EROFS|EACCES|EPERM)$/);
  assert.match(r['writeSysrq'] ?? '', /^err:(EROFS|EACCES|EPERM|ENOENT)$/);
  assert.equal(r['writeTmp'], 'ok:y');
  assert.match(r['writeNode'] ?? '', /^err:(EROFS|EACCES)$/);
  assert.equal(r['netDev'], 'ok:lo', 'no interface but the (down) loopback');
  assert.match(r['interfaces'] ?? '', /^(ok:|err:ERR_SYSTEM_ERROR)$/, 'no configured address (netlink itself is refused by seccomp)');
  assert.equal(r['env'], 'ok:HOME,LANG,PATH,PWD,SKILL_MODE,TMPDIR', 'environment cleared (PWD is set by the in-cell shell)');
  assert.equal(r['hostname'], 'ok:sios-cell');
  assert.match(r['tcpLoopback'] ?? '', /^err:(EAFNOSUPPORT|ENETUNREACH|ECONNREFUSED)$/, 'the host loopback is not reachable');
  const start = log.events[0] as CellStartEvent;
  const end = log.events[1] as CellEndEvent;
  assert.equal(start.type, 'cell-start');
  assert.equal(start.sandbox, 'bwrap');
  assert.equal(start.seccomp, process.arch === 'x64');
  assert.equal(end.type, 'cell-end');
  assert.equal(end.cell, start.cell);
  assert.equal(end.exitCode, 0);
  assert.ok(end.cpuUserMs >= 0 && end.stdoutBytes > 0);
});

test('raw, packet and INET sockets are refused inside the cell', async () => {
  const runner = new CellRunner({ tenant: 'a', audit: async () => {}, workRoot: join(dir, 'cells') });
  const script = 'use Socket; my @r; for my $t ([PF_INET, SOCK_RAW, 1, "raw"], [PF_INET, SOCK_STREAM, 0, "inet"], [17, SOCK_RAW, 0, "packet"], [PF_INET6, SOCK_DGRAM, 0, "inet6"], [PF_UNIX, SOCK_STREAM, 0, "unix"]) { push @r, $t->[3] . "=" . (socket(my $s, $t->[0], $t->[1], $t->[2]) ? "ok" : ($!+0)); } print join(",", @r);';
  const res = await runner.run({ skill: 'raw', argv: ['/usr/bin/perl', '-e', script], readOnly: ['/usr'] });
  assert.equal(res.exitCode, 0, text(res.stderr));
  assert.equal(text(res.stdout), 'raw=97,inet=97,packet=97,inet6=97,unix=ok', 'EAFNOSUPPORT from the seccomp filter for every non-Unix family');
});

test('limits: wall clock, output size, file size and memory end the cell and are recorded', async () => {
  const log = auditLog();
  const runner = new CellRunner({ tenant: 'a', audit: log.audit, workRoot: join(dir, 'cells') });
  const node = rt().program;
  const wall = await runner.run({ skill: 'sleep', argv: [node, '-e', 'setInterval(() => {}, 1000)'], readOnly: nodeCell(), limits: { wallClockMs: 300 } });
  assert.equal(wall.reason, 'wall-clock');
  const out = await runner.run({ skill: 'chatty', argv: [node, '-e', 'process.stdout.write("x".repeat(1e6))'], readOnly: nodeCell(), limits: { outputBytes: 1000 } });
  assert.equal(out.reason, 'output-limit');
  assert.equal(out.stdout.length, 1000);
  const fsz = await runner.run({ skill: 'big-file', argv: [node, '-e', 'require("fs").writeFileSync("/tmp/f", Buffer.alloc(2e6))'], readOnly: nodeCell(), limits: { fileSizeBytes: 1_000_000 } });
  assert.notEqual(fsz.exitCode, 0);
  const mem = await runner.run({ skill: 'hog', argv: [node, '-e', 'const a=[]; for(;;) a.push(Buffer.alloc(64e6, 1))'], readOnly: nodeCell(), limits: { memoryBytes: 512 * 1024 * 1024 } });
  assert.notEqual(mem.exitCode, 0);
  const ends = log.events.filter((e): e is CellEndEvent => e.type === 'cell-end');
  assert.deepEqual(ends.map((e) => e.reason).slice(0, 2), ['wall-clock', 'output-limit']);
  assert.equal(ends.length, 4);
});

test('a skill in a cell reaches an allowlisted destination only through the gateway, and every attempt is recorded', async (t) => {
  const log = auditLog();
  const gw = new EgressGateway({
    policy: { tenant: 'a', allow: [{ host: 'origin.test', ports: [origin.port] }], internalRanges: ['127.0.0.1/32'], budgets: DEFAULT_BUDGETS },
    audit: log.audit,
    resolver: async (n) => (n === 'origin.test' ? ['127.0.0.1'] : []),
  });
  t.after(() => gw.close());
  const runner = new CellRunner({ tenant: 'a', audit: log.audit, workRoot: join(dir, 'cells') });
  const res = await runner.run({
    skill: 'fetch', gateway: gw,
    argv: [rt().program, '/skill/skill-fetch.ts', `http://origin.test:${origin.port}/from-cell`, `http://127.0.0.1:${origin.port}/direct-literal`, 'http://elsewhere.test/'],
    readOnly: nodeCell([{ host: FIXTURES, cell: '/skill' }, { host: join(SRC, 'cell-client.ts'), cell: '/sios/lib/cell-client.ts' }]),
  });
  assert.equal(res.exitCode, 0, text(res.stderr));
  const out = JSON.parse(text(res.stdout)) as Array<Record<string, unknown>>;
  assert.equal(out[0]?.['status'], 200);
  assert.match(String(out[0]?.['body']), /GET \/from-cell/);
  assert.deepEqual([out[1]?.['refused'], out[1]?.['reason']], [403, 'not-allowlisted']);
  assert.deepEqual([out[2]?.['refused'], out[2]?.['reason']], [403, 'not-allowlisted']);
  const start = log.events.find((e): e is CellStartEvent => e.type === 'cell-start');
  const eg = log.egress();
  assert.ok(start?.egress);
  assert.equal(eg.length, 4, 'one allowed decision + its outcome, two refusals');
  assert.ok(eg.every((e) => e.cell === start?.cell && e.skill === 'fetch' && e.tenant === 'a'));
  assert.equal(log.events.at(-1)?.type, 'cell-end');
  assert.equal(existsSync(join(dir, 'cells', start?.cell ?? 'x')), false);
});

test('fail closed without bubblewrap; an explicit operator opt-out runs unsandboxed and is recorded', async () => {
  const log = auditLog();
  const noBwrap = new CellRunner({ tenant: 'a', audit: log.audit, bwrapPath: '/nonexistent/bwrap', workRoot: join(dir, 'cells') });
  await assert.rejects(noBwrap.run({ skill: 's', argv: ['/usr/bin/true'], readOnly: ['/usr'] }),
    (e: unknown) => e instanceof SiosError && e.code === 'ERR_SANDBOX' && /apt-get install bubblewrap/.test(e.message) && /opt the tenant out/.test(e.message));
  assert.equal(log.events.length, 0, 'nothing ran, nothing started');
  const optedOut = new CellRunner({ tenant: 'a', audit: log.audit, bwrapPath: '/nonexistent/bwrap', optOut: { operator: 'alice', reason: 'legacy host without user namespaces' }, workRoot: join(dir, 'cells') });
  const res = await optedOut.run({ skill: 's', argv: ['/usr/bin/echo', 'unsandboxed'] });
  assert.equal(text(res.stdout), 'unsandboxed\n');
  const start = log.events[0] as CellStartEvent;
  assert.equal(start.sandbox, 'none');
  assert.deepEqual(start.optOut, { operator: 'alice', reason: 'legacy host without user namespaces' });
  assert.throws(() => new CellRunner({ tenant: 'a', audit: log.audit, optOut: { operator: '', reason: 'x' } }), /name the operator/);
});

test('a cell-start that cannot be sealed means the cell never runs', async () => {
  const marker = join(dir, 'ran');
  const runner = new CellRunner({ tenant: 'a', audit: async () => { throw new Error('ledger down'); }, optOut: { operator: 'alice', reason: 'test of fail-closed audit' }, workRoot: join(dir, 'cells') });
  await assert.rejects(runner.run({ skill: 's', argv: ['/usr/bin/touch', marker] }), (e: unknown) => e instanceof SiosError && e.code === 'ERR_SANDBOX');
  assert.equal(existsSync(marker), false);
});
