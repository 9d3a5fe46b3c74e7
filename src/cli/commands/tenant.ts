import * as fs from 'node:fs';
import { SiosError } from '../../errors.ts';
import { need, str, type CommandSpec } from '../args.ts';
import { openDeployment, openApp, out, dataOption, passOption, table } from '../context.ts';
import type { PolicySpec } from '../../app/app.ts';

export const command: CommandSpec = {
  help: `sios tenant — tenants (sealed worlds)

usage:
  sios tenant create ID            own database, data key and ledger (sealed in the system ledger first)
  sios tenant list
  sios tenant show ID              status, data key id, ledger size, collections, policy version
  sios tenant suspend ID | resume ID
  sios tenant delete ID            crypto-shredding: the data key is destroyed; the ledger still verifies
  sios tenant policy ID FILE       set the tenant's Cedar governance policy (JSON: version, text, collections, declarations)
`,
  options: { ...dataOption, ...passOption, actor: { type: 'string' } },
  async run(args) {
    const sub = args.positionals[0];
    const id = args.positionals[1];
    const actor = str(args, 'actor') ?? 'operator';
    if (sub === 'policy') {
      const file = args.positionals[2];
      if (!id || !file) throw new SiosError('ERR_INPUT', 'usage: sios tenant policy ID FILE');
      let spec: PolicySpec;
      try { spec = JSON.parse(fs.readFileSync(file, 'utf8')) as PolicySpec; } catch (cause) { throw new SiosError('ERR_INPUT', `${file} is not a readable JSON policy document`, { cause }); }
      const app = await openApp(args);
      try { await app.setPolicy(id, spec, actor); out(`Policy ${spec.version} set for ${id} (sealed in its ledger).`); } finally { await app.close(); }
      return 0;
    }
    const d = await openDeployment(args);
    try {
      const needId = () => { if (!id) throw new SiosError('ERR_INPUT', `name the tenant: sios tenant ${sub} ID`); return id; };
      switch (sub) {
        case 'create': {
          const r = await d.createTenant(needId(), actor);
          out(`Tenant ${id} created (system ledger entry ${r.seq}).`);
          return 0;
        }
        case 'list':
          out(table(['tenant', 'status', 'created', 'data key'], d.tenants().map((t) => [t.id, t.status, t.created, t.keyFingerprint])));
          return 0;
        case 'show': {
          const t = d.tenantRow(needId());
          if (!t) throw new SiosError('ERR_NOT_FOUND', `no tenant '${id}'`);
          out(`tenant:      ${t.id}\nstatus:      ${t.status}\ncreated:     ${t.created}\ndata key:    ${t.keyFingerprint}${t.status === 'deleted' ? ' (destroyed)' : ''}\norigin:      ${d.originOf(t.id)}`);
          if (t.status !== 'deleted') {
            out(`ledger:      ${d.ledger(t.id).size} entries`);
            out(`collections: ${d.store(t.id).collections().map((c) => `${c.name} (${d.store(t.id).count(c.name)} records)`).join(', ') || 'none'}`);
          }
          return 0;
        }
        case 'suspend': case 'resume':
          await d.setTenantStatus(needId(), sub === 'suspend' ? 'suspended' : 'active', actor);
          out(`Tenant ${id} ${sub === 'suspend' ? 'suspended: every action is refused until resumed' : 'resumed'}.`);
          return 0;
        case 'delete':
          await d.deleteTenant(needId(), actor);
          out(`Tenant ${id} deleted: its data key is destroyed (records and payloads are unreadable); its ledger still verifies.`);
          return 0;
        default:
          throw new SiosError('ERR_INPUT', `unknown 'sios tenant' action '${sub ?? ''}': use create, list, show, suspend, resume, delete or policy`);
      }
    } finally {
      await d.close();
    }
  },
};
void need;
