/**
 * The `sios` command line: a thin shell over the services. Each command lives in cli/commands/ and
 * is loaded only when used, so `sios verify` on an auditor's machine loads nothing but the verifier.
 */
import { SiosError } from '../errors.ts';
import { parseArgs, type CommandSpec } from './args.ts';

type Loader = () => Promise<{ command: CommandSpec }>;

const commands: Record<string, Loader> = {
  demo: () => import('./commands/demo.ts'),
  init: () => import('./commands/init.ts'),
  key: () => import('./commands/key.ts'),
  seal: () => import('./commands/seal.ts'),
  ledger: () => import('./commands/ledger.ts'),
  verify: () => import('./commands/verify.ts'),
  tenant: () => import('./commands/tenant.ts'),
  doctor: () => import('./commands/doctor.ts'),
  brain: () => import('./commands/brain.ts'),
  serve: () => import('./commands/serve.ts'),
  egress: () => import('./commands/egress.ts'),
  cell: () => import('./commands/cell.ts'),
  attest: () => import('./commands/attest.ts'),
  act: () => import('./commands/act.ts'),
  sentinel: () => import('./commands/sentinel.ts'),
};

const usage = `sios — Sovereign Intelligence Operating System

usage: sios <command> [options]      (sios <command> --help for details)

commands:
  demo      run the main job on the embedded default: two tenants, brains, approvals, verification
  init      create a deployment: operator ML-DSA-65 key, encrypted at rest
  key       operator key: show, export, split into k-of-n shares, restore, rotate
  tenant    create and list tenants
  brain     add, list, grant and revoke signed brains and skills
  act       people, API tokens, actions and brain tasks through the gate, approvals, events
  seal      seal an intent into a tenant ledger (sign-before-run) and record its outcome
  ledger    list, export and inspect tenant ledgers; report intents in doubt
  verify    verify an exported ledger bundle or a receipt offline with the operator public key
  sentinel  scan untrusted text for prompt injection (JSON Lines in, verdicts out)
  serve     the API, the console, the approval page and the verifier on http://localhost:7420 (loopback)
  egress    what a tenant's sandboxed skills may reach (default nothing); kill switch
  cell      run a skill in a bubblewrap cell whose only way out is the tenant's egress gateway
  attest    TPM 2.0 attestation: status, reseal after a planned update, quote
  doctor    check the deployment: no egress, sandbox usable, keys encrypted, ledgers intact, attestation

Data lives in --data DIR (default: $SIOS_DATA or ./sios-data). Nothing here touches the network.
`;

export async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`sios: unknown command '${name}'. Run 'sios --help' for the list.\n`);
    return 2;
  }
  try {
    const { command } = await load();
    const args = parseArgs(command, argv.slice(1));
    if (args === 'help') { process.stdout.write(command.help); return 0; }
    return await command.run(args);
  } catch (e) {
    if (e instanceof SiosError) {
      process.stderr.write(`sios ${name}: ${e.message} [${e.code}]\n`);
      return e.code === 'ERR_VERIFY' ? 1 : 2;
    }
    process.stderr.write(`sios ${name}: internal error: ${(e as Error)?.message ?? String(e)}\nPlease report this with the command you ran.\n`);
    if (process.env['SIOS_DEBUG']) process.stderr.write(String((e as Error)?.stack) + '\n');
    return 70;
  }
}
