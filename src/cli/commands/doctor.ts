import { doctor } from '../../deployment/doctor.ts';
import { flag, str, type CommandSpec } from '../args.ts';
import { dataDir, dataOption, out } from '../context.ts';

export const command: CommandSpec = {
  help: `sios doctor — is this deployment sovereign right now?

usage: sios doctor [--data DIR] [--allow-listener ADDR:PORT ...] [--tcti TCTI] [--json]

Checks: no listening socket beyond loopback (unless allowed), no outbound connection, no default
route in use, bubblewrap usable for sandboxed cells, egress policies, the operator key encrypted at
rest, every ledger matching its last signed checkpoint, and the attestation mode (TPM 2.0, or the
explicitly unattested software mode). Exit status 0 when every check passes, 1 otherwise.
`,
  options: { ...dataOption, 'allow-listener': { type: 'string', multiple: true }, tcti: { type: 'string' }, json: { type: 'boolean' } },
  async run(args) {
    const tcti = str(args, 'tcti');
    const checks = await doctor(dataDir(args), { allowedListeners: (args.values['allow-listener'] as string[] | undefined) ?? [], ...(tcti ? { tcti } : {}) });
    if (flag(args, 'json')) out(JSON.stringify(checks, null, 2));
    else {
      const w = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) out(`${c.ok ? '✔' : '✘'} ${c.name.padEnd(w)}  ${c.detail}`);
      const failed = checks.filter((c) => !c.ok).length;
      out(failed ? `\n${failed} check(s) failed.` : '\nAll checks passed: this deployment is clean.');
    }
    return checks.every((c) => c.ok) ? 0 : 1;
  },
};
