/**
 * Attestation benchmark against a real swtpm:
 *  - quote (tpm2-tools + simulator) p50/p99, against the floor of spawning one process;
 *  - evidence verification in TypeScript (no simulator work) p50/p99, against one raw ECDSA P-256 verify;
 *  - measuring an installation, ms per MB, against raw SHA-256 throughput;
 *  - unsealing the operator KEK (full policy session) p50.
 * Run: node bench/attestation.ts   (about 20-40 s on a 2-core machine)
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, scrypt as nodeScrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSwtpm } from '../test/attestation/swtpm.ts';
import { Tpm2 } from '../src/attestation/tpm.ts';
import { collectEvidence, measuredStart } from '../src/attestation/evidence.ts';
import { measureInstallation } from '../src/attestation/measure.ts';
import { quoteNonce, verifyEvidence } from '../src/attestation/verify-evidence.ts';
import { TpmSealProtector } from '../src/attestation/tpm-protector.ts';
import { fromBase64url, utf8 } from '../src/encoding/bytes.ts';
import { ecdsaSignatureToP1363, parseEccPublic } from '../src/attestation/tpm-wire.ts';

const repo = path.resolve(import.meta.dirname, '..');
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
async function time(n: number, f: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(i); out.push(performance.now() - t); }
  return out;
}
const rows: string[][] = [];
const row = (what: string, xs: number[] | null, extra: string, floor: string, ratio: string): void => {
  rows.push([what, xs ? pct(xs, 50).toFixed(3) : '-', xs ? pct(xs, 99).toFixed(3) : '-', extra, floor, ratio]);
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sios-bench-att-'));
const sw = await startSwtpm();
try {
  const tpm = new Tpm2({ tcti: sw.tcti, stateDir: path.join(tmp, 'state') });
  const identity = await tpm.createIdentity();
  const entries = ['src', 'bin', 'package-lock.json', 'package.json', 'tsconfig.json'];
  const m = await measuredStart(tpm, repo, entries);

  // Floor for anything driven through tpm2-tools: one process spawn.
  const spawnT = await time(50, () => spawnSync('/bin/true'));
  const fp = new Uint8Array(randomBytes(32));
  const quoteT: number[] = [];
  let ev = await collectEvidence(tpm, identity, await quoteNonce(fp, utf8('warm-up-challenge-0001')), m);
  for (let i = 0; i < 100; i++) {
    const nonce = await quoteNonce(fp, utf8(`checkpoint-challenge-${i.toString().padStart(8, '0')}`));
    const t = performance.now();
    ev = await collectEvidence(tpm, identity, nonce, m);
    quoteT.push(performance.now() - t);
  }
  row('quote (tpm2_quote on swtpm)', quoteT, '', `spawn ${pct(spawnT, 50).toFixed(2)} ms`, `${(pct(quoteT, 50) / pct(spawnT, 50)).toFixed(1)}x`);

  // Verification alone (the simulator's work is excluded: evidence already collected).
  const nonce = fromHexLike(ev.nonce);
  const expect = { nonce, identity, measurement: { digest: m.digest, events: m.events } };
  for (let i = 0; i < 50; i++) await verifyEvidence(ev, expect); // warm up
  const verT = await time(1000, () => verifyEvidence(ev, expect));
  const ak = parseEccPublic(fromBase64url(identity.akPublic), 'ak');
  const raw = new Uint8Array(65); raw[0] = 4; raw.set(ak.x, 1 + 32 - ak.x.length); raw.set(ak.y, 33 + 32 - ak.y.length);
  const key = await crypto.subtle.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const sig = ecdsaSignatureToP1363(fromBase64url(ev.quote.signature));
  const attest = fromBase64url(ev.quote.attest);
  const ecT = await time(1000, () => crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig as Uint8Array<ArrayBuffer>, attest as Uint8Array<ArrayBuffer>));
  row(`verify evidence (${m.events.length} events)`, verT, 'goal p99 <= 50 ms', `ECDSA ${pct(ecT, 50).toFixed(3)} ms`, `${(pct(verT, 50) / pct(ecT, 50)).toFixed(1)}x`);
  const quoteVerify = quoteT.map((q, i) => q + verT[i * 10]!);
  row('quote + verify', quoteVerify, '', '', '');

  // Measuring the installation: ms per MB against raw SHA-256.
  const big = ['node_modules/typescript'];
  const mt = await time(3, () => measureInstallation(repo, big));
  const st = (await measureInstallation(repo, big)).stats;
  const mb = st.bytes / 1e6;
  const buf = randomBytes(64 << 20);
  // Same access pattern as the measurement (1 MiB updates), data already in memory: the hashing floor.
  const shaT = await time(5, () => { const h = createHash('sha256'); for (let o = 0; o < buf.length; o += 1 << 20) h.update(buf.subarray(o, o + (1 << 20))); return h.digest(); });
  const shaMsPerMb = pct(shaT, 50) / (buf.length / 1e6);
  const msPerMb = pct(mt, 50) / mb;
  row(`measure ${st.files} files, ${mb.toFixed(1)} MB`, mt, `${msPerMb.toFixed(2)} ms/MB`, `sha256 ${shaMsPerMb.toFixed(2)} ms/MB`, `${(msPerMb / shaMsPerMb).toFixed(1)}x`);
  const own = await time(5, () => measureInstallation(repo, entries));
  row(`measure SIOS itself (${m.stats.files} files, ${(m.stats.bytes / 1e6).toFixed(2)} MB)`, own, `${(pct(own, 50) / (m.stats.bytes / 1e6)).toFixed(2)} ms/MB`, '', '');

  // Unseal (start-up path): SRK, PCR pre-check, loads, salted policy session, unseal, decrypt.
  const scrypt = { N: 1 << 15, r: 8, p: 1 };
  const prot = new TpmSealProtector({ tpm, passphrase: 'bench passphrase', scrypt });
  const aad = utf8('bench');
  const w = await prot.wrap(new Uint8Array(randomBytes(32)), aad);
  const unsealT = await time(10, () => prot.unwrap(w, aad));
  const scryptT = await time(5, () => new Promise<void>((r) => { nodeScrypt('x', 'salt', 24, { ...scrypt, maxmem: 256 * scrypt.N * scrypt.r }, () => r()); }));
  row('unseal KEK (scrypt N=2^15 + TPM)', unsealT, '', `scrypt ${pct(scryptT, 50).toFixed(1)} ms`, `${(pct(unsealT, 50) / pct(scryptT, 50)).toFixed(1)}x`);
} finally {
  await sw.stop();
  rmSync(tmp, { recursive: true, force: true });
}

function fromHexLike(h: string): Uint8Array { return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16))); }

const head = ['operation', 'p50 ms', 'p99 ms', 'note', 'physical floor (same run)', 'ratio p50/floor'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(line(head));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
