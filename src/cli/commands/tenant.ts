import { need, type CommandSpec } from '../args.ts';
import { SiosError } from '../../errors.ts';
import { openDeployment, out, dataOption, passOption, table } from '../context.ts';

export const command: CommandSpec = {
  help: `sios tenant — tenants (sealed worlds)

usage:
  sios tenant create ID     new tenant with its own database, ledger and data key (sealed in the system ledger first)
  sios tenant list
`,
  options: { ...dataOption, ...passOption, actor: { type: 'string' } },
  async run(args) {
    const sub = args.positionals[0];
    const d = await openDeployment(args);
    try {
      switch (sub) {
        case 'create': {
          const id = args.positionals[1];
          if (!id) throw new SiosError('ERR_INPUT', 'name the tenant: sios tenant create ID');
          const r = await d.createTenant(id, typeof args.values['actor'] === 'string' ? args.values['actor'] : 'operator');
          out(`Tenant ${id} created (system ledger entry ${r.seq}).`);
          return 0;
        }
        case 'list':
          out(table(['tenant', 'status', 'created', 'data key'], d.tenants().map((t) => [t.id, t.status, t.created, t.keyFingerprint])));
          return 0;
        default:
          throw new SiosError('ERR_INPUT', `unknown 'sios tenant' action '${sub ?? ''}': use create or list`);
      }
    } finally {
      await d.close();
    }
  },
};
void need;
