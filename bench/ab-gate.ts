/**
 * In-process interleaved A/B of the gate: two (or more) source trees of SIOS, each with its own
 * deployment in a temporary folder, measured alternately in one process (order reversed every other
 * round), so that both see the same machine load. On the shared 2-core machines, where other jobs
 * move timings by 2-5x from one minute to the next, separate runs cannot show a 10% change; this
 * can. Reports the median and range over rounds.
 *   node bench/ab-gate.ts sustained|open SECONDS ROUNDS [RATE]
 *   ROOTS=/path/to/old/,/path/to/new/ (default: this tree twice); append |inline or |thread to a
 *   root to choose its ledger writer (a tree's own options: a tree may know other writers). A tree is a checkout with node_modules beside src/
 *   (e.g. git archive <commit> | tar -x -C /tmp/old && ln -s $PWD/node_modules /tmp/old/).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance as np } from 'node:perf_hooks';
import { gateFixture } from './gate-fixture.ts';
import { percentile, sleep } from './lib.ts';
const here = path.join(import.meta.dirname, '..') + '/';
const roots = (process.env['ROOTS'] ?? `${here},${here}`).split(',');
const MODE = process.argv[2] ?? 'sustained';
const SECS = Number(process.argv[3] ?? 2);
const ROUNDS = Number(process.argv[4] ?? 6);
const RATE = Number(process.argv[5] ?? 1000);
async function setup(spec: string) {
  const [R, lw] = spec.split('|') as [string, string | undefined];
  const { initDeployment } = await import(R + 'src/deployment/deployment.ts');
  const { passphraseProtector } = await import(R + 'src/crypto/passphrase.ts');
  const { App } = await import(R + 'src/app/app.ts');
  const { HOSPITAL_POLICY, TRADING_POLICY } = await import(R + 'src/app/example-tenants.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-abin-'));
  const { app, reqN, reqA } = await gateFixture({ initDeployment, passphraseProtector, App, HOSPITAL_POLICY, TRADING_POLICY }, dir, lw as 'inline' | 'thread' | undefined);
  const submit = (i: number) => app.gate.submit(i % 2 ? reqN : reqA);
  for (let i = 0; i < 200; i++) await submit(i);
  { const until = performance.now() + 1500; await Promise.all(Array.from({ length: 64 }, async (_, k) => { while (performance.now() < until) await submit(k); })); }
  const batches = () => ['st-mary', 'northbank'].reduce((a, t) => a + app.deployment.ledger(t).stats.batches, 0);
  return { app, dir, submit, R: spec, batches };
}
const pct = (a: number[], q: number): number => percentile([...a].sort((x, y) => x - y), 100 * q);
async function sustained(s: Awaited<ReturnType<typeof setup>>) {
  let done = 0; const end = performance.now() + SECS * 1000; const t0 = performance.now(); const c0 = process.cpuUsage(); const tc0 = process.threadCpuUsage(); const e0 = np.eventLoopUtilization();
  await Promise.all(Array.from({ length: 64 }, async (_, k) => { while (performance.now() < end) { await s.submit(k); done++; } }));
  const c = process.cpuUsage(c0); const tc = process.threadCpuUsage(tc0); const el = np.eventLoopUtilization(e0);
  return { rate: done / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / 1000 / done, main: (tc.user + tc.system) / 1000 / done, elu: el.utilization };
}
async function open(s: Awaited<ReturnType<typeof setup>>) {
  const b0 = s.batches(); const lat: number[] = []; const ps: Promise<void>[] = []; const n = RATE * SECS; const start = performance.now(); const c0 = process.cpuUsage(); const tc0 = process.threadCpuUsage();
  for (let i = 0; i < n; i++) { const due = start + i * 1000 / RATE; const w = due - performance.now(); if (w > 1) await sleep(w); const t = performance.now(); ps.push(s.submit(i).then(() => { lat.push(performance.now() - Math.min(t, due)); })); }
  await Promise.all(ps); const c = process.cpuUsage(c0); const tc = process.threadCpuUsage(tc0);
  return { p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99), cpu: (c.user + c.system) / 1000 / n, main: (tc.user + tc.system) / 1000 / n, entPerBatch: 2 * n / (s.batches() - b0) };
}
const S = [] as Awaited<ReturnType<typeof setup>>[];
for (const [i, r] of roots.entries()) S.push({ ...(await setup(r)), R: `${String.fromCharCode(65 + i)} ${r}` });
const res: Record<string, Record<string, number[]>> = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...S].reverse() : S;
  for (const s of order) {
    const m = MODE === 'sustained' ? await sustained(s) : await open(s);
    const key = s.R; res[key] ??= {};
    for (const [k, v] of Object.entries(m)) (res[key][k] ??= []).push(v);
    await sleep(200);
  }
}
const fmt = (a: number[]) => { const s = [...a].sort((x, y) => x - y); const med = s[Math.floor(s.length / 2)]!; return `med ${med.toFixed(3)} [${s[0]!.toFixed(3)}–${s[s.length - 1]!.toFixed(3)}]`; };
console.log(`mode ${MODE} ${MODE === 'open' ? RATE + '/s ' : ''}${SECS}s x ${ROUNDS} rounds, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const s of S) { console.log(s.R); for (const [k, v] of Object.entries(res[s.R]!)) console.log(`  ${k.padEnd(5)} ${fmt(v)}`); }
for (const s of S) { await s.app.close(); fs.rmSync(s.dir, { recursive: true, force: true }); }
process.exit(0);
