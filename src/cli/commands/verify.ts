import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { nodeVerifyCrypto } from '../../crypto/node.ts';
import { parsePublicKey } from '../../crypto/pubkey-format.ts';
import { fingerprint, fingerprintForHumans } from '../../crypto/fingerprint.ts';
import { verifyBundle, verifyReceipt, type VerifyReport } from '../../ledger/verify.ts';
import type { Receipt } from '../../ledger/ledger.ts';
import { flag, str, type CommandSpec, type ParsedArgs } from '../args.ts';
import { out } from '../context.ts';
import { progress } from '../progress.ts';
import { readShared } from '../read-shared.ts';
import { missingEvidence, referencedDigest, verifyCheckpointEvidence } from '../../attestation/checkpoint-evidence.ts';

const MAX_BUNDLE = 8 * 1024 * 1024 * 1024;

export const command: CommandSpec = {
  help: `sios verify — verify a ledger bundle or a receipt offline, with the operator public key alone

usage:
  sios verify BUNDLE --key operator.pub [--key older.pub ...] [--since CHECKPOINT_FILE]
                     [--tenant T | --origin O] [--expect-measurement HEX] [--json]
  sios verify --receipt RECEIPT.json --key operator.pub

Checks every entry's hash chain, the RFC 9162 Merkle roots, every checkpoint's ML-DSA-65 signature,
key rotations, intent/outcome links and disclosed payloads. No network, no SIOS server.
TPM deployments: every checkpoint names its evidence (\`sios-attest tpm2 <digest>\`) and the bundle
carries it; each is checked (quote signature by the AK, AK bound to the EK and, by an operator
signature, to the operator key, nonce bound to the operator key and a checkpoint, PCR replay of the
measurement); --expect-measurement also requires that installation digest. A missing or altered
evidence object fails with reason bad-evidence. Software-mode bundles are reported as UNATTESTED.
Exit status: 0 verified, 1 verification failed (the first bad entry and the reason are printed),
2 usage error.
`,
  options: { 'expect-measurement': { type: 'string' }, key: { type: 'string', multiple: true }, since: { type: 'string' }, tenant: { type: 'string' }, origin: { type: 'string' }, json: { type: 'boolean' }, receipt: { type: 'string' } },
  async run(args) {
    const keys = keysOf(args);
    const receiptFile = str(args, 'receipt');
    if (receiptFile) {
      let r: Receipt;
      try { r = JSON.parse(fs.readFileSync(receiptFile, 'utf8')) as Receipt; } catch (cause) {
        throw new SiosError('ERR_INPUT', `${receiptFile} is not a readable JSON receipt`, { cause });
      }
      const e = await verifyReceipt(nodeVerifyCrypto, r, keys);
      out(`VERIFIED receipt: entry ${e.seq} (${e.kind}) of ${r.origin}, sealed ${e.time}`);
      return 0;
    }
    const file = args.positionals[0];
    if (!file) throw new SiosError('ERR_INPUT', 'name the bundle to verify: sios verify BUNDLE --key operator.pub');
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch (cause) { throw new SiosError('ERR_INPUT', `cannot read ${file}`, { cause }); }
    if (!st.isFile()) throw new SiosError('ERR_INPUT', `${file} is not a file`);
    if (st.size > MAX_BUNDLE) throw new SiosError('ERR_TOO_LARGE', `${file} is ${st.size} bytes; bundles over 8 GiB are not supported`);
    const bytes = readShared(file); // shared memory: the leaf-hashing worker reads it without a copy
    const since = str(args, 'since');
    const bar = progress('verifying', process.stderr);
    const opts: Parameters<typeof verifyBundle>[1] = { crypto: nodeVerifyCrypto, trustedKeys: keys, onProgress: (d, t) => bar.update(d, t) };
    if (since) opts.since = fs.readFileSync(since, 'utf8');
    const tenant = str(args, 'tenant'); if (tenant) opts.expectedTenant = tenant;
    const origin = str(args, 'origin'); if (origin) opts.expectedOrigin = origin;
    const expectMeasurement = str(args, 'expect-measurement');
    if (expectMeasurement !== undefined && !/^[0-9a-f]{64}$/.test(expectMeasurement)) throw new SiosError('ERR_INPUT', '--expect-measurement takes the 64-hex-digit measurement digest (sios attest status prints it)');
    // Evidence: the device identity comes from the evidence (signed by the operator key) and, for
    // the system ledger, must also be one its device-identity entries recorded.
    const verified = new Set<string>();
    const recordedAk = new Set<string>();
    if (bundleTenant(bytes) === 'system') {
      opts.onEntry = (e) => {
        if (e.kind !== 'admin' || e.body['action'] !== 'device-identity') return;
        const id = e.body['identity'] as { akName?: unknown } | null;
        if (typeof id?.akName === 'string') recordedAk.add(id.akName);
      };
    }
    opts.verifyEvidence = async (ev, ctx) => {
      const r = await verifyCheckpointEvidence(nodeVerifyCrypto, ev, { checkpoints: ctx.checkpoints, recordedAkNames: recordedAk, ...(expectMeasurement ? { expectMeasurement } : {}) });
      verified.add(r.digest);
      return r.summary;
    };
    const t0 = performance.now();
    const rep = await verifyBundle(bytes, opts);
    if (rep.ok) {
      const missing = missingEvidence(rep.checkpoints, verified);
      if (missing) {
        rep.ok = false;
        rep.failure = { reason: 'bad-evidence', seq: missing.size - 1, message: `the checkpoint at size ${missing.size} names TPM evidence ${missing.digest.slice(0, 16)}… that the bundle does not carry (export it with 'sios ledger export' from the deployment)` };
      }
    }
    bar.done();
    const ms = performance.now() - t0;
    if (flag(args, 'json')) out(JSON.stringify(rep, null, 2));
    else printReport(rep, file, ms);
    return rep.ok ? 0 : 1;
  },
};

function keysOf(args: ParsedArgs): Uint8Array[] {
  const files = (args.values['key'] as string[] | undefined) ?? [];
  if (files.length === 0) throw new SiosError('ERR_INPUT', 'give the operator public key: --key operator.pub (from the operator, compared by fingerprint)');
  return files.map((f) => {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch (cause) { throw new SiosError('ERR_INPUT', `cannot read key file ${f}`, { cause }); }
    return parsePublicKey(text);
  });
}

/** The bundle header's tenant, to decide whether device-identity entries can be cross-checked. */
function bundleTenant(bytes: Uint8Array): string | undefined {
  const nl = bytes.indexOf(0x0a);
  try { return (JSON.parse(new TextDecoder().decode(bytes.subarray(0, nl < 0 ? Math.min(bytes.length, 65536) : nl))) as { tenant?: string }).tenant; } catch { return undefined; }
}

function attestationSummary(r: VerifyReport): string {
  const n = r.checkpoints.length;
  const tpm = r.checkpoints.filter((c) => referencedDigest(c.attestation) !== undefined).length;
  const soft = r.checkpoints.filter((c) => c.attestation?.startsWith('software')).length;
  const parts: string[] = [];
  if (tpm) parts.push(`tpm2 on ${tpm} of ${n} checkpoints${r.ok ? ' (evidence verified, below)' : ''}`);
  if (soft) parts.push(`UNATTESTED software mode on ${soft} of ${n} checkpoints: no hardware root vouches for them`);
  if (n - tpm - soft) parts.push(`${n - tpm - soft} checkpoint(s) state no attestation`);
  return parts.join('; ');
}

function printReport(r: VerifyReport, file: string, ms: number): void {
  if (r.ok) {
    out(`VERIFIED  ${file}`);
  } else {
    const f = r.failure!;
    out(`FAILED    ${file}`);
    out(`  reason:          ${f.reason}${f.seq === undefined ? '' : `   first bad entry: ${f.seq}`}`);
    out(`  detail:          ${f.message}`);
  }
  if (r.origin) out(`  origin:          ${r.origin}`);
  if (r.tenant) out(`  tenant:          ${r.tenant}`);
  out(`  entries:         ${r.entries}`);
  out(`  checkpoints:     ${r.checkpoints.length}${r.checkpoints.length ? `  (latest size ${r.checkpoints[r.checkpoints.length - 1]!.size}, ${r.checkpoints[r.checkpoints.length - 1]!.time ?? 'no time'})` : ''}`);
  if (r.checkpoints.length) out(`  attestation:     ${attestationSummary(r)}`);
  for (const k of r.keys) out(`  key:             ${fingerprintForHumans(k.fingerprint)}  sizes ${k.validFromSize}..${k.validToSize ?? 'now'}${k.trustedDirectly ? '  (given)' : '  (by rotation)'}`);
  if (r.inDoubt.length) out(`  in doubt:        ${r.inDoubt.length} intent(s) without outcome: ${r.inDoubt.slice(0, 10).join(', ')}${r.inDoubt.length > 10 ? ' …' : ''}`);
  if (r.disclosures) out(`  disclosures:     ${r.disclosures} payload(s) match their commitments`);
  for (const e of r.evidence) out(`  evidence:        ${e}`);
  out(`  time:            ${ms.toFixed(0)} ms${r.entries ? ` (${Math.round(r.entries / (ms / 1000)).toLocaleString('en-US')} entries/s)` : ''}`);
  void fingerprint;
}
