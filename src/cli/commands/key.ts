import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { fingerprintForHumans } from '../../crypto/fingerprint.ts';
import { passphraseProtector } from '../../crypto/passphrase.ts';
import { readKeyFile, writeKeyFile, keyFileInfo, serializeKeyFile } from '../../crypto/keystore.ts';
import { exportKeyFile, importExportFile, parseShare, restoreFromShares, splitKeyFile } from '../../crypto/backup.ts';
import { publicKeyToPem } from '../../crypto/pubkey-format.ts';
import { Deployment, readConfig } from '../../deployment/deployment.ts';
import { layout } from '../../deployment/layout.ts';
import { flag, need, str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, openDeployment, out, passOption, protectorFrom, readPassphrase } from '../context.ts';

export const command: CommandSpec = {
  help: `sios key — the operator key

usage:
  sios key show [--pem]                               public key fingerprint (and PEM)
  sios key split --k 3 --n 5 [--out-dir DIR]           k-of-n Shamir shares (one file each with --out-dir)
  sios key restore --shares FILE [--force]             rebuild keys/operator.key from k shares (one per line)
  sios key export --out FILE [--export-passphrase-file F]   encrypted offline backup under a separate passphrase
  sios key import --in FILE [--export-passphrase-file F] [--force]
  sios key rotate [--resume]                           new key, announced in every ledger, signed by the old one
                                                       (--resume finishes a rotation that was interrupted)
Common: --data DIR, --passphrase-file FILE (or $SIOS_PASSPHRASE). Export passphrase: --export-passphrase-file or $SIOS_EXPORT_PASSPHRASE.
`,
  options: {
    ...dataOption, ...passOption, pem: { type: 'boolean' }, k: { type: 'string' }, n: { type: 'string' },
    'out-dir': { type: 'string' }, shares: { type: 'string' }, force: { type: 'boolean' }, out: { type: 'string' }, in: { type: 'string' },
    'export-passphrase-file': { type: 'string' }, resume: { type: 'boolean' },
  },
  async run(args) {
    const sub = args.positionals[0];
    const dir = dataDir(args);
    const L = layout(dir);
    switch (sub) {
      case 'show': {
        const info = keyFileInfo(readKeyFile(L.keyFile));
        out(`Deployment:  ${info.deployment}`);
        out(`Fingerprint: ${fingerprintForHumans(info.fingerprint)}`);
        out(`Protectors:  ${info.protectors.join(', ')}`);
        if (flag(args, 'pem')) out(publicKeyToPem(info.publicKey));
        return 0;
      }
      case 'split': {
        const k = int(need(args, 'k'), 'k'), n = int(need(args, 'n'), 'n');
        const p = await protectorFrom(args);
        let shares: string[];
        try { shares = await splitKeyFile(readKeyFile(L.keyFile), p, k, n); } finally { p.dispose(); }
        const outDir = str(args, 'out-dir');
        if (outDir) {
          fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
          shares.forEach((s, i) => fs.writeFileSync(`${outDir}/share-${i + 1}-of-${n}.txt`, s + '\n', { mode: 0o600, flag: 'wx' }));
          out(`Wrote ${n} shares to ${outDir}; any ${k} restore the key, fewer reveal nothing. Give each to a different custodian.`);
        } else {
          for (const s of shares) out(s);
        }
        return 0;
      }
      case 'restore': {
        const file = need(args, 'shares');
        const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
        const config = readConfig(dir);
        if (fs.existsSync(L.keyFile) && !flag(args, 'force')) throw new SiosError('ERR_CONFLICT', `${L.keyFile} exists; pass --force to replace it with the restored key`);
        const first = lines.find((l) => l.trim() && !l.startsWith('#'));
        if (first && parseShare(first).fingerprint !== config.operator.fingerprint) {
          throw new SiosError('ERR_SHARES', `these shares are of key ${parseShare(first).fingerprint.slice(0, 20)}…, not this deployment's operator key ${config.operator.fingerprint.slice(0, 20)}…`);
        }
        const p = await protectorFrom(args);
        try {
          const kf = await restoreFromShares(lines, [p], { deployment: config.id });
          writeKeyFile(L.keyFile, kf, { overwrite: true });
          out(`Restored the operator key ${fingerprintForHumans(kf.fingerprint)} into ${L.keyFile}`);
        } finally { p.dispose(); }
        return 0;
      }
      case 'export': {
        const file = need(args, 'out');
        const p = await protectorFrom(args);
        const ep = passphraseProtector(await readPassphrase(args, 'Export passphrase (12+ characters): ', 'export-passphrase-file', 'SIOS_EXPORT_PASSPHRASE'), { label: 'the export passphrase' });
        try {
          const ex = await exportKeyFile(readKeyFile(L.keyFile), p, ep);
          fs.writeFileSync(file, serializeKeyFile(ex), { mode: 0o600, flag: 'wx' });
          out(`Wrote an encrypted export of key ${fingerprintForHumans(ex.fingerprint)} to ${file}`);
        } finally { p.dispose(); ep.dispose(); }
        return 0;
      }
      case 'import': {
        const ex = readKeyFile(need(args, 'in'), { allowOpenMode: true });
        if (fs.existsSync(L.keyFile) && !flag(args, 'force')) throw new SiosError('ERR_CONFLICT', `${L.keyFile} exists; pass --force to replace it`);
        const ep = passphraseProtector(await readPassphrase(args, 'Export passphrase: ', 'export-passphrase-file', 'SIOS_EXPORT_PASSPHRASE'), { label: 'the export passphrase' });
        const p = await protectorFrom(args);
        try {
          const kf = await importExportFile(ex, ep, [p]);
          writeKeyFile(L.keyFile, kf, { overwrite: true });
          out(`Imported key ${fingerprintForHumans(kf.fingerprint)} into ${L.keyFile}`);
        } finally { p.dispose(); ep.dispose(); }
        return 0;
      }
      case 'rotate': {
        if (flag(args, 'resume')) {
          const r = await Deployment.resumeRotation(dir, await readPassphrase(args), 'operator');
          out(`Finished the interrupted rotation to ${fingerprintForHumans(r.fingerprint)} (${r.ledgers} ledgers).`);
          return 0;
        }
        const d = await openDeployment(args);
        const p = await protectorFrom(args);
        try {
          const r = await d.rotateKey([p], 'operator');
          out(`Rotated to ${fingerprintForHumans(r.fingerprint)}; announced in ${r.ledgers} ledgers, signed by the previous key.`);
        } finally { p.dispose(); await d.close(); }
        return 0;
      }
      default:
        throw new SiosError('ERR_INPUT', `unknown 'sios key' action '${sub ?? ''}': use show, split, restore, export, import or rotate`);
    }
  },
};

function int(s: string, name: string): number {
  if (!/^[0-9]{1,3}$/.test(s)) throw new SiosError('ERR_INPUT', `--${name} must be a whole number`);
  return Number(s);
}
