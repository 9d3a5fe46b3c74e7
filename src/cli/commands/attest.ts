/** `sios attest`: the deployment's TPM 2.0 binding — status, reseal after a planned update, fresh quote. */
import * as fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { SiosError } from '../../errors.ts';
import { Deployment, readConfig } from '../../deployment/deployment.ts';
import { layout } from '../../deployment/layout.ts';
import {
  checkAttestationConfig, codeRoot, describeChange, DeviceAttestation, measureDeployment, readSealedMeasurement, resealKey, tpmStateDir,
} from '../../deployment/attested.ts';
import { Tpm2 } from '../../attestation/tpm.ts';
import type { DeviceIdentity } from '../../attestation/verify-evidence.ts';
import { flag, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, out, passOption, readPassphrase } from '../context.ts';

export const command: CommandSpec = {
  help: `sios attest — the deployment's TPM 2.0 binding

usage:
  sios attest status            mode, TPM, device identity, sealed vs current measurement (no passphrase)
  sios attest reseal            after a planned update: seal the operator key to the current measured
                                state (needs the passphrase; recorded in the system ledger)
  sios attest quote [--json]    take a fresh quote now, record it in the system ledger, print its digest
Common: --data DIR, --passphrase-file FILE (or $SIOS_PASSPHRASE).
`,
  options: { ...dataOption, ...passOption, json: { type: 'boolean' } },
  async run(args) {
    const sub = args.positionals[0];
    const dir = dataDir(args);
    const config = readConfig(dir);
    if (config.attestation.mode !== 'tpm2') {
      if (sub === 'status') {
        out(`Deployment ${config.id}: UNATTESTED software mode — no TPM binding; every checkpoint says 'sios-attest software unattested'.`);
        out('Create a deployment with `sios init --tpm` on a machine with a TPM 2.0 to bind it.');
        return 0;
      }
      throw new SiosError('ERR_ATTESTATION', `deployment ${config.id} runs in unattested software mode: there is no TPM binding to ${sub ?? 'use'}; create one with sios init --tpm`);
    }
    const cfg = checkAttestationConfig(config.attestation);
    switch (sub) {
      case 'status': {
        out(`Deployment:   ${config.id}`);
        out(`Attestation:  tpm2 at ${cfg.tcti}`);
        try {
          const d = await new Tpm2({ tcti: cfg.tcti, stateDir: tpmStateDir(dir), commandTimeoutMs: 10_000 }).describe();
          out(`TPM:          reachable, manufacturer ${d.manufacturer}, firmware ${d.firmware}`);
        } catch (e) { out(`TPM:          NOT reachable (${(e as Error).message})`); }
        try {
          const id = JSON.parse(fs.readFileSync(tpmStateDir(dir) + '/identity.json', 'utf8')) as DeviceIdentity;
          out(`Device:       EK ${id.ekName.slice(0, 20)}…, AK ${id.akName.slice(0, 20)}… at ${id.akHandle}`);
        } catch { out('Device:       no identity recorded in tpm/identity.json'); }
        const sealed = readSealedMeasurement(dir);
        const now = await measureDeployment(codeRoot(), dir);
        out(`Sealed to:    ${sealed?.digest ?? 'unknown'}`);
        out(`Measured now: ${now.digest} (${now.files} files, ${now.bytes} bytes)`);
        if (sealed && sealed.digest !== now.digest) out(`CHANGED:      ${describeChange(sealed, now) || 'installation differs'}; the TPM will refuse to unseal until \`sios attest reseal\``);
        const db = new DatabaseSync(layout(dir).systemDb, { readOnly: true });
        try {
          const has = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='attestation_evidence'").get();
          const n = has ? Number(db.prepare('SELECT count(*) AS n FROM attestation_evidence').get()?.['n'] ?? 0) : 0;
          out(`Evidence:     ${n} quote(s) stored for checkpoints`);
        } finally { db.close(); }
        return 0;
      }
      case 'reseal': {
        const pass = await readPassphrase(args);
        const before = readSealedMeasurement(dir);
        const att = await DeviceAttestation.start(dir, cfg);
        let r: { previous: string | undefined; current: string };
        try { r = await resealKey(dir, layout(dir).keyFile, att, pass); } finally { await att.close(); }
        const changed = describeChange(before, att.measurement);
        const d = await Deployment.open(dir, { passphrase: pass });
        try {
          await d.system.seal({ kind: 'admin', body: { action: 'attestation-reseal', actor: 'operator', previous: r.previous ?? null, measurement: r.current, changed } });
        } finally { await d.close(); }
        out(`Resealed the operator key to measurement ${r.current}${r.previous && r.previous !== r.current ? ` (was ${r.previous}${changed ? `; ${changed}` : ''})` : ''}; recorded in the system ledger.`);
        return 0;
      }
      case 'quote': {
        const pass = await readPassphrase(args);
        const d = await Deployment.open(dir, { passphrase: pass });
        try {
          const att = d.attestation!;
          const digest = await att.refresh();
          await d.system.seal({ kind: 'admin', body: { action: 'attestation-quote', actor: 'operator', evidence: digest, measurement: att.measurement.digest } });
          if (flag(args, 'json')) out(JSON.stringify(att.currentEvidence, null, 2));
          else out(`Quote ${digest} (measurement ${att.measurement.digest}, AK ${att.identity.akName.slice(0, 20)}…); recorded in the system ledger.`);
        } finally { await d.close(); }
        return 0;
      }
      default:
        throw new SiosError('ERR_INPUT', `unknown 'sios attest' action '${sub ?? ''}': use status, reseal or quote`);
    }
  },
};
