import { initDeployment } from '../../deployment/deployment.ts';
import { passphraseProtector } from '../../crypto/passphrase.ts';
import { fingerprintForHumans } from '../../crypto/fingerprint.ts';
import { layout } from '../../deployment/layout.ts';
import { defaultTcti } from '../../attestation/doctor.ts';
import { SiosError } from '../../errors.ts';
import { flag, str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, out, passOption, readPassphrase } from '../context.ts';

export const command: CommandSpec = {
  help: `sios init — create a deployment

usage: sios init [--data DIR] [--id NAME] [--passphrase-file FILE]
                 [--tpm [--tcti device:/dev/tpmrm0 | swtpm:host=127.0.0.1,port=N]]

Generates the operator's ML-DSA-65 signing key on this machine and stores it encrypted at rest
(scrypt N=2^17 + AES-256-GCM) under the operator passphrase (at least 12 characters; from
--passphrase-file, $SIOS_PASSPHRASE, or asked for). Writes DIR/operator.pub (PEM) for auditors and
prints the key fingerprint: write it down, auditors compare it.

--tpm binds the deployment to this machine's TPM 2.0 (default /dev/tpmrm0): measures the installation
(SIOS's src/, bin/, package-lock.json and DIR/deployment.json) into PCR 23, creates the device
identity (EK, and an AK under it), records it in the system ledger signed by the operator key, and
seals the operator key to PCRs 0-7 + 23 and the passphrase. The passphrase wrapping stays as the
backup path (\`sios attest reseal\` after a planned update). Without --tpm the deployment runs in
unattested software mode and every checkpoint says so.
`,
  options: { ...dataOption, ...passOption, id: { type: 'string' }, tpm: { type: 'boolean' }, tcti: { type: 'string' } },
  async run(args) {
    const dir = dataDir(args);
    const tpm = flag(args, 'tpm');
    const tctiArg = str(args, 'tcti');
    if (tctiArg !== undefined && !tpm) throw new SiosError('ERR_INPUT', '--tcti only applies with --tpm');
    let tcti: string | undefined;
    if (tpm) {
      const found = defaultTcti(tctiArg);
      if (found.tcti === undefined) throw new SiosError('ERR_ATTESTATION', `${found.reason}; pass --tcti, or run without --tpm for unattested software mode`);
      tcti = found.tcti;
    }
    const pass = await readPassphrase(args, 'New operator passphrase (12+ characters): ');
    const p = passphraseProtector(pass);
    try {
      const id = str(args, 'id');
      const r = await initDeployment(dir, [p], { ...(id === undefined ? {} : { id }), ...(tcti === undefined ? {} : { tpm: { tcti, passphrase: pass } }) });
      out(`Deployment ${r.id} created in ${r.dir}`);
      out(`Operator public key: ${layout(dir).publicKey}`);
      out(`Fingerprint: ${fingerprintForHumans(r.fingerprint)}`);
      if (tcti !== undefined) {
        out(`Attestation: TPM 2.0 at ${tcti}; device AK ${r.akName}`);
        out(`Measurement: ${r.measurement} (PCR 23); operator key sealed to PCRs 0-7, 23 and the passphrase`);
      } else {
        out('Attestation: none (UNATTESTED software mode; use --tpm on a machine with a TPM 2.0)');
      }
      out('Record the fingerprint somewhere safe; back up the key with `sios key split` or `sios key export`.');
      return 0;
    } finally {
      p.dispose();
    }
  },
};
