/**
 * Ledger benchmark (issue 2): sign-before-run throughput and latency, per-entry-signed mode, and
 * offline verification speed, each beside the physical limits measured in the same run.
 *   node bench/ledger.ts [--entries 1000000]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodeCrypto from 'node:crypto';
import { keyPairFromSeed, newSeed, nodeVerifyCrypto as c, randomBytes, softwareSigner } from '../src/crypto/node.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { SqliteLedgerStore } from '../src/store/sqlite-ledger.ts';
import { exportBundle } from '../src/ledger/export.ts';
import { verifyBundle } from '../src/ledger/verify.ts';
import { utf8 } from '../src/encoding/bytes.ts';
import { fmt, printTable, stats, sleep } from './lib.ts';
import { readShared } from '../src/cli/read-shared.ts';

const args = process.argv.slice(2);
const N_VERIFY = Number(args[args.indexOf('--entries') + 1] ?? 0) || 1_000_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sios-bench-ledger-'));
const seed = newSeed();
const signer = softwareSigner(seed);
const { privateKey } = keyPairFromSeed(seed);

function intentBody(i: number) {
  return { actor: `user-${i % 97}`, brain: 'triage@1.4.2', skill: 'records.read', decision: 'allow', args: 'c2hhMjU2OmFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJj', policy: 'v17' };
}

function open(name: string, maxBatch?: number) {
  // maxBatch 1 = per-entry-signed mode
  const store = new SqliteLedgerStore(path.join(dir, name + '.db'));
  return Ledger.open({ tenant: name, origin: `sios/bench/${name}`, store, signer, crypto: c, random: randomBytes, ...(maxBatch ? { maxBatch } : {}) });
}

// ---- physical limits ----
const msg = utf8('x'.repeat(200));
const signT: number[] = [];
for (let i = 0; i < 200; i++) { const t = performance.now(); nodeCrypto.sign(null, msg, privateKey); signT.push(performance.now() - t); }
const sig = nodeCrypto.sign(null, msg, privateKey);
const pub = nodeCrypto.createPublicKey(privateKey);
const verT: number[] = [];
for (let i = 0; i < 500; i++) { const t = performance.now(); nodeCrypto.verify(null, msg, pub, sig); verT.push(performance.now() - t); }
const fd = fs.openSync(path.join(dir, 'fsync.bin'), 'a');
const fsyncT: number[] = [];
const block = Buffer.alloc(512, 1);
for (let i = 0; i < 500; i++) { const t = performance.now(); fs.writeSync(fd, block); fs.fdatasyncSync(fd); fsyncT.push(performance.now() - t); }
fs.closeSync(fd);
const sample = utf8(JSON.stringify({ v: 1, tenant: 'ward-7', seq: 123456, time: new Date().toISOString(), kind: 'intent', prev: 'x'.repeat(43), body: intentBody(1) }));
let t0 = performance.now();
for (let i = 0; i < 200_000; i++) c.sha256(sample);
const shaPerEntry = (performance.now() - t0) / 200_000;
const sign = stats(signT), ver = stats(verT), fsy = stats(fsyncT);

printTable('Physical limits measured in this run', ['operation', 'p50 (ms)', 'p99 (ms)', 'per second'], [
  ['ML-DSA-65 sign (node:crypto)', sign.p50, sign.p99, fmt(1000 / sign.p50, 0)],
  ['ML-DSA-65 verify', ver.p50, ver.p99, fmt(1000 / ver.p50, 0)],
  ['fdatasync of a 512-byte append', fsy.p50, fsy.p99, fmt(1000 / fsy.p50, 0)],
  [`SHA-256 of one ${sample.length}-byte entry`, shaPerEntry, shaPerEntry, fmt(1000 / shaPerEntry, 0)],
]);

// ---- group commit at 64 concurrent callers ----
async function closedLoop(l: Ledger, callers: number, ms: number): Promise<{ rate: number; lat: ReturnType<typeof stats> }> {
  const lat: number[] = [];
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: callers }, async (_, k) => {
    while (performance.now() < end) {
      const t = performance.now();
      await l.seal({ kind: 'intent', body: intentBody(n + k) });
      lat.push(performance.now() - t); n++;
    }
  }));
  return { rate: n / (ms / 1000), lat: stats(lat) };
}
const g = open('group');
await closedLoop(g, 64, 500); // warm up
const group = await closedLoop(g, 64, 4000);
const gb = g.stats;
await g.close();

// ---- latency at a fixed offered load of 1,000 intents/s (open loop) ----
const o = open('openloop');
const lat: number[] = [];
const pending: Promise<void>[] = [];
const start = performance.now();
for (let i = 0; i < 4000; i++) {
  const due = start + i; // one per millisecond
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  const t = performance.now();
  pending.push(o.seal({ kind: 'intent', body: intentBody(i) }).then(() => { lat.push(performance.now() - t); }));
}
await Promise.all(pending);
const offered = 4000 / ((performance.now() - start) / 1000);
await o.close();
const ol = stats(lat);

// ---- per-entry-signed mode (maxBatch 1: every entry gets its own signed checkpoint; 8 callers
// keep the sign/commit pipeline full) ----
const p = open('single', 1);
const single = await closedLoop(p, 8, 3000);
await p.close();
const bareSignRate = 1000 / sign.p50;

printTable('Sign-before-run (seal → durable, signed, verifiable receipt)', ['measure', 'figure', 'goal', 'vs physical limit'], [
  ['group commit, 64 callers: sealed intents/s', fmt(group.rate, 0), '≥ 10,000', `${fmt(group.rate / bareSignRate, 1)}× one-signature-per-entry ceiling`],
  ['  batches: mean entries per signature', fmt(gb.entries / Math.max(1, gb.batches), 1), '', `max batch ${gb.maxBatch}`],
  ['  seal latency p50 / p99 (ms) at that load', `${fmt(group.lat.p50)} / ${fmt(group.lat.p99)}`, '', ''],
  [`open loop at ${fmt(offered, 0)} intents/s: p50 (ms)`, fmt(ol.p50), '', `${fmt(ol.p50 / (sign.p50 + fsy.p50), 2)}× (sign + fsync)`],
  [`open loop at ${fmt(offered, 0)} intents/s: p99 (ms)`, fmt(ol.p99), '≤ 10 ms', ''],
  ['per-entry-signed mode: intents/s', fmt(single.rate, 0), '', ''],
  ['  ratio to 1 / (bare sign time)', fmt(single.rate / bareSignRate, 2), '≥ 0.8', `bare sign ${fmt(bareSignRate, 0)}/s`],
]);

// ---- offline verification of a large bundle ----
console.log(`\nBuilding a ${N_VERIFY.toLocaleString('en-US')}-entry ledger with group commit (this takes a while)…`);
const big = open('big', 4096);
t0 = performance.now();
let made = 0;
while (made < N_VERIFY) {
  const n = Math.min(4096, N_VERIFY - made);
  const ps: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) ps.push(big.seal({ kind: 'intent', body: intentBody(made + i) }));
  await Promise.all(ps);
  made += n;
  if (process.stderr.isTTY) process.stderr.write(`\r  ${made.toLocaleString('en-US')} / ${N_VERIFY.toLocaleString('en-US')}`);
}
const buildRate = N_VERIFY / ((performance.now() - t0) / 1000);
if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
await big.close();
const bundlePath = path.join(dir, 'big.bundle');
const bfd = fs.openSync(bundlePath, 'w');
const st = new SqliteLedgerStore(path.join(dir, 'big.db'));
exportBundle(st, { origin: 'sios/bench/big', tenant: 'big', crypto: c, publicKeys: [signer.publicKey] }, (s) => { fs.writeSync(bfd, s); });
st.close(); fs.closeSync(bfd);
// Read straight into shared memory, as `sios verify` does, so the hashing worker needs no copy.
const bytes = readShared(bundlePath);
t0 = performance.now();
const rep = await verifyBundle(bytes, { crypto: c, trustedKeys: [signer.publicKey] });
const vt = (performance.now() - t0) / 1000;
if (!rep.ok) throw new Error('benchmark bundle failed to verify: ' + rep.failure?.message);
const hashFloor = 1 / (2 * shaPerEntry / 1000); // a leaf hash plus about one node hash per entry

printTable(`Offline verification (node:crypto) of a ${N_VERIFY.toLocaleString('en-US')}-entry bundle`, ['measure', 'figure', 'goal', 'vs physical limit'], [
  ['entries verified per second', fmt(N_VERIFY / vt, 0), '≥ 250,000', `${fmt((N_VERIFY / vt) / hashFloor, 2)}× hashing floor (${fmt(hashFloor, 0)}/s)`],
  ['checkpoint signatures verified', rep.checkpoints.length, '', `${fmt(rep.checkpoints.length * ver.p50, 0)} ms of bare verify`],
  ['bundle bytes per entry', fmt(bytes.length / N_VERIFY, 1), '', `${fmt(bytes.length / 1e6, 1)} MB in all`],
  ['ledger build rate (4,096 concurrent seals)', fmt(buildRate, 0), '', ''],
]);
fs.rmSync(dir, { recursive: true, force: true });
