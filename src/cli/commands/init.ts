import { initDeployment } from '../../deployment/deployment.ts';
import { passphraseProtector } from '../../crypto/passphrase.ts';
import { fingerprintForHumans } from '../../crypto/fingerprint.ts';
import { layout } from '../../deployment/layout.ts';
import { str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, out, passOption, readPassphrase } from '../context.ts';

export const command: CommandSpec = {
  help: `sios init — create a deployment

usage: sios init [--data DIR] [--id NAME] [--passphrase-file FILE]

Generates the operator's ML-DSA-65 signing key on this machine and stores it encrypted at rest
(scrypt N=2^17 + AES-256-GCM) under the operator passphrase (at least 12 characters; from
--passphrase-file, $SIOS_PASSPHRASE, or asked for). Writes DIR/operator.pub (PEM) for auditors and
prints the key fingerprint: write it down, auditors compare it.
`,
  options: { ...dataOption, ...passOption, id: { type: 'string' } },
  async run(args) {
    const dir = dataDir(args);
    const pass = await readPassphrase(args, 'New operator passphrase (12+ characters): ');
    const p = passphraseProtector(pass);
    try {
      const id = str(args, 'id');
      const r = await initDeployment(dir, [p], id === undefined ? {} : { id });
      out(`Deployment ${r.id} created in ${r.dir}`);
      out(`Operator public key: ${layout(dir).publicKey}`);
      out(`Fingerprint: ${fingerprintForHumans(r.fingerprint)}`);
      out('Record the fingerprint somewhere safe; back up the key with `sios key split` or `sios key export`.');
      return 0;
    } finally {
      p.dispose();
    }
  },
};
