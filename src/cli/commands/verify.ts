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

const MAX_BUNDLE = 8 * 1024 * 1024 * 1024;

export const command: CommandSpec = {
  help: `sios verify — verify a ledger bundle or a receipt offline, with the operator public key alone

usage:
  sios verify BUNDLE --key operator.pub [--key older.pub ...] [--since CHECKPOINT_FILE]
                     [--tenant T | --origin O] [--json]
  sios verify --receipt RECEIPT.json --key operator.pub

Checks every entry's hash chain, the RFC 9162 Merkle roots, every checkpoint's ML-DSA-65 signature,
key rotations, intent/outcome links and disclosed payloads. No network, no SIOS server.
Exit status: 0 verified, 1 verification failed (the first bad entry and the reason are printed),
2 usage error.
`,
  options: { key: { type: 'string', multiple: true }, since: { type: 'string' }, tenant: { type: 'string' }, origin: { type: 'string' }, json: { type: 'boolean' }, receipt: { type: 'string' } },
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
    const bytes = new Uint8Array(fs.readFileSync(file));
    const since = str(args, 'since');
    const bar = progress('verifying', process.stderr);
    const opts: Parameters<typeof verifyBundle>[1] = { crypto: nodeVerifyCrypto, trustedKeys: keys, onProgress: (d, t) => bar.update(d, t) };
    if (since) opts.since = fs.readFileSync(since, 'utf8');
    const tenant = str(args, 'tenant'); if (tenant) opts.expectedTenant = tenant;
    const origin = str(args, 'origin'); if (origin) opts.expectedOrigin = origin;
    const t0 = performance.now();
    const rep = await verifyBundle(bytes, opts);
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
  const modes = [...new Set(r.checkpoints.map((c) => c.attestation ?? 'none stated'))];
  if (modes.length) out(`  attestation:     ${modes.join('; ')}`);
  for (const k of r.keys) out(`  key:             ${fingerprintForHumans(k.fingerprint)}  sizes ${k.validFromSize}..${k.validToSize ?? 'now'}${k.trustedDirectly ? '  (given)' : '  (by rotation)'}`);
  if (r.inDoubt.length) out(`  in doubt:        ${r.inDoubt.length} intent(s) without outcome: ${r.inDoubt.slice(0, 10).join(', ')}${r.inDoubt.length > 10 ? ' …' : ''}`);
  if (r.disclosures) out(`  disclosures:     ${r.disclosures} payload(s) match their commitments`);
  if (r.evidence.length) out(`  evidence:        ${r.evidence.join('; ')}`);
  out(`  time:            ${ms.toFixed(0)} ms${r.entries ? ` (${Math.round(r.entries / (ms / 1000)).toLocaleString('en-US')} entries/s)` : ''}`);
  void fingerprint;
}
