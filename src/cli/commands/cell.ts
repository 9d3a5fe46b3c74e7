import { SiosError } from '../../errors.ts';
import { nodeVerifyCrypto } from '../../crypto/node.ts';
import { checkSandbox } from '../../perimeter/cell.ts';
import { runEgressSkill } from '../../perimeter/egress-skill.ts';
import { setSandboxOptOut } from '../../perimeter/store.ts';
import { flag, need, str, type CommandSpec } from '../args.ts';
import { dataOption, openDeployment, out, passOption } from '../context.ts';

export const command: CommandSpec = {
  help: `sios cell — sandboxed cells (bubblewrap) whose only way out is the tenant's egress gateway

usage:
  sios cell fetch --tenant T URL [--json]
        run the built-in 'fetch' skill in a fresh cell for tenant T: GET the http:// URL through T's
        gateway and print the status and size (the body stays in the cell). Exit status 0 when
        fetched, 3 when the gateway refused (not allowlisted, kill switch...), 4 when it failed.
        The cell's start and end and every connection attempt (decision before dialling, outcome
        after) are sealed in T's ledger: 'sios ledger show --tenant T'.
  sios cell check                                   is bubblewrap usable on this machine?
  sios cell opt-out --tenant T --reason TEXT        run T's skills WITHOUT a sandbox (recorded; doctor flags it)
  sios cell opt-in --tenant T --reason TEXT         back to sandboxed cells
`,
  options: { ...dataOption, ...passOption, tenant: { type: 'string' }, reason: { type: 'string' }, actor: { type: 'string' }, json: { type: 'boolean' } },
  async run(args) {
    const sub = args.positionals[0];
    switch (sub) {
      case 'check': {
        const st = checkSandbox();
        out(`${st.ok ? '✔' : '✘'} ${st.detail}`);
        return st.ok ? 0 : 1;
      }
      case 'fetch': {
        const url = args.positionals[1];
        if (!url || args.positionals.length > 2) throw new SiosError('ERR_INPUT', 'give exactly one URL: sios cell fetch --tenant T http://host:port/path');
        const tenant = need(args, 'tenant');
        const d = await openDeployment(args);
        try {
          const first = d.ledger(tenant).size;
          const r = await runEgressSkill({ deployment: d, tenant, url });
          const last = d.ledger(tenant).size - 1;
          const sealed = `sealed in ${tenant}'s ledger as entries ${first}-${last} ('sios ledger show --tenant ${tenant}')`;
          if (flag(args, 'json')) out(JSON.stringify({ ...r, ledger: { from: first, to: last } }));
          if (r.outcome === 'fetched') {
            if (!flag(args, 'json')) out(`fetched ${url} from a cell of tenant ${tenant}: HTTP ${r.status}, ${r.bytes} bytes; ${sealed}`);
            return 0;
          }
          if (r.outcome === 'refused') {
            process.stderr.write(`sios cell: egress REFUSED by tenant ${tenant}'s gateway (${r.status} ${r.reason}): ${r.message}\n  ${sealed}\n`);
            return 3;
          }
          process.stderr.write(`sios cell: the fetch skill failed: ${r.message}\n  ${sealed}\n`);
          return 4;
        } finally { await d.close(); }
      }
      case 'opt-out':
      case 'opt-in': {
        const tenant = need(args, 'tenant');
        const d = await openDeployment(args);
        try {
          const r = await setSandboxOptOut(d, tenant, { actor: str(args, 'actor') ?? 'operator', reason: need(args, 'reason'), optOut: sub === 'opt-out' }, { crypto: nodeVerifyCrypto });
          out(sub === 'opt-out'
            ? `Tenant ${tenant}'s skills now run WITHOUT a sandbox and without network isolation (sealed as admin entry ${r.seq}); 'sios doctor' reports it until 'sios cell opt-in'.`
            : `Tenant ${tenant}'s skills run in bubblewrap cells again (sealed as admin entry ${r.seq}).`);
          return 0;
        } finally { await d.close(); }
      }
      default:
        throw new SiosError('ERR_INPUT', `unknown 'sios cell' action '${sub ?? ''}': use fetch, check, opt-out or opt-in`);
    }
  },
};
